package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The 1 s buckets and their rollups, on Flink's operator harness: merging, closing on the watermark,
 * corrections for late partials at each level, and checkpoints restored as they were, also onto more tasks.
 */
class BucketLadderTest {
  private static final int MAX_PARALLELISM = 128;
  private static final KeySelector<SeriesBucket, Long> BY_SERIES = b -> b.seriesId;

  static SeriesBucket counter(long seriesId, long startMs, long count, String writer) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = "run-l";
    b.seriesId = seriesId;
    b.metric = "http_reqs";
    b.type = "COUNTER";
    b.tagKeys = new String[] {"name"};
    b.tagValues = new String[] {"n" + seriesId};
    b.startMs = startMs;
    b.widthMs = 1000;
    b.count = count;
    b.sum = count;
    b.writerId = writer;
    b.histIndexes = new int[0];
    b.histCounts = new long[0];
    return b;
  }

  static KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, SeriesBucket> harness(int parallelism, int subtask)
      throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(new BucketLadder(true, true), BY_SERIES, Types.LONG,
        MAX_PARALLELISM, parallelism, subtask);
  }

  /** Every row out so far, main output and rollups: "series width start writer" -> count. */
  static Map<String, Long> rows(KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, SeriesBucket> h) {
    Map<String, Long> out = new TreeMap<>();
    List<SeriesBucket> all = new ArrayList<>(h.extractOutputValues());
    var rollups = h.getSideOutput(BucketLadder.ROLLUPS);
    if (rollups != null) {
      for (StreamRecord<SeriesBucket> r : rollups) {
        all.add(r.getValue());
      }
    }
    for (SeriesBucket b : all) {
      String key = b.seriesId + " " + b.widthMs + " " + b.startMs + " " + (b.writerId.isEmpty() ? "main" : b.writerId);
      assertNull(out.put(key, b.count), "one row per series, bucket and writer: " + key);
    }
    return out;
  }

  @Test
  void partialsMergeIntoOneCompleteBucketPerLevelWhenTheWatermarkPassesItsEnd() throws Exception {
    try (var h = harness(1, 0)) {
      h.open();
      h.processElement(counter(1, 1_000, 2, "a"), 1_000);
      h.processElement(counter(1, 1_500, 3, "b"), 1_500); // same second, another batch
      h.processElement(counter(1, 2_000, 5, "c"), 2_000);
      h.processElement(counter(2, 1_000, 7, "d"), 1_000);
      h.processWatermark(1_998);
      assertTrue(h.extractOutputValues().isEmpty(), "nothing before the watermark passes a second's end");
      h.processWatermark(1_999);
      assertEquals(Map.of("1 1000 1000 main", 5L, "2 1000 1000 main", 7L), rows(h));
      SeriesBucket first = h.extractOutputValues().get(0);
      assertNotNull(first.tagKeys, "1 s buckets keep their tags (projections and the aggregates topic need them)");
      h.processWatermark(60_000);
      Map<String, Long> rows = rows(h);
      assertEquals(10L, rows.get("1 10000 0 main"), "the 10 s bucket holds every second of it");
      assertEquals(10L, rows.get("1 60000 0 main"));
      assertEquals(7L, rows.get("2 60000 0 main"));
      assertEquals(7, rows.size(), "series 1: seconds 1 and 2, 10 s, 1 min; series 2: second 1, 10 s, 1 min");
      for (StreamRecord<SeriesBucket> r : h.getSideOutput(BucketLadder.ROLLUPS)) {
        assertNull(r.getValue().tagKeys, "rollups leave without tags");
      }
      assertEquals(2, h.getSideOutput(BucketLadder.NEW_SERIES).size(), "each series announced once");
    }
  }

  @Test
  void latePartialsBecomeCorrectionsNamedAfterTheirOriginAtEveryLevelTheyMissed() throws Exception {
    try (var h = harness(1, 0)) {
      h.open();
      h.processElement(counter(1, 1_000, 2, "a"), 1_000);
      h.processWatermark(2_500);
      h.processElement(counter(1, 1_000, 4, "late:g/7"), 1_000); // its second is out, its 10 s bucket is not
      h.processWatermark(10_500);
      h.processElement(counter(1, 3_000, 1, "late:g/9"), 3_000); // its second and its 10 s bucket are out
      h.processWatermark(60_000);
      assertEquals(Map.of(
          "1 1000 1000 main", 2L,
          "1 1000 1000 late:g/7@1000", 4L,
          "1 10000 0 main", 6L,
          "1 1000 3000 late:g/9@3000", 1L,
          "1 10000 0 late:g/9@3000@3000", 1L,
          "1 60000 0 main", 7L), rows(h));
    }
  }

  @Test
  void gaugesOfSeveralGeneratorsLeaveSummed() throws Exception {
    try (var h = harness(1, 0)) {
      h.open();
      SeriesBucket a = counter(5, 1_000, 1, "x");
      a.type = "GAUGE";
      a.gauge("gen-1", 3, 1_000_100);
      SeriesBucket b = counter(5, 1_000, 1, "y");
      b.type = "GAUGE";
      b.gauge("gen-2", 4, 1_000_200);
      h.processElement(a, 1_000);
      h.processElement(b, 1_000);
      h.processWatermark(1_999);
      SeriesBucket out = h.extractOutputValues().get(0);
      assertEquals(7, out.last, 0, "3 VUs on one generator and 4 on another are 7");
      assertNull(out.gaugeWriters);
    }
  }

  /** The input before the checkpoint: seconds 1 and 8 of 50 series. */
  private static void before(KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, SeriesBucket> h) throws Exception {
    for (long s = 1; s <= 50; s++) {
      h.processElement(counter(s, 1_000, s, "a"), 1_000);
      h.processElement(counter(s, 8_000, 1, "b"), 8_000);
    }
  }

  /** The same input, with a checkpoint and restore in the middle (onto {@code parallelism} tasks), gives the same rows. */
  private static Map<String, Long> runWithRestore(int parallelism) throws Exception {
    OperatorSubtaskState snapshot;
    Map<String, Long> out = new HashMap<>();
    try (var h = harness(1, 0)) {
      h.open();
      before(h);
      h.processWatermark(4_999); // second 1 out; seconds 8, the 10 s and the 1 min buckets still open
      out.putAll(rows(h));
      snapshot = h.snapshot(1, 5_000);
    }
    for (int i = 0; i < parallelism; i++) {
      OperatorSubtaskState mine = parallelism == 1 ? snapshot
          : AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, MAX_PARALLELISM, 1, parallelism, i);
      try (var h = harness(parallelism, i)) {
        h.initializeState(mine);
        h.open();
        for (long s = 1; s <= 50; s++) {
          if (org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignKeyToParallelOperator(s, MAX_PARALLELISM,
              parallelism) == i) {
            h.processElement(counter(s, 1_000, 100, "late:z/1"), 1_000); // late: the restored watermark says so
            h.processElement(counter(s, 8_000, 2, "c"), 8_000);
          }
        }
        h.processWatermark(60_000);
        for (Map.Entry<String, Long> e : rows(h).entrySet()) {
          assertNull(out.put(e.getKey(), e.getValue()), "emitted by one task only, once: " + e.getKey());
        }
      }
    }
    return out;
  }

  @Test
  void aRestoredCheckpointGivesTheRowsAnUninterruptedRunGivesAlsoOnMoreTasks() throws Exception {
    Map<String, Long> uninterrupted = new TreeMap<>();
    try (var h = harness(1, 0)) {
      h.open();
      before(h);
      h.processWatermark(4_999);
      for (long s = 1; s <= 50; s++) {
        h.processElement(counter(s, 1_000, 100, "late:z/1"), 1_000);
        h.processElement(counter(s, 8_000, 2, "c"), 8_000);
      }
      h.processWatermark(60_000);
      uninterrupted.putAll(rows(h));
    }
    // Per series: seconds 1 and 8, the correction of second 1, and one 10 s and one 1 min bucket.
    assertEquals(50 * 5, uninterrupted.size(), uninterrupted.keySet().stream().filter(k -> k.startsWith("7 ")).toList()
        .toString());
    assertEquals(7 + 100 + 3, uninterrupted.get("7 10000 0 main"), "the late second still fell in its open 10 s bucket");
    assertEquals(uninterrupted, new TreeMap<>(runWithRestore(1)));
    assertEquals(uninterrupted, new TreeMap<>(runWithRestore(3)));
  }
}
