package dev.loadtest.api;

import dev.loadtest.flink.aggregate.Project;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.flink.sink.MetricRowBinary;
import dev.loadtest.flink.sink.RowBinaryRows;
import dev.loadtest.flink.sink.RunRowBinary;
import dev.loadtest.flink.sink.SeriesRowBinary;
import dev.loadtest.flink.sink.ThresholdRowBinary;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.series.Projection;
import dev.loadtest.schemas.series.SeriesId;
import dev.loadtest.schemas.threshold.ThresholdResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * A run's stored data as the aggregate and threshold jobs write it: 1 s buckets per series built from raw
 * values (kept, so that tests can compute exact answers), their 10 s and 1 min rollups, the series table,
 * the run's state and threshold results, all encoded by the sinks' own RowBinary encoders.
 */
final class RunData {
  static final List<String> NAMES = List.of("home", "cart", "checkout");
  static final List<String> GENERATORS = List.of("gen-a", "gen-b");

  /** One raw HTTP request. */
  record Request(long timeMs, String name, String generator, String status, long durationUs, boolean failed) {}

  final String run;
  final long startSec;
  final int seconds;
  final List<Request> requests = new ArrayList<>();
  final Map<String, long[]> checks = new TreeMap<>(); // check -> passes, fails
  final Map<String, SeriesBucket> buckets = new HashMap<>(); // series/width/start -> bucket
  final Map<String, SeriesBucket> corrections = new HashMap<>(); // series/width/start/writer -> correction row
  final String plan;
  RunState state;

  /**
   * @param latencyFactor scales the latencies (a slower second run for comparisons)
   */
  RunData(String run, long startSec, int seconds, double latencyFactor, long seed) {
    this(run, startSec, seconds, latencyFactor, seed, NAMES);
  }

  /**
   * @param names the requests' names: {@link #NAMES} have latencies of their own, any other name one of
   *     twelve profiles chosen by its hash (so that many names share a profile and rank close together)
   */
  RunData(String run, long startSec, int seconds, double latencyFactor, long seed, List<String> names) {
    this(run, startSec, seconds, latencyFactor, seed, names, GENERATORS);
  }

  /** @param generators the generators sending every name's requests each second (one: a name often has one series) */
  RunData(String run, long startSec, int seconds, double latencyFactor, long seed, List<String> names,
      List<String> generators) {
    this.run = run;
    this.startSec = startSec;
    this.seconds = seconds;
    Random rnd = new Random(seed);
    for (int s = 0; s < seconds; s++) {
      for (String gen : generators) {
        for (String name : names) {
          int n = 3 + rnd.nextInt(6);
          for (int i = 0; i < n; i++) {
            long t = (startSec + s) * 1000 + rnd.nextInt(1000);
            boolean failed = rnd.nextDouble() < (name.equals("checkout") ? 0.2 : 0.02);
            double base = name.equals("checkout") ? 120 : name.equals("cart") ? 40 : name.equals("home") ? 15
                : 10 + Math.floorMod(name.hashCode(), 12) * 3;
            long us = Math.max(1, (long) (base * 1000 * latencyFactor * Math.exp(rnd.nextGaussian() * 0.5)));
            Request r = new Request(t, name, gen, failed ? "500" : "200", us, failed);
            requests.add(r);
            add(trend(r));
            add(counter(r));
            add(rate(r));
          }
          boolean pass = rnd.nextDouble() < 0.9;
          checks.computeIfAbsent("status is 200", k -> new long[2])[pass ? 0 : 1]++;
          add(check(gen, (startSec + s) * 1000, "status is 200", pass));
        }
        add(gauge(gen, (startSec + s) * 1000, 5 + s % 3));
      }
    }
    this.plan = """
        {"name": "%s", "scenarios": {"s": {"executor": "constant-vus", "vus": 10, "duration": "%ds", "exec": "f"}},
         "thresholds": {"http_req_duration": ["p(95)<500"], "http_req_duration{name:checkout}": ["p(95)<50"],
                        "http_req_failed": ["rate<0.5"]},
         "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}
        """.formatted(run, seconds);
    long startMs = startSec * 1000;
    this.state = RunState.first(run, RunStatus.CREATED, startMs - 2_000, "created", List.of(), "hash-" + run, plan,
            new dev.loadtest.schemas.command.Command.Metadata(run + " shop", "shop", Map.of("team", "perf"), "", "ci"))
        .to(RunStatus.RUNNING, startMs, "running").to(RunStatus.FINISHED, startMs + seconds * 1000L, "finished");
  }

