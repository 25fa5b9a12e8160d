package dev.loadtest.generator.testing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A small shop on 127.0.0.1 that records every request it receives (a fake that records, not a mock
 * that scripts). Routes: {@code GET /products} (JSON list), {@code GET /products/{id}},
 * {@code POST /cart} (sets a session cookie), {@code POST /cart/coupon}, {@code POST /checkout} (JSON
 * with an orderId, needs the cookie), {@code GET /whoami} (echoes the cookie), {@code GET /redirect}
 * (302 to /products), {@code GET /status/{code}}, and {@code GET /slow} which waits while the server
 * is told to stall.
 */
public final class RecordingServer implements AutoCloseable {
  /** One received request. */
  public record Seen(String method, String path, Map<String, String> headers, String body, long atNanos) {}

  private final Server server;
  private final ServerConnector connector;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final AtomicInteger sessions = new AtomicInteger();
  private final AtomicLong orders = new AtomicLong();
  private volatile long stallUntilNanos;

  public RecordingServer() throws Exception {
    this(null, null);
  }

  /**
   * A server on TLS with ALPN (HTTP/2 and HTTP/1.1) when given a PKCS12 key store, else on plain
   * HTTP/1.1.
   */
  public RecordingServer(java.nio.file.Path keyStore, String password) throws Exception {
    QueuedThreadPool pool = new QueuedThreadPool(200, 8);
    pool.setName("recording-server");
    server = new Server(pool);
    if (keyStore == null) {
      connector = new ServerConnector(server, 1, 1);
    } else {
      var config = new org.eclipse.jetty.server.HttpConfiguration();
      var secure = new org.eclipse.jetty.server.SecureRequestCustomizer();
      secure.setSniHostCheck(false);
      config.addCustomizer(secure);
      var h1 = new org.eclipse.jetty.server.HttpConnectionFactory(config);
      var h2 = new org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory(config);
      var alpn = new org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory();
      alpn.setDefaultProtocol(h1.getProtocol());
      var ssl = new org.eclipse.jetty.util.ssl.SslContextFactory.Server();
      ssl.setKeyStorePath(keyStore.toString());
      ssl.setKeyStorePassword(password);
      ssl.setKeyStoreType("PKCS12");
      var tls = new org.eclipse.jetty.server.SslConnectionFactory(ssl, alpn.getProtocol());
      connector = new ServerConnector(server, 1, 1, tls, alpn, h2, h1);
    }
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        return RecordingServer.this.handle(request, response, callback);
      }
    });
    server.start();
  }

  public String baseUrl() {
    return (connector.getDefaultProtocol().startsWith("SSL") ? "https" : "http") + "://127.0.0.1:"
        + connector.getLocalPort();
  }

  public List<Seen> seen() {
    return List.copyOf(seen);
  }

  public long count(String method, String path) {
    return seen.stream().filter(s -> s.method().equals(method) && s.path().equals(path)).count();
  }

  /** Every request arriving from now until {@code nanos} later is answered only then. */
  public void stallFor(long nanos) {
    stallUntilNanos = System.nanoTime() + nanos;
  }

  public void clear() {
    seen.clear();
  }

  private boolean handle(Request request, Response response, Callback callback) throws Exception {
    String path = Request.getPathInContext(request);
    String body = Content.Source.asString(request, StandardCharsets.UTF_8);
    Map<String, String> headers = new ConcurrentHashMap<>();
    request.getHeaders().forEach(f -> headers.put(f.getLowerCaseName(), f.getValue()));
    // Which connection it came on, for tests of connection reuse.
    headers.put("x-client-port", Integer.toString(Request.getRemotePort(request)));
    seen.add(new Seen(request.getMethod(), path, Map.copyOf(headers), body, System.nanoTime()));
    String method = request.getMethod();
    String cookie = request.getHeaders().get(HttpHeader.COOKIE);
    if (path.equals("/slow")) {
      long left = stallUntilNanos - System.nanoTime();
      if (left > 0) {
        Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
      }
      return text(response, callback, 200, "text/plain", "ok");
    }
    if (path.equals("/products") && method.equals("GET")) {
      return text(response, callback, 200, "application/json",
          "[{\"id\":17,\"name\":\"kettle\"},{\"id\":18,\"name\":\"teapot\"}]");
    }
    if (path.startsWith("/products/") && method.equals("GET")) {
      String id = path.substring("/products/".length());
      return id.matches("\\d+") ? text(response, callback, 200, "application/json", "{\"id\":" + id + "}")
          : text(response, callback, 404, "application/json", "{\"error\":\"no such product\"}");
    }
    if (path.equals("/cart") && method.equals("POST")) {
      response.getHeaders().add(HttpHeader.SET_COOKIE, "session=s" + sessions.incrementAndGet() + "; Path=/");
      return text(response, callback, 201, "application/json", "{\"items\":1}");
    }
    if (path.equals("/cart/coupon") && method.equals("POST")) {
      return text(response, callback, 200, "application/json", "{\"discount\":10}");
    }
    if (path.equals("/checkout") && method.equals("POST")) {
      if (cookie == null || !cookie.contains("session=")) {
        return text(response, callback, 401, "application/json", "{\"error\":\"no session\"}");
      }
      return text(response, callback, 200, "application/json", "{\"orderId\":\"o-" + orders.incrementAndGet() + "\"}");
    }
    if (path.equals("/whoami")) {
      return text(response, callback, 200, "text/plain", cookie == null ? "anonymous" : cookie);
    }
    if (path.equals("/redirect")) {
      response.getHeaders().add(HttpHeader.LOCATION, "/products");
      return text(response, callback, 302, "text/plain", "");
    }
    if (path.startsWith("/status/")) {
      return text(response, callback, Integer.parseInt(path.substring(8)), "text/plain", "status");
    }
    return text(response, callback, 404, "text/plain", "not found");
  }

  private static boolean text(Response response, Callback callback, int status, String type, String body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    return true;
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
