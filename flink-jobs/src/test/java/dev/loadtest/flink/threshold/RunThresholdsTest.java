package dev.loadtest.flink.threshold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateRecords;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.histogram.HistogramLayout;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.threshold.ThresholdResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The threshold judge on Flink's operator harness: when the final verdict may be given. The buckets of
 * one second reach it in any order across series, so it waits for every sample of the run's totals, not
 * only for its requests or iterations.
 */
class RunThresholdsTest {
  static final String RUN = "run-t";
  static final long START_MS = 1_785_000_000_000L;
  static final String PLAN = """
      {"name": "balance", "metrics": {"balance_change": "trend"},
       "scenarios": {"pay": {"executor": "per-vu-iterations", "vus": 1, "iterations": 1, "exec": "pay"}},
       "thresholds": {"balance_change": ["min==-20", "max==-10", "avg==-15"]},
       "flows": {"pay": {"steps": [{"metric": {"name": "balance_change", "value": -10}}]}}}
      """;
  /** {@link #PLAN} with its thresholds on a sub-metric: judged on the series, not the totals. */
  static final String TAGGED_PLAN = PLAN.replace("\"thresholds\": {\"balance_change\":",
      "\"thresholds\": {\"balance_change{scenario:pay}\":");

  static SeriesBucket bucket(String metric, String type, long seriesId, double... values) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = RUN;
    b.seriesId = seriesId;
    b.metric = metric;
    b.type = type;
    b.tagKeys = new String[] {"scenario"};
    b.tagValues = new String[] {"pay"};
    b.startMs = START_MS;
    b.widthMs = 1000;
    b.lastTimeUs = START_MS * 1000 + 500_000;
    b.count = values.length;
    b.min = Double.POSITIVE_INFINITY;
    b.max = Double.NEGATIVE_INFINITY;
    SingleWriterHistogram h = new SingleWriterHistogram();
    for (double v : values) {
      double stored = type.equals("TREND") ? HistogramLayout.toUnits(v * 1000) : v;
      b.sum += stored;
      b.min = Math.min(b.min, stored);
      b.max = Math.max(b.max, stored);
      if (type.equals("TREND")) {
        h.record((long) stored);
      }
    }
    SparseHistogram s = h.snapshot();
    b.histIndexes = s.indexes();
    b.histCounts = s.counts();
    return b;
  }

  /** The run, created from {@code plan} a second before it starts running at {@link #START_MS}. */
  static RunState running(String plan) {
    return RunState.first(RUN, RunStatus.CREATED, START_MS - 1_000, "created", List.of(), "hash", plan, null)
        .to(RunStatus.RUNNING, START_MS, "running");
  }

  /** The run finished after one iteration: its two user Trend points and the iteration itself, 3 samples, no request. */
  static RunState finished(RunState running) {
    return running.to(RunStatus.FINISHED, START_MS + 900, "all 1 generator(s) finished")
        .withTotals(new RunState.Totals(0, 3, 0, 1, 0, 1, 0));
  }

  @Test
  void theFinalVerdictWaitsForACustomMetricsBucketThatComesAfterTheIterations() throws Exception {
    RunState running = running(PLAN);
    // one iteration: its two user Trend points and the iteration itself, 3 samples, no request
    RunState finished = finished(running);
    try (var h = new KeyedTwoInputStreamOperatorTestHarness<String, Tuple2<String, String>, SeriesBucket,
        Tuple2<String, String>>(new KeyedCoProcessOperator<>(RunThresholds.forBuckets(Duration.ofSeconds(60), "", false)),
        t -> t.f0, b -> b.testRunId, Types.STRING)) {
      h.open();
      h.processElement1(Tuple2.of(RUN, running.toJson()), START_MS);
      h.processElement2(bucket("iterations", "COUNTER", 1, 1), START_MS);
      h.processElement1(Tuple2.of(RUN, finished.toJson()), START_MS + 900);
      assertTrue(finals(h).isEmpty(), "every iteration is in, but not every sample: no final verdict yet");
      h.processElement2(bucket("balance_change", "TREND", 2, -10, -20), START_MS);
      Map<String, ThresholdResult> finals = finals(h);
      assertEquals(3, finals.size(), finals.toString());
      finals.values().forEach(r -> {
        assertEquals(ThresholdResult.State.PASSED, r.state(), r.toString());
        assertTrue(!r.partial(), "judged on all of the run's samples: " + r);
      });
      assertEquals(-20, finals.get("balance_change: min==-20").value(), 1e-9);
      assertEquals(-15, finals.get("balance_change: avg==-15").value(), 1e-9);
    }
  }

  /** An aggregates record of {@code kind} holding {@code buckets} (all of one second), as the aggregate job publishes. */
  static AggregateJob.RawRecord record(AggregateRecords.Kind kind, String analysis, SeriesBucket... buckets) {
    List<byte[]> encoded = new java.util.ArrayList<>();
    for (SeriesBucket b : buckets) {
      b.analysisId = analysis;
      encoded.add(AggregateRecords.encode(b));
    }
    AggregateRecords.Published p = AggregateRecords.batches(RUN, analysis, START_MS, kind, encoded).get(0);
    return raw(kind, p.value);
  }

  static AggregateJob.RawRecord raw(AggregateRecords.Kind kind, byte[] value) {
    AggregateJob.RawRecord r = new AggregateJob.RawRecord();
    r.key = RUN;
    r.kind = kind;
    r.timestampMs = START_MS;
    r.value = value;
    return r;
  }

  static KeyedTwoInputStreamOperatorTestHarness<String, Tuple2<String, String>, AggregateJob.RawRecord,
      Tuple2<String, String>> live() throws Exception {
    return new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(
        RunThresholds.live(Duration.ofSeconds(60), "loadtest.aggregates")), t -> t.f0, r -> r.key, Types.STRING);
  }

  /** The one iteration's record of the series: its counter and its two user Trend points. */
  static AggregateJob.RawRecord iterationSeries() {
    return record(AggregateRecords.Kind.SERIES, "", bucket("iterations", "COUNTER", 1, 1),
        bucket("balance_change", "TREND", 2, -10, -20));
  }

  /** The same iteration as the metrics' totals publish it. */
  static AggregateJob.RawRecord iterationTotals() {
    return record(AggregateRecords.Kind.TOTALS, dev.loadtest.schemas.series.Projection.TOTAL.analysisId(""),
        total(bucket("iterations", "COUNTER", 1, 1)), total(bucket("balance_change", "TREND", 2, -10, -20)));
  }

  /** The metric's buckets without tags, as the total projection has them. */
  static SeriesBucket total(SeriesBucket b) {
    b.tagKeys = new String[0];
    b.tagValues = new String[0];
    b.seriesId = -b.seriesId;
    return b;
  }

  @Test
  void aPlanWithoutTaggedThresholdsIsJudgedOnTheTotalsAndTheSeriesRecordsAreNotEvenDecoded() throws Exception {
    RunState running = running(PLAN);
    RunState finished = finished(running);
    try (var h = live()) {
      h.open();
      h.processElement1(Tuple2.of(RUN, running.toJson()), START_MS);
      // not an Avro batch at all: a judge that decoded it would reject it
      h.processElement2(raw(AggregateRecords.Kind.SERIES, new byte[] {1, 2, 3}), START_MS);
      h.processElement2(iterationSeries(), START_MS);
      h.processElement1(Tuple2.of(RUN, finished.toJson()), START_MS + 900);
      assertTrue(finals(h).isEmpty(), "the series are not counted: no final verdict before the totals");
      h.processElement2(iterationTotals(), START_MS);
      Map<String, ThresholdResult> finals = finals(h);
      assertEquals(3, finals.size(), finals.toString());
      finals.values().forEach(r -> assertTrue(r.state() == ThresholdResult.State.PASSED && !r.partial(), r.toString()));
      assertEquals(-15, finals.get("balance_change: avg==-15").value(), 1e-9);
      assertNull(h.getSideOutput(RunThresholds.REJECTED_AGGREGATES), "nothing rejected: the series were skipped");
    }
  }

  @Test
  void aPlanWithATaggedThresholdIsJudgedOnTheSeriesAndTheTotalsAreNotCountedTwice() throws Exception {
    RunState running = running(TAGGED_PLAN);
    RunState finished = finished(running);
    try (var h = live()) {
      h.open();
      h.processElement1(Tuple2.of(RUN, running.toJson()), START_MS);
      h.processElement2(iterationTotals(), START_MS);
      h.processElement1(Tuple2.of(RUN, finished.toJson()), START_MS + 900);
      assertTrue(finals(h).isEmpty(), "the totals are not what this plan is judged on: no final verdict yet");
      h.processElement2(iterationSeries(), START_MS);
      Map<String, ThresholdResult> finals = finals(h);
      assertEquals(3, finals.size(), finals.toString());
      assertEquals(-15, finals.get("balance_change{scenario:pay}: avg==-15").value(), 1e-9);
    }
  }

  @Test
  void aRecordThatCannotBeReadIsRejectedWithWhereAndWhyAndTheRunGoesOn() throws Exception {
    RunState running = running(TAGGED_PLAN);
    RunState finished = finished(running);
    try (var h = live()) {
      h.open();
      h.processElement2(raw(AggregateRecords.Kind.SERIES, new byte[] {1, 2, 3}), START_MS); // before the plan: kept
      h.processElement1(Tuple2.of(RUN, running.toJson()), START_MS);
      var rejected = h.getSideOutput(RunThresholds.REJECTED_AGGREGATES);
      assertEquals(1, rejected.size());
      assertTrue(rejected.peek().getValue().contains("not an aggregates record"), rejected.peek().getValue());
      h.processElement2(iterationSeries(), START_MS);
      h.processElement1(Tuple2.of(RUN, finished.toJson()), START_MS + 900);
      assertEquals(3, finals(h).size());
    }
  }

  /**
   * Records of a run whose run state never comes are given up after {@link RunThresholds#UNPLANNED_WAIT}, with
   * one DLQ record that says how many; a run whose state comes in time is judged on every record it had.
   */
  @Test
  void recordsOfARunWithoutARunStateAreGivenUpAfterAWaitAndNotKeptForEver() throws Exception {
    RunState running = running(TAGGED_PLAN); // judged on the series
    long wait = RunThresholds.UNPLANNED_WAIT.toMillis();
    try (var h = live()) {
      h.open();
      h.setProcessingTime(1_000);
      SeriesBucket[] buckets = {bucket("iterations", "COUNTER", 1, 1), bucket("balance_change", "TREND", 2, -10, -20)};
      h.processElement2(record(AggregateRecords.Kind.SERIES, "", buckets), START_MS); // the state comes in time
      h.setProcessingTime(wait / 2);
      h.processElement1(Tuple2.of(RUN, running.toJson()), START_MS);
      h.setProcessingTime(3 * wait);
      assertNull(h.getSideOutput(RunThresholds.REJECTED_AGGREGATES), "the run came in time: nothing given up");
      h.processElement1(Tuple2.of(RUN, finished(running).toJson()), START_MS + 900);
      assertEquals(3, finals(h).size(), "judged on the record that waited for the plan");
      assertTrue(finals(h).values().stream().noneMatch(ThresholdResult::partial));

      AggregateJob.RawRecord orphan = record(AggregateRecords.Kind.SERIES, "", bucket("iterations", "COUNTER", 1, 1));
      orphan.key = "nobody-started-me";
      h.processElement2(orphan, START_MS);
      h.processElement2(orphan, START_MS);
      h.setProcessingTime(3 * wait + wait - 1);
      assertNull(h.getSideOutput(RunThresholds.REJECTED_AGGREGATES), "still waiting");
      h.setProcessingTime(4 * wait);
      var rejected = h.getSideOutput(RunThresholds.REJECTED_AGGREGATES);
      assertEquals(1, rejected.size(), "one DLQ record for the run");
      String why = rejected.peek().getValue();
      assertTrue(why.contains("no run state with a plan came for run \\\"nobody-started-me\\\"") && why.contains("2 record(s)"),
          why);
      h.setProcessingTime(10 * wait);
      assertEquals(1, h.getSideOutput(RunThresholds.REJECTED_AGGREGATES).size(), "given up once");
    }
  }

  /** A bounded input (a replay's buckets) keeps what comes before the plan to its end, however long it takes. */
  @Test
  void aBoundedInputKeepsBucketsThatComeBeforeThePlanPastTheUnplannedWait() throws Exception {
    RunState running = running(PLAN);
    try (var h = new KeyedTwoInputStreamOperatorTestHarness<String, Tuple2<String, String>, SeriesBucket,
        Tuple2<String, String>>(new KeyedCoProcessOperator<>(RunThresholds.forBuckets(Duration.ofSeconds(60), "", false)),
        t -> t.f0, b -> b.testRunId, Types.STRING)) {
      h.open();
      h.setProcessingTime(1_000);
      h.processElement2(bucket("iterations", "COUNTER", 1, 1), START_MS);
      h.processElement2(bucket("balance_change", "TREND", 2, -10, -20), START_MS);
      h.setProcessingTime(5 * RunThresholds.UNPLANNED_WAIT.toMillis()); // no timer, no rejection to make
      assertNull(h.getSideOutput(RunThresholds.REJECTED_AGGREGATES));
      h.processElement1(Tuple2.of(RUN, running.toJson()), START_MS);
      h.processElement1(Tuple2.of(RUN, finished(running).toJson()), START_MS + 900);
      Map<String, ThresholdResult> finals = finals(h);
      assertEquals(3, finals.size(), "judged on the buckets that waited: " + finals);
      assertEquals(-15, finals.get("balance_change: avg==-15").value(), 1e-9);
    }
  }

  @Test
  void aRequestCountsOnceThoughItFillsABucketOfEachHttpMetric() {
    assertEquals(4, RunThresholds.samplesIn(bucket("http_reqs", "COUNTER", 1, 1, 1, 1, 1)));
    assertEquals(0, RunThresholds.samplesIn(bucket("http_req_duration", "TREND", 2, 5, 6, 7, 8)));
    assertEquals(0, RunThresholds.samplesIn(bucket("data_received", "COUNTER", 3, 100, 100, 100, 100)));
    assertEquals(2, RunThresholds.samplesIn(bucket("checks", "RATE", 4, 1, 0)));
    assertEquals(3, RunThresholds.samplesIn(bucket("balance_change", "TREND", 5, -1, 0, 1)));
  }

  static <IN> Map<String, ThresholdResult> finals(KeyedTwoInputStreamOperatorTestHarness<String, Tuple2<String, String>,
      IN, Tuple2<String, String>> h) {
    Map<String, ThresholdResult> out = new TreeMap<>();
    for (Tuple2<String, String> t : h.extractOutputValues()) {
      ThresholdResult r = ThresholdResult.fromJson(t.f1);
      if (r.finalResult()) {
        out.put(r.threshold(), r);
      }
    }
    return out;
  }
}