  /** This run as one of the load test {@code name} in {@code project} (its metadata's name and project). */
  RunData named(String name, String project) {
    return named(name, project, "");
  }

  /** This run as one of the load test of explicit id {@code loadTest} (else of {@code name} in {@code project}). */
  RunData named(String name, String project, String loadTest) {
    long startMs = startSec * 1000;
    state = RunState.first(run, RunStatus.CREATED, startMs - 2_000, "created", List.of(), "hash-" + name, plan,
            new dev.loadtest.schemas.command.Command.Metadata(name, project, Map.of("team", "perf"), "", "ci", loadTest))
        .to(RunStatus.RUNNING, startMs, "running").to(RunStatus.FINISHED, startMs + seconds * 1000L, "finished");
    return this;
  }

  /** Adds a 1 s bucket, its rollups, and (as the aggregate job does) its part of each projection. */
  private void add(SeriesBucket oneSecond) {
    addWithRollups(oneSecond);
    if (!oneSecond.type.equals("GAUGE")) {
      for (Projection p : Projection.values()) {
        SeriesBucket part = Project.project(oneSecond, p);
        if (oneSecond.writerId.isEmpty()) {
          part.writerId = ""; // a complete bucket's part, in time: the projection's 1 s stage merges it into its row
        }
        addWithRollups(part);
      }
    }
  }

  private void addWithRollups(SeriesBucket oneSecond) {
    for (int width : new int[] {1000, 10_000, 60_000}) {
      SeriesBucket b = oneSecond.copy();
      b.widthMs = width;
      b.startMs = Math.floorDiv(oneSecond.startMs, width) * width;
      if (b.writerId.isEmpty()) {
        buckets.merge(b.seriesId + "/" + width + "/" + b.startMs, b, SeriesBucket::merge);
      } else {
        corrections.merge(b.seriesId + "/" + width + "/" + b.startMs + "/" + b.writerId, b, SeriesBucket::merge);
      }
    }
  }

  /**
   * A request that reached the aggregate job after its second had been written (a slow generator's
   * batch): stored, as the job stores it, as correction rows of their own beside the complete ones (writer
   * {@code batch@time}; a projection's appends the source series), which every reader must add.
   */
  void addLate(long timeMs, String name, String generator, long durationUs, String batch) {
    Request r = new Request(timeMs, name, generator, "200", durationUs, false);
    requests.add(r);
    for (SeriesBucket b : List.of(trend(r), counter(r), rate(r))) {
      b.writerId = batch + "@" + b.startMs;
      add(b);
    }
  }

  /**
   * A value of a user Trend metric (k6's {@code new Trend(name)}, which may be negative), stored as the
   * aggregate job stores it: in thousandths, through the signed histogram layout.
   */
  /** A gauge {@code metric} of generator {@code gen} at {@code timeMs}. */
  void addGauge(String metric, String gen, long timeMs, double value) {
    add(gauge(metric, gen, timeMs, value));
  }

  void addUserTrend(String metric, long timeMs, double value) {
    SeriesBucket b = base(metric, "TREND", timeMs, "scenario", "default");
    long units = dev.loadtest.schemas.histogram.HistogramLayout.toUnits(value * 1000);
    SingleWriterHistogram h = new SingleWriterHistogram();
    h.record(units);
    SparseHistogram s = h.snapshot();
    b.histIndexes = s.indexes();
    b.histCounts = s.counts();
    b.count = 1;
    b.sum = units;
    b.min = units;
    b.max = units;
    add(b);
  }

