package dev.loadtest.generator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.testing.RecordingServer;
import dev.loadtest.generator.testing.TestCa;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/1.1, HTTP/2 over TLS, trust, timing phases and error codes against real Jetty servers on 127.0.0.1. */
@Timeout(60)
class HttpEngineTest {
  @TempDir
  static Path dir;
  static TestCa ca;
  static RecordingServer tls;
  static RecordingServer plain;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.create(dir);
    tls = new RecordingServer(ca.serverKeyStore(), TestCa.PASSWORD);
    plain = new RecordingServer();
  }

  @AfterAll
  static void stop() throws Exception {
    tls.close();
    plain.close();
  }

  static HttpResult get(HttpEngine http, VuSession vu, String url, List<HttpResult> hops) throws Exception {
    return http.execute(new HttpCall("GET", url, List.of(), null, Duration.ofSeconds(10), true), vu, hops::add);
  }

  @Test
  void aServerSignedByAnUntrustedCaIsRefusedWithK6sErrorCode() throws Exception {
    try (HttpEngine http = new HttpEngine(HttpOptions.defaults())) {
      HttpResult r = get(http, new VuSession(1), tls.baseUrl() + "/products", new ArrayList<>());
      assertEquals(0, r.status());
      assertEquals(1310, r.errorCode(), r.error());
    }
  }

  @Test
  void aTrustedCaGivesHttp2WithTlsTimedOnTheFirstRequestOnly() throws Exception {
    try (HttpEngine http = new HttpEngine(HttpOptions.defaults().withTrustedCa(ca.caPem()))) {
      VuSession vu = new VuSession(1);
      HttpResult first = get(http, vu, tls.baseUrl() + "/products", new ArrayList<>());
      HttpResult second = get(http, vu, tls.baseUrl() + "/products", new ArrayList<>());
      assertEquals(200, first.status(), first.error());
      assertEquals("HTTP/2.0", first.protocol());
      assertTrue(first.timings().connectingUs() > 0, "a new connection: " + first.timings());
      assertTrue(first.timings().tlsHandshakingUs() > 0, "a handshake: " + first.timings());
      assertEquals(0, second.timings().connectingUs(), "the VU's connection is reused: " + second.timings());
      assertEquals(0, second.timings().tlsHandshakingUs());
      assertTrue(first.bodyText().contains("kettle"));
      // Another VU has connections of its own, as in k6.
      HttpResult other = get(http, new VuSession(2), tls.baseUrl() + "/products", new ArrayList<>());
      assertTrue(other.timings().tlsHandshakingUs() > 0, other.timings().toString());
    }
  }

  @Test
  void http11OnlyWhenHttp2IsOff() throws Exception {
    HttpOptions h1 = HttpOptions.defaults().withTrustedCa(ca.caPem()).withHttp2(false);
    try (HttpEngine http = new HttpEngine(h1)) {
      HttpResult r = get(http, new VuSession(1), tls.baseUrl() + "/products", new ArrayList<>());
      assertEquals("HTTP/1.1", r.protocol());
      assertTrue(r.timings().tlsHandshakingUs() > 0, r.timings().toString());
    }
  }

  @Test
  void sharedConnectionsServeManyVusFromOnePool() throws Exception {
    plain.clear();
    try (HttpEngine http = new HttpEngine(HttpOptions.defaults().withSharedConnections(2))) {
      for (int vu = 1; vu <= 20; vu++) {
        HttpResult r = get(http, new VuSession(vu), plain.baseUrl() + "/products", new ArrayList<>());
        assertEquals(200, r.status());
      }
      long distinctClientPorts = plain.seen().stream().map(s -> s.headers().get("x-client-port")).distinct().count();
      assertEquals(20, plain.seen().size());
      assertTrue(distinctClientPorts <= 2, "20 VUs, one after another, used at most 2 connections, not "
          + distinctClientPorts);
    }
  }

  @Test
  void phasesAddUpAndBytesAreCounted() throws Exception {
    try (HttpEngine http = new HttpEngine(HttpOptions.defaults())) {
      HttpResult r = get(http, new VuSession(1), plain.baseUrl() + "/products", new ArrayList<>());
      var t = r.timings();
      assertEquals(t.durationUs(), t.sendingUs() + t.waitingUs() + t.receivingUs());
      assertEquals(0, t.tlsHandshakingUs());
      assertTrue(t.connectingUs() > 0);
      assertTrue(t.bytesSent() > 40 && t.bytesSent() < 400, "request line and headers: " + t.bytesSent());
      assertTrue(t.bytesReceived() > 58 + 50, "status line, headers and a 58-byte body: " + t.bytesReceived());
    }
  }

  @Test
  void networkFailuresHaveK6ErrorCodes() throws Exception {
    try (HttpEngine http = new HttpEngine(HttpOptions.defaults())) {
      int closedPort;
      try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        closedPort = s.getLocalPort();
      }
      assertEquals(1212, get(http, new VuSession(1), "http://127.0.0.1:" + closedPort + "/", new ArrayList<>())
          .errorCode(), "connection refused");
      assertEquals(1020, get(http, new VuSession(1), "not a url", new ArrayList<>()).errorCode(), "invalid URL");
      plain.stallFor(3_000_000_000L);
      HttpResult slow = http.execute(new HttpCall("GET", plain.baseUrl() + "/slow", List.of(), null,
          Duration.ofMillis(300), false), new VuSession(1), x -> { });
      plain.stallFor(0);
      assertEquals(1050, slow.errorCode(), "request timeout: " + slow.error());
    }
  }
}
