package dev.loadtest.benchmarks;

import dev.loadtest.api.ApiConfig;
import dev.loadtest.api.ApiServer;
import dev.loadtest.api.Limits;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.flink.aggregate.BucketLadder;
import dev.loadtest.flink.aggregate.Project;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.flink.sink.MetricRowBinary;
import dev.loadtest.flink.sink.RowBinaryOutput;
import dev.loadtest.flink.sink.RunRowBinary;
import dev.loadtest.flink.sink.SeriesRowBinary;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.series.Projection;
import dev.loadtest.schemas.series.SeriesId;
import dev.loadtest.schemas.topics.Topics;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Reads of the query API at k6 Cloud's reverse-load-test shapes, scaled to this machine: a soak run of
 * {@code soakMinutes} with {@code soakSeries} series of http_req_duration and a peak run of
 * {@code peakMinutes} with {@code peakSeries}, written through the sink's RowBinary encoder into a real
 * ClickHouse (1 s rows and the 10 s and 1 min rollups, as the aggregate job writes them). Measures the
 * run summary and a whole-run panel of p(95) by {@code name}: median and p95 latency of sequential
 * requests, then how many concurrent dashboard clients keep the panel's p95 within 100 ms.
 *
 * <pre>QueryApiBenchmark [soakSeries soakMinutes peakSeries peakMinutes requests]</pre>
 */
public final class QueryApiBenchmark {
  static final String TOKEN = "bench-read-token-0123456789";