  private SeriesBucket base(String metric, String type, long timeMs, String... tags) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = run;
    b.metric = metric;
    b.type = type;
    TreeMap<String, String> t = new TreeMap<>();
    for (int i = 0; i < tags.length; i += 2) {
      t.put(tags[i], tags[i + 1]);
    }
    b.tagKeys = t.keySet().toArray(String[]::new);
    b.tagValues = t.values().toArray(String[]::new);
    b.seriesId = SeriesId.of(run, metric, t);
    b.startMs = Math.floorDiv(timeMs, 1000) * 1000;
    b.widthMs = 1000;
    b.lastTimeUs = timeMs * 1000;
    return b;
  }

  private SeriesBucket trend(Request r) {
    SeriesBucket b = base("http_req_duration", "TREND", r.timeMs(), "name", r.name(), "generator", r.generator(),
        "status", r.status(), "method", "GET");
    SingleWriterHistogram h = new SingleWriterHistogram();
    h.record(r.durationUs());
    SparseHistogram s = h.snapshot();
    b.histIndexes = s.indexes();
    b.histCounts = s.counts();
    b.count = 1;
    b.sum = r.durationUs();
    b.min = r.durationUs();
    b.max = r.durationUs();
    return b;
  }

  private SeriesBucket counter(Request r) {
    SeriesBucket b = base("http_reqs", "COUNTER", r.timeMs(), "name", r.name(), "generator", r.generator(),
        "status", r.status(), "method", "GET");
    b.count = 1;
    b.sum = 1;
    b.min = 1;
    b.max = 1;
    return b;
  }

  private SeriesBucket rate(Request r) {
    SeriesBucket b = base("http_req_failed", "RATE", r.timeMs(), "name", r.name(), "generator", r.generator(),
        "status", r.status(), "method", "GET");
    b.count = 1;
    b.nonZero = r.failed() ? 1 : 0;
    b.sum = b.nonZero;
    b.min = b.nonZero;
    b.max = b.nonZero;
    return b;
  }

  private SeriesBucket check(String gen, long timeMs, String check, boolean pass) {
    SeriesBucket b = base("checks", "RATE", timeMs, "check", check, "generator", gen);
    b.count = 1;
    b.nonZero = pass ? 1 : 0;
    b.sum = b.nonZero;
    return b;
  }

  /**
   * As the aggregate job writes since V017: a by-name 1 s row made of one series' complete bucket alone stands
   * for that series' row ({@code raw_series}), which is then not written; the API reads it as the series'.
   */
  private void standForTheirOneSeries() {
    Map<String, List<SeriesBucket>> perName = new java.util.HashMap<>();
    for (SeriesBucket b : buckets.values()) {
      if (b.widthMs == 1000 && !b.type.equals("GAUGE") && !b.analysisId.contains("~")) {
        SeriesBucket byName = Project.project(b, Projection.NAME);
        perName.computeIfAbsent(byName.seriesId + "/1000/" + b.startMs, k -> new ArrayList<>()).add(b);
      }
    }
    perName.forEach((byNameKey, series) -> {
      SeriesBucket byName = buckets.get(byNameKey);
      if (series.size() == 1 && byName != null) {
        byName.rawSeries = series.get(0).seriesId;
        series.get(0).inNameRow = true;
      }
    });
  }

  private SeriesBucket gauge(String gen, long timeMs, double value) {
    return gauge("vus", gen, timeMs, value);
  }

  private SeriesBucket gauge(String metric, String gen, long timeMs, double value) {
    SeriesBucket b = base(metric, "GAUGE", timeMs, "generator", gen);
    b.count = 1;
    b.last = value;
    b.min = value;
    b.max = value;
    return b;
  }

  /** Writes everything through the sinks' encoders; {@code rollupsUpToSec}: rollup rows ending after it are left out (a live run). */
  void write(ClickHouseHttp ch, String db, long rollupsUpToSec) {
    standForTheirOneSeries();
    List<SeriesBucket> rows = java.util.stream.Stream.concat(buckets.values().stream(), corrections.values().stream())
        .filter(b -> b.widthMs == 1000 || (b.startMs + b.widthMs) / 1000 <= rollupsUpToSec).toList();
    insert(ch, db, new MetricRowBinary(), rows);
    Map<Long, SeriesBucket> first = new TreeMap<>();
    for (SeriesBucket b : buckets.values()) {
      if (b.widthMs == 1000) {
        first.merge(b.seriesId, b, (x, y) -> x.startMs <= y.startMs ? x : y);
      }
    }
    insert(ch, db, new SeriesRowBinary(), List.copyOf(first.values()));
    insert(ch, db, new RunRowBinary(), List.of(Tuple2.of(run, state.toJson())));
  }

  /**
   * The whole-run rows of the by-name http_req_duration series, as the aggregate job writes them to metric_run:
   * each name one part in its last version (version 20) beside an older version of its first second only
   * (version 10, not merged away yet); every {@code splitEvery}-th name in two parts (its first second and the
   * others, as after a pause longer than the job keeps a part).
   */
  void writeRunRows(ClickHouseHttp ch, String db, int splitEvery) {
    Map<String, List<SeriesBucket>> byName = new TreeMap<>();
    List<SeriesBucket> all = new ArrayList<>(buckets.values());
    all.addAll(corrections.values());
    for (SeriesBucket b : all) {
      if (b.widthMs == 1000 && b.metric.equals("http_req_duration") && Projection.NAME.analysisId("").equals(
          b.analysisId)) {
        byName.computeIfAbsent(b.tagValues[0], k -> new ArrayList<>()).add(b);
      }
    }
    List<SeriesBucket> rows = new ArrayList<>();
    int i = 0;
    for (List<SeriesBucket> seconds : byName.values()) {
      seconds.sort(java.util.Comparator.comparingLong((SeriesBucket b) -> b.startMs).thenComparing(b -> b.writerId));
      SeriesBucket older = part(seconds.subList(0, 1), 10);
      rows.add(older);
      int later = 1; // a second part starts at a later second (the job starts one at a complete bucket)
      while (later < seconds.size() && seconds.get(later).startMs == seconds.get(0).startMs) {
        later++;
      }
      if (i++ % splitEvery == 0 && later < seconds.size()) {
        rows.add(part(seconds.subList(0, later), 20));
        rows.add(part(seconds.subList(later, seconds.size()), 20));
      } else {
        rows.add(part(seconds, 20));
      }
    }
    insert(ch, db, new MetricRowBinary(), rows);
  }

  /** {@code seconds} added up as one whole-run part starting at the first, of version {@code version}. */
  private static SeriesBucket part(List<SeriesBucket> seconds, long version) {
    SeriesBucket p = seconds.get(0).copy();
    for (SeriesBucket b : seconds.subList(1, seconds.size())) {
      p.absorb(b);
    }
    p.widthMs = dev.loadtest.flink.aggregate.BucketLadder.RUN_WIDTH_MS;
    p.writerId = "";
    p.lastTimeUs = version;
    return p;
  }

  void writeThreshold(ClickHouseHttp ch, String db, String threshold, ThresholdResult.State s, double value,
      boolean fin, long atMs) {
    writeThreshold(ch, db, "", threshold, s, value, fin, atMs);
  }

  /** A threshold result of the analysis {@code analysis} ({@code ""}: the run's own). */
  void writeThreshold(ClickHouseHttp ch, String db, String analysis, String threshold, ThresholdResult.State s,
      double value, boolean fin, long atMs) {
    insert(ch, db, new ThresholdRowBinary(analysis), List.of(Tuple2.of(run,
        new ThresholdResult(run, threshold, s, value, fin, atMs).toJson())));
  }

  static <T> void insert(ClickHouseHttp ch, String db, RowBinaryRows<T> enc, List<T> rows) {
    RowBinaryRows.insertAll(ch, db, enc, rows);
  }

  // ------------------------------------------------------------ exact answers from the raw requests

  long count(Predicate<Request> p) {
    return requests.stream().filter(p).count();
  }

  /** Nearest-rank percentile of the raw durations, in ms. */
  /**
   * Percentile {@code pct} (ms) of each name's stored by-name 1 s buckets of http_req_duration merged, as a
   * reader that merges histograms must find it.
   */
  Map<String, Double> storedPercentileByNameMs(double pct) {
    Map<String, SeriesBucket> merged = new TreeMap<>();
    List<SeriesBucket> rows = new ArrayList<>(buckets.values());
    rows.addAll(corrections.values());
    for (SeriesBucket b : rows) {
      if (b.widthMs == 1000 && b.metric.equals("http_req_duration") && Projection.NAME.analysisId("").equals(
          b.analysisId)) {
        SeriesBucket c = b.copy();
        c.startMs = 0;
        merged.merge(b.tagValues[0], c, SeriesBucket::merge);
      }
    }
    Map<String, Double> out = new TreeMap<>();
    merged.forEach((name, b) -> out.put(name, Math.min(b.max, Math.max(b.min, b.histogram().percentile(pct)))
        / 1000.0));
    return out;
  }

  double percentileMs(Predicate<Request> p, double pct) {
    long[] v = requests.stream().filter(p).mapToLong(Request::durationUs).sorted().toArray();
    long[] sorted = Arrays.copyOf(v, v.length);
    int rank = (int) Math.max(1, Math.ceil(pct / 100 * sorted.length));
    return sorted[rank - 1] / 1000.0;
  }
}
