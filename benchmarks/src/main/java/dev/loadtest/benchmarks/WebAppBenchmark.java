package dev.loadtest.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.cli.EmbeddedStack;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * What watching runs in the web app costs, on the embedded stack (the real pipeline behind the API):
 *
 * <ol>
 *   <li><b>Page complete</b>: a finished run of {@code minutes} with {@code series} series, dealt to
 *       http_req_duration, http_reqs, http_req_failed, http_req_waiting and http_req_connecting (50 names,
 *       written through the sink's encoder with the rollups and projections, as {@link QueryApiBenchmark}
 *       writes its soak run) opened in headless Chromium (Debian's, driven over the DevTools protocol), from navigation to
 *       every panel holding its data ({@code data-run-page-complete}, which the page sets): the first load
 *       and the median of the next ones.</li>
 *   <li><b>Viewers of a live run</b>: a synthetic run of {@code liveNames} names (11 series each) at
 *       {@code liveRate} requests/s goes through the whole pipeline; phases of 1 and of 16 viewers
 *       alternate. A viewer is what the browser does when the run page opens: the page's own API requests
 *       (recorded from Chromium on this run), then the live stream (SSE, with a session cookie) until the
 *       phase ends. A probe reads the run and its summary four times a second throughout. For each phase:
 *       p50/p95 of every API request (viewers' and probe's) and of the probe's alone, and live events each
 *       viewer received per second.</li>
 * </ol>
 *
 * <pre>WebAppBenchmark [series minutes liveNames liveRate phaseSeconds]</pre>
 */
public final class WebAppBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    int series = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int minutes = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int liveNames = args.length > 2 ? Integer.parseInt(args[2]) : 455;
    int liveRate = args.length > 3 ? Integer.parseInt(args[3]) : 5000;
    int phaseSeconds = args.length > 4 ? Integer.parseInt(args[4]) : 30;
    int[] phases = {1, 16, 1, 16};
    String db = "webapp_bench";
    try (EmbeddedStack stack = EmbeddedStack.start(db, System.out)) {
      stack.addGenerators(2, Path.of("."));
      ClickHouseHttp ch = new ClickHouseHttp(stack.clickHouseUri(), stack.clickHouseUser(), stack.clickHousePassword(),
          Duration.ofMinutes(10));
      String app = stack.appUrl();
      String token = stack.apiToken();
      long start = System.currentTimeMillis() / 1000 - (minutes * 60L + 7200);
      String finished = "webapp-soak-" + Long.toString(System.currentTimeMillis(), 36);
      // a 5,000-series run has its series over several metrics: the ones the page reads most
      QueryApiBenchmark.fill(ch, db, finished, start, series, minutes * 60, List.of("http_req_duration:TREND",
          "http_reqs:COUNTER", "http_req_failed:RATE", "http_req_waiting:TREND", "http_req_connecting:TREND"));

      try (Browser browser = Browser.start()) {
        browser.navigate(app);
        Object status = browser.eval("fetch('/api/v1/session', {method: 'POST', headers: {'Content-Type': "
            + "'application/json'}, body: JSON.stringify({token: " + JSON.writeValueAsString(token) + "})})"
            + ".then(r => r.status)");
        if (!"200".equals(String.valueOf(status))) {
          throw new IllegalStateException("signing in from the browser answered " + status);
        }
        List<Long> loads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          loads.add(browser.pageComplete(app + "#/runs/" + finished));
        }
        List<Long> warm = new ArrayList<>(loads.subList(1, loads.size()));
        Collections.sort(warm);
        System.out.printf("%nPAGE COMPLETE, finished run of %d min x %,d series: first load %d ms, then median %d ms"
            + " (min %d, max %d; %d loads)%n", minutes, series, loads.get(0), warm.get(warm.size() / 2), warm.get(0),
            warm.get(warm.size() - 1), warm.size());
        System.out.println("  API requests of that page: " + browser.apiRequests().size());

        // the live run
        ApiClient api = new ApiClient(stack.apiUrl(), token);
        int seconds = phases.length * phaseSeconds + 60;
        String live = "webapp-live-" + Long.toString(System.currentTimeMillis(), 36);
        ObjectNode body = JSON.createObjectNode();
        body.put("testRunId", live);
        body.set("plan", JSON.readTree(CardinalityBenchmark.plan(new CardinalityBenchmark.Spec(liveNames, liveRate,
            seconds, "web app viewers"))));
        api.post("/runs", body.toString());
        awaitData(stack, ch, db, live, 20);
        browser.pageComplete(app + "#/runs/" + live);
        List<String> pageRequests = browser.apiRequests().stream().filter(u -> !u.endsWith("/live")).toList();
        browser.navigate("about:blank"); // the browser's own stream ends; the viewers below are the only ones
        long liveSeries = seriesCount(ch, db, live);
        System.out.printf("%nLIVE RUN %s: %,d names, %,d series so far, %,d requests/s; a viewer makes the page's %d"
            + " API requests, then listens to the live stream%n", live, liveNames, liveSeries, liveRate,
            pageRequests.size());
        System.out.printf("%-8s %9s %9s %9s %9s %9s %9s %9s %12s %8s%n", "viewers", "requests", "p50 ms", "p95 ms",
            "page p50", "page p95", "probe p50", "probe p95", "events/s/vwr", "errors");
        List<double[]> results = new ArrayList<>();
        for (int v : phases) {
          double[] r = phase(stack.apiUrl(), live, token, pageRequests, v, phaseSeconds);
          results.add(r);
          System.out.printf("%-8d %9d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %12.2f %8d%n", v, (long) r[0], r[1], r[2],
              r[8], r[9], r[3], r[4], r[5], (long) r[6]);
        }
        double one = median(results, 1, 2);
        double sixteen = median(results, 16, 2);
        double oneProbe = median(results, 1, 4);
        double sixteenProbe = median(results, 16, 4);
        printEndpoints();
        double onePage = median(results, 1, 9);
        double sixteenPage = median(results, 16, 9);
        System.out.printf("%nVIEWERS: API p95 with 16 viewers %.1f ms vs 1 viewer %.1f ms (ratio %.2f); the pages' own"
            + " requests' p95 %.1f vs %.1f ms (ratio %.2f); the probe's p95 %.1f vs %.1f ms (ratio %.2f); target: p95"
            + " <= 100 ms with 16%n", sixteen, one, sixteen / one, sixteenPage, onePage, sixteenPage / onePage,
            sixteenProbe, oneProbe, sixteenProbe / oneProbe);
      }
    }
    System.exit(0);
  }

  private static double median(List<double[]> results, int viewers, int column) {
    double[] v = results.stream().filter(r -> (int) r[7] == viewers).mapToDouble(r -> r[column]).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** Waits until the run has {@code seconds} stored seconds of http_reqs. */
  private static void awaitData(EmbeddedStack stack, ClickHouseHttp ch, String db, String run, int seconds)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + 300_000;
    String sql = "SELECT count(DISTINCT ts) FROM metric_1s WHERE test_run_id = " + ClickHouseHttp.quote(run)
        + " AND analysis_id = '~total' AND metric = 'http_reqs' FORMAT TabSeparated";
    while (System.currentTimeMillis() < deadline) {
      String n = ch.execute(db, sql).strip();
      if (!n.isEmpty() && Long.parseLong(n) >= seconds) {
        return;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("run " + run + " has no " + seconds + " stored seconds after 5 minutes");
  }

  private static long seriesCount(ClickHouseHttp ch, String db, String run) {
    String n = ch.execute(db, "SELECT uniqExact(series_id) FROM series WHERE test_run_id = " + ClickHouseHttp.quote(run)
        + " AND analysis_id = '' FORMAT TabSeparated").strip();
    return n.isEmpty() ? 0 : Long.parseLong(n);
  }

  /**
   * One phase: {@code viewers} open the run page (its API requests, then the live stream, joining over the
   * first 5 s) while a probe reads the run and its summary every 250 ms; returns requests, p50, p95, probe
   * p50, probe p95, live events per viewer per second, errors, viewers.
   */
  static double[] phase(String apiUrl, String run, String token, List<String> pageRequests, int viewers,
      int seconds) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<Long> all = Collections.synchronizedList(new ArrayList<>());
    List<Long> page = Collections.synchronizedList(new ArrayList<>());
    List<Long> probe = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger errors = new AtomicInteger();
    AtomicLong events = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    Random rnd = new Random(viewers);
    Map<Integer, Stream<String>> streams = new ConcurrentHashMap<>();
    for (int v = 0; v < viewers; v++) {
      int id = v;
      long joinMs = viewers == 1 ? 0 : rnd.nextInt(5000);
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          Thread.sleep(joinMs);
          String cookie = signIn(http, apiUrl, token);
          for (String url : pageRequests) {
            long ns = timed(http, HttpRequest.newBuilder(URI.create(url)).header("Cookie", cookie), all, errors);
            if (ns > 0) {
              page.add(ns);
            }
          }
          HttpResponse<Stream<String>> sse = http.send(HttpRequest.newBuilder(URI.create(apiUrl + "/runs/" + run
              + "/live")).header("Cookie", cookie).header("Accept", "text/event-stream").build(),
              HttpResponse.BodyHandlers.ofLines());
          if (sse.statusCode() != 200) {
            errors.incrementAndGet();
            return;
          }
          streams.put(id, sse.body());
          sse.body().forEach(line -> {
            if (line.equals("event: metrics") && System.nanoTime() < end) {
              events.incrementAndGet();
            }
          });
        } catch (Exception e) {
          if (System.nanoTime() < end) {
            errors.incrementAndGet();
          }
        }
      }));
    }
    while (System.nanoTime() < end) {
      long next = System.nanoTime() + 250_000_000L;
      for (String path : List.of("/runs/" + run, "/runs/" + run + "/summary")) {
        long ns = timed(http, HttpRequest.newBuilder(URI.create(apiUrl + path)).header("Authorization", "Bearer "
            + token), all, errors);
        if (ns > 0) {
          probe.add(ns);
        }
      }
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        TimeUnit.NANOSECONDS.sleep(sleep);
      }
    }
    streams.values().forEach(Stream::close);
    for (Thread t : threads) {
      t.join(10_000);
      t.interrupt();
    }
    long[] a = all.stream().mapToLong(Long::longValue).sorted().toArray();
    long[] p = probe.stream().mapToLong(Long::longValue).sorted().toArray();
    long[] v = page.stream().mapToLong(Long::longValue).sorted().toArray();
    return new double[] {a.length, pct(a, 0.5), pct(a, 0.95), pct(p, 0.5), pct(p, 0.95),
        (double) events.get() / viewers / seconds, errors.get(), viewers, pct(v, 0.5), pct(v, 0.95)};
  }

  private static double pct(long[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
        / 1e6;
  }

  /** Per endpoint (path without the run id, and the query's parameter names): latencies in ns, and failures. */
  static final Map<String, List<Long>> BY_ENDPOINT = new ConcurrentHashMap<>();
  static final Map<String, String> FAILURES = new ConcurrentHashMap<>();

  private static long timed(HttpClient http, HttpRequest.Builder b, List<Long> into, AtomicInteger errors) {
    long t0 = System.nanoTime();
    HttpRequest req = b.timeout(Duration.ofSeconds(30)).build();
    String key = endpoint(req.uri());
    try {
      HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
      long ns = System.nanoTime() - t0;
      // 404 is the page's answer for a metric the run has not (no checks, no VUs in a synthetic run): an answer
      if (r.statusCode() != 200 && !(r.statusCode() == 404 && new String(r.body(), StandardCharsets.UTF_8)
          .contains("has no metric"))) {
        errors.incrementAndGet();
        FAILURES.putIfAbsent(key, r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
        return -1;
      }
      into.add(ns);
      BY_ENDPOINT.computeIfAbsent(key, k -> Collections.synchronizedList(new ArrayList<>())).add(ns);
      return ns;
    } catch (Exception e) {
      errors.incrementAndGet();
      FAILURES.putIfAbsent(key, e.toString());
      return -1;
    }
  }

  static String endpoint(URI u) {
    String path = u.getPath().replaceFirst("/api/v1/runs/[^/]+", "/runs/{id}");
    String q = u.getRawQuery() == null ? "" : "?" + String.join("&", Arrays.stream(u.getRawQuery().split("&"))
        .map(kv -> kv.startsWith("metric=") || kv.startsWith("groupBy=") || kv.startsWith("stat=") ? kv
            : kv.replaceFirst("=.*", "")).toList());
    return path + q;
  }

  static void printEndpoints() {
    System.out.printf("%n%-100s %6s %8s %8s%n", "endpoint (all phases)", "n", "p50 ms", "p95 ms");
    BY_ENDPOINT.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      long[] v = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
      System.out.printf("%-100s %6d %8.1f %8.1f%n", e.getKey().length() > 100 ? e.getKey().substring(0, 100)
          : e.getKey(), v.length, pct(v, 0.5), pct(v, 0.95));
    });
    FAILURES.forEach((k, v) -> System.out.println("FAILED " + k + ": " + (v.length() > 300 ? v.substring(0, 300) : v)));
  }

  private static String signIn(HttpClient http, String apiUrl, String token) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(apiUrl + "/session")).header("Content-Type",
        "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"token\": " + JSON.writeValueAsString(token)
        + "}")).build(), HttpResponse.BodyHandlers.ofString());
    String c = r.headers().firstValue("Set-Cookie").orElseThrow(() -> new IllegalStateException("no session: "
        + r.body()));
    return c.substring(0, c.indexOf(';'));
  }

  /** Debian's headless Chromium, driven over the DevTools protocol (one page). */
  static final class Browser implements AutoCloseable {
    private final Process process;
    private final Path profile;
    private final WebSocket ws;
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    private Browser(Process process, Path profile, WebSocket ws) {
      this.process = process;
      this.profile = profile;
      this.ws = ws;
    }

    static Browser start() throws Exception {
      String exe = Files.isExecutable(Path.of("/usr/bin/chromium")) ? "/usr/bin/chromium" : "chromium";
      Path profile = Files.createTempDirectory("webapp-bench-chromium");
      Process p = new ProcessBuilder(exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-extensions", "--window-size=1400,1000", "--remote-debugging-port=0",
          "--user-data-dir=" + profile, "about:blank").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
      String browserWs = null;
      long deadline = System.currentTimeMillis() + 30_000;
      for (String line; System.currentTimeMillis() < deadline && (line = err.readLine()) != null; ) {
        int at = line.indexOf("ws://");
        if (line.contains("DevTools listening on") && at >= 0) {
          browserWs = line.substring(at).strip();
          break;
        }
      }
      if (browserWs == null) {
        p.destroyForcibly();
        throw new IllegalStateException("Chromium did not open its DevTools port (is Debian's chromium installed?)");
      }
      Thread.ofVirtual().start(() -> err.lines().forEach(l -> { })); // keep its stderr drained
      URI u = URI.create(browserWs);
      HttpResponse<String> targets = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
          + u.getAuthority() + "/json/list")).build(), HttpResponse.BodyHandlers.ofString());
      String pageWs = null;
      for (JsonNode t : JSON.readTree(targets.body())) {
        if (t.path("type").asText().equals("page")) {
          pageWs = t.path("webSocketDebuggerUrl").asText();
          break;
        }
      }
      if (pageWs == null) {
        p.destroyForcibly();
        throw new IllegalStateException("Chromium has no page: " + targets.body());
      }
      Browser[] self = new Browser[1];
      StringBuilder frame = new StringBuilder();
      WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(pageWs),
          new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
              frame.append(data);
              if (last) {
                String text = frame.toString();
                frame.setLength(0);
                try {
                  JsonNode m = JSON.readTree(text);
                  if (m.has("id") && self[0] != null) {
                    CompletableFuture<JsonNode> f = self[0].pending.remove(m.path("id").asInt());
                    if (f != null) {
                      f.complete(m);
                    }
                  }
                } catch (Exception e) {
                  // an event we do not read
                }
              }
              w.request(1);
              return null;
            }
          }).get(30, TimeUnit.SECONDS);
      self[0] = new Browser(p, profile, ws);
      return self[0];
    }

    JsonNode call(String method, ObjectNode params) throws Exception {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonNode> f = new CompletableFuture<>();
      pending.put(id, f);
      ObjectNode m = JSON.createObjectNode().put("id", id).put("method", method);
      m.set("params", params);
      ws.sendText(m.toString(), true).get(30, TimeUnit.SECONDS);
      JsonNode r = f.get(120, TimeUnit.SECONDS);
      if (r.has("error")) {
        throw new IllegalStateException(method + ": " + r.path("error"));
      }
      return r.path("result");
    }

    void navigate(String url) throws Exception {
      call("Page.navigate", JSON.createObjectNode().put("url", url));
      long deadline = System.currentTimeMillis() + 30_000;
      while (!"complete".equals(String.valueOf(eval("document.readyState")))) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException(url + " did not load in 30 s");
        }
        Thread.sleep(20);
      }
    }

    /** The value of {@code js} (a promise is awaited). */
    Object eval(String js) throws Exception {
      JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", js).put("awaitPromise", true)
          .put("returnByValue", true));
      if (r.has("exceptionDetails")) {
        throw new IllegalStateException(js + ": " + r.path("exceptionDetails"));
      }
      JsonNode v = r.path("result").path("value");
      return v.isMissingNode() || v.isNull() ? null : v.isTextual() ? v.asText() : v.toString();
    }

    /** Loads {@code url} afresh; ms from the start of its loading to the run page marking itself complete. */
    long pageComplete(String url) throws Exception {
      navigate("about:blank");
      navigate(url);
      long deadline = System.currentTimeMillis() + 120_000;
      while (true) {
        Object v = eval("document.body && document.body.dataset.runPageComplete || null");
        if (v != null) {
          return Long.parseLong(v.toString());
        }
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException(url + " was not complete in 120 s: " + eval("document.body.innerText"
              + ".slice(0, 500)"));
        }
        Thread.sleep(10);
      }
    }

    /** The API requests the page has made since it loaded. */
    List<String> apiRequests() throws Exception {
      Object v = eval("JSON.stringify(performance.getEntriesByType('resource').map(e => e.name)"
          + ".filter(n => n.includes('/api/v1/')))");
      List<String> out = new ArrayList<>();
      JSON.readTree(v.toString()).forEach(n -> out.add(n.asText()));
      return out;
    }

    @Override
    public void close() throws Exception {
      try {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        // the browser goes anyway
      }
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private WebAppBenchmark() {}
}
