package dev.loadtest.generator.http;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How a generator speaks HTTP. Defaults follow k6: 60 s request timeout, up to 10 redirects followed,
 * HTTP/2 when the server offers it over TLS (ALPN), the JDK's trusted CAs (never trust-all), and
 * connections of its own for every VU.
 *
 * @param trustedCaPem a PEM file of CA certificates to trust in addition to the JDK's, e.g. a test CA
 * @param maxBodyBytes the largest response body kept for checks and extractions (bytes beyond it are
 *     counted but not kept)
 * @param sharedConnections 0 for k6's default (each VU has its own connections); N > 0 for VUs that
 *     share a pool of at most N connections per host, as Gatling's {@code shareConnections} (for very
 *     many VUs, or when file descriptors are scarce; connect times are then not charged to requests)
 */
public record HttpOptions(Duration connectTimeout, Duration defaultTimeout, int maxRedirects, boolean http2,
    Optional<Path> trustedCaPem, int maxBodyBytes, String userAgent, int sharedConnections) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_REDIRECTS = 10;
  public static final int DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

  public HttpOptions {
    if (maxRedirects < 0 || maxBodyBytes < 0 || sharedConnections < 0) {
      throw new IllegalArgumentException("maxRedirects, maxBodyBytes and sharedConnections must be >= 0");
    }
  }

  public static HttpOptions defaults() {
    return new HttpOptions(Duration.ofSeconds(10), DEFAULT_TIMEOUT, DEFAULT_MAX_REDIRECTS, true, Optional.empty(),
        DEFAULT_MAX_BODY_BYTES, "loadtest/" + Version.VERSION, 0);
  }

  public HttpOptions withTrustedCa(Path pem) {
    return new HttpOptions(connectTimeout, defaultTimeout, maxRedirects, http2, Optional.of(pem), maxBodyBytes,
        userAgent, sharedConnections);
  }

  public HttpOptions withHttp2(boolean on) {
    return new HttpOptions(connectTimeout, defaultTimeout, maxRedirects, on, trustedCaPem, maxBodyBytes, userAgent,
        sharedConnections);
  }

  public HttpOptions withSharedConnections(int maxPerHost) {
    return new HttpOptions(connectTimeout, defaultTimeout, maxRedirects, http2, trustedCaPem, maxBodyBytes, userAgent,
        maxPerHost);
  }
}
