package dev.loadtest.api.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.api.store.Agg;
import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.avro.AggregateBucket;
import dev.loadtest.schemas.insight.Insight;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.run.RunState;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live updates of running tests, for Server-Sent Events: one consumer thread reads the aggregates,
 * thresholds and runs topics from their end and hands each run's news to that run's listeners. The 1 s
 * buckets are merged per run, second and metric and sent once a second has been quiet for {@code settle}
 * (a few generators' buckets of one second arrive within it): the metrics' totals (the aggregate job
 * publishes them, a few dozen buckets per run and second whatever the cardinality) and the gauges' series;
 * for a second without totals (an older aggregate job), every series. Once a run's totals come, the
 * records of its other series are skipped by their kind header, without decoding. Threshold results,
 * performance insights and run state changes are sent as they come.
 */
public final class LiveHub implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LiveHub.class);
  /** The analysis id of a live run's totals (the aggregate job's total projection). */
  private static final String TOTALS = dev.loadtest.schemas.series.Projection.TOTAL.analysisId("");
  /** The header naming a record's kind, and the kind of the records of every series but gauges. */
  private static final String KIND_HEADER = dev.loadtest.schemas.topics.Topics.AGGREGATES_KIND_HEADER;
  private static final byte[] SERIES_KIND = "series".getBytes(StandardCharsets.UTF_8);
  private static final int TOTALS_RUNS_KEPT = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Receives events of one run; called on the hub's thread, must not block. */
  public interface Listener {
    void event(String name, String json);
  }

  private final Map<String, List<Listener>> listeners = new ConcurrentHashMap<>();
  /** The newest state of each recent run, from every record on the runs topic (listened to or not). */
  private final RecentRuns recent = new RecentRuns();
  private final Map<String, TreeMap<Long, Second>> pending = new ConcurrentHashMap<>();
  /** Runs whose totals have been seen (the hub's thread only; bounded: at most {@link #TOTALS_RUNS_KEPT}). */
  private final Set<String> withTotals = java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > TOTALS_RUNS_KEPT;
    }
  });
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String aggregates;
  private final String thresholds;
  private final String runs;
  /** Performance insights, sent as they come (null: none). */
  private final String insights;
  private final Duration settle;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;
  private final java.util.concurrent.CountDownLatch assigned = new java.util.concurrent.CountDownLatch(1);

  public LiveHub(String bootstrapServers, String aggregates, String thresholds, String runs, Duration settle) {
    this(bootstrapServers, aggregates, thresholds, runs, null, settle);
  }

  /** With {@code insights}: that topic's insights are sent too ({@code insight} events), once it exists. */
  public LiveHub(String bootstrapServers, String aggregates, String thresholds, String runs, String insights,
      Duration settle) {
    this.insights = insights;
    this.aggregates = aggregates;
    this.thresholds = thresholds;
    this.runs = runs;
    this.settle = settle;
    this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.CLIENT_ID_CONFIG, "query-api-live"), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = Thread.ofPlatform().name("live-hub").daemon().start(this::loop);
  }

  /** The newest states of recent runs, as they came on the runs topic. */
  public RecentRuns recent() {
    return recent;
  }

  /** Waits until the hub reads its topics (from their current end). */
  public boolean awaitAssigned(Duration timeout) throws InterruptedException {
    return assigned.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** Adds a listener of {@code run}'s events; closing the returned handle removes it. */
  public AutoCloseable subscribe(String run, Listener l) {
    listeners.computeIfAbsent(run, r -> new CopyOnWriteArrayList<>()).add(l);
    return () -> listeners.computeIfPresent(run, (r, list) -> {
      list.remove(l);
      return list.isEmpty() ? null : list;
    });
  }

  public int listenerCount() {
    return listeners.values().stream().mapToInt(List::size).sum();
  }

  private void loop() {
    try {
      List<TopicPartition> parts = new ArrayList<>();
      for (String t : List.of(aggregates, thresholds, runs)) {
        List<PartitionInfo> infos = null;
        while (running.get() && (infos == null || infos.isEmpty())) {
          infos = consumer.partitionsFor(t, Duration.ofSeconds(10));
        }
        for (PartitionInfo p : infos == null ? List.<PartitionInfo>of() : infos) {
          parts.add(new TopicPartition(t, p.partition()));
        }
      }
      if (insights != null) { // optional: a stack whose topics predate insights still streams the rest
        List<PartitionInfo> infos = consumer.partitionsFor(insights, Duration.ofSeconds(5));
        if (infos == null || infos.isEmpty()) {
          LOG.warn("topic {} does not exist: live streams carry no insights (loadtest init creates it)", insights);
        } else {
          infos.forEach(p -> parts.add(new TopicPartition(insights, p.partition())));
        }
      }
      consumer.assign(parts);
      consumer.seekToEnd(parts);
      parts.forEach(consumer::position); // resolve the end now, so that events after this point are seen
      assigned.countDown();
      while (running.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          try {
            handle(r);
          } catch (RuntimeException e) {
            LOG.warn("skipped an unreadable record of {} at offset {}: {}", r.topic(), r.offset(), e.toString());
          }
        }
        flush(System.nanoTime(), false);
      }
    } catch (org.apache.kafka.common.errors.WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOG.error("the live hub stopped", e);
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void handle(ConsumerRecord<byte[], byte[]> r) {
    String run = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
    RunState state = null;
    if (r.topic().equals(runs) && r.value() != null) {
      try {
        state = RunState.fromJson(new String(r.value(), StandardCharsets.UTF_8));
        recent.offer(state);
      } catch (RuntimeException e) {
        LOG.warn("a record on {} is not a run state (offset {}): {}", runs, r.offset(), e.toString());
        return;
      }
    }
    if (!listeners.containsKey(run) || r.value() == null) {
      return;
    }
    if (r.topic().equals(aggregates)) {
      org.apache.kafka.common.header.Header kind = r.headers().lastHeader(KIND_HEADER);
      if (kind != null && withTotals.contains(run) && Arrays.equals(kind.value(), SERIES_KIND)) {
        return; // the run's totals come: its series' records are not needed, not even decoded
      }
      AggregateBatch batch;
      try {
        batch = AggregateBatch.fromByteBuffer(ByteBuffer.wrap(r.value()));
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("not an aggregate batch: " + e.getMessage(), e);
      }
      boolean totals = batch.getAnalysisId().equals(TOTALS);
      if (!totals && !batch.getAnalysisId().isEmpty()) {
        return; // replays (and the by-name projection) are not live
      }
      TreeMap<Long, Second> seconds = pending.computeIfAbsent(batch.getTestRunId(), x -> new TreeMap<>());
      for (AggregateBucket b : batch.getBuckets()) {
        seconds.computeIfAbsent(b.getStartMs(), t -> new Second()).add(b, totals, System.nanoTime());
      }
      if (totals) {
        withTotals.add(run);
      }
      return;
    }
    String value = new String(r.value(), StandardCharsets.UTF_8);
    if (r.topic().equals(thresholds)) {
      send(run, "threshold", value);
    } else if (r.topic().equals(insights)) {
      if (!Insight.fromJson(value).rule().equals(Insight.JUDGED)) { // the closing record is no insight
        send(run, "insight", value);
      }
    } else if (r.topic().equals(runs)) {
      send(run, "status", write(statusEvent(state)));
    }
  }

  /** The {@code status} event of a run's live stream: where the run stands, and what went wrong on the way. */
  public static Map<String, Object> statusEvent(RunState s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("testRunId", s.testRunId());
    m.put("status", s.status().name());
    m.put("version", s.version());
    m.put("verdict", s.verdict());
    m.put("totals", s.totals());
    m.put("abortSource", s.abortSource());
    m.put("reason", s.lastReason());
    m.put("warnings", s.warnings());
    return m;
  }

  /** Sends the seconds that have been quiet for the settle time (all of them when {@code all}). */
  void flush(long nowNanos, boolean all) {
    for (Map.Entry<String, TreeMap<Long, Second>> e : pending.entrySet()) {
      TreeMap<Long, Second> seconds = e.getValue();
      while (!seconds.isEmpty()) {
        Map.Entry<Long, Second> first = seconds.firstEntry();
        if (!all && nowNanos - first.getValue().lastNanos < settle.toNanos()) {
          break;
        }
        seconds.pollFirstEntry();
        send(e.getKey(), "metrics", write(first.getValue().event(first.getKey())));
      }
      if (seconds.isEmpty()) {
        pending.remove(e.getKey(), seconds);
      }
    }
  }

  /** Sends {@code event} to the listeners of every run (e.g. the ingestion lag, which is not per run). */
  public void broadcast(String event, String json) {
    for (String run : listeners.keySet()) {
      send(run, event, json);
    }
  }

  private void send(String run, String event, String json) {
    for (Listener l : listeners.getOrDefault(run, List.of())) {
      try {
        l.event(event, json);
      } catch (RuntimeException e) {
        LOG.debug("a live listener failed", e);
      }
    }
  }

  private static String write(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * One second of one run: per metric, its buckets merged, from the totals when they came, else from the
   * series; the gauges' series either way (gauges have no totals).
   */
  static final class Second {
    final Metrics series = new Metrics();
    final Metrics totals = new Metrics();
    final Metrics gauges = new Metrics();
    long lastNanos;

    /** Adds {@code b}, a bucket of the totals ({@code total}) or of a series. */
    void add(AggregateBucket b, boolean total, long nowNanos) {
      lastNanos = nowNanos;
      boolean gauge = b.getType() == dev.loadtest.schemas.avro.MetricKind.GAUGE;
      (total ? totals : gauge ? gauges : series).add(b);
    }

    Map<String, Object> event(long startMs) {
      Map<String, Object> metrics = new TreeMap<>();
      (totals.types.isEmpty() ? series : totals).into(metrics);
      gauges.into(metrics);
      return Map.of("t", startMs, "metrics", metrics);
    }
  }

  /** Buckets merged per metric. */
  static final class Metrics {
    final Map<String, MetricType> types = new TreeMap<>();
    final Map<String, long[]> counts = new TreeMap<>(); // count, nonZero
    final Map<String, double[]> values = new TreeMap<>(); // sum, min, max, last
    final Map<String, dev.loadtest.schemas.histogram.SparseHistogram> hist = new TreeMap<>();

    void add(AggregateBucket b) {
      String m = b.getMetric();
      types.put(m, MetricType.valueOf(b.getType().name()));
      long[] c = counts.computeIfAbsent(m, x -> new long[2]);
      c[0] += b.getCount();
      c[1] += b.getNonZero();
      double[] v = values.computeIfAbsent(m, x -> new double[] {0, Double.MAX_VALUE, -Double.MAX_VALUE, 0});
      v[0] += b.getSum();
      v[1] = Math.min(v[1], b.getMin());
      v[2] = Math.max(v[2], b.getMax());
      v[3] += b.getLast();
      if (!b.getHistIndexes().isEmpty()) {
        int[] idx = b.getHistIndexes().stream().mapToInt(Integer::intValue).toArray();
        long[] cnt = b.getHistCounts().stream().mapToLong(Long::longValue).toArray();
        dev.loadtest.schemas.histogram.SparseHistogram h = dev.loadtest.schemas.histogram.SparseHistogram.of(idx, cnt,
            Math.round(b.getSum()), Math.round(b.getMin()), Math.round(b.getMax()));
        hist.merge(m, h, dev.loadtest.schemas.histogram.SparseHistogram::merge);
      }
    }

    /** Each metric's stats into {@code metrics}. */
    void into(Map<String, Object> metrics) {
      for (Map.Entry<String, MetricType> e : types.entrySet()) {
        String m = e.getKey();
        long[] c = counts.get(m);
        double[] v = values.get(m);
        dev.loadtest.schemas.histogram.SparseHistogram h = hist.getOrDefault(m,
            dev.loadtest.schemas.histogram.SparseHistogram.EMPTY);
        Agg agg = new Agg(c[0], v[0], v[1], v[2], c[1], v[3], h.indexes(), h.counts());
        List<String> stats = e.getValue() == MetricType.TREND ? List.of("count", "avg", "med", "p(95)", "p(99)", "max")
            : agg.summaryStats(e.getValue(), List.of(), 1).keySet().stream().toList();
        Map<String, Object> s = new LinkedHashMap<>();
        for (String stat : stats) {
          s.put(stat, agg.stat(e.getValue(), stat, 1));
        }
        metrics.put(m, s);
      }
    }
  }

  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
