package dev.loadtest.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.cli.EmbeddedStack;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reverse load test on this machine, through the real pipeline: the embedded stack (broker, coordinator,
 * two generators, MiniCluster with the aggregate and threshold jobs, ClickHouse, query API) runs synthetic
 * runs of a given cardinality and rate, submitted through the API as a user submits them. For each run it
 * prints:
 *
 * <ul>
 *   <li>exactness: the generators' request count against the summary, every projection (raw series, by
 *       name, total) in every table (1 s, 10 s, 1 min) and the whole-run time series;</li>
 *   <li>lag: per second of the run, from the second's start to its requests readable in ClickHouse
 *       (p50/p99/max), and the jobs' consumer lag in records as {@code /health} reports it;</li>
 *   <li>completion: from the run's end to every request stored;</li>
 *   <li>checkpoints of the aggregate job (size, duration; Flink's REST API), CPU per component (this JVM's
 *       threads by name, ClickHouse's process), rows per second into ClickHouse;</li>
 *   <li>reads with the stack running: the summary and a by-name p(95) panel, median and p95 of sequential
 *       requests, taken alternately with the same reads of the first run (the baseline) so that the
 *       machine's noise falls on both alike.</li>
 * </ul>
 *
 * <p>Arguments: runs as {@code NAMES:RATE:SECONDS[:LABEL]}, e.g. {@code 100:50000:60 5000:50000:300}. The
 * first run is the baseline of the read comparison.
 */
public final class CardinalityBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int READS = 30;
  /** How long a run may take to be complete after its end before the benchmark reports how far it got. */
  private static final long WAIT_AFTER_END_MS =
      Long.parseLong(System.getenv().getOrDefault("CARDINALITY_WAIT_AFTER_END_S", "1500")) * 1000L;

  record Spec(int names, int rate, int seconds, String label) {
    static Spec parse(String s) {
      String[] f = s.split(":");
      return new Spec(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
          f.length > 3 ? f[3] : f[0] + " names");
    }
  }

  /** What one run measured. */
  record Result(Spec spec, String runId, String status, long expected, long stored, Map<String, Long> projections,
      long timeseriesSum, double completionS, long[] lagMs, long maxRecordsBehind, long maxCheckpointBytes,
      long lastCheckpointBytes, long maxCheckpointMs, Map<String, Double> cpuSeconds, double rowsPerSecond,
      long series) {
    /**
     * The summary, the whole-run time series and every projection's 1 s rows hold every request (the 10 s
     * and 1 min rollups are written as event time passes their ends, and readers take what they do not
     * cover yet from the 1 s rows: they are printed, not judged).
     */
    boolean exact() {
      return stored == expected && timeseriesSum == expected && projections.entrySet().stream()
          .filter(e -> e.getKey().startsWith("metric_1s/")).allMatch(e -> e.getValue() == expected);
    }
  }

  private CardinalityBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<Spec> specs = Arrays.stream(args.length == 0 ? new String[] {"100:50000:60", "5000:50000:300",
        "20000:20000:300"} : args).map(Spec::parse).toList();
    PrintStream out = System.out;
    List<Result> results = new ArrayList<>();
    Map<String, double[][]> reads = new LinkedHashMap<>();
    try (EmbeddedStack stack = EmbeddedStack.start("cardinality", out)) {
      stack.addGenerators(2, Path.of("."));
      ApiClient api = new ApiClient(stack.apiUrl(), stack.apiToken());
      ClickHouseHttp ch = new ClickHouseHttp(stack.clickHouseUri(), stack.clickHouseUser(), stack.clickHousePassword(),
          Duration.ofSeconds(120));
      Result first = null;
      for (Spec spec : specs) {
        Result r = run(stack, api, ch, spec, out);
        results.add(r);
        if (first == null) {
          first = r;
          reads.put(spec.label(), measureReads(stack, List.of(r.runId()), out)[0]);
        } else {
          double[][][] pair = measureReads(stack, List.of(r.runId(), first.runId()), out);
          reads.put(spec.label(), pair[0]);
          reads.put(spec.label() + " / baseline alongside", pair[1]);
        }
      }
      // Then again once ClickHouse has merged what the runs wrote (the reads above compete with those merges).
      long settling = System.nanoTime();
      boolean settled = merged(ch, Duration.ofSeconds(240));
      out.printf(Locale.ROOT, "%nClickHouse's merges %s %.0f s after the last run's reads%n", settled ? "done"
          : "still running", (System.nanoTime() - settling) / 1e9);
      double[][][] after = measureReads(stack, results.stream().map(Result::runId).toList(), out);
      for (int i = 0; i < results.size(); i++) {
        reads.put(results.get(i).spec().label() + ", merges " + (settled ? "settled" : "running"), after[i]);
      }
      printSummary(out, results, reads);
      long holdS = Long.parseLong(System.getenv().getOrDefault("CARDINALITY_HOLD_S", "0"));
      if (holdS > 0) { // to read the runs by hand: curl the API, or point another API or clickhouse-client at them
        out.printf("%nholding the stack for %d s: API %s (token %s), ClickHouse %s, runs %s%n", holdS, stack.apiUrl(),
            stack.apiToken(), stack.clickHouseUri(), results.stream().map(Result::runId).toList());
        Thread.sleep(holdS * 1000);
      }
    }
    System.exit(results.stream().allMatch(Result::exact) ? 0 : 1);
  }

  private static void printSummary(PrintStream out, List<Result> results, Map<String, double[][]> reads) {
    out.printf("%n== cardinality benchmark, %d cores, %s ==%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.version"));
    out.printf("%-14s %9s %6s %13s %13s %6s %9s %9s %9s %11s %11s %9s %s%n", "run", "series", "rate/s", "generated",
        "stored", "exact", "complete", "lag p50", "lag p99", "ckpt max", "ckpt last", "rows/s", "status");
    for (Result r : results) {
      out.printf(Locale.ROOT, "%-14s %,9d %,6d %,13d %,13d %6s %8.1fs %8.1fs %8.1fs %10.1fM %10.1fM %,9.0f %s%n",
          r.spec().label(), r.series(), r.spec().rate(), r.expected(), r.stored(), r.exact() ? "yes" : "NO",
          r.completionS(), pct(r.lagMs(), 0.5) / 1000.0, pct(r.lagMs(), 0.99) / 1000.0,
          r.maxCheckpointBytes() / 1e6, r.lastCheckpointBytes() / 1e6, r.rowsPerSecond(), r.status());
    }
    out.printf("%n%-44s %9s %9s%n", "reads (ms, sequential, with the stack running)", "median", "p95");
    reads.forEach((k, v) -> {
      out.printf(Locale.ROOT, "%-44s %9.1f %9.1f%n", k + ": summary", v[0][0], v[0][1]);
      out.printf(Locale.ROOT, "%-44s %9.1f %9.1f%n", k + ": p(95) by name, top 10", v[1][0], v[1][1]);
    });
    out.println();
    for (Result r : results) {
      out.printf("%s: projections %s, whole-run time series %,d; CPU seconds %s; records behind max %,d;"
          + " checkpoint duration max %d ms%n", r.spec().label(), r.projections(), r.timeseriesSum(), r.cpuSeconds(),
          r.maxRecordsBehind(), r.maxCheckpointMs());
    }
  }

  static String plan(Spec s) {
    return """
        {"name": "cardinality %s", "description": "reverse load test: %d names at %d requests/s",
         "generator": {"plugin": "synthetic", "options": {"rate": %d, "duration": "%ds", "names": %d,
           "latency": {"median": "20ms", "p99": "250ms"}, "statusMix": {"200": 1}}},
         "scenarios": {"unused": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "none"}},
         "thresholds": {"http_req_duration": ["p(95)<2000"], "http_req_failed": ["rate<0.01"]},
         "flows": {"none": {"steps": [{"think": "1s"}]}}}""".formatted(s.label(), s.names(), s.rate(), s.rate(),
        s.seconds(), s.names());
  }

  static Result run(EmbeddedStack stack, ApiClient api, ClickHouseHttp ch, Spec spec, PrintStream out)
      throws Exception {
    String id = "card-" + spec.names() + "-" + Long.toString(System.currentTimeMillis(), 36);
    ObjectNode body = JSON.createObjectNode();
    body.put("testRunId", id);
    body.set("plan", JSON.readTree(plan(spec)));
    body.putObject("metadata").put("name", "cardinality " + spec.label());
    String db = "cardinality";
    Cpu cpu = new Cpu();
    api.post("/runs", body.toString());
    out.printf("%n%s: run %s, %,d names, %,d requests/s for %d s%n", spec.label(), id, spec.names(), spec.rate(),
        spec.seconds());
    Map<Long, Long> readableAt = new TreeMap<>();
    long firstSecond = -1;
    long maxBehind = 0;
    long maxCkpt = 0;
    long lastCkpt = 0;
    long maxCkptMs = 0;
    String status = "SUBMITTED";
    long endedAt = 0;
    JsonNode totals = null;
    long stored = 0;
    long completeAt = 0;
    long lastSummary = 0;
    long lastVertices = 0;
    long t0 = System.currentTimeMillis();
    long deadline = System.currentTimeMillis() + (spec.seconds() * 6L + 600) * 1000L; // a backlog may take a while
    long lastPrint = 0;
    String readable = "SELECT toUInt32(max(ts)) FROM metric_1s WHERE test_run_id = " + ClickHouseHttp.quote(id)
        + " AND analysis_id = '~total' AND metric = 'http_reqs' FORMAT TabSeparated";
    while (System.currentTimeMillis() < deadline) {
      long now = System.currentTimeMillis();
      JsonNode run;
      try {
        run = api.get("/runs/" + id, Map.of());
      } catch (ApiClient.ApiError e) {
        if (e.status() != 404) {
          throw e;
        }
        Thread.sleep(100); // not stored yet
        continue;
      }
      status = run.path("status").asText();
      if (endedAt == 0 && Arrays.asList("FINISHED", "ABORTED", "FAILED").contains(status)) {
        endedAt = now;
        if (!status.equals("FINISHED")) {
          out.printf("  %s after %d s: %s%n", status, firstSecond < 0 ? 0 : now / 1000 - firstSecond,
              run.path("history").path(run.path("history").size() - 1).path("reason").asText("no reason given"));
        }
      }
      if (run.path("totals").isObject()) {
        totals = run.path("totals");
      }
      long max = Long.parseLong(ch.execute(db, readable).strip());
      if (max > 0) {
        if (firstSecond < 0) {
          firstSecond = max; // the first second may have begun before the job saw it: not measured
        }
        for (long s = readableAt.isEmpty() ? firstSecond + 1 : ((TreeMap<Long, Long>) readableAt).lastKey() + 1;
            s <= max; s++) {
          readableAt.put(s, now);
        }
      }
      JsonNode health = api.get("/health", Map.of());
      maxBehind = Math.max(maxBehind, health.path("ingestion").path("samples").path("recordsBehind").asLong());
      long[] ck = checkpoint(stack.flinkRest());
      if (now - lastVertices >= 10_000) {
        lastVertices = now;
        out.printf("  t+%d s  checkpoint %d MB in %d ms  %s%n", (now - t0) / 1000, ck[0] >> 20, ck[1],
            vertices(stack.flinkRest()));
      }
      maxCkpt = Math.max(maxCkpt, ck[0]);
      lastCkpt = ck[0] > 0 ? ck[0] : lastCkpt;
      maxCkptMs = Math.max(maxCkptMs, ck[1]);
      if (endedAt > 0 && now - endedAt > WAIT_AFTER_END_MS) {
        out.printf("  giving up %d s after the end: %,d stored so far%n", WAIT_AFTER_END_MS / 1000, stored);
        break;
      }
      if (endedAt > 0) {
        if (totals == null) {
          if (now - endedAt > 120_000) {
            break;
          }
        } else {
          // A cheap count first (the total projection's 1 s rows, a few per second): the summary, which merges
          // every histogram of the run, is asked only once that count is complete, not polled every 250 ms
          // (at 55,000 series that kept a core busy and slowed the catching up it was measuring).
          long totalRows = Long.parseLong(ch.execute(db, "SELECT sum(count) FROM metric_1s WHERE test_run_id = "
              + ClickHouseHttp.quote(id) + " AND analysis_id = '~total' AND metric = 'http_reqs' FORMAT TabSeparated")
              .strip());
          stored = Math.max(stored, totalRows);
          if (totalRows < totals.path("requests").asLong() && now - lastSummary < 10_000) {
            Thread.sleep(Math.max(0, 250 - (System.currentTimeMillis() - now)));
            continue;
          }
          lastSummary = now;
          JsonNode summary;
          try {
            summary = api.get("/runs/" + id + "/summary", Map.of());
          } catch (java.io.IOException e) { // a stack past its memory answers late or not at all: say so, go on
            out.printf("  the summary did not answer: %s%n", e);
            continue;
          }
          stored = RunFollower.samples(summary, "http_reqs");
          if (stored == totals.path("requests").asLong()) {
            completeAt = now;
            break;
          }
        }
      }
      if (now - lastPrint >= 10_000) {
        out.printf("  %s %3ds: readable up to %ds ago, %,d records behind, checkpoint %.1f MB in %d ms, stored %,d%n",
            status.toLowerCase(Locale.ROOT), firstSecond < 0 ? 0 : (now / 1000 - firstSecond),
            max > 0 ? now / 1000 - max : -1, health.path("ingestion").path("samples").path("recordsBehind").asLong(),
            ck[0] / 1e6, ck[1], stored);
        lastPrint = now;
      }
      Thread.sleep(Math.max(0, 250 - (System.currentTimeMillis() - now)));
    }
    long expected = totals == null ? -1 : totals.path("requests").asLong();
    // The summary reads the total projection; the series and by-name rows are committed by another sink, up
    // to a checkpoint later: wait (at most a minute) until every 1 s projection holds the run, then compare.
    Map<String, Long> projections = projections(ch, db, id);
    long projectionsDeadline = System.currentTimeMillis() + 60_000;
    while (completeAt > 0 && System.currentTimeMillis() < projectionsDeadline && List.of("raw", "~name", "~total")
        .stream().anyMatch(a -> projections.get("metric_1s/" + a) != expected)) {
      Thread.sleep(250);
      projections.putAll(projections(ch, db, id));
    }
    long projectionsAt = System.currentTimeMillis();
    if (completeAt > 0) {
      out.printf(Locale.ROOT, "  every 1 s projection complete %.1f s after the summary%n",
          (projectionsAt - completeAt) / 1000.0);
    }
    long tsSum = 0;
    for (JsonNode p : api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count"))
        .path("series").path(0).path("points")) {
      tsSum += p.path(1).asLong();
    }
    long rows = Long.parseLong(ch.execute(db, "SELECT count() FROM metric_1s WHERE test_run_id = "
        + ClickHouseHttp.quote(id) + " FORMAT TabSeparated").strip());
    long series = Long.parseLong(ch.execute(db, "SELECT uniqExact(series_id) FROM series WHERE test_run_id = "
        + ClickHouseHttp.quote(id) + " AND analysis_id = '' FORMAT TabSeparated").strip());
    long[] lags = readableAt.entrySet().stream().mapToLong(e -> e.getValue() - e.getKey() * 1000).sorted().toArray();
    double ingestSeconds = Math.max(1, ((completeAt > 0 ? completeAt : System.currentTimeMillis())
        - (firstSecond > 0 ? firstSecond * 1000 : System.currentTimeMillis())) / 1000.0);
    Result r = new Result(spec, id, status, expected, stored, projections, tsSum,
        completeAt == 0 ? Double.NaN : (completeAt - endedAt) / 1000.0, lags, maxBehind, maxCkpt, lastCkpt, maxCkptMs,
        cpu.seconds(), rows / ingestSeconds, series);
    out.printf(Locale.ROOT, "  %s: %,d of %,d stored (%s), complete %.1f s after the end, lag p50 %.1f s p99 %.1f s,"
        + " %,d series%n", status, stored, expected, r.exact() ? "exact" : "NOT EXACT", r.completionS(),
        pct(lags, 0.5) / 1000.0, pct(lags, 0.99) / 1000.0, series);
    // Where the slowest seconds lie in the run (a minute's rollups closing, the start): the tail of the lag.
    long first = firstSecond;
    out.printf(Locale.ROOT, "  slowest seconds (into the run: lag): %s%n", readableAt.entrySet().stream()
        .sorted((a, b) -> Long.compare(b.getValue() - b.getKey() * 1000, a.getValue() - a.getKey() * 1000)).limit(8)
        .map(e -> String.format(Locale.ROOT, "+%d s: %.1f s", e.getKey() - first,
            (e.getValue() - e.getKey() * 1000) / 1000.0))
        .collect(java.util.stream.Collectors.joining(", ")));
    return r;
  }

  static long pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return -1;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * q) - 1)];
  }

  /**
   * Where the aggregate job's time goes now: per vertex, the share of the last second its busiest subtask was
   * busy and was held up by back-pressure ("busy/back-pressured" in ms per second). The bottleneck is the
   * busy vertex whose upstream is back-pressured.
   */
  static String vertices(URI rest) {
    StringBuilder b = new StringBuilder();
    try {
      HttpClient http = HttpClient.newHttpClient();
      JsonNode jobs = JSON.readTree(http.send(HttpRequest.newBuilder(rest.resolve("/jobs/overview")).build(),
          HttpResponse.BodyHandlers.ofString()).body());
      for (JsonNode j : jobs.path("jobs")) {
        if (!j.path("name").asText().contains("aggregate") || !"RUNNING".equals(j.path("state").asText())) {
          continue;
        }
        String jid = j.path("jid").asText();
        JsonNode job = JSON.readTree(http.send(HttpRequest.newBuilder(rest.resolve("/jobs/" + jid)).build(),
            HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode v : job.path("vertices")) {
          JsonNode m = JSON.readTree(http.send(HttpRequest.newBuilder(rest.resolve("/jobs/" + jid + "/vertices/"
              + v.path("id").asText() + "/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond"))
              .build(), HttpResponse.BodyHandlers.ofString()).body());
          double busy = 0;
          double bp = 0;
          for (JsonNode x : m) {
            if (x.path("id").asText().equals("busyTimeMsPerSecond")) {
              busy = x.path("max").asDouble();
            } else {
              bp = x.path("max").asDouble();
            }
          }
          String name = v.path("name").asText();
          b.append(String.format(Locale.ROOT, "[%s %.0f/%.0f] ", name.length() > 28 ? name.substring(0, 28) : name,
              busy, bp));
        }
      }
    } catch (Exception e) {
      b.append("(vertices: ").append(e.getMessage()).append(')');
    }
    return b.toString();
  }

  /** Requests of {@code run} per table and projection ("metric_1s/raw", ...). */
  private static Map<String, Long> projections(ClickHouseHttp ch, String db, String run) {
    Map<String, Long> projections = new LinkedHashMap<>();
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      for (String a : List.of("", "~name", "~total")) {
        String from = table.equals("metric_1s") ? dev.loadtest.schemas.clickhouse.SecondsAsRead.metric1s(true)
            : table + " FINAL";
        projections.put(table + "/" + (a.isEmpty() ? "raw" : a), Long.parseLong(ch.execute(db, "SELECT sum(count) FROM "
            + from + " WHERE test_run_id = " + ClickHouseHttp.quote(run) + " AND analysis_id = '" + a
            + "' AND metric = 'http_reqs' FORMAT TabSeparated").strip()));
      }
    }
    return projections;
  }

  /** The aggregate job's latest completed checkpoint: {size in bytes, end-to-end duration in ms}. */
  static long[] checkpoint(URI rest) {
    try {
      HttpClient http = HttpClient.newHttpClient();
      JsonNode jobs = JSON.readTree(http.send(HttpRequest.newBuilder(rest.resolve("/jobs/overview")).build(),
          HttpResponse.BodyHandlers.ofString()).body());
      for (JsonNode j : jobs.path("jobs")) {
        if (j.path("name").asText().contains("aggregate") && "RUNNING".equals(j.path("state").asText())) {
          JsonNode c = JSON.readTree(http.send(HttpRequest.newBuilder(rest.resolve("/jobs/" + j.path("jid").asText()
              + "/checkpoints")).build(), HttpResponse.BodyHandlers.ofString()).body()).path("latest").path("completed");
          return new long[] {c.path("state_size").asLong(), c.path("end_to_end_duration").asLong()};
        }
      }
    } catch (Exception e) {
      // not this second
    } finally {
      // the client's threads end with it
    }
    return new long[] {0, 0};
  }

  /** Whether ClickHouse has no merge running (polled until {@code within} has passed). */
  static boolean merged(ClickHouseHttp ch, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!ch.execute(null, "SELECT count() FROM system.merges FORMAT TabSeparated").strip().equals("0")) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(500); // polling ClickHouse's own table of running merges, bounded by the deadline
    }
    return true;
  }

  /** Summary and by-name panel reads of the runs, alternating; per run {{summary median, p95}, {panel ...}}. */
  static double[][][] measureReads(EmbeddedStack stack, List<String> runs, PrintStream out) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String panel = "/timeseries?metric=http_req_duration&stat=" + URLEncoder.encode("p(95)", StandardCharsets.UTF_8)
        + "&groupBy=name&top=10";
    long[][][] ms = new long[runs.size()][2][READS];
    for (int i = -5; i < READS; i++) { // 5 warm-up rounds
      for (int r = 0; r < runs.size(); r++) {
        for (int k = 0; k < 2; k++) {
          String url = stack.apiUrl() + "/runs/" + runs.get(r) + (k == 0 ? "/summary" : panel);
          long t = System.nanoTime();
          HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization",
              "Bearer " + stack.apiToken()).build(), HttpResponse.BodyHandlers.ofString());
          long took = System.nanoTime() - t;
          if (res.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + res.statusCode() + ": " + res.body());
          }
          if (i == -5 && k == 1) {
            JsonNode n = JSON.readTree(res.body());
            out.printf("  panel of %s: step %d s, %d series, groups %s, timings %s ms%n", runs.get(r),
                n.path("stepSeconds").asInt(), n.path("series").size(), n.path("groups"), n.path("timingsMs"));
          }
          if (i >= 0) {
            ms[r][k][i] = took;
          }
        }
      }
    }
    double[][][] res = new double[runs.size()][2][2];
    for (int r = 0; r < runs.size(); r++) {
      for (int k = 0; k < 2; k++) {
        long[] v = ms[r][k].clone();
        Arrays.sort(v);
        res[r][k][0] = v[v.length / 2] / 1e6;
        res[r][k][1] = pct(v, 0.95) / 1e6;
      }
    }
    return res;
  }

  /** CPU seconds per component since construction: this JVM's threads grouped by name, and ClickHouse. */
  static final class Cpu {
    private final Map<Long, Long> start = new HashMap<>();
    private final Map<Long, String> names = new HashMap<>();
    private final long clickHouseStart;

    Cpu() {
      var mx = ManagementFactory.getThreadMXBean();
      for (long id : mx.getAllThreadIds()) {
        start.put(id, Math.max(0, mx.getThreadCpuTime(id)));
      }
      clickHouseStart = clickHouseTicks();
    }

    Map<String, Double> seconds() {
      var mx = ManagementFactory.getThreadMXBean();
      Map<String, Double> out = new TreeMap<>();
      for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
        if (info == null) {
          continue;
        }
        long cpu = mx.getThreadCpuTime(info.getThreadId());
        if (cpu <= 0) {
          continue;
        }
        double s = (cpu - start.getOrDefault(info.getThreadId(), 0L)) / 1e9;
        out.merge(component(info.getThreadName()), s, Double::sum);
      }
      out.put("clickhouse", (clickHouseTicks() - clickHouseStart) / 100.0);
      out.replaceAll((k, v) -> Math.round(v * 10) / 10.0);
      out.values().removeIf(v -> v < 0.5);
      return out;
    }

    /** Which component a thread of this JVM belongs to, by its name. */
    static String component(String thread) {
      String t = thread.toLowerCase(Locale.ROOT);
      if (t.contains("threshold") || t.contains("judge") || t.contains("decode buckets")) {
        return "flink: thresholds job";
      }
      if (t.contains("pre-aggregate") || t.contains("preaggregate") || t.contains("source:") || t.contains("batch")
          && t.contains("gate")) {
        return "flink: source, gate, pre-aggregate";
      }
      if (t.contains("bucket") || t.contains("project") || t.contains("rollup")) {
        return "flink: 1 s buckets, projections, rollups";
      }
      if (t.contains("asyncoperations")) {
        return "flink: checkpoints (async snapshots)";
      }
      if (t.contains("clickhouse metric tables") || t.contains("clickhouse series")) {
        return "flink: ClickHouse sink (encode, commit)";
      }
      if (t.contains("gc thread") || t.contains("g1 ")) {
        return "jvm: garbage collection";
      }
      if (t.contains("compilerthread")) {
        return "jvm: JIT";
      }
      if (t.contains("checkpoint") || t.contains("flink-") || t.contains("jobmanager") || t.contains("pekko")
          || t.contains("flink")) {
        return "flink: runtime";
      }
      if (t.contains("data-plane") || t.contains("kafka-request-handler") || t.contains("raft") || t.contains("broker")
          || t.contains("log-cleaner") || t.contains("kafka-scheduler")) {
        return "kafka broker";
      }
      if (t.contains("streamthread") || t.contains("coordinator")) {
        return "coordinator";
      }
      if (t.contains("vert.x") || t.contains("live-hub") || t.contains("query-api")) {
        return "query api";
      }
      if (t.contains("producer") || t.contains("synthetic") || t.contains("generator") || t.contains("heartbeat")
          || t.contains("self-monitor") || t.contains("run-")) {
        return "generators";
      }
      return "other";
    }

    static long clickHouseTicks() {
      long ticks = 0;
      for (ProcessHandle p : (Iterable<ProcessHandle>) ProcessHandle.current().descendants()::iterator) {
        if (p.info().command().orElse("").contains("clickhouse")) {
          try {
            String[] f = Files.readString(Path.of("/proc/" + p.pid() + "/stat")).split("\\) ")[1].split(" ");
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
          } catch (Exception e) {
            // gone
          }
        }
      }
      return ticks;
    }
  }
}
