package dev.loadtest.schemas.histogram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class SparseHistogramTest {
  private static final double[] PERCENTILES = {1, 10, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

  @Test
  void percentilesFromBucketsAreWithinOneIn128OfExactValues() {
    long[] values = latencies(200_000, 7);
    SparseHistogram s = histogramOf(values);
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    for (double p : PERCENTILES) {
      long exact = sorted[exactRank(p, sorted.length) - 1];
      double fromBuckets = s.percentile(p);
      assertTrue(fromBuckets >= exact, "p(" + p + ") " + fromBuckets + " is below exact " + exact);
      assertTrue(fromBuckets - exact <= exact / 128.0, "p(" + p + ") " + fromBuckets + " vs exact " + exact);
    }
    assertEquals(sorted[0], s.min());
    assertEquals(sorted[sorted.length - 1], s.max());
    assertEquals(Arrays.stream(values).sum(), s.sum());
    assertEquals(values.length, s.count());
  }

  @Test
  void k6PercentilesAreWithinOneIn128OfK6sInterpolationOverTheRawSamples() {
    for (int n : new int[] {1, 2, 3, 10, 1_000, 200_000}) {
      long[] values = latencies(n, 5 + n);
      SparseHistogram s = histogramOf(values);
      long[] sorted = values.clone();
      Arrays.sort(sorted);
      for (double p : new double[] {0, 1, 10, 50, 75, 90, 95, 99, 99.9, 100}) {
        // k6: rank p * (n - 1), linear between the samples around it
        double rank = p / 100 * (n - 1);
        int lo = (int) Math.floor(rank);
        double exact = sorted[lo] + (sorted[Math.min(lo + 1, n - 1)] - sorted[lo]) * (rank - lo);
        double got = s.percentile(p, PercentileMethod.K6);
        assertEquals(exact, got, exact / 128.0, "p(" + p + ") of " + n + " samples");
      }
      assertEquals(sorted[0], s.percentile(0, PercentileMethod.K6), "p(0) is the exact min");
      assertEquals(sorted[n - 1], s.percentile(100, PercentileMethod.K6), "p(100) is the exact max");
    }
    assertTrue(Double.isNaN(SparseHistogram.EMPTY.percentile(50, PercentileMethod.K6)));
    assertEquals(PercentileMethod.K6, PercentileMethod.parse(" K6 "));
    assertEquals(PercentileMethod.NEAREST_RANK, PercentileMethod.parse("nearest-rank"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PercentileMethod.parse("p95"));
    assertTrue(e.getMessage().contains("nearest-rank, k6"), e.getMessage());
  }

  @Test
  void percentilesEqualHdrHistogramsClampedToTheRecordedRange() {
    long[] values = latencies(50_000, 11);
    SingleWriterHistogram ours = new SingleWriterHistogram();
    Histogram hdr = new Histogram(1, 3_600_000_000L, 2);
    for (long v : values) {
      ours.record(v);
      hdr.recordValue(v);
    }
    SparseHistogram s = ours.snapshot();
    long trueMin = Arrays.stream(values).min().orElseThrow();
    long trueMax = Arrays.stream(values).max().orElseThrow();
    for (double p : PERCENTILES) {
      // HdrHistogram reports bucket bounds; ours also knows the exact min and max and clamps to them.
      double expected = Math.min(trueMax, Math.max(trueMin, hdr.getValueAtPercentile(p)));
      assertEquals(expected, s.percentile(p), "p(" + p + ")");
    }
  }

  @Test
  void mergingPartsGivesTheHistogramOfTheWhole() {
    long[] values = latencies(30_000, 3);
    SingleWriterHistogram whole = new SingleWriterHistogram();
    SingleWriterHistogram[] parts = {new SingleWriterHistogram(), new SingleWriterHistogram(), new SingleWriterHistogram()};
    for (int i = 0; i < values.length; i++) {
      whole.record(values[i]);
      parts[i % 3].record(values[i] * (i % 3 + 1) / (i % 3 + 1));
    }
    SparseHistogram merged = parts[0].snapshot().merge(parts[1].snapshot()).merge(parts[2].snapshot());
    assertEquals(whole.snapshot(), merged);
    assertEquals(merged, parts[2].snapshot().merge(parts[0].snapshot()).merge(parts[1].snapshot()), "merge is commutative");
    assertEquals(whole.snapshot().percentile(99), merged.percentile(99));
  }

  @Test
  void emptyHistogramHasNoPercentileAndMergesAsIdentity() {
    assertTrue(Double.isNaN(SparseHistogram.EMPTY.percentile(95)));
    assertTrue(Double.isNaN(SparseHistogram.EMPTY.mean()));
    SingleWriterHistogram h = new SingleWriterHistogram();
    h.record(1234);
    assertEquals(h.snapshot(), SparseHistogram.EMPTY.merge(h.snapshot()));
    assertEquals(h.snapshot(), h.snapshot().merge(SparseHistogram.EMPTY));
  }

  @Test
  void snapshotIsACopyAndResetForgetsEverything() {
    SingleWriterHistogram h = new SingleWriterHistogram();
    h.record(100);
    h.record(5_000_000);
    SparseHistogram before = h.snapshot();
    h.record(7);
    assertEquals(2, before.count(), "a snapshot does not see later records");
    h.reset();
    assertEquals(SparseHistogram.EMPTY, h.snapshot());
    h.record(9);
    assertEquals(1, h.snapshot().count());
    assertEquals(9, h.snapshot().min());
  }

  @Test
  void storedPartsAreCheckedWhenRebuilt() {
    SparseHistogram ok = SparseHistogram.of(new int[] {3, 300}, new long[] {2, 1}, 1000, 3, 600);
    assertEquals(3, ok.count());
    assertThrows(IllegalArgumentException.class, () -> SparseHistogram.of(new int[] {5, 3}, new long[] {1, 1}, 8, 3, 5));
    assertThrows(IllegalArgumentException.class, () -> SparseHistogram.of(new int[] {5}, new long[] {0}, 0, 5, 5));
    assertThrows(IllegalArgumentException.class, () -> SparseHistogram.of(new int[] {5}, new long[] {1, 2}, 5, 5, 5));
    assertThrows(IllegalArgumentException.class,
        () -> SparseHistogram.of(new int[] {HistogramLayout.MIN_INDEX - 1}, new long[] {1}, 5, 5, 5));
    assertEquals(-15, SparseHistogram.of(new int[] {-20, -10}, new long[] {1, 1}, -30, -20, -10).mean());
  }

  @Test
  void negativeValuesKeepMinMaxSumAndAvgExactAndPercentilesWithinTheBoundOnBothSides() {
    // the case: a k6 Trend of -10 and -20 reads min -20, max -10, avg -15.
    SparseHistogram k6 = histogramOf(new long[] {-10, -20});
    assertEquals(-20, k6.min());
    assertEquals(-10, k6.max());
    assertEquals(-15.0, k6.mean());
    assertEquals(-30, k6.sum());
    assertEquals(-15.0, k6.percentile(50, PercentileMethod.K6), "k6's med of -10 and -20");
    java.util.Random rnd = new java.util.Random(17);
    long[] values = new long[100_000];
    for (int i = 0; i < values.length; i++) {
      // a user Trend around zero: gains and losses over several decades, some exact zeros
      values[i] = i % 50 == 0 ? 0 : (long) ((rnd.nextBoolean() ? 1 : -1) * Math.exp(rnd.nextDouble() * 20));
    }
    SparseHistogram s = histogramOf(values);
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    assertEquals(sorted[0], s.min());
    assertEquals(sorted[sorted.length - 1], s.max());
    assertEquals(Arrays.stream(values).sum(), s.sum());
    for (double p : new double[] {0.1, 1, 10, 25, 40, 49, 50, 51, 60, 75, 90, 95, 99, 99.9}) {
      long exact = sorted[exactRank(p, sorted.length) - 1];
      double got = s.percentile(p);
      assertTrue(got >= exact && got - exact <= Math.abs(exact) / 128.0, "p(" + p + ") " + got + " vs exact " + exact);
      double rank = p / 100 * (sorted.length - 1);
      int lo = (int) Math.floor(rank);
      double k6Exact = sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (rank - lo);
      assertEquals(k6Exact, s.percentile(p, PercentileMethod.K6),
          Math.max(Math.abs(sorted[lo]), Math.abs(sorted[lo + 1])) / 128.0 + 1e-9, "k6 p(" + p + ")");
    }
    // indexes ascend with the values, and parts merge into the whole
    int[] idx = s.indexes();
    for (int i = 1; i < idx.length; i++) {
      assertTrue(HistogramLayout.upperBound(idx[i - 1]) < HistogramLayout.lowerBound(idx[i]));
    }
    SparseHistogram merged = histogramOf(Arrays.copyOfRange(values, 0, 40_000))
        .merge(histogramOf(Arrays.copyOfRange(values, 40_000, values.length)));
    assertEquals(s, merged);
    assertEquals(s, SparseHistogram.of(s.indexes(), s.counts(), s.sum(), s.min(), s.max()), "stored parts rebuild");
  }

  @Test
  void aRecorderReusedAcrossBothSidesOfZeroForgetsEverything() {
    SingleWriterHistogram h = new SingleWriterHistogram();
    h.record(-5_000_000);
    h.record(-3);
    h.record(12);
    assertEquals(3, h.snapshot().count());
    h.reset();
    h.record(-7);
    SparseHistogram only = h.snapshot();
    assertEquals(1, only.count());
    assertEquals(1, only.bucketCount());
    assertEquals(-7, only.indexAt(0));
    h.reset();
    h.record(-1.5);
    assertEquals(-1, h.snapshot().min(), "-1.5 rounds up to -1");
    h.record(Long.MIN_VALUE);
    assertEquals(-Long.MAX_VALUE, h.snapshot().min());
  }

  /** Nearest rank, ceil(p/100 * n), in decimal arithmetic (no binary rounding). */
  private static int exactRank(double p, int n) {
    return Math.max(1, new java.math.BigDecimal(Double.toString(p)).multiply(java.math.BigDecimal.valueOf(n))
        .divide(java.math.BigDecimal.valueOf(100)).setScale(0, java.math.RoundingMode.CEILING).intValueExact());
  }

  private static SparseHistogram histogramOf(long[] values) {
    SingleWriterHistogram h = new SingleWriterHistogram();
    for (long v : values) {
      h.record(v);
    }
    return h.snapshot();
  }

  private static long[] latencies(int n, long seed) {
    return Latencies.logNormal(n, seed);
  }
}
