package dev.loadtest.cli.follow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/** A small client of the query API ({@code /api/v1}) with a bearer token: JSON calls and a live (SSE) stream. */
public final class ApiClient {
  static final ObjectMapper JSON = new ObjectMapper();

  private final String base;
  private final String token;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** An answer that is not 2xx: its status and body. */
  public static final class ApiError extends IOException {
    private final int status;
    private final JsonNode body;

    ApiError(String what, int status, JsonNode body) {
      super(what + ": HTTP " + status + " " + body.path("error").asText(body.toString()));
      this.status = status;
      this.body = body;
    }

    public int status() {
      return status;
    }

    public JsonNode body() {
      return body;
    }
  }

  /**
   * @param base the API's base URL, e.g. {@code http://127.0.0.1:8080/api/v1} (a URL without
   *     {@code /api/v1} gets it)
   * @param token a bearer token (null: none)
   */
  public ApiClient(String base, String token) {
    String b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.base = b.endsWith("/api/v1") ? b : b + "/api/v1";
    this.token = token;
  }

  public String base() {
    return base;
  }

  /** GET {@code path} (relative to /api/v1) with query parameters. */
  public JsonNode get(String path, Map<String, String> query) throws IOException, InterruptedException {
    return send("GET " + path, request(path + query(query)).GET().build());
  }

  /** POST a JSON body to {@code path}. */
  public JsonNode post(String path, String json) throws IOException, InterruptedException {
    return send("POST " + path, request(path).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build());
  }

  private HttpRequest.Builder request(String pathAndQuery) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(60));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  private JsonNode send(String what, HttpRequest r) throws IOException, InterruptedException {
    HttpResponse<String> resp;
    try {
      resp = http.send(r, HttpResponse.BodyHandlers.ofString());
    } catch (java.net.ConnectException e) {
      throw unreachable(e);
    }
    JsonNode body;
    try {
      body = resp.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(resp.body());
    } catch (IOException e) {
      body = JSON.createObjectNode().put("error", resp.body());
    }
    if (resp.statusCode() / 100 != 2) {
      throw new ApiError(what, resp.statusCode(), body);
    }
    return body;
  }

  private IOException unreachable(java.net.ConnectException e) {
    // Java's client often leaves the message empty (or says ClosedChannelException): say what it means
    String why = e.getMessage() == null || e.getMessage().contains("ClosedChannel") ? "nothing answers there"
        : e.getMessage();
    return new IOException("cannot reach the query API at " + base + ": " + why + " (is the stack up? `loadtest up`"
        + " prints its address)", e);
  }

  static String query(Map<String, String> q) {
    if (q.isEmpty()) {
      return "";
    }
    return q.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue())).collect(Collectors.joining("&", "?", ""));
  }

  public static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** An open live stream; closing it ends the stream. */
  public interface Stream extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Opens {@code /runs/{id}/live} and calls {@code onEvent(name, data)} for each event on a thread of its
   * own; returns once the server has answered, so that no event after this point is missed.
   */
  public Stream live(String runId, BiConsumer<String, String> onEvent) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/runs/" + enc(runId) + "/live"))
        .header("Accept", "text/event-stream");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpRequest r = b.GET().build();
    HttpResponse<InputStream> resp;
    try {
      resp = http.send(r, HttpResponse.BodyHandlers.ofInputStream());
    } catch (java.net.ConnectException e) {
      throw unreachable(e);
    }
    if (resp.statusCode() != 200) {
      String body;
      try (InputStream in = resp.body()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      throw new ApiError("GET /runs/" + runId + "/live", resp.statusCode(), JSON.createObjectNode().put("error", body));
    }
    InputStream in = resp.body();
    CountDownLatch opened = new CountDownLatch(1);
    Thread reader = Thread.ofVirtual().name("live-" + runId).start(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String event = "message";
        StringBuilder data = new StringBuilder();
        for (String line; (line = lines.readLine()) != null; ) {
          if (line.startsWith("retry:")) {
            opened.countDown();
          } else if (line.startsWith("event:")) {
            event = line.substring(6).strip();
          } else if (line.startsWith("data:")) {
            data.append(data.isEmpty() ? "" : "\n").append(line.substring(5).strip());
          } else if (line.isEmpty() && !data.isEmpty()) {
            onEvent.accept(event, data.toString());
            event = "message";
            data.setLength(0);
          }
        }
      } catch (IOException e) {
        // closed
      } finally {
        opened.countDown();
      }
    });
    if (!opened.await(30, TimeUnit.SECONDS)) {
      reader.interrupt();
      in.close();
      throw new IOException("the live stream of " + runId + " did not open within 30 s");
    }
    return () -> {
      try {
        in.close();
      } catch (IOException e) {
        // closing anyway
      }
      reader.interrupt();
    };
  }
}
