package dev.loadtest.generator.testing;

import dev.loadtest.generator.http.HttpEngine;
import dev.loadtest.generator.http.HttpOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of tests that run plans against a {@link RecordingServer} on 127.0.0.1 with one HTTP engine,
 * both shared by the tests of a class; each test starts with an empty record of requests.
 */
public abstract class LocalServerTest {
  protected static RecordingServer server;
  protected static HttpEngine http;

  @BeforeAll
  static void startServerAndClient() throws Exception {
    server = new RecordingServer();
    http = new HttpEngine(HttpOptions.defaults());
  }

  @AfterAll
  static void stopServerAndClient() throws Exception {
    http.close();
    server.close();
  }

  @BeforeEach
  void forgetEarlierRequests() {
    server.clear();
  }
}
