package dev.loadtest.generator.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A system under test on 127.0.0.1 that counts what it serves, as an access log would: every request by method
 * and path; every {@code failEvery}-th request to {@code failPath} answered 503, counted too; {@code redirects} answered
 * 302 to their target. For the plug-ins' exactness tests with the real tools.
 */
public final class CountingServer implements AutoCloseable {
  private final HttpServer server;
  private final Map<String, AtomicLong> served = new ConcurrentHashMap<>();
  private final AtomicLong failures = new AtomicLong();

  public CountingServer(String failPath, int failEvery, Map<String, String> redirects) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
    server.createContext("/", ex -> {
      String path = ex.getRequestURI().getPath();
      served.computeIfAbsent(ex.getRequestMethod() + " " + path, k -> new AtomicLong()).incrementAndGet();
      long n = served.computeIfAbsent(path, k -> new AtomicLong()).incrementAndGet();
      ex.getRequestBody().readAllBytes();
      int status = 200;
      if (redirects.containsKey(path)) {
        ex.getResponseHeaders().add("Location", redirects.get(path));
        status = 302;
      } else if (path.equals(failPath) && n % failEvery == 0) {
        status = 503;
        failures.incrementAndGet();
      }
      byte[] body = "{\"ok\":true}".getBytes();
      ex.sendResponseHeaders(status, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Requests served to {@code path} (any method), or to {@code "METHOD path"}. */
  public long served(String key) {
    AtomicLong n = served.get(key);
    return n == null ? 0 : n.get();
  }

  /** The 503s answered so far. */
  public long failures() {
    return failures.get();
  }

  /** Forgets every count. */
  public void reset() {
    served.clear();
    failures.set(0);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
