package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  /** Every row out so far (1 s and rollups, all on the main output): "series width start writer" -> count. */
  static Map<String, Long> rows(KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, SeriesBucket> h) {
    Map<String, Long> out = new TreeMap<>();
    for (SeriesBucket b : h.extractOutputValues()) {
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
      long rollups = 0;
      for (SeriesBucket b : h.extractOutputValues()) {
        if (b.widthMs > 1_000) {
          rollups++;
          assertNull(b.tagKeys, "rollups leave without tags");
        }
      }
      assertEquals(4, rollups);
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

  // ------------------------------------------------------------- series, by name and totals in one pass

  /** A partial of series {@code n}-{@code status} of metric {@code metric}: several series per name. */
  static SeriesBucket tagged(String metric, String type, String name, int status, long startMs, long count,
      String writer) {
    SeriesBucket b = counter(0, startMs, count, writer);
    b.metric = metric;
    b.type = type;
    b.tagKeys = new String[] {"name", "status"};
    b.tagValues = new String[] {name, String.valueOf(status)};
    b.seriesId = dev.loadtest.schemas.series.SeriesId.of(b.testRunId, metric, Map.of("name", name, "status",
        String.valueOf(status)));
    if (type.equals("TREND")) {
      b.histIndexes = new int[] {100 + status % 7};
      b.histCounts = new long[] {count};
      b.sum = count * 10.0;
      b.min = 10;
      b.max = 10;
    } else if (type.equals("GAUGE")) {
      b.histIndexes = null;
      b.histCounts = null;
      b.gauge("gen-" + writer, count, startMs * 1000);
    }
    return b;
  }

  /** Feeds steps {@code from} (inclusive) to {@code to} into {@code h}, each followed by the watermark that closes its second. */
  static void feed(KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, ?> h, List<List<SeriesBucket>> steps,
                   int from, int to) throws Exception {
    for (int i = from; i < to; i++) {
      for (SeriesBucket b : steps.get(i)) {
        h.processElement(b.copy(), b.startMs);
      }
      h.processWatermark((i + 1) * 1000L + 999);
    }
  }

  /** Input in steps: each step's partials, then its watermark (late partials among them). */
  static List<List<SeriesBucket>> steps() {
    List<List<SeriesBucket>> steps = new ArrayList<>();
    String[] names = {"home", "cart", "checkout"};
    for (int sec = 1; sec <= 25; sec++) {
      List<SeriesBucket> step = new ArrayList<>();
      for (String name : names) {
        for (int status : new int[] {200, 404, 500}) {
          step.add(tagged("http_reqs", "COUNTER", name, status, sec * 1000L, sec + status % 3, "a" + sec));
          step.add(tagged("http_req_duration", "TREND", name, status, sec * 1000L + 300, 2, "b" + sec));
          if (sec % 4 == 0) { // a batch of a second long gone, and one of a second whose 10 s bucket is open
            step.add(tagged("http_reqs", "COUNTER", name, status, (sec - 3) * 1000L, 5, "late" + sec));
            step.add(tagged("http_req_duration", "TREND", name, status, (sec - 2) * 1000L, 1, "late" + sec));
          }
        }
        step.add(tagged("vus", "GAUGE", name, 0, sec * 1000L, 3, "g" + sec));
      }
      steps.add(step);
    }
    return steps;
  }

  /**
   * What reaches ClickHouse, as "series width start" -> {count, sum, complete rows, rows}: of the whole-run rows
   * written several times, the last version (what ReplacingMergeTree(version) keeps).
   */
  static Map<String, double[]> stored(List<SeriesBucket> rows) {
    Map<String, double[]> out = new TreeMap<>();
    java.util.Set<String> keys = new java.util.HashSet<>();
    for (SeriesBucket b : lastVersions(rows)) {
      assertTrue(keys.add(b.seriesId + " " + b.widthMs + " " + b.startMs + " " + b.writerId),
          "one row per series, bucket and writer: " + b);
      double[] v = out.computeIfAbsent(b.seriesId + " " + b.widthMs + " " + b.startMs, k -> new double[4]);
      v[0] += b.count;
      v[1] += b.sum;
      v[2] += b.writerId.isEmpty() ? 1 : 0;
      v[3] += 1;
    }
    return out;
  }

  /**
   * {@code rows} with each whole-run row ({@link BucketLadder#RUN_WIDTH_MS}) only in its last version, asserting
   * that a row written again has a higher version.
   */
  static List<SeriesBucket> lastVersions(List<SeriesBucket> rows) {
    List<SeriesBucket> out = new ArrayList<>();
    Map<String, SeriesBucket> run = new java.util.LinkedHashMap<>();
    for (SeriesBucket b : rows) {
      if (b.widthMs != BucketLadder.RUN_WIDTH_MS) {
        out.add(b);
        continue;
      }
      String key = b.seriesId + " " + b.startMs + " " + b.writerId;
      SeriesBucket was = run.get(key);
      assertTrue(was == null || was.lastTimeUs < b.lastTimeUs, "a row written again has a higher version: " + key);
      run.put(key, b);
    }
    out.addAll(run.values());
    return out;
  }

  /** Everything not taken yet from {@code queue}. */
  static List<SeriesBucket> drain(java.util.Collection<StreamRecord<SeriesBucket>> queue, int[] taken) {
    List<SeriesBucket> out = new ArrayList<>();
    int i = 0;
    if (queue != null) {
      for (StreamRecord<SeriesBucket> r : queue) {
        if (i++ >= taken[0]) {
          out.add(r.getValue());
        }
      }
      taken[0] = i;
    }
    return out;
  }

  /** Runs {@link #steps()} through {@code first}, and what {@code handOver} takes from it after each watermark through {@code second}. */
  static void pipe(KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, SeriesBucket> first,
      KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, SeriesBucket> second,
      java.util.function.Function<KeyedOneInputStreamOperatorTestHarness<Long, SeriesBucket, SeriesBucket>,
          List<SeriesBucket>> handOver) throws Exception {
    List<List<SeriesBucket>> steps = steps();
    for (int i = 0; i <= steps.size(); i++) {
      long mark = i == steps.size() ? Long.MAX_VALUE - 1 : (i + 1) * 1000L + 999;
      for (SeriesBucket b : i == steps.size() ? List.<SeriesBucket>of() : steps.get(i)) {
        first.processElement(b.copy(), b.startMs);
      }
      first.processWatermark(mark);
      for (SeriesBucket b : handOver.apply(first)) {
        second.processElement(b, b.startMs);
      }
      second.processWatermark(mark);
    }
  }

  /** What the series ladder and the separate totals ladder made of {@link #steps()}. */
  record SeparateTotals(List<SeriesBucket> rows, List<SeriesBucket> announced, int parts) {}

  static SeparateTotals separateTotals() throws Exception {
    try (var series = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNames(), BucketLadder.BY_NAME,
            Types.LONG, MAX_PARALLELISM, 1, 0);
        var totals = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.projections(), BY_SERIES,
            Types.LONG, MAX_PARALLELISM, 1, 0)) {
      series.open();
      totals.open();
      int[] partsTaken = {0};
      pipe(series, totals, h -> drain(h.getSideOutput(BucketLadder.TOTAL_PARTS), partsTaken));
      List<SeriesBucket> rows = new ArrayList<>(series.extractOutputValues());
      rows.addAll(totals.extractOutputValues());
      List<SeriesBucket> announced = new ArrayList<>(drain(series.getSideOutput(BucketLadder.NEW_SERIES), new int[1]));
      announced.addAll(drain(totals.getSideOutput(BucketLadder.NEW_SERIES), new int[1]));
      return new SeparateTotals(rows, announced, partsTaken[0]);
    }
  }

  /** Every row key ("series width start writer") of {@code rows}, with its count. */
  static Map<String, Long> rowKeys(List<SeriesBucket> rows) {
    Map<String, Long> out = new TreeMap<>();
    for (SeriesBucket b : rows) {
      out.put(b.seriesId + " " + b.widthMs + " " + b.startMs + " " + b.writerId, b.count);
    }
    return out;
  }

  /**
   * A job of one task makes the totals in the ladder itself (so that all its rows leave through one sink):
   * the same rows, corrections and announced series as the separate totals ladder, also across a restore.
   */
  @Test
  void totalsMadeInTheLadderOfAOneTaskJobAreTheRowsOfTheSeparateTotalsLadder() throws Exception {
    SeparateTotals separately = separateTotals();
    List<SeriesBucket> separate = separately.rows();
    java.util.Set<Long> announcedSeparately = new java.util.TreeSet<>();
    separately.announced().forEach(b -> announcedSeparately.add(b.seriesId));
    List<List<SeriesBucket>> steps = steps();
    List<SeriesBucket> here = new ArrayList<>();
    java.util.Set<Long> announcedHere = new java.util.TreeSet<>();
    OperatorSubtaskState snapshot;
    int half = steps.size() / 2 + 3;
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      for (int i = 0; i < half; i++) {
        for (SeriesBucket b : steps.get(i)) {
          h.processElement(b.copy(), b.startMs);
        }
        h.processWatermark((i + 1) * 1000L + 999);
      }
      here.addAll(h.extractOutputValues());
      h.getSideOutput(BucketLadder.NEW_SERIES).forEach(r -> announcedHere.add(r.getValue().seriesId));
      assertNull(h.getSideOutput(BucketLadder.TOTAL_PARTS), "no parts leave: the totals are made here");
      snapshot = h.snapshot(1, 1);
    }
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.initializeState(snapshot);
      h.open();
      for (int i = half; i <= steps.size(); i++) {
        for (SeriesBucket b : i == steps.size() ? List.<SeriesBucket>of() : steps.get(i)) {
          h.processElement(b.copy(), b.startMs);
        }
        h.processWatermark(i == steps.size() ? Long.MAX_VALUE - 1 : (i + 1) * 1000L + 999);
      }
      here.addAll(h.extractOutputValues());
      h.getSideOutput(BucketLadder.NEW_SERIES).forEach(r -> announcedHere.add(r.getValue().seriesId));
    }
    assertEquals(rowKeys(separate), rowKeys(here), "the same rows, complete and corrections, with the same counts");
    Map<String, double[]> was = stored(separate);
    Map<String, double[]> is = stored(here);
    for (String k : was.keySet()) {
      assertEquals(was.get(k)[1], is.get(k)[1], 1e-9, "sum of " + k);
    }
    assertTrue(here.stream().anyMatch(b -> b.analysisId.endsWith("~total") && !b.writerId.isEmpty()),
        "the input's late partials made corrections of the totals");
    assertEquals(announcedSeparately, announcedHere);
  }

  @Test
  void seriesByNameAndTotalsInOnePassStoreWhatASeparateProjectionStageStored() throws Exception {
    List<SeriesBucket> before = new ArrayList<>();
    List<SeriesBucket> after = new ArrayList<>();
    // Before: series ladder, each 1 s bucket copied into both projections, a keyed ladder of the projections.
    try (var series = harness(1, 0);
        var projected = new KeyedOneInputStreamOperatorTestHarness<>(new BucketLadder(true, false), BY_SERIES,
            Types.LONG, MAX_PARALLELISM, 1, 0)) {
      series.open();
      projected.open();
      int[] mainTaken = {0};
      pipe(series, projected, h -> {
        List<StreamRecord<SeriesBucket>> mains = new ArrayList<>();
        for (Object o : h.getOutput()) {
          if (o instanceof StreamRecord<?> r) {
            @SuppressWarnings("unchecked") StreamRecord<SeriesBucket> sr = (StreamRecord<SeriesBucket>) r;
            mains.add(sr);
          }
        }
        List<SeriesBucket> parts = new ArrayList<>();
        for (SeriesBucket b : drain(mains, mainTaken)) {
          if (b.widthMs == 1_000 && !b.type.equals("GAUGE")) {
            for (dev.loadtest.schemas.series.Projection p : dev.loadtest.schemas.series.Projection.values()) {
              parts.add(Project.project(b, p));
            }
          }
        }
        return parts;
      });
      before.addAll(series.extractOutputValues());
      before.addAll(projected.extractOutputValues());
    }
    // Now: one pass for the series and their names, each task's parts of the totals to a small ladder.
    SeparateTotals separately = separateTotals();
    assertTrue(separately.parts() < 25 * 2 * 30, "parts of the totals are added up per task and second: "
        + separately.parts());
    // the rows the separate stage made; the whole-run rows, which it had not, are tested on their own below
    separately.rows().stream().filter(b -> b.widthMs != BucketLadder.RUN_WIDTH_MS).forEach(after::add);
    Map<Long, String> announced = new HashMap<>();
    for (SeriesBucket b : separately.announced()) {
      announced.put(b.seriesId, b.analysisId + " " + String.join(",", b.tagKeys));
    }
    assertEquals(9 * 2 + 3 + 3 * 2 + 2, announced.size(), "every series, by-name and total series announced: "
        + announced);
    Map<String, double[]> was = stored(before);
    Map<String, double[]> is = stored(after);
    assertEquals(was.keySet(), is.keySet());
    for (String k : was.keySet()) {
      double[] w = was.get(k);
      double[] n = is.get(k);
      assertEquals(w[0], n[0], 0, "count of " + k);
      assertEquals(w[1], n[1], 1e-9, "sum of " + k);
      assertEquals(w[2], n[2], 0, "complete rows of " + k);
    }
    long corrections = after.stream().filter(b -> !b.writerId.isEmpty()).count();
    assertTrue(corrections > 0, "the input had late partials");
  }

  @Test
  void seriesAndNamesRestoredOntoMoreTasksGiveTheRowsOfAnUninterruptedRun() throws Exception {
    List<List<SeriesBucket>> steps = steps();
    Map<String, double[]> uninterrupted;
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNames(), BucketLadder.BY_NAME,
        Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      feed(h, steps, 0, steps.size());
      h.processWatermark(Long.MAX_VALUE - 1);
      List<SeriesBucket> all = new ArrayList<>(h.extractOutputValues());
      all.addAll(drain(h.getSideOutput(BucketLadder.TOTAL_PARTS), new int[1]));
      uninterrupted = stored(all);
    }
    List<SeriesBucket> restored = new ArrayList<>();
    OperatorSubtaskState snapshot;
    int half = steps.size() / 2 + 3; // mid-way through a 10 s bucket
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNames(), BucketLadder.BY_NAME,
        Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      for (int i = 0; i < half; i++) {
        for (SeriesBucket b : steps.get(i)) {
          h.processElement(b.copy(), b.startMs);
        }
        h.processWatermark((i + 1) * 1000L + 999);
      }
      restored.addAll(h.extractOutputValues());
      restored.addAll(drain(h.getSideOutput(BucketLadder.TOTAL_PARTS), new int[1]));
      snapshot = h.snapshot(1, 1);
    }
    int parallelism = 3;
    for (int t = 0; t < parallelism; t++) {
      try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNames(), BucketLadder.BY_NAME,
          Types.LONG, MAX_PARALLELISM, parallelism, t)) {
        h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, MAX_PARALLELISM, 1,
            parallelism, t));
        h.open();
        for (int i = half; i < steps.size(); i++) {
          for (SeriesBucket b : steps.get(i)) {
            if (org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignKeyToParallelOperator(
                BucketLadder.nameKey(b), MAX_PARALLELISM, parallelism) == t) {
              h.processElement(b.copy(), b.startMs);
            }
          }
          h.processWatermark((i + 1) * 1000L + 999);
        }
        h.processWatermark(Long.MAX_VALUE - 1);
        restored.addAll(h.extractOutputValues());
        restored.addAll(drain(h.getSideOutput(BucketLadder.TOTAL_PARTS), new int[1]));
      }
    }
    // Parts of the totals are per task (three tasks make up to three of a second): compare what they add up to.
    Map<String, double[]> was = new TreeMap<>(uninterrupted);
    Map<String, double[]> is = new TreeMap<>();
    List<SeriesBucket> nonParts = new ArrayList<>();
    java.util.Set<String> totals = new java.util.HashSet<>();
    for (SeriesBucket b : restored) {
      if (b.analysisId.endsWith("~total")) {
        totals.add(b.seriesId + " " + b.widthMs + " " + b.startMs);
        double[] v = is.computeIfAbsent(b.seriesId + " " + b.widthMs + " " + b.startMs, k -> new double[4]);
        v[0] += b.count;
        v[1] += b.sum;
      } else {
        nonParts.add(b);
      }
    }
    is.putAll(stored(nonParts));
    assertEquals(was.keySet(), is.keySet());
    for (String k : was.keySet()) {
      assertEquals(was.get(k)[0], is.get(k)[0], 0, "count of " + k);
      assertEquals(was.get(k)[1], is.get(k)[1], 1e-9, "sum of " + k);
      if (!totals.contains(k)) {
        assertEquals(was.get(k)[2], is.get(k)[2], 0, "complete rows of " + k);
      }
    }
  }

  @Test
  void publishedBucketsLeaveBatchedPerRunAndSecondAndCorrectionsOnTheirOwn() throws Exception {
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNames(true), BucketLadder.BY_NAME,
        Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      feed(h, steps(), 0, steps().size());
      Map<Long, Long> published = new TreeMap<>(); // second -> count in its complete records
      long corrections = 0;
      int records = 0;
      for (StreamRecord<AggregateRecords.Published> r : h.getSideOutput(BucketLadder.PUBLISHED)) {
        records++;
        AggregateRecords.Published p = r.getValue();
        List<SeriesBucket> buckets = AggregateRecords.fromAvro(dev.loadtest.schemas.avro.AggregateBatch.fromByteBuffer(
            java.nio.ByteBuffer.wrap(p.value)));
        assertEquals("run-l", p.key);
        for (SeriesBucket b : buckets) {
          assertEquals(p.timestampMs, b.startMs, "one second per record");
          assertNotNull(b.tagKeys);
          assertEquals(p.kind, AggregateRecords.Kind.of(b), "one kind per record, named in its header");
        }
        published.merge(p.timestampMs, buckets.stream().mapToLong(b -> b.count).sum(), Long::sum);
      }
      Map<Long, Long> emitted = new TreeMap<>();
      Set<List<Object>> completeRecords = new HashSet<>();
      for (SeriesBucket b : h.extractOutputValues()) {
        if (!AggregateJob.seriesSecond(b)) {
          continue; // rollups and by-name rows are not published
        }
        emitted.merge(b.startMs, b.count, Long::sum);
        corrections += b.writerId.isEmpty() ? 0 : 1;
        if (b.writerId.isEmpty()) {
          completeRecords.add(List.of(b.startMs, AggregateRecords.Kind.of(b)));
        }
      }
      assertEquals(emitted, published, "every 1 s bucket out is published, complete or a correction");
      assertTrue(corrections > 0);
      assertEquals(Set.of(AggregateRecords.Kind.SERIES, AggregateRecords.Kind.GAUGES),
          completeRecords.stream().map(k -> k.get(1)).collect(java.util.stream.Collectors.toSet()));
      // 25 seconds of 21 series each, a record per second and kind, plus each correction on its own
      assertEquals(completeRecords.size() + corrections, records, "one record per second and kind, one per correction");
    }
  }

  @Test
  void theTotalsArePublishedInRecordsOfTheirOwnKindAndAddUpToTheSeries() throws Exception {
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(true),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      feed(h, steps(), 0, steps().size());
      Map<AggregateRecords.Kind, Map<String, Long>> byKind = new java.util.EnumMap<>(AggregateRecords.Kind.class);
      for (StreamRecord<AggregateRecords.Published> r : h.getSideOutput(BucketLadder.PUBLISHED)) {
        AggregateRecords.Published p = r.getValue();
        dev.loadtest.schemas.avro.AggregateBatch batch = dev.loadtest.schemas.avro.AggregateBatch.fromByteBuffer(
            java.nio.ByteBuffer.wrap(p.value));
        for (SeriesBucket b : AggregateRecords.fromAvro(batch)) {
          assertEquals(p.kind, AggregateRecords.Kind.of(b));
          byKind.computeIfAbsent(p.kind, k -> new TreeMap<>()).merge(b.metric, b.count, Long::sum);
        }
        if (p.kind == AggregateRecords.Kind.TOTALS) {
          assertEquals(dev.loadtest.schemas.series.Projection.TOTAL.analysisId(""), batch.getAnalysisId());
        }
      }
      assertFalse(byKind.get(AggregateRecords.Kind.TOTALS).isEmpty());
      assertEquals(byKind.get(AggregateRecords.Kind.SERIES), byKind.get(AggregateRecords.Kind.TOTALS),
          "per metric, the published totals (complete and corrections) count what the series count");
      assertTrue(byKind.get(AggregateRecords.Kind.GAUGES).keySet().stream()
          .noneMatch(byKind.get(AggregateRecords.Kind.TOTALS)::containsKey), "gauges have no totals");
    }
  }

  // ------------------------------------------------------------- whole-run rows of the by-name trends

  /** The whole-run rows of {@code rows} (last versions), as "series start writer" -> the row. */
  static Map<String, SeriesBucket> runRows(List<SeriesBucket> rows) {
    Map<String, SeriesBucket> out = new TreeMap<>();
    for (SeriesBucket b : lastVersions(rows)) {
      if (b.widthMs == BucketLadder.RUN_WIDTH_MS) {
        out.put(b.seriesId + " " + b.startMs + " " + b.writerId, b);
      }
    }
    return out;
  }

  /**
   * Each by-name trend (not a timing phase) has a whole-run row written every 10 s of event time while it
   * changes, each version higher; its last versions add up to every by-name 1 s row of the series, late
   * corrections too, histogram and all.
   */
  @Test
  void theByNameTrendsHaveWholeRunRowsThatAddUpToTheirSecondsCorrectionsIncluded() throws Exception {
    List<List<SeriesBucket>> steps = steps();
    for (List<SeriesBucket> step : steps) { // a timing phase beside the duration: no whole-run row
      SeriesBucket waiting = tagged("http_req_waiting", "TREND", "home", 200, step.get(0).startMs, 1, "w");
      step.add(waiting);
    }
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      feed(h, steps, 0, 12);
      // written at the first watermark and at the one past 10 s: a row per name of http_req_duration each time
      Map<String, List<Long>> versions = new TreeMap<>();
      h.extractOutputValues().stream().filter(b -> b.widthMs == BucketLadder.RUN_WIDTH_MS).forEach(b ->
          versions.computeIfAbsent(b.metric + " " + b.tagValues[0], k -> new ArrayList<>()).add(b.lastTimeUs));
      assertEquals(Map.of("http_req_duration cart", List.of(1999L, 10999L), "http_req_duration checkout",
          List.of(1999L, 10999L), "http_req_duration home", List.of(1999L, 10999L)), versions);
      feed(h, steps, 12, steps.size());
      h.processWatermark(Long.MAX_VALUE - 1);
      List<SeriesBucket> all = h.extractOutputValues();
      Map<String, SeriesBucket> run = runRows(all);
      assertEquals(3, run.size(), run.keySet().toString());
      for (SeriesBucket r : run.values()) {
        assertEquals("http_req_duration", r.metric);
        assertTrue(r.analysisId.endsWith("~name"), r.analysisId);
        assertEquals("", r.writerId, "one part per name: its data never paused");
        List<SeriesBucket> seconds = all.stream().filter(b -> b.widthMs == 1000 && b.seriesId == r.seriesId).toList();
        SeriesBucket sum = seconds.get(0).copy();
        seconds.subList(1, seconds.size()).forEach(sum::absorb);
        assertTrue(seconds.stream().anyMatch(b -> !b.writerId.isEmpty()), "the name had late corrections");
        assertEquals(sum.count, r.count, "count of " + r.tagValues[0]);
        assertEquals(sum.sum, r.sum, 1e-9);
        assertEquals(java.util.Arrays.toString(sum.histIndexes), java.util.Arrays.toString(r.histIndexes));
        assertEquals(java.util.Arrays.toString(sum.histCounts), java.util.Arrays.toString(r.histCounts));
        assertEquals(1000, r.startMs, "the part starts at the name's first second");
      }
    }
  }

  /**
   * A part quiet for two minutes is let go after its last row; a correction for it that comes later is a row
   * of its own, and new data starts a new part: the rows still add up to every second of the series.
   */
  @Test
  void aQuietPartIsLetGoAndWhatComesLaterAddsRowsOfItsOwn() throws Exception {
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      for (int sec = 1; sec <= 5; sec++) {
        h.processElement(tagged("http_req_duration", "TREND", "cart", 200, sec * 1000L, 2, "a" + sec), sec * 1000L);
        h.processWatermark(sec * 1000L + 999);
      }
      h.processWatermark(200_000); // quiet for more than two minutes: written at 10 s, then let go
      h.processElement(tagged("http_req_duration", "TREND", "cart", 200, 3_000, 7, "late"), 3_000);
      for (int sec = 201; sec <= 203; sec++) {
        h.processElement(tagged("http_req_duration", "TREND", "cart", 200, sec * 1000L, 1, "b" + sec), sec * 1000L);
        h.processWatermark(sec * 1000L + 999);
      }
      h.processWatermark(Long.MAX_VALUE - 1);
      Map<String, SeriesBucket> run = runRows(h.extractOutputValues());
      List<String> shape = run.values().stream().map(b -> b.startMs + " " + (b.writerId.isEmpty() ? "part"
          : "correction") + " " + b.count).sorted().toList();
      assertEquals(List.of("1000 part 10", "201000 part 3", "3000 correction 7"), shape);
      long seconds = h.extractOutputValues().stream().filter(b -> b.widthMs == 1000
          && b.analysisId.endsWith("~name")).mapToLong(b -> b.count).sum();
      assertEquals(seconds, run.values().stream().mapToLong(b -> b.count).sum());
    }
  }

  /**
   * When nothing comes in between two looks (a run ended on a quiet system), the parts that changed are
   * written at once, not seconds of event time later; a part written again at the same watermark (a late
   * correction) gets a higher version, so that its latest row wins.
   */
  @Test
  void partsAreWrittenOnceTheInputGoesQuietEachVersionHigher() throws Exception {
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.setProcessingTime(0);
      h.open();
      for (int sec = 1; sec <= 3; sec++) {
        h.processElement(tagged("http_req_duration", "TREND", "cart", 200, sec * 1000L, 2, "a" + sec), sec * 1000L);
        h.processWatermark(sec * 1000L + 999);
      }
      java.util.function.Supplier<List<String>> written = () -> h.extractOutputValues().stream()
          .filter(b -> b.widthMs == BucketLadder.RUN_WIDTH_MS).map(b -> b.lastTimeUs + ":" + b.count).toList();
      assertEquals(List.of("1999:2"), written.get(), "written at the first watermark only");
      h.setProcessingTime(BucketLadder.QUIET_INPUT_CHECK_MS); // input came since the last look: nothing
      assertEquals(List.of("1999:2"), written.get());
      h.setProcessingTime(2 * BucketLadder.QUIET_INPUT_CHECK_MS); // quiet: the changed part, now
      assertEquals(List.of("1999:2", "3999:6"), written.get());
      h.setProcessingTime(3 * BucketLadder.QUIET_INPUT_CHECK_MS); // quiet, nothing changed: nothing
      assertEquals(List.of("1999:2", "3999:6"), written.get());
      h.processElement(tagged("http_req_duration", "TREND", "cart", 200, 2_000, 5, "late"), 2_000);
      h.setProcessingTime(4 * BucketLadder.QUIET_INPUT_CHECK_MS);
      h.setProcessingTime(5 * BucketLadder.QUIET_INPUT_CHECK_MS); // the same watermark, a higher version
      assertEquals(List.of("1999:2", "3999:6", "4000:11"), written.get());
      assertEquals(11, runRows(h.extractOutputValues()).values().stream().mapToLong(b -> b.count).sum());
    }
  }

  /** Open parts are in the checkpoint: a run restored mid-way writes the same last rows as one uninterrupted. */
  @Test
  void openPartsAreRestoredFromACheckpoint() throws Exception {
    List<List<SeriesBucket>> steps = steps();
    Map<String, Long> uninterrupted = new TreeMap<>();
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      feed(h, steps, 0, steps.size());
      h.processWatermark(Long.MAX_VALUE - 1);
      runRows(h.extractOutputValues()).forEach((k, b) -> uninterrupted.put(k, b.count));
    }
    List<SeriesBucket> restored = new ArrayList<>();
    OperatorSubtaskState snapshot;
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      feed(h, steps, 0, 15);
      restored.addAll(h.extractOutputValues());
      snapshot = h.snapshot(1, 1);
    }
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.initializeState(snapshot);
      h.open();
      feed(h, steps, 15, steps.size());
      h.processWatermark(Long.MAX_VALUE - 1);
      restored.addAll(h.extractOutputValues());
    }
    Map<String, Long> after = new TreeMap<>();
    runRows(restored).forEach((k, b) -> after.put(k, b.count));
    assertEquals(3, uninterrupted.size(), uninterrupted.toString());
    assertEquals(uninterrupted, after);
  }

  // ------------------------------------------------------------- a name's row standing for its one series

  /**
   * What ClickHouse holds of {@code rows} (the sink's rows: {@link dev.loadtest.flink.sink.MetricRowBinary}
   * skips a series' bucket its name's row stands for) read as the query API reads it: per "analysis series
   * width start", the count; a series' 1 s rows are its own and the by-name rows standing for it.
   */
  static Map<String, Long> read(List<SeriesBucket> rows) {
    var sink = new dev.loadtest.flink.sink.MetricRowBinary();
    Map<String, Long> out = new TreeMap<>();
    for (SeriesBucket b : rows) {
      if (sink.table(b) == dev.loadtest.flink.sink.RowBinaryRows.NO_ROW) {
        continue;
      }
      out.merge(b.analysisId + " " + b.seriesId + " " + b.widthMs + " " + b.startMs, b.count, Long::sum);
      if (b.rawSeries != 0) {
        assertEquals(1_000, b.widthMs, "only a 1 s row stands for a series: " + b);
        assertTrue(b.analysisId.endsWith("~name"), "only a by-name row stands for a series: " + b);
        out.merge(" " + b.rawSeries + " " + b.widthMs + " " + b.startMs, b.count, Long::sum);
      }
    }
    return out;
  }

  @Test
  void aNameOfOneSeriesInASecondIsStoredOnceItsRowStandingForTheSeries() throws Exception {
    List<SeriesBucket> out;
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNames(), BucketLadder.BY_NAME,
        Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      // second 1: "home" from one series (two partials), "cart" from two; a gauge
      h.processElement(tagged("http_reqs", "COUNTER", "home", 200, 1_000, 3, "a"), 1_000);
      h.processElement(tagged("http_reqs", "COUNTER", "home", 200, 1_200, 4, "b"), 1_200);
      h.processElement(tagged("http_reqs", "COUNTER", "cart", 200, 1_000, 5, "a"), 1_000);
      h.processElement(tagged("http_reqs", "COUNTER", "cart", 500, 1_000, 6, "a"), 1_000);
      h.processElement(tagged("vus", "GAUGE", "home", 0, 1_000, 2, "a"), 1_000);
      h.processWatermark(1_999);
      // second 2: "home" from two series; then a late partial of second 1 from a series "home" had not had
      h.processElement(tagged("http_reqs", "COUNTER", "home", 200, 2_000, 1, "c"), 2_000);
      h.processElement(tagged("http_reqs", "COUNTER", "home", 404, 2_000, 2, "c"), 2_000);
      h.processWatermark(2_999);
      h.processElement(tagged("http_reqs", "COUNTER", "home", 404, 1_000, 7, "late"), 1_000);
      h.processWatermark(70_000);
      out = h.extractOutputValues();
    }
    long home200 = tagged("http_reqs", "COUNTER", "home", 200, 0, 0, "").seriesId;
    long home404 = tagged("http_reqs", "COUNTER", "home", 404, 0, 0, "").seriesId;
    long cart200 = tagged("http_reqs", "COUNTER", "cart", 200, 0, 0, "").seriesId;
    // every series' 1 s bucket still goes out (to publishing and a replay's thresholds), marked when stood for
    List<SeriesBucket> seriesSeconds = out.stream().filter(AggregateJob::seriesSecond).toList();
    assertEquals(7, seriesSeconds.size(), seriesSeconds.toString());
    assertEquals(Set.of(home200 + " 1000", home404 + " 1000 late"), seriesSeconds.stream().filter(b -> b.inNameRow)
        .map(b -> b.seriesId + " " + b.startMs + (b.writerId.isEmpty() ? "" : " late")).collect(
            java.util.stream.Collectors.toSet()), "home alone in second 1, and the correction; not cart's two");
    assertTrue(seriesSeconds.stream().filter(b -> b.seriesId == cart200).noneMatch(b -> b.inNameRow));
    assertTrue(out.stream().filter(b -> b.type.equals("GAUGE")).noneMatch(b -> b.inNameRow || b.rawSeries != 0));
    // read back, every series' second and every by-name second holds what it would without the sharing
    Map<String, Long> read = read(out);
    assertEquals(7, read.get(" " + home200 + " 1000 1000"), "home's one series in second 1, from its name's row");
    assertEquals(7, read.get(" " + home404 + " 1000 1000"), "the late series, from its name's correction row");
    assertEquals(1, read.get(" " + home200 + " 1000 2000"));
    assertEquals(2, read.get(" " + home404 + " 1000 2000"));
    assertEquals(5, read.get(" " + cart200 + " 1000 1000"));
    assertEquals(2, read.get(" " + tagged("vus", "GAUGE", "home", 0, 0, 0, "").seriesId + " 1000 1000"));
    Map<String, Long> byName = new TreeMap<>();
    read.forEach((k, v) -> {
      if (k.startsWith("~name ") && k.contains(" 1000 ")) {
        byName.merge(k.substring(k.lastIndexOf(' ') + 1), v, Long::sum);
      }
    });
    assertEquals(Map.of("1000", 3L + 4 + 7 + 5 + 6, "2000", 3L), byName, "the by-name seconds, correction included");
    long seriesRows = out.stream().filter(b -> new dev.loadtest.flink.sink.MetricRowBinary().table(b) == 0
        && !b.analysisId.contains("~")).count();
    assertEquals(7 - 2, seriesRows, "the two series' seconds stood for are not written twice");
    // the rollups are each series' own: every request of home 200 in its 10 s row
    assertEquals(3 + 4 + 1, read.get(" " + home200 + " 10000 0"));
  }

  /** A trend partial of {@code name} and {@code status} with a histogram of a few buckets. */
  static SeriesBucket trend(String name, int status, long startMs, long count, String writer) {
    SeriesBucket b = tagged("http_req_duration", "TREND", name, status, startMs, count, writer);
    b.histIndexes = new int[] {100 + (int) (startMs / 1000 % 5), 130 + status % 7};
    b.histCounts = new long[] {count - count / 2, count / 2};
    b.min = 9 + startMs / 1000 % 3;
    b.max = 40 + status % 7;
    b.sum = count * 20.0 + startMs / 1000;
    return b;
  }

  /** Every row as the tables keep it (whole-run rows in their last version), one string each, sorted. */
  static List<String> exactRows(List<SeriesBucket> rows) {
    List<String> out = new ArrayList<>();
    for (SeriesBucket b : lastVersions(rows)) {
      out.add(b.seriesId + " " + b.analysisId + " " + b.widthMs + " " + b.startMs + " " + b.writerId + " " + b.count
          + " " + b.sum + " " + b.min + " " + b.max + " " + java.util.Arrays.toString(b.histIndexes) + " "
          + java.util.Arrays.toString(b.histCounts) + " " + b.nonZero + (b.widthMs == 1000 ? " " + b.inNameRow : ""));
    }
    java.util.Collections.sort(out);
    return out;
  }

  @Test
  void aNameOfOneSeriesKeepsItsRollupsInACheckpointAsAReferenceToTheSeriesAndRestoresThemExactly() throws Exception {
    // "solo": one series every second, late partials too; "switch": one series, then another (its 10 s bucket
    // made of two series, each alone in its seconds); "pair": two series every second.
    List<List<SeriesBucket>> steps = new ArrayList<>();
    for (int sec = 1; sec <= 25; sec++) {
      List<SeriesBucket> step = new ArrayList<>();
      step.add(trend("solo", 200, sec * 1000L, 3 + sec % 4, "a" + sec));
      step.add(tagged("http_reqs", "COUNTER", "solo", 200, sec * 1000L, 3 + sec % 4, "a" + sec));
      if (sec % 3 == 0) { // into a closed second whose 10 s bucket is open, and into one long closed
        step.add(trend("solo", 200, (sec - 2) * 1000L, 2, "late" + sec));
        step.add(trend("solo", 200, (sec - 12) * 1000L, 1, "later" + sec));
      }
      step.add(trend("switch", sec <= 13 ? 200 : 500, sec * 1000L, 4, "a" + sec));
      step.add(trend("pair", 200, sec * 1000L, 2, "a" + sec));
      step.add(trend("pair", 404, sec * 1000L, 5, "a" + sec));
      steps.add(step);
    }
    List<SeriesBucket> uninterrupted;
    try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
        BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
      h.open();
      feed(h, steps, 0, steps.size());
      h.processWatermark(Long.MAX_VALUE - 1);
      uninterrupted = new ArrayList<>(h.extractOutputValues());
    }
    List<SeriesBucket> restored = new ArrayList<>();
    OperatorSubtaskState snapshot = null;
    int[] cuts = {0, 6, 15, steps.size()}; // restored mid-way through a 10 s bucket, twice
    int references = 0;
    for (int c = 0; c + 1 < cuts.length; c++) {
      try (var h = new KeyedOneInputStreamOperatorTestHarness<>(BucketLadder.seriesAndNamesWithTotals(false),
          BucketLadder.BY_NAME, Types.LONG, MAX_PARALLELISM, 1, 0)) {
        if (snapshot != null) {
          h.initializeState(snapshot);
        }
        h.open();
        feed(h, steps, cuts[c], cuts[c + 1]);
        if (c + 2 < cuts.length) {
          snapshot = h.snapshot(c + 1, c + 1);
          references += ((BucketLadder) h.getOperator()).referencesInLastCheckpoint;
        } else {
          h.processWatermark(Long.MAX_VALUE - 1);
        }
        restored.addAll(h.extractOutputValues());
      }
    }
    // At the first cut (a 1 min bucket opens when its first 10 s bucket closes): solo's 10 s buckets of both
    // metrics and switch's, made of one series so far (3); at the second: solo's 10 s and 1 min buckets (4)
    // and switch's 1 min bucket, which holds one series' seconds so far (1); pair's never.
    assertEquals(3 + 4 + 1, references, "the by-name rollups of one series kept as references");
    assertEquals(exactRows(uninterrupted), exactRows(restored));
  }
}
