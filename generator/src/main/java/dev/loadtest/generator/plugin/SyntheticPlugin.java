package dev.loadtest.generator.plugin;

import dev.loadtest.generator.engine.EpochClock;
import dev.loadtest.generator.sink.BatchingSampleSink;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.TagSet;
import dev.loadtest.schemas.time.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@code synthetic} plug-in: HTTP request samples with a configured rate, log-normal latency, status
 * mix and tag cardinality, and no system under test, so that the pipeline itself can be load-tested (a
 * reverse load test). Samples go through the same batching, back-pressure and Kafka producer as real
 * ones. Options (under {@code generator.options}):
 *
 * <pre>
 * {"rate": 1000000, "duration": "30s", "latency": {"median": "20ms", "p99": "250ms"},
 *  "statusMix": {"200": 0.97, "404": 0.02, "500": 0.01}, "names": 100, "tags": {"service": "shop"},
 *  "phases": [{"after": "20s", "statusMix": {"200": 0.7, "500": 0.3}}], "vus": {"from": 10, "to": 50},
 *  "load": {"cpu": 0.95, "heap": 0.85}}
 * </pre>
 *
 * {@code phases} change the status mix from a time into the run on (a system that degrades); {@code vus}
 * reports a {@code vus} gauge rising linearly over the duration while the rate stays (a closed model that
 * hit its throughput limit); {@code load} makes the generator itself heavy while the run goes, as a costly
 * script would ({@link GeneratorLoad}: CPU threads busy that share of the time, that share of its maximum heap held):
 * profiles for the performance insights.
 *
 * {@code rate} is request samples per second for the whole run (a segment makes its share); {@code names}
 * distinct {@code name} tags times the statuses give the series count. The plan's scenarios are not
 * run. Stateless; each run keeps its own state.
 */
public final class SyntheticPlugin implements GeneratorPlugin {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AT = "$.generator.options";
  static final int LATENCY_TABLE = 1 << 12;

  /** Checked options. */
  record Options(double rate, Duration duration, double medianMs, double p99Ms, int[] statuses, double[] weights,
      int names, Map<String, String> tags, int batchSize, List<Phase> phases, double vusFrom, double vusTo,
      double cpuLoad, double heapLoad) {
    Options(double rate, Duration duration, double medianMs, double p99Ms, int[] statuses, double[] weights, int names,
        Map<String, String> tags, int batchSize) {
      this(rate, duration, medianMs, p99Ms, statuses, weights, names, tags, batchSize, List.of(), -1, -1, 0, 0);
    }

    /** The cumulative status weights in force {@code sinceStartNanos} into the run (over {@link #statuses}). */
    double[] weightsAt(long sinceStartNanos) {
      double[] w = weights;
      for (Phase p : phases) {
        if (sinceStartNanos >= p.afterNanos()) {
          w = p.weights();
        }
      }
      return w;
    }
  }

  /** From {@code afterNanos} into the run on, the status mix {@code weights} (cumulative, over every status). */
  record Phase(long afterNanos, double[] weights) {}

  @Override
  public String name() {
    return "synthetic";
  }

  @Override
  public List<PlanError> check(dev.loadtest.schemas.plan.TestPlan plan, java.nio.file.Path baseDir) {
    try {
      parse(plan.generator().optionsJson());
      return List.of();
    } catch (InvalidPlanException e) {
      return e.errors();
    }
  }

  @Override
  public PluginRun prepare(PluginContext c) {
    Options o = parse(c.plan().generator().optionsJson());
    double rate = c.sequence().scaleRate(c.segment(), o.rate());
    return new SyntheticRun(c, o, rate);
  }

