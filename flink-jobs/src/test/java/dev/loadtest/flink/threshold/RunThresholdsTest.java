package dev.loadtest.flink.threshold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @Test
  void theFinalVerdictWaitsForACustomMetricsBucketThatComesAfterTheIterations() throws Exception {
    RunState running = RunState.first(RUN, RunStatus.CREATED, START_MS - 1_000, "created", List.of(), "hash", PLAN,
        null).to(RunStatus.RUNNING, START_MS, "running");
    // one iteration: its two user Trend points and the iteration itself, 3 samples, no request
    RunState finished = running.to(RunStatus.FINISHED, START_MS + 900, "all 1 generator(s) finished")
        .withTotals(new RunState.Totals(0, 3, 0, 1, 0, 1, 0));
    try (var h = new KeyedTwoInputStreamOperatorTestHarness<String, Tuple2<String, String>, SeriesBucket,
        Tuple2<String, String>>(new KeyedCoProcessOperator<>(new RunThresholds(Duration.ofSeconds(60))),
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

  @Test
  void aRequestCountsOnceThoughItFillsABucketOfEachHttpMetric() {
    assertEquals(4, RunThresholds.samplesIn(bucket("http_reqs", "COUNTER", 1, 1, 1, 1, 1)));
    assertEquals(0, RunThresholds.samplesIn(bucket("http_req_duration", "TREND", 2, 5, 6, 7, 8)));
    assertEquals(0, RunThresholds.samplesIn(bucket("data_received", "COUNTER", 3, 100, 100, 100, 100)));
    assertEquals(2, RunThresholds.samplesIn(bucket("checks", "RATE", 4, 1, 0)));
    assertEquals(3, RunThresholds.samplesIn(bucket("balance_change", "TREND", 5, -1, 0, 1)));
  }

  static Map<String, ThresholdResult> finals(KeyedTwoInputStreamOperatorTestHarness<String, Tuple2<String, String>,
      SeriesBucket, Tuple2<String, String>> h) {
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
