package dev.loadtest.generator.http;

import dev.loadtest.generator.engine.EpochClock;
import dev.loadtest.generator.sink.SampleSink.RequestTimings;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpClientTransport;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.transport.HttpClientConnectionFactory;
import org.eclipse.jetty.client.transport.HttpClientTransportDynamic;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.ClientConnectionFactoryOverHTTP2;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * HTTP for VUs over one shared Jetty {@link HttpClient}: blocking calls meant for virtual threads, with
 * k6's timing phases, byte counts, error codes and redirect handling (each hop is its own sample).
 *
 * <p>Timing phases, from the moments of one exchange (see {@link Exchange}): {@code blocked} is the wait
 * before the request could go out (for a free connection, or before dialing); {@code connecting} the
 * TCP dial of a new connection; {@code tls_handshaking} the TLS handshake of a new connection (up to the
 * request headers' commit); {@code sending} until the request is written; {@code waiting} until the
 * first response byte (the status line); {@code receiving} until the last byte. {@code duration} is
 * sending + waiting + receiving, as in k6.
 *
 * <p>Byte counts are the request and status lines, headers and bodies as written (no automatic
 * content decoding is done, so body bytes are the bytes on the wire; chunked framing and HTTP/2 framing
 * are not counted). Thread-safe; one instance per generator.
 */
public final class HttpEngine implements AutoCloseable {
  private final HttpClient client;
  private final HttpOptions options;
  private static final int MAX_CACHED_URIS = 10_000;
  private final java.util.concurrent.ConcurrentHashMap<String, URI> uris = new java.util.concurrent.ConcurrentHashMap<>();

  public HttpEngine(HttpOptions options) throws Exception {
    this.options = options;
    TimingClientConnector connector = new TimingClientConnector();
    connector.setSelectors(1);
    connector.setConnectTimeout(options.connectTimeout());
    SslContextFactory.Client ssl = new SslContextFactory.Client();
    if (options.trustedCaPem().isPresent()) {
      ssl.setTrustStore(trustStore(options.trustedCaPem().get()));
    }
    connector.setSslContextFactory(ssl);
    HttpClientTransport transport = options.http2()
        ? new HttpClientTransportDynamic(connector, HttpClientConnectionFactory.HTTP11,
            new ClientConnectionFactoryOverHTTP2.HTTP2(new HTTP2Client(connector)))
        : new HttpClientTransportDynamic(connector, HttpClientConnectionFactory.HTTP11);
    // Our listeners never block (they stamp times, copy bytes and complete a future a VU waits on), so
    // Jetty may run them on the selector thread: one hand-off per response instead of two.
    if (!Boolean.getBoolean("loadtest.http.blockingListeners")) {
      transport.setInvocationType(org.eclipse.jetty.util.thread.Invocable.InvocationType.NON_BLOCKING);
    }
    client = new HttpClient(transport);
    client.setExecutor(executor());
    client.setFollowRedirects(false);
    client.setHttpCookieStore(new HttpCookieStore.Empty());
    client.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, options.userAgent()));
    // A VU's destination is dropped once idle, so departed VUs do not pile up.
    client.setDestinationIdleTimeout(30_000);
    client.setIdleTimeout(60_000);
    if (options.sharedConnections() > 0) {
      client.setMaxConnectionsPerDestination(options.sharedConnections());
      client.setMaxRequestsQueuedPerDestination(1_000_000);
    }
    client.getContentDecoderFactories().clear();
    // Redirects are followed by execute() (a sample per hop); 401/407 challenges and 100-continue are
    // the script's business, as in k6. Without handlers Jetty skips their lookup on every response.
    client.getProtocolHandlers().clear();
    client.start();
  }

  /**
   * Jetty's own tasks (the selector and what it dispatches). By default virtual threads, like the VUs: the
   * selector that completes a response then wakes the VU waiting on it on the same carrier threads, with no
   * switch between OS threads per response (on one core, Jetty alone makes about 35% more requests/s than
   * with a platform selector; {@code JettyFloor vt} vs {@code vtpool}). {@code -Dloadtest.http.executor=platform}
   * gives a small pool of platform threads instead.
   */
  private static java.util.concurrent.Executor executor() {
    String kind = System.getProperty("loadtest.http.executor", "virtual");
    switch (kind) {
      case "virtual" -> {
        org.eclipse.jetty.util.thread.VirtualThreadPool pool = new org.eclipse.jetty.util.thread.VirtualThreadPool();
        pool.setName("http-client");
        return pool;
      }
      case "platform" -> {
        // Jetty's threads only parse and hand results to VUs: a few suffice, and no reserved spinning
        // threads, which on a small generator steal the core the VUs need.
        org.eclipse.jetty.util.thread.QueuedThreadPool pool = new org.eclipse.jetty.util.thread.QueuedThreadPool(
            Integer.getInteger("loadtest.http.threads", Math.max(4, 2 * Runtime.getRuntime().availableProcessors())),
            1);
        pool.setReservedThreads(Integer.getInteger("loadtest.http.reservedThreads", 0));
        pool.setName("http-client");
        pool.setDaemon(true);
        return pool;
      }
      default -> throw new IllegalArgumentException("loadtest.http.executor must be virtual or platform, not \""
          + kind + "\"");
    }
  }

  /**
   * The JDK's trusted CAs plus those of a PEM file: a test CA is trusted without trusting everything.
   */
  static KeyStore trustStore(Path pem) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((KeyStore) null);
    int i = 0;
    for (var tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        for (X509Certificate c : x.getAcceptedIssuers()) {
          ks.setCertificateEntry("jdk-" + i++, c);
        }
      }
    }
    try (InputStream in = Files.newInputStream(pem)) {
      var certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new IllegalArgumentException(pem + " holds no PEM certificate");
      }
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca-" + i++, c);
      }
    }
    return ks;
  }

  public HttpOptions options() {
    return options;
  }

  /**
   * Runs a call, following redirects as k6 does (up to {@link HttpOptions#maxRedirects()}; 301, 302 and
   * 303 turn a POST into a GET without body, 307 and 308 keep method and body), handing every hop to
   * {@code hop} as it completes. Returns the last hop.
   */
  public HttpResult execute(HttpCall call, VuSession session, Consumer<HttpResult> hop) throws InterruptedException {
    URI uri;
    try {
      uri = uri(call.url());
    } catch (IllegalArgumentException e) {
      HttpResult r = failed(1020, "invalid URL: " + e.getMessage());
      hop.accept(r);
      return r;
    }
    String method = call.method();
    byte[] body = call.body();
    for (int redirects = 0; ; redirects++) {
      HttpResult r = exchange(method, uri, call.headers(), body, call, session);
      hop.accept(r);
      String location = isRedirect(r.status()) ? r.header("Location") : null;
      if (redirects >= options.maxRedirects() || location == null) {
        return r;
      }
      try {
        uri = uri.resolve(location);
      } catch (IllegalArgumentException e) {
        return r;
      }
      if (r.status() == 303 || (r.status() == 301 || r.status() == 302) && method.equals("POST")) {
        method = method.equals("HEAD") ? "HEAD" : "GET";
        body = null;
      }
    }
  }

  /** Parses a URL, remembering the URLs most tests repeat (a bounded number of them). */
  private URI uri(String url) {
    URI uri = uris.get(url);
    if (uri == null) {
      uri = URI.create(url);
      if (uri.getHost() == null || !(uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"))) {
        throw new IllegalArgumentException("not an http(s) URL with a host");
      }
      if (uris.size() < MAX_CACHED_URIS) {
        uris.put(url, uri);
      }
    }
    return uri;
  }

  private static String hostHeader(URI uri) {
    int port = uri.getPort();
    boolean defaultPort = port < 0 || port == 80 && "http".equalsIgnoreCase(uri.getScheme())
        || port == 443 && "https".equalsIgnoreCase(uri.getScheme());
    String host = uri.getHost().indexOf(':') >= 0 && !uri.getHost().startsWith("[") ? "[" + uri.getHost() + "]"
        : uri.getHost();
    return defaultPort ? host : host + ":" + port;
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  private HttpResult exchange(String method, URI uri, List<String[]> headers, byte[] body, HttpCall call,
      VuSession session) throws InterruptedException {
    Exchange x = new Exchange();
    session.current = x;
    Request req = client.newRequest(uri).method(method).timeout(call.timeout().toMillis(), TimeUnit.MILLISECONDS);
    if (options.sharedConnections() == 0) {
      req.tag(session); // the VU's own destination, so its own connections
    }
    boolean hasCookieHeader = false;
    boolean hasHost = false;
    for (String[] h : headers) {
      req.headers(f -> f.add(h[0], h[1]));
      hasCookieHeader |= h[0].equalsIgnoreCase("Cookie");
      hasHost |= h[0].equalsIgnoreCase("Host");
    }
    if (!hasHost) {
      // Given here, Jetty does not rebuild and re-parse the request URI to make it (a hot spot).
      req.headers(f -> f.add(HttpHeader.HOST, hostHeader(uri)));
    }
    CookieJar jar = session.cookiesOrNull();
    String cookie = jar == null || hasCookieHeader ? null : jar.headerFor(uri);
    if (cookie != null) {
      req.headers(f -> f.add(HttpHeader.COOKIE, cookie));
    }
    if (body != null) {
      req.body(new BytesRequestContent(body));
    }
    Collector collector = new Collector(x, call.keepBody() ? options.maxBodyBytes() : 0);
    req.onRequestListener(collector);
    x.sendNanos = System.nanoTime();
    long startUs = EpochClock.microsAt(x.sendNanos);
    req.send(collector);
    Result result;
    try {
      result = collector.done.get();
    } catch (InterruptedException e) {
      req.abort(new IOException("the VU was stopped"));
      throw e;
    } catch (ExecutionException e) {
      throw new IllegalStateException("the response listener failed", e.getCause());
    } finally {
      session.current = null;
    }
    Response resp = result.getResponse();
    HttpFields respHeaders = HttpFields.EMPTY;
    long received = 0;
    int status = result.getFailure() == null || resp != null && resp.getStatus() > 0 ? resp.getStatus() : 0;
    if (status > 0) {
      received = 17 + (resp.getReason() == null ? 0 : resp.getReason().length());
      respHeaders = resp.getHeaders(); // a completed response's headers do not change any more
      for (HttpField f : respHeaders) {
        received += f.getName().length() + 4L + (f.getValue() == null ? 0 : f.getValue().length());
      }
      received += 2 + collector.contentBytes;
      List<String> setCookies = resp.getHeaders().getValuesList(HttpHeader.SET_COOKIE);
      if (!setCookies.isEmpty()) {
        session.cookies().store(uri, setCookies);
      }
    }
    long bytesSent = collector.headerBytes + (body == null || x.commitNanos == 0 ? 0 : body.length);
    int errorCode = 0;
    String error = null;
    if (result.getFailure() != null && status == 0) {
      errorCode = errorCode(result.getFailure());
      error = describe(result.getFailure());
    } else if (status >= 400) {
      errorCode = 1000 + status;
    }
    String protocol = resp == null || resp.getVersion() == null ? "" : resp.getVersion().asString();
    byte[] kept = collector.kept == null ? null : Arrays.copyOf(collector.kept, collector.keptLength);
    return new HttpResult(status, errorCode, error, protocol, respHeaders, kept, startUs,
        timings(x, bytesSent, received));
  }

  private static long headerBytes(Request r) {
    String q = r.getQuery();
    long n = r.getMethod().length() + 1 + r.getPath().length() + (q == null ? 0 : q.length() + 1) + 11;
    for (HttpField f : r.getHeaders()) {
      n += f.getName().length() + 4L + (f.getValue() == null ? 0 : f.getValue().length());
    }
    return n + 2;
  }

  static RequestTimings timings(Exchange x, long bytesSent, long bytesReceived) {
    long send = x.sendNanos;
    long end = x.endNanos == 0 ? System.nanoTime() : x.endNanos;
    long begin = x.beginNanos == 0 ? end : x.beginNanos;
    long blocked;
    long connecting = 0;
    long tls = 0;
    long writeFrom = begin;
    if (x.connectStartNanos != 0 && x.connectEndNanos != 0) {
      connecting = x.connectEndNanos - x.connectStartNanos;
      blocked = (x.connectStartNanos - send) + Math.max(0, begin - x.connectEndNanos);
      if (x.tls) {
        long handshakeEnd = x.commitNanos == 0 ? end : x.commitNanos;
        // With ALPN the handshake ends before the request begins, without it before the headers are
        // committed: either way it is over by the commit.
        tls = Math.max(0, handshakeEnd - x.connectEndNanos);
        blocked = x.connectStartNanos - send;
        writeFrom = handshakeEnd;
      }
    } else {
      blocked = begin - send;
    }
    long requestDone = x.requestDoneNanos == 0 ? Math.max(writeFrom, end) : x.requestDoneNanos;
    long responseBegin = x.responseBeginNanos == 0 ? end : x.responseBeginNanos;
    long sending = Math.max(0, requestDone - writeFrom);
    long waiting = Math.max(0, responseBegin - Math.max(requestDone, writeFrom));
    long receiving = Math.max(0, end - responseBegin);
    // Duration is the sum of the rounded phases, so that the phases add up to it exactly, as in k6.
    return new RequestTimings(us(sending) + us(waiting) + us(receiving), us(Math.max(0, blocked)), us(connecting),
        us(tls), us(sending), us(waiting), us(receiving), bytesSent, bytesReceived);
  }

  private static long us(long nanos) {
    return (nanos + 500) / 1000;
  }


  private static HttpResult failed(int code, String error) {
    long now = EpochClock.nowMicros();
    return new HttpResult(0, code, error, "", HttpFields.EMPTY, null, now,
        new RequestTimings(0, 0, 0, 0, 0, 0, 0, 0, 0));
  }

  /** k6's error codes for failures without a response (k6 docs, "Error codes"). */
  static int errorCode(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof TimeoutException || t instanceof SocketTimeoutException) {
        return t.getMessage() != null && t.getMessage().toLowerCase(Locale.ROOT).contains("connect") ? 1211 : 1050;
      }
      if (t instanceof UnknownHostException) {
        return 1101;
      }
      if (t instanceof ConnectException) {
        return 1212;
      }
      if (t instanceof SSLHandshakeException) {
        String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("no subject alternative") || m.contains("hostname")) {
          return 1311;
        }
        if (m.contains("certification path") || m.contains("unable to find valid")) {
          return 1310;
        }
        return 1300;
      }
      if (t instanceof SSLException) {
        return 1300;
      }
      if (t instanceof ClosedChannelException || t instanceof java.io.EOFException) {
        return 1220;
      }
      if (t instanceof IOException && String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains("reset")) {
        return 1220;
      }
    }
    return 1000;
  }

  private static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
  }

  @Override
  public void close() throws Exception {
    client.stop();
  }

  /**
   * Stamps the moments of the request and the response and collects, when asked to, the body (up to a
   * limit). One object per exchange serves as every listener.
   */
  private static final class Collector implements Request.Listener, Response.Listener {
    final CompletableFuture<Result> done = new CompletableFuture<>();
    private final Exchange x;
    private final int maxKeep;
    byte[] kept;
    int keptLength;
    long contentBytes;
    long headerBytes;

    Collector(Exchange x, int maxKeep) {
      this.x = x;
      this.maxKeep = maxKeep;
    }

    @Override
    public void onBegin(Request request) {
      x.beginNanos = System.nanoTime();
    }

    @Override
    public void onCommit(Request request) {
      x.commitNanos = System.nanoTime();
      headerBytes = headerBytes(request);
    }

    @Override
    public void onSuccess(Request request) {
      x.requestDoneNanos = System.nanoTime();
    }

    @Override
    public void onBegin(Response response) {
      x.responseBeginNanos = System.nanoTime();
    }

    @Override
    public void onContent(Response response, ByteBuffer content) {
      int n = content.remaining();
      contentBytes += n;
      if (maxKeep > 0 && keptLength < maxKeep) {
        int take = Math.min(n, maxKeep - keptLength);
        if (kept == null) {
          kept = new byte[Math.max(take, 256)];
        } else if (kept.length < keptLength + take) {
          kept = Arrays.copyOf(kept, Math.min(maxKeep, Math.max(keptLength + take, kept.length * 2)));
        }
        content.get(kept, keptLength, take);
        keptLength += take;
      }
    }

    @Override
    public void onComplete(Result result) {
      x.endNanos = System.nanoTime();
      done.complete(result);
    }
  }
}
