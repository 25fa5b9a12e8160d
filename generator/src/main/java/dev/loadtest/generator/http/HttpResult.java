package dev.loadtest.generator.http;

import dev.loadtest.generator.sink.SampleSink.RequestTimings;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;

/**
 * The outcome of one HTTP exchange (one hop of a redirect chain).
 *
 * @param status the HTTP status, or 0 when no response came (see {@code errorCode})
 * @param errorCode k6's error code: 0 for none, 1000 + status for 4xx/5xx, 10xx-16xx for failures of
 *     the network, TLS or protocol
 * @param error what went wrong, for logs (never contains the URL, which may hold secrets)
 * @param startUs epoch microseconds when the VU sent the request
 */
public record HttpResult(int status, int errorCode, String error, String protocol, HttpFields headers,
    byte[] body, long startUs, RequestTimings timings) {

  public boolean isNetworkError() {
    return status == 0;
  }

  /** The first value of a header (case-insensitive name), or null. */
  public String header(String name) {
    return headers.get(name);
  }

  public List<String> headers(String name) {
    return headers.getValuesList(name);
  }

  public String bodyText() {
    return body == null ? "" : new String(body, StandardCharsets.UTF_8);
  }
}
