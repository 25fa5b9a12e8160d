package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.HttpMetric;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.SampleBatches;
import dev.loadtest.schemas.series.SeriesId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchPreAggregatorTest {
  /** Reference: every sample on its own, no grouping tricks. */
  private record Key(long seriesId, long startMs) {}

  private static final class Naive {
    long count;
    double sum;
    long nonZero;
    final SingleWriterHistogram histogram = new SingleWriterHistogram();
  }

  private static Map<Key, Naive> naive(List<SampleBatch> batches) {
    Map<Key, Naive> out = new HashMap<>();
    for (SampleBatch b : batches) {
      SampleBatch.HttpRequests q = b.requests();
      for (int i = 0; i < q.size(); i++) {
        long startMs = Math.floorDiv(b.baseTimeUs() + q.offsetUs()[i], 1_000_000L) * 1000;
        for (HttpMetric m : HttpMetric.values()) {
          Map<String, String> tags = tagMap(b.tags(q.tagSet()[i]));
          if (!b.loadZone().isEmpty()) {
            tags.putIfAbsent("load_zone", b.loadZone()); // every series is tagged with its zone
          }
          long id = SeriesId.of(b.testRunId(), m.metric(), tags);
          Naive n = out.computeIfAbsent(new Key(id, startMs), k -> new Naive());
          long v = m.value(q, i);
          n.count++;
          n.sum += v;
          n.nonZero += v != 0 ? 1 : 0;
          if (m.type() == MetricType.TREND) {
            n.histogram.record(v);
          }
        }
      }
    }
    return out;
  }

  private static Map<String, String> tagMap(String[] kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Map<Key, SeriesBucket> mergeByKey(List<SeriesBucket> buckets) {
    Map<Key, SeriesBucket> out = new HashMap<>();
    for (SeriesBucket b : buckets) {
      out.merge(new Key(b.seriesId, b.startMs), b, SeriesBucket::merge);
    }
    return out;
  }

  @Test
  void requestBucketsEqualPerSampleAggregation() {
    SampleBatch batch = SampleBatches.checkout(8_000, 21);
    List<SeriesBucket> buckets = new BatchPreAggregator().aggregate(batch);
    Map<Key, Naive> expected = naive(List.of(batch));
    Map<Key, SeriesBucket> actual = mergeByKey(buckets.stream().filter(b -> isHttp(b.metric)).toList());
    assertEquals(expected.keySet(), actual.keySet());
    assertEquals(buckets.stream().filter(b -> isHttp(b.metric)).count(), actual.size(), "one bucket per (series, second)");
    expected.forEach((k, n) -> {
      SeriesBucket b = actual.get(k);
      assertEquals(n.count, b.count, b.toString());
      assertEquals(n.sum, b.sum, b.toString());
      if (b.metricType() == MetricType.TREND) {
        assertEquals(n.histogram.snapshot(), b.histogram(), b.toString());
      }
      if (b.metricType() == MetricType.RATE) {
        assertEquals(n.nonZero, b.nonZero, b.toString());
      }
    });
    long requests = buckets.stream().filter(b -> b.metric.equals("http_reqs")).mapToLong(b -> b.count).sum();
    assertEquals(8_000, requests);
    assertTrue(buckets.size() < 8_000 / 4, "pre-aggregation shrinks samples to series: " + buckets.size() + " buckets");
  }

  @Test
  void bucketsOfThreeGeneratorsMergeToTheWholeAndKeepExactPercentiles() {
    List<SampleBatch> batches = new ArrayList<>();
    for (int g = 0; g < 3; g++) {
      SampleBatch b = SampleBatches.checkout(3_000, 40 + g);
      // Same run and time base for all generators, as in one distributed test.
      batches.add(new SampleBatch("run-shared", "gen-" + g, "zone-" + g, b.sequence(), 1_760_000_000_000_000L,
          b.strings(), b.tagSets(), b.metrics(), b.requests(), b.points()));
    }
    BatchPreAggregator agg = new BatchPreAggregator();
    List<SeriesBucket> all = new ArrayList<>();
    for (SampleBatch b : batches) {
      all.addAll(agg.aggregate(b));
    }
    Map<Key, SeriesBucket> merged = mergeByKey(all.stream().filter(b -> isHttp(b.metric)).toList());
    Map<Key, Naive> expected = naive(batches);
    assertEquals(expected.keySet(), merged.keySet());
    expected.forEach((k, n) -> {
      SeriesBucket b = merged.get(k);
      assertEquals(n.count, b.count);
      if (b.metricType() == MetricType.TREND) {
        SparseHistogram h = b.histogram();
        assertEquals(n.histogram.snapshot(), h);
        assertEquals(n.histogram.snapshot().percentile(99), h.percentile(99));
      }
    });
  }

  @Test
  void batchesAddIntoCarriedBucketsUntilTheWatermarkPassesTheirSecond() {
    List<SampleBatch> batches = new ArrayList<>();
    for (int g = 0; g < 3; g++) {
      SampleBatch b = SampleBatches.checkout(3_000, 40 + g);
      batches.add(new SampleBatch("run-carried", "gen-" + g, "zone-" + g, b.sequence(), 1_760_000_000_000_000L,
          b.strings(), b.tagSets(), b.metrics(), b.requests(), b.points()));
    }
    BatchPreAggregator agg = new BatchPreAggregator("a1", Long.MIN_VALUE, Long.MAX_VALUE);
    long latest = Long.MIN_VALUE;
    for (SampleBatch b : batches) {
      latest = Math.max(latest, agg.add(b, Long.MIN_VALUE, "late:" + b.generatorId(), x -> {
        throw new AssertionError("nothing is late before any watermark");
      }));
    }
    assertEquals(0, agg.carriedLate(), "nothing is late before any watermark");
    Map<Key, Naive> expected = naive(batches);
    long httpBuckets = expected.size();
    assertTrue(agg.carried() >= httpBuckets, "one carried bucket per series and second, whatever the batches: "
        + agg.carried());
    long firstSecondMs = expected.keySet().stream().mapToLong(Key::startMs).min().orElseThrow();
    List<SeriesBucket> first = new ArrayList<>();
    agg.drain(firstSecondMs + 998, first::add);
    assertTrue(first.isEmpty(), "a second is handed over only once the watermark has passed its end");
    agg.drain(firstSecondMs + 999, first::add);
    assertTrue(!first.isEmpty() && first.stream().allMatch(b -> b.startMs == firstSecondMs), "the first second only");
    List<SeriesBucket> rest = new ArrayList<>();
    agg.drain(Long.MAX_VALUE, rest::add);
    assertEquals(0, agg.carried());
    first.addAll(rest);
    Map<Key, SeriesBucket> byKey = new HashMap<>();
    for (SeriesBucket b : first.stream().filter(b -> isHttp(b.metric)).toList()) {
      assertEquals(null, byKey.put(new Key(b.seriesId, b.startMs), b), "each series and second once: " + b);
      assertEquals("a1", b.analysisId);
    }
    assertEquals(expected.keySet(), byKey.keySet());
    expected.forEach((k, n) -> {
      assertEquals(n.count, byKey.get(k).count);
      if (byKey.get(k).metricType() == MetricType.TREND) {
        assertEquals(n.histogram.snapshot(), byKey.get(k).histogram(), "the same histogram as sample by sample");
      }
    });
    assertEquals(latest, expected.keySet().stream().mapToLong(Key::startMs).max().orElseThrow());

    // A batch a little late: its own buckets at once, named after it (downstream mostly still in time).
    int perBatch = new BatchPreAggregator().aggregate(batches.get(0)).size();
    long lastEnd = expected.keySet().stream().mapToLong(Key::startMs).max().orElseThrow() + 999;
    long watermark = lastEnd + BatchPreAggregator.HOLD_AFTER_MS - 1;
    List<SeriesBucket> own = new ArrayList<>();
    agg.add(batches.get(0), watermark, "late:gen-0/0", own::add);
    assertTrue(!own.isEmpty() && own.stream().allMatch(b -> b.writerId.equals("late:gen-0/0")
        && b.startMs + 999 + BatchPreAggregator.HOLD_AFTER_MS > watermark), "the seconds just passed, at once");
    assertEquals(perBatch, own.size() + agg.carriedLate(), "the seconds long passed are held");
    agg.drainLate("merged:0/6", x -> {});
    assertEquals(0, agg.carried());
    // Batches long past: late buckets, one per series and second whatever the batches, handed over together
    // under the caller's writer id (once per checkpoint).
    agg.add(batches.get(0), Long.MAX_VALUE - 1, "late:gen-0/1", x -> fail("held, not handed over"));
    agg.add(batches.get(0), Long.MAX_VALUE - 1, "late:gen-0/2", x -> fail("held, not handed over"));
    assertEquals(perBatch, agg.carriedLate(), "two late batches of the same series and seconds: one bucket each");
    List<SeriesBucket> again = new ArrayList<>();
    agg.drain(Long.MAX_VALUE, again::add);
    assertTrue(again.isEmpty(), "late buckets wait for their own hand-over");
    agg.drainLate("merged:0/7", again::add);
    assertEquals(0, agg.carried());
    assertEquals(perBatch, again.size());
    assertTrue(again.stream().allMatch(b -> b.writerId.equals("merged:0/7")), "named by the hand-over");
    Map<Key, SeriesBucket> once = mergeByKey(new BatchPreAggregator().aggregate(batches.get(0)));
    for (SeriesBucket b : again) {
      assertEquals(2 * once.get(new Key(b.seriesId, b.startMs)).count, b.count, "both batches' samples, merged");
    }
  }

  @Test
  void aTimeRangeKeepsTheSamplesOfItsSeconds() {
    SampleBatch b = SampleBatches.checkout(3_000, 7);
    List<SeriesBucket> all = new BatchPreAggregator().aggregate(b);
    long firstMs = all.stream().mapToLong(x -> x.startMs).min().orElseThrow();
    long lastMs = all.stream().mapToLong(x -> x.startMs).max().orElseThrow();
    assertTrue(lastMs > firstMs, "the fixture spans seconds");
    List<SeriesBucket> cut = new ArrayList<>();
    BatchPreAggregator ranged = new BatchPreAggregator("r", firstMs + 1, lastMs);
    ranged.add(b, Long.MIN_VALUE, "", cut::add);
    ranged.drain(Long.MAX_VALUE, cut::add);
    assertTrue(!cut.isEmpty() && cut.stream().allMatch(x -> x.startMs > firstMs && x.startMs < lastMs), "from is rounded up to a"
        + " whole second, to excludes its second");
    assertEquals(all.stream().filter(x -> x.startMs > firstMs && x.startMs < lastMs).mapToLong(x -> x.count).sum(),
        cut.stream().mapToLong(x -> x.count).sum());
  }

  @Test
  void metricPointsBecomeBucketsOfTheirType() {
    SampleBatchBuilder b = new SampleBatchBuilder("run-p", "g", "z", 0, 5_000_000L);
    int checks = b.metric("checks", MetricType.RATE);
    int iterations = b.metric("iterations", MetricType.COUNTER);
    int duration = b.metric("iteration_duration", MetricType.TREND);
    int vus = b.metric("vus", MetricType.GAUGE);
    int ts = b.tagSet("scenario", "shop");
    b.addPoint(checks, 5_100_000, ts, 1).addPoint(checks, 5_200_000, ts, 0).addPoint(checks, 5_300_000, ts, 1);
    b.addPoint(iterations, 5_100_000, ts, 1).addPoint(iterations, 5_900_000, ts, 1);
    b.addPoint(duration, 5_100_000, ts, 1234.5).addPoint(duration, 5_900_000, ts, 0.25);
    b.addPoint(vus, 5_900_000, ts, 20).addPoint(vus, 5_100_000, ts, 10).addPoint(vus, 6_100_000, ts, 30);
    Map<String, List<SeriesBucket>> byMetric = new HashMap<>();
    for (SeriesBucket sb : new BatchPreAggregator().aggregate(b.build())) {
      byMetric.computeIfAbsent(sb.metric, k -> new ArrayList<>()).add(sb);
    }
    SeriesBucket c = byMetric.get("checks").get(0);
    assertEquals(3, c.count);
    assertEquals(2, c.nonZero);
    assertEquals(2.0, byMetric.get("iterations").get(0).sum);
    SeriesBucket d = byMetric.get("iteration_duration").get(0);
    assertEquals(250, d.min, "trends are kept in thousandths of their unit (0.25 ms = 250 us)");
    assertEquals(1_234_500, d.max);
    assertEquals(2, d.histogram().count());
    List<SeriesBucket> gauge = byMetric.get("vus");
    assertEquals(2, gauge.size(), "two seconds");
    SeriesBucket first = gauge.stream().filter(x -> x.startMs == 5_000).findFirst().orElseThrow();
    assertEquals(20, first.last, "the gauge's last value is the latest in time, not in arrival order");
    assertEquals(10, first.min);
    assertEquals(SeriesId.of("run-p", "vus", Map.of("load_zone", "z", "scenario", "shop")), first.seriesId,
        "every series has its batch's load zone as a tag");
    assertArrayEquals(new String[] {"load_zone", "scenario"}, first.tagKeys);
  }

  /**
   * Every series is tagged with its batch's load zone (as k6 Cloud tags its metrics), so that results can be
   * filtered and judged by zone; a sample with a load_zone of its own keeps it, and an empty zone adds none.
   */
  @Test
  void seriesAreTaggedWithTheirLoadZoneUnlessTheyHaveOne() {
    SampleBatchBuilder b = new SampleBatchBuilder("run-z", "g", "amazon:us:ashburn", 0, 5_000_000L);
    int own = b.tagSet("load_zone", "amazon:de:frankfurt", "name", "home");
    int plain = b.tagSet("group", "::checkout", "name", "cart", "status", "200");
    b.addRequest(5_100_000, own, 1_000, 0, 0, 0, 0, 900, 100, 10, 1000, false, 1);
    b.addRequest(5_200_000, plain, 2_000, 0, 0, 0, 0, 1900, 100, 10, 1000, false, 1);
    Map<String, String> zones = new java.util.TreeMap<>();
    for (SeriesBucket sb : new BatchPreAggregator().aggregate(b.build())) {
      if (sb.metric.equals("http_reqs")) {
        Map<String, String> tags = new java.util.TreeMap<>();
        for (int i = 0; i < sb.tagKeys.length; i++) {
          tags.put(sb.tagKeys[i], sb.tagValues[i]);
        }
        assertEquals(SeriesId.of("run-z", "http_reqs", tags), sb.seriesId);
        assertArrayEquals(tags.keySet().toArray(String[]::new), sb.tagKeys, "keys stay sorted");
        zones.put(tags.get("name"), tags.get("load_zone"));
      }
    }
    assertEquals(Map.of("home", "amazon:de:frankfurt", "cart", "amazon:us:ashburn"), zones);
    SampleBatchBuilder none = new SampleBatchBuilder("run-z", "g", "", 1, 5_000_000L);
    none.addRequest(5_100_000, none.tagSet("name", "home"), 1_000, 0, 0, 0, 0, 900, 100, 10, 1000, false, 1);
    for (SeriesBucket sb : new BatchPreAggregator().aggregate(none.build())) {
      assertArrayEquals(new String[] {"name"}, sb.tagKeys, sb.metric + ": no zone, no tag");
    }
  }

  @Test
  void bucketsKeepExactHistogramsBelowAtAndAboveTheValuesTheyKeepBeforeGoingDense() {
    int d = BatchPreAggregator.DENSE_AFTER;
    for (int requests : new int[] {1, 7, d - 1, d, d + 1, 3 * d + 5}) {
      java.util.SplittableRandom r = new java.util.SplittableRandom(requests);
      SampleBatchBuilder b = new SampleBatchBuilder("run-d", "g", "z", 1, 1_760_000_000_000_000L);
      int ts = b.tagSet("name", "one");
      for (int i = 0; i < requests; i++) {
        long waiting = r.nextLong(1, 5_000_000); // up to 5 s: indexes well past the linear range
        b.addRequest(1_760_000_000_000_000L + i, ts, waiting + 10, 0, 0, 0, 5, waiting, 5, 10, 10, false, 1);
      }
      SampleBatch batch = b.build();
      BatchPreAggregator agg = new BatchPreAggregator();
      // Twice through one aggregator: buckets that went dense leave nothing behind for the next.
      for (int round = 0; round < 2; round++) {
        Map<Key, SeriesBucket> actual = mergeByKey(agg.aggregate(batch));
        naive(List.of(batch)).forEach((k, n) -> {
          SeriesBucket got = actual.get(k);
          assertEquals(n.count, got.count, requests + " requests: " + got);
          if (got.metricType() == MetricType.TREND) {
            assertEquals(n.histogram.snapshot(), got.histogram(), requests + " requests: " + got);
          }
        });
      }
    }
  }

  @Test
  void reusedHistogramsCarryNothingFromOneBatchToTheNext() {
    BatchPreAggregator agg = new BatchPreAggregator();
    SampleBatch batch = SampleBatches.checkout(2_000, 77);
    List<SeriesBucket> first = agg.aggregate(batch);
    agg.aggregate(SampleBatches.checkout(2_000, 78));
    assertEquals(first, agg.aggregate(batch));
  }

  @Test
  void aBatchWithAnAbsurdTimeIsRefusedWithAReason() {
    SampleBatchBuilder b = new SampleBatchBuilder("run-x", "g", "z", 3, 0);
    int ts = b.tagSet("name", "x");
    b.addRequest(Long.MAX_VALUE / 2, ts, 1, 0, 0, 0, 0, 1, 0, 1, 1, false, 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new BatchPreAggregator().aggregate(b.build()));
    assertTrue(e.getMessage().contains("from the batch's base time"), e.getMessage());
  }

  @Test
  void bucketsOfDifferentSeriesDoNotMerge() {
    List<SeriesBucket> buckets = new BatchPreAggregator().aggregate(SampleBatches.checkout(100, 5));
    SeriesBucket a = buckets.get(0);
    SeriesBucket other = buckets.stream().filter(b -> b.seriesId != a.seriesId).findFirst().orElseThrow();
    assertThrows(IllegalArgumentException.class, () -> a.merge(other));
  }

  private static boolean isHttp(String metric) {
    for (HttpMetric m : HttpMetric.values()) {
      if (m.metric().equals(metric)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void gaugeBucketsOfSeveralGeneratorsMergeToEachGeneratorsLatestValueAndSum() {
    List<SeriesBucket> parts = new java.util.ArrayList<>();
    for (int g = 0; g < 3; g++) {
      for (int half = 0; half < 2; half++) { // each generator's second split over two batches
        SampleBatchBuilder b = new SampleBatchBuilder("run-g", "gen-" + g, "z", half, 5_000_000);
        int vus = b.metric("vus", MetricType.GAUGE);
        b.addPoint(vus, 5_000_000 + half * 500_000 + 100, b.tagSet(), half == 0 ? 7 : 2 + g);
        parts.addAll(new BatchPreAggregator().aggregate(b.build()));
      }
    }
    java.util.Collections.reverse(parts); // arrival order must not matter: time decides
    SeriesBucket merged = parts.get(0).copy();
    parts.subList(1, parts.size()).forEach(merged::merge);
    merged.sumGauges();
    assertEquals(2 + 3 + 4, merged.last, "each generator's latest value, summed");
    assertEquals(9, merged.min);
    assertEquals(9, merged.max);
    assertEquals(null, merged.gaugeWriters, "summed: the per-generator values are dropped");
    assertEquals(9, merged.copy().sumGauges().last, "summing again changes nothing");
  }
}