  public static void main(String[] args) throws Exception {
    int soakSeries = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int soakMinutes = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int peakSeries = args.length > 2 ? Integer.parseInt(args[2]) : 23000;
    int peakMinutes = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    int requests = args.length > 4 ? Integer.parseInt(args[4]) : 40;
    EmbeddedKafka kafka = EmbeddedKafka.start(Map.of());
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    ClickHouseServer server = ClickHouseServer.resolve();
    ClickHouseHttp ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofMinutes(10));
    String db = ClickHouseServer.newDatabaseName("bench_api");
    Migrations.apply(ch, db);
    System.out.printf("ClickHouse %s at %s, database %s%n", server.version(), server.httpUri(), db);
    long soakStart = 1_780_000_020L;
    long peakStart = soakStart + 2 * 3600;
    fill(ch, db, "soak", soakStart, soakSeries, soakMinutes * 60);
    fill(ch, db, "peak", peakStart, peakSeries, peakMinutes * 60);
    try (ApiServer api = ApiServer.start(new ApiConfig("127.0.0.1", 0, server.httpUri(), server.user(),
        server.password(), db, kafka.bootstrapServers(), Map.of(TOKEN, ApiConfig.Scope.READ), List.of(),
        Limits.DEFAULT))) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String panel = "/timeseries?metric=http_req_duration&stat=" + URLEncoder.encode("p(95)", StandardCharsets.UTF_8)
          + "&groupBy=name";
      System.out.printf("%n%-40s %8s %8s %8s %s%n", "request", "median", "p95", "max", "(ms, " + requests
          + " sequential requests to each of a pair, alternating, after 50 warm-up)");
      String body = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs/soak" + panel)).header(
          "Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString()).body();
      System.out.println("soak panel: " + body.length() + " bytes, " + body.substring(0, body.indexOf("\"series\"")));
      // Soak and peak side by side (alternating requests), so that both see the same machine.
      double[][] panels = measureSideBySide(http, api.url() + "/runs/soak" + panel, api.url() + "/runs/peak" + panel,
          requests);
      // The same panel at most 300 points wide (the soak: 20 s steps read from the 10 s rows; the peak: 10 s steps).
      double[][] narrow = measureSideBySide(http, api.url() + "/runs/soak" + panel + "&maxPoints=300",
          api.url() + "/runs/peak" + panel + "&maxPoints=300", requests);
      measureSideBySide(http, api.url() + "/runs/soak/summary", api.url() + "/runs/peak/summary", requests);
      System.out.printf("%npanel p95 by name, soak (%d min, %d series) / peak (%d min, %d series): median ratio %.2f%n",
          soakMinutes, soakSeries, peakMinutes, peakSeries, panels[0][0] / panels[1][0]);
      System.out.printf("the same panel 300 points wide, soak / peak: median ratio %.2f%n", narrow[0][0] / narrow[1][0]);
      if (System.getenv("BENCH_HOLD") != null) {
        System.out.println("holding for inspection: " + api.url() + " database " + db + " on " + server.httpUri());
        Thread.sleep(Long.parseLong(System.getenv("BENCH_HOLD")) * 1000);
      }
      System.out.printf("%n%-8s %10s %8s %8s   (soak panel, 20 s per level)%n", "clients", "req/s", "median", "p95");
      for (int clients : new int[] {1, 2, 4, 8, 16}) {
        double[] r = concurrent(http, api.url() + "/runs/soak" + panel, clients, Duration.ofSeconds(20));
        System.out.printf("%-8d %10.1f %8.1f %8.1f %8d errors%n", clients, r[2], r[0], r[1], (long) r[3]);
        if (r[1] > 1000) {
          break; // saturated: more clients only queue
        }
      }
    } finally {
      server.close();
      kafka.close();
    }
  }

  /** Writes a run of {@code series} http_req_duration series over {@code seconds}, with its rollups. */
  static void fill(ClickHouseHttp ch, String db, String run, long startSec, int series, int seconds) {
    fill(ch, db, run, startSec, series, seconds, List.of("http_req_duration:TREND"));
  }

  /**
   * Writes a run of {@code series} series over {@code seconds}, with its rollups, the series dealt to
   * {@code metrics} ({@code NAME:TYPE}) in turn: trends and counters count the histogram's samples, rates
   * have 1% of them non-zero.
   */
  static void fill(ClickHouseHttp ch, String db, String run, long startSec, int series, int seconds,
      List<String> metrics) {
    long t0 = System.nanoTime();
    Random rnd = new Random(run.hashCode());
    // A few histogram shapes, reused: what matters to the reads is rows and buckets per row.
    List<SparseHistogram> shapes = new ArrayList<>();
    for (int s = 0; s < 16; s++) {
      SingleWriterHistogram h = new SingleWriterHistogram();
      for (int i = 0; i < 8; i++) {
        h.record((long) (20_000 * Math.exp(rnd.nextGaussian() * 0.6)));
      }
      shapes.add(h.snapshot());
    }
    SeriesBucket[] proto = new SeriesBucket[series];
    List<SeriesBucket> firsts = new ArrayList<>();
    for (int i = 0; i < series; i++) {
      TreeMap<String, String> tags = new TreeMap<>(Map.of("name", "endpoint-" + ((i / metrics.size()) % 50), "status",
          i % 10 == 0 ? "500" : "200", "method", "GET", "generator", "gen-" + (i % 4), "instance", "i-" + i));
      SeriesBucket b = new SeriesBucket();
      b.testRunId = run;
      String[] metric = metrics.get(i % metrics.size()).split(":");
      b.metric = metric[0];
      b.type = metric[1];
      b.tagKeys = tags.keySet().toArray(String[]::new);
      b.tagValues = tags.values().toArray(String[]::new);
      b.seriesId = SeriesId.of(run, b.metric, tags);
      proto[i] = b;
      SeriesBucket f = b.copy();
      f.startMs = startSec * 1000;
      firsts.add(f);
    }
    insert(ch, db, new SeriesRowBinary(), firsts);
    MetricRowBinary enc = new MetricRowBinary();
    List<SeriesBucket> projectedFirsts = new ArrayList<>();
    Map<Long, SeriesBucket> wholeRun = new java.util.LinkedHashMap<>();
    long rows = 0;
    for (int width : new int[] {1, 10, 60}) {
      RowBinaryOutput out = new RowBinaryOutput(64 << 20);
      int inBatch = 0;
      for (long t = startSec - Math.floorMod(startSec, width); t < startSec + seconds; t += width) {
        Map<Long, SeriesBucket> projected = new java.util.HashMap<>();
        for (int i = 0; i < series; i++) {
          SparseHistogram h = shapes.get((int) ((t / width + i) & 15));
          SeriesBucket b = proto[i];
          b.startMs = t * 1000;
          b.widthMs = width * 1000;
          long[] counts = h.counts();
          for (int k = 0; k < counts.length; k++) {
            counts[k] *= width;
          }
          b.histIndexes = h.indexes();
          b.histCounts = counts;
          b.count = h.count() * width;
          b.sum = b.type.equals("COUNTER") ? b.count : (double) h.sum() * width;
          b.nonZero = b.type.equals("RATE") ? b.count / 100 : 0;
          b.min = h.min();
          b.max = h.max();
          enc.write(b, out);
          rows++;
          // what the aggregate job adds: the same buckets merged per projection (whole metric, by name)
          for (Projection p : Projection.values()) {
            SeriesBucket pb = Project.project(b, p);
            projected.merge(pb.seriesId, pb, SeriesBucket::merge);
          }
          if (++inBatch >= 500_000) {
            ch.insert(db, MetricRowBinary.insert(MetricRowBinary.TABLES.get(enc.table(b))), out.toByteArray());
            out.reset();
            inBatch = 0;
          }
        }
        for (SeriesBucket pb : projected.values()) {
          enc.write(pb, out);
          rows++;
          inBatch++;
          if (width == 1 && t == startSec) {
            projectedFirsts.add(pb.copy());
          }
          if (width == 60 && Projection.NAME.analysisId("").equals(pb.analysisId) && BucketLadder.keepsRunPart(pb)) {
            SeriesBucket part = wholeRun.get(pb.seriesId); // the whole run, as its minutes hold it
            if (part == null) {
              part = pb.copy();
              part.widthMs = BucketLadder.RUN_WIDTH_MS;
              wholeRun.put(pb.seriesId, part);
            } else {
              part.absorb(pb);
            }
          }
        }
      }
      if (inBatch > 0) {
        ch.insert(db, MetricRowBinary.insert(MetricRowBinary.TABLES.get(width == 1 ? 0 : width == 10 ? 1 : 2)),
            out.toByteArray());
      }
    }
    insert(ch, db, new SeriesRowBinary(), projectedFirsts);
    // what the aggregate job also writes: each by-name trend's whole run (metric_run), in its last version
    RowBinaryOutput runOut = new RowBinaryOutput(64 << 20);
    for (SeriesBucket part : wholeRun.values()) {
      part.lastTimeUs = (startSec + seconds) * 1000L;
      enc.write(part, runOut);
      rows++;
    }
    if (!wholeRun.isEmpty()) {
      ch.insert(db, MetricRowBinary.insert("metric_run"), runOut.toByteArray());
    }
    RunState state = RunState.first(run, RunStatus.CREATED, startSec * 1000 - 1000, "created", List.of(), "h", "", null)
        .to(RunStatus.RUNNING, startSec * 1000, "running").to(RunStatus.FINISHED, (startSec + seconds) * 1000L, "done");
    insert(ch, db, new RunRowBinary(), List.of(Tuple2.of(run, state.toJson())));
    ch.execute(db, "OPTIMIZE TABLE metric_1s FINAL");
    ch.execute(db, "OPTIMIZE TABLE metric_10s FINAL");
    ch.execute(db, "OPTIMIZE TABLE metric_1m FINAL");
    System.out.printf("filled %-5s %,d series x %d s: %,d rows in %.1f s%n", run, series, seconds, rows,
        (System.nanoTime() - t0) / 1e9);
  }

  static <T> void insert(ClickHouseHttp ch, String db, dev.loadtest.flink.sink.RowBinaryRows<T> enc, List<T> rows) {
    dev.loadtest.flink.sink.RowBinaryRows.insertAll(ch, db, enc, rows);
  }

  /**
   * Median, p95 and max latency of {@code n} requests to each of two URLs, alternating (after 50 warm-up
   * requests to each), so that noise of the machine falls on both alike.
   */
  static double[][] measureSideBySide(HttpClient http, String a, String b, int n) throws Exception {
    for (int i = 0; i < 50; i++) {
      call(http, a);
      call(http, b);
    }
    double[][] ms = new double[2][n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < 2; k++) {
        long t = System.nanoTime();
        call(http, k == 0 ? a : b);
        ms[k][i] = (System.nanoTime() - t) / 1e6;
      }
    }
    double[][] out = new double[2][];
    for (int k = 0; k < 2; k++) {
      Arrays.sort(ms[k]);
      out[k] = new double[] {ms[k][n / 2], ms[k][(int) Math.ceil(n * 0.95) - 1], ms[k][n - 1]};
      String url = k == 0 ? a : b;
      System.out.printf("%-40s %8.1f %8.1f %8.1f%n", url.substring(url.indexOf("/runs/") + 6, Math.min(url.length(),
          url.indexOf("/runs/") + 46)), out[k][0], out[k][1], out[k][2]);
    }
    return out;
  }

  static double[] concurrent(HttpClient http, String url, int clients, Duration d) throws Exception {
    List<Double> all = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stop = new AtomicBoolean();
    java.util.concurrent.atomic.AtomicLong errors = new java.util.concurrent.atomic.AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      threads.add(Thread.ofVirtual().start(() -> {
        while (!stop.get()) {
          long t = System.nanoTime();
          try {
            call(http, url);
            all.add((System.nanoTime() - t) / 1e6);
          } catch (Exception e) {
            errors.incrementAndGet();
          }
        }
      }));
    }
    Thread.sleep(d.toMillis());
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    double[] ms = all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (ms.length == 0) {
      return new double[] {Double.NaN, Double.NaN, 0, errors.get()};
    }
    return new double[] {ms[ms.length / 2], ms[(int) Math.ceil(ms.length * 0.95) - 1],
        ms.length / (double) d.toSeconds(), errors.get()};
  }

  static void call(HttpClient http, String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer "
        + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(url + " -> " + r.statusCode() + " " + r.body());
    }
  }
}