  static Options parse(String json) {
    List<PlanError> errors = new ArrayList<>();
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new InvalidPlanException(List.of(new PlanError(AT, "not JSON: " + e.getMessage())));
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!List.of("rate", "duration", "latency", "statusMix", "names", "tags", "batchSize", "phases", "vus", "load")
          .contains(f)) {
        errors.add(new PlanError(AT + "." + f, "unknown option; the synthetic plug-in takes rate, duration, latency,"
            + " statusMix, names, tags, batchSize, phases, vus and load"));
      }
    }
    double rate = number(n, "rate", 1, 100_000_000, Double.NaN, errors);
    Duration duration = duration(n.get("duration"), AT + ".duration", null, errors);
    JsonNode lat = n.path("latency");
    Duration median = duration(lat.get("median"), AT + ".latency.median", Duration.ofMillis(20), errors);
    Duration p99 = duration(lat.get("p99"), AT + ".latency.p99", Duration.ofMillis(250), errors);
    if (median != null && p99 != null && p99.compareTo(median) < 0) {
      errors.add(new PlanError(AT + ".latency.p99", "p99 must not be below the median"));
    }
    List<Integer> statuses = new ArrayList<>();
    Map<Integer, Double> base = n.has("statusMix") ? mix(n.get("statusMix"), AT + ".statusMix", errors)
        : Map.of(200, 1.0);
    base.keySet().forEach(statuses::add);
    List<Map<Integer, Double>> phaseMixes = new ArrayList<>();
    List<Long> phaseAfter = new ArrayList<>();
    if (n.has("phases")) {
      JsonNode ph = n.get("phases");
      if (!ph.isArray()) {
        errors.add(new PlanError(AT + ".phases", "must be an array of {\"after\": \"20s\", \"statusMix\": {...}}"));
      } else {
        for (int i = 0; i < ph.size(); i++) {
          String at = AT + ".phases[" + i + "]";
          JsonNode p = ph.get(i);
          if (!p.isObject() || !p.has("after") || !p.has("statusMix") || p.size() != 2) {
            errors.add(new PlanError(at, "a phase is {\"after\": DURATION, \"statusMix\": {...}}"));
            continue;
          }
          Duration after = duration(p.get("after"), at + ".after", Duration.ZERO, errors);
          if (!phaseAfter.isEmpty() && after != null && after.toNanos() <= phaseAfter.get(phaseAfter.size() - 1)) {
            errors.add(new PlanError(at + ".after", "phases must come in order of \"after\""));
          }
          Map<Integer, Double> m = mix(p.get("statusMix"), at + ".statusMix", errors);
          m.keySet().stream().filter(k -> !statuses.contains(k)).forEach(statuses::add);
          phaseMixes.add(m);
          phaseAfter.add(after == null ? 0 : after.toNanos());
        }
      }
    }
    double vusFrom = -1;
    double vusTo = -1;
    if (n.has("vus")) {
      JsonNode v = n.get("vus");
      if (!v.isObject() || !v.path("from").isNumber() || !v.path("to").isNumber() || v.path("from").asDouble() < 0
          || v.path("to").asDouble() < 0 || v.size() != 2) {
        errors.add(new PlanError(AT + ".vus", "must be {\"from\": N, \"to\": M} with N, M >= 0"));
      } else {
        vusFrom = v.path("from").asDouble();
        vusTo = v.path("to").asDouble();
      }
    }
    double cpuLoad = 0;
    double heapLoad = 0;
    if (n.has("load")) {
      JsonNode l = n.get("load");
      if (!l.isObject() || l.isEmpty()) {
        errors.add(new PlanError(AT + ".load", "must be {\"cpu\": SHARE, \"heap\": SHARE} (either or both)"));
      } else {
        for (Iterator<String> it = l.fieldNames(); it.hasNext(); ) {
          String f = it.next();
          JsonNode v = l.get(f);
          double max = f.equals("heap") ? GeneratorLoad.MAX_HEAP_SHARE : 1;
          if (!f.equals("cpu") && !f.equals("heap")) {
            errors.add(new PlanError(AT + ".load." + f, "unknown; load takes cpu and heap"));
          } else if (!v.isNumber() || v.asDouble() < 0 || v.asDouble() > max) {
            errors.add(new PlanError(AT + ".load." + f, "must be a share from 0 to " + max + (f.equals("cpu")
                ? " (of the time its " + GeneratorLoad.THREADS_PER_CORE + " CPU threads per core are busy)"
                : " of the generator's maximum heap")));
          } else if (f.equals("cpu")) {
            cpuLoad = v.asDouble();
          } else {
            heapLoad = v.asDouble();
          }
        }
      }
    }
    int names = (int) number(n, "names", 1, 1_000_000, 10, errors);
    int batchSize = (int) number(n, "batchSize", 100, 100_000, 10_000, errors);
    Map<String, String> tags = new LinkedHashMap<>();
    if (n.has("tags")) {
      if (!n.get("tags").isObject()) {
        errors.add(new PlanError(AT + ".tags", "must be an object of strings"));
      } else {
        n.get("tags").properties().forEach(e -> tags.put(e.getKey(), e.getValue().asText()));
      }
    }
    if (!errors.isEmpty()) {
      throw new InvalidPlanException(errors);
    }
    List<Phase> phases = new ArrayList<>();
    for (int i = 0; i < phaseMixes.size(); i++) {
      phases.add(new Phase(phaseAfter.get(i), cumulative(statuses, phaseMixes.get(i))));
    }
    return new Options(rate, duration, median.toNanos() / 1e6, p99.toNanos() / 1e6,
        statuses.stream().mapToInt(Integer::intValue).toArray(), cumulative(statuses, base), names, tags, batchSize,
        List.copyOf(phases), vusFrom, vusTo, cpuLoad, heapLoad);
  }

  /** A status mix's shares by status code; errors for what is not one. */
  private static Map<Integer, Double> mix(JsonNode mix, String at, List<PlanError> errors) {
    Map<Integer, Double> out = new LinkedHashMap<>();
    if (!mix.isObject() || mix.isEmpty()) {
      errors.add(new PlanError(at, "must be an object of status codes and shares, e.g. {\"200\": 0.99}"));
      return out;
    }
    mix.properties().forEach(e -> {
      String where = at + "." + e.getKey();
      if (!e.getKey().matches("[1-5][0-9][0-9]")) {
        errors.add(new PlanError(where, "\"" + e.getKey() + "\" is not an HTTP status code"));
      } else if (!e.getValue().isNumber() || e.getValue().asDouble() < 0) {
        errors.add(new PlanError(where, "a share must be a number >= 0"));
      } else {
        out.put(Integer.parseInt(e.getKey()), e.getValue().asDouble());
      }
    });
    if (!out.isEmpty() && out.values().stream().mapToDouble(Double::doubleValue).sum() <= 0) {
      errors.add(new PlanError(at, "the shares must add up to more than 0"));
    }
    return out;
  }

  /** {@code mix} as cumulative shares over {@code statuses} (0 for those it does not name). */
  private static double[] cumulative(List<Integer> statuses, Map<Integer, Double> mix) {
    double total = mix.values().stream().mapToDouble(Double::doubleValue).sum();
    double[] c = new double[statuses.size()];
    double acc = 0;
    for (int i = 0; i < c.length; i++) {
      acc += total <= 0 ? 0 : mix.getOrDefault(statuses.get(i), 0.0) / total;
      c[i] = acc;
    }
    return c;
  }

  private static double number(JsonNode n, String field, double min, double max, double dflt, List<PlanError> errors) {
    JsonNode v = n.get(field);
    if (v == null) {
      if (Double.isNaN(dflt)) {
        errors.add(new PlanError(AT + "." + field, "\"" + field + "\" is required"));
      }
      return dflt;
    }
    if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
      errors.add(new PlanError(AT + "." + field, "must be a number from " + (long) min + " to " + (long) max));
      return dflt;
    }
    return v.asDouble();
  }

  private static Duration duration(JsonNode v, String at, Duration dflt, List<PlanError> errors) {
    if (v == null) {
      if (dflt == null) {
        errors.add(new PlanError(at, "required, e.g. \"30s\""));
      }
      return dflt;
    }
    try {
      Duration d = Durations.parse(v.asText());
      if (d.isZero() || d.isNegative()) {
        errors.add(new PlanError(at, "must be more than 0"));
      }
      return d;
    } catch (IllegalArgumentException e) {
      errors.add(new PlanError(at, e.getMessage()));
      return dflt;
    }
  }

  /** Log-normal latencies with the given median and p99, in microseconds, as a table to draw from. */
  static long[] latencyTable(double medianMs, double p99Ms, long seed) {
    double mu = Math.log(medianMs * 1000);
    double sigma = medianMs == p99Ms ? 0 : (Math.log(p99Ms * 1000) - mu) / 2.3263478740408408;
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    long[] t = new long[LATENCY_TABLE];
    for (int i = 0; i < t.length; i++) {
      t[i] = Math.max(1, Math.round(Math.exp(mu + sigma * r.nextGaussian())));
    }
    return t;
  }

  /** Tag sets of every (name, status) pair, built once. */
  static TagSet[][] tagSets(Map<String, String> planTags, Options o) {
    TagSet[][] t = new TagSet[o.names()][o.statuses().length];
    for (int i = 0; i < o.names(); i++) {
      for (int s = 0; s < o.statuses().length; s++) {
        TreeMap<String, String> m = new TreeMap<>(planTags);
        m.putAll(o.tags());
        int status = o.statuses()[s];
        m.put("name", "synthetic-" + i);
        m.put("method", "GET");
        m.put("scenario", "synthetic");
        m.put("group", "");
        m.put("status", Integer.toString(status));
        m.put("expected_response", Boolean.toString(status < 400));
        if (status >= 400) {
          m.put("error_code", Integer.toString(1000 + status));
        }
        t[i][s] = TagSet.of(m);
      }
    }
    return t;
  }

  /** One run: emits its share of the rate until the duration is over or it is stopped. */
  private static final class SyntheticRun implements PluginRun {
    private final PluginContext c;
    private final Options o;
    private final double ratePerNano;
    private volatile boolean stopping;
    private volatile long emitted;

    SyntheticRun(PluginContext c, Options o, double rate) {
      this.c = c;
      this.o = o;
      this.ratePerNano = rate / 1e9;
    }

    @Override
    public boolean run(long startNanos) throws InterruptedException {
      while (!stopping && System.nanoTime() < startNanos) {
        LockSupport.parkNanos(Math.min(startNanos - System.nanoTime(), 10_000_000L));
      }
      long[] latency = latencyTable(o.medianMs(), o.p99Ms(), c.seed());
      TagSet[][] tags = tagSets(c.plan().tags(), o);
      long total = (long) Math.floor(ratePerNano * o.duration().toNanos());
      random = c.seed() | 1;
      long lastUs = EpochClock.nowMicros();
      long lastBatchNanos = System.nanoTime();
      long nextVusNanos = startNanos;
      try (GeneratorLoad load = GeneratorLoad.start(o.cpuLoad(), o.heapLoad(), () -> stopping)) {
        emit(startNanos, latency, tags, total, lastUs, lastBatchNanos, nextVusNanos);
      }
      return !stopping || emitted >= total;
    }

    private void emit(long startNanos, long[] latency, TagSet[][] tags, long total, long lastUs, long lastBatchNanos,
        long nextVusNanos) throws InterruptedException {
      while (!stopping && emitted < total) {
        long nowNanos = System.nanoTime();
        if (o.vusFrom() >= 0 && nowNanos >= nextVusNanos) {
          vus = vusAt(nowNanos - startNanos);
          c.sink().point("vus", dev.loadtest.schemas.metrics.MetricType.GAUGE, EpochClock.nowMicros(), VUS_TAGS, vus);
          nextVusNanos += 1_000_000_000L;
        }
        long due = Math.min(total, (long) (ratePerNano * (nowNanos - startNanos)));
        long n = due - emitted;
        // One batch per flush interval (or per batchSize samples), as the HTTP generator's sink sends them: a
        // batch per millisecond would cost the pipeline a tag dictionary and a Kafka record per few samples.
        if (n <= 0 || (n < o.batchSize() && due < total
            && nowNanos - lastBatchNanos < BatchingSampleSink.DEFAULT_FLUSH_INTERVAL_MS * 1_000_000L)) {
          LockSupport.parkNanos(1_000_000L);
          continue;
        }
        lastBatchNanos = nowNanos;
        long nowUs = EpochClock.nowMicros();
        int chunk = (int) Math.min(n, o.batchSize());
        long fromUs = lastUs;
        // The sink calls build on this thread, so the random state needs no synchronisation.
        double[] weights = o.weightsAt(nowNanos - startNanos);
        c.sink().batch(seq -> build(seq, chunk, fromUs, nowUs, latency, tags, weights));
        lastUs = nowUs;
        emitted += chunk;
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
      }
    }

    private long random;
    private volatile int vus;
    private static final TagSet VUS_TAGS = TagSet.of(Map.of());

    /** The {@code vus} option's value {@code sinceStart} into the run: linear from {@code from} to {@code to}. */
    private int vusAt(long sinceStartNanos) {
      double f = Math.min(1, Math.max(0, (double) sinceStartNanos / o.duration().toNanos()));
      return (int) Math.round(o.vusFrom() + (o.vusTo() - o.vusFrom()) * f);
    }

    private long next() {
      long x = random;
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      random = x;
      return x;
    }

    private dev.loadtest.schemas.sample.SampleBatch build(long seq, int chunk, long fromUs, long toUs, long[] latency,
        TagSet[][] tags, double[] cumulative) {
      SampleBatchBuilder b = c.sink().batchBuilder(seq, fromUs);
      int[][] ids = new int[tags.length][];
      long span = Math.max(0, toUs - fromUs);
      for (int k = 0; k < chunk; k++) {
        long r = next();
        int name = (int) Math.floorMod(r, (long) tags.length);
        double u = (r >>> 11) * 0x1.0p-53;
        int status = 0;
        while (status < cumulative.length - 1 && u >= cumulative[status]) {
          status++;
        }
        if (ids[name] == null) {
          ids[name] = new int[cumulative.length];
          java.util.Arrays.fill(ids[name], -1);
        }
        int tagSet = ids[name][status];
        if (tagSet < 0) {
          tagSet = ids[name][status] = b.tagSet(tags[name][status]);
        }
        long d = latency[(int) (next() & (LATENCY_TABLE - 1))];
        long waiting = d * 9 / 10;
        long receiving = d - waiting - d / 50;
        b.addRequest(fromUs + span * k / chunk, tagSet, d, 0, 0, 0, d / 50, waiting, receiving, 180, 1_200,
            o.statuses()[status] >= 400, 0);
      }
      return b.build();
    }

    @Override
    public void stop() {
      stopping = true;
    }

    @Override
    public void abort() {
      stopping = true;
    }

    @Override
    public long iterations() {
      return emitted;
    }

    @Override
    public long droppedIterations() {
      return 0;
    }

    @Override
    public int activeVus() {
      return vus;
    }

  }
}
