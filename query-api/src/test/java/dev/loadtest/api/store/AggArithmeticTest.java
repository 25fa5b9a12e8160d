package dev.loadtest.api.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.histogram.HistogramLayout;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.metrics.MetricType;
import org.junit.jupiter.api.Test;

/** Adding and subtracting merged aggregates: how the "other" series of a ranked panel is made. */
class AggArithmeticTest {
  static Agg of(long... valuesUs) {
    long[] counts = new long[HistogramLayout.MAX_INDEX + 1];
    double sum = 0;
    double min = Double.MAX_VALUE;
    double max = -Double.MAX_VALUE;
    for (long v : valuesUs) {
      counts[HistogramLayout.bucketIndex(v)]++;
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    int n = 0;
    for (long c : counts) {
      n += c > 0 ? 1 : 0;
    }
    int[] idx = new int[n];
    long[] cnt = new long[n];
    for (int i = 0, k = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        idx[k] = i;
        cnt[k++] = counts[i];
      }
    }
    return new Agg(valuesUs.length, sum, min, max, valuesUs.length / 2, Double.NaN, idx, cnt);
  }

  @Test
  void theWholeMinusAPartIsTheRestExactlyButForMinAndMaxWhichComeFromTheHistogram() {
    Agg fast = of(1_000, 2_000, 3_000, 4_000);
    Agg slow = of(200_000, 250_000, 300_000);
    Agg whole = fast.plus(slow);
    assertEquals(7, whole.count());
    assertEquals(1_000, whole.min());
    assertEquals(300_000, whole.max());

    Agg rest = whole.minus(fast);
    assertEquals(slow.count(), rest.count());
    assertEquals(slow.sum(), rest.sum(), 1e-9);
    assertEquals(slow.nonZero() + fast.nonZero() - fast.nonZero(), rest.nonZero());
    assertArrayEquals(slow.histIndexes(), rest.histIndexes());
    assertArrayEquals(slow.histCounts(), rest.histCounts());
    assertEquals(slow.stat(MetricType.TREND, "p(95)", 1), rest.stat(MetricType.TREND, "p(95)", 1));
    assertEquals(slow.stat(MetricType.TREND, "avg", 1), rest.stat(MetricType.TREND, "avg", 1), 1e-9);
    SparseHistogram h = slow.histogram();
    assertTrue(rest.min() >= HistogramLayout.lowerBound(h.indexAt(0)) && rest.min() <= 200_000, "min " + rest.min());
    assertTrue(rest.max() >= 300_000 && rest.max() <= HistogramLayout.upperBound(h.indexAt(h.bucketCount() - 1)),
        "max " + rest.max());
    assertTrue(rest.max() <= whole.max(), "never outside the whole's range");
  }

  @Test
  void nothingLeftIsEmptyAndAnEmptyPartChangesNothing() {
    Agg a = of(5_000, 6_000);
    assertEquals(0, a.minus(a).count());
    assertEquals(a, a.minus(Agg.EMPTY));
    assertEquals(a, Agg.EMPTY.plus(a));
  }
}
