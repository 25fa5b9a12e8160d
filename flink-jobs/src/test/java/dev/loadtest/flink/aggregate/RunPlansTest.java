package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Which series' buckets the ladder publishes, by what the runs' plans judge on: every series-second of a run
 * with a tagged threshold or an unknown plan, each series' first bucket of a run judged on its totals; the
 * totals of every run always.
 */
class RunPlansTest {
  static final String TOTALS_PLAN = """
      {"scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "30s", "exec": "f"}},
       "thresholds": {"http_req_duration": ["p(95)<500"], "http_reqs": ["count>10"]},
       "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}""";
  static final String TAGGED_PLAN = """
      {"scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "30s", "exec": "f"}},
       "thresholds": {"http_req_duration{status:500}": ["p(95)<500"]},
       "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}""";

  static String state(String run, String plan) {
    return RunState.first(run, RunStatus.VALIDATED, 0, "ok", List.of(), "h", plan, null).toJson();
  }

  @Test
  void aPlanIsJudgedOnSeriesWhenAThresholdHasTags() {
    assertEquals(Boolean.FALSE, RunPlans.judgedOnSeries("a", state("a", TOTALS_PLAN)));
    assertEquals(Boolean.TRUE, RunPlans.judgedOnSeries("b", state("b", TAGGED_PLAN)));
    assertNull(RunPlans.judgedOnSeries("c", state("c", null)), "no plan yet");
    assertNull(RunPlans.judgedOnSeries("x", state("a", TOTALS_PLAN)), "a record keyed as another run");
    assertEquals(Boolean.TRUE, RunPlans.judgedOnSeries("d", "{not json"), "unreadable: every series, to be safe");
    assertEquals(Boolean.TRUE, RunPlans.judgedOnSeries("e", state("e", "{\"thresholds\": 3}")));
  }

  @Test
  void seriesBucketsArePublishedWhereAThresholdNeedsThemAndTheirFirstOnlyElsewhere() throws Exception {
    Map<String, Integer> published;
    OperatorSubtaskState snapshot;
    try (var h = harness()) {
      h.open();
      h.processElement2(new StreamRecord<>(Tuple2.of("totals", state("totals", TOTALS_PLAN))));
      h.processElement2(new StreamRecord<>(Tuple2.of("tagged", state("tagged", TAGGED_PLAN))));
      // "unknown" has no state; "liar" has one keyed as another run's
      h.processElement2(new StreamRecord<>(Tuple2.of("liar", state("totals", TOTALS_PLAN))));
      feed(h, 0, 3);
      published = seriesBuckets(h);
      snapshot = h.snapshot(1, 1);
    }
    // 2 series per run (a counter and a trend of one name), 3 seconds
    assertEquals(Map.of("totals", 2, "tagged", 6, "unknown", 6, "liar", 6), published);
    try (var h = harness()) { // the plans are in the checkpoint
      h.initializeState(snapshot);
      h.open();
      feed(h, 3, 5);
      assertEquals(Map.of("totals", 2, "tagged", 4, "unknown", 4, "liar", 4), seriesBuckets(h),
          "after a restore the ladder has forgotten which series it published first: once more each, no more");
    }
  }

  private static KeyedTwoInputStreamOperatorTestHarness<Long, SeriesBucket, Tuple2<String, String>, SeriesBucket>
      harness() throws Exception {
    return new KeyedTwoInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithPlans(true),
        BucketLadder.BY_NAME, r -> 0L, Types.LONG);
  }

  /** Seconds {@code from} (inclusive) to {@code to} of two series of each run, each closed by a watermark. */
  private static void feed(KeyedTwoInputStreamOperatorTestHarness<Long, SeriesBucket, Tuple2<String, String>,
      SeriesBucket> h, int from, int to) throws Exception {
    for (int s = from; s < to; s++) {
      for (String run : List.of("totals", "tagged", "unknown", "liar")) {
        for (String metric : List.of("http_reqs", "http_req_duration")) {
          SeriesBucket b = BucketLadderTest.tagged(metric, metric.equals("http_reqs") ? "COUNTER" : "TREND", "login",
              200, s * 1000L, 5, "w");
          b.testRunId = run;
          b.seriesId = dev.loadtest.schemas.series.SeriesId.of(run, metric, Map.of("name", "login", "status", "200"));
          h.processElement1(new StreamRecord<>(b, b.startMs));
        }
      }
      h.processWatermark1(new Watermark(s * 1000L + 999));
      h.processWatermark2(new Watermark(Long.MAX_VALUE));
    }
  }

  /** The series' 1 s buckets published per run; every run's totals are checked to be published too. */
  private static Map<String, Integer> seriesBuckets(KeyedTwoInputStreamOperatorTestHarness<Long, SeriesBucket,
      Tuple2<String, String>, SeriesBucket> h) throws Exception {
    Map<String, Integer> series = new TreeMap<>();
    Map<String, Integer> totals = new TreeMap<>();
    for (StreamRecord<AggregateRecords.Published> r : h.getSideOutput(BucketLadder.PUBLISHED)) {
      AggregateRecords.Published p = r.getValue();
      int n = AggregateRecords.fromAvro(AggregateBatch.fromByteBuffer(ByteBuffer.wrap(p.value))).size();
      (p.kind == AggregateRecords.Kind.SERIES ? series : totals).merge(p.key, n, Integer::sum);
    }
    for (String run : series.keySet()) {
      assertEquals(true, totals.getOrDefault(run, 0) > 0, "the totals of " + run + " are published: " + totals);
    }
    return series;
  }
}
