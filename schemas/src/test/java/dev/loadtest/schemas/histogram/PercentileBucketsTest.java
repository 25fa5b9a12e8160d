package dev.loadtest.schemas.histogram;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PercentileBucketsTest {
  @Test
  void eachBucketHoldsThePercentileTheHistogramFinds() {
    Random rnd = new Random(5);
    int[] out = new int[4];
    for (int row = 0; row < 2_000; row++) {
      SingleWriterHistogram h = new SingleWriterHistogram();
      int n = 1 + rnd.nextInt(row % 3 == 0 ? 4 : 3_000); // few samples too: ranks at the edges
      for (int i = 0; i < n; i++) {
        long sign = row % 5 == 0 && rnd.nextBoolean() ? -1 : 1; // user Trends below zero
        h.record(sign * (long) (20_000 * Math.exp(rnd.nextGaussian())));
      }
      SparseHistogram s = h.snapshot();
      PercentileBuckets.of(s.count(), s.indexes(), s.counts(), out);
      for (int k = 0; k < 4; k++) {
        double p = PercentileBuckets.PERCENTILES[k];
        double fromBucket = Math.min(s.max(), Math.max(s.min(), HistogramLayout.upperBound(out[k])));
        assertEquals(s.percentile(p), fromBucket, "row " + row + " (" + n + " samples) p(" + p + ")");
      }
    }
  }

  @Test
  void theFractionsAreThePercentilesSteppedJustBelow() {
    for (int k = 0; k < 4; k++) {
      assertEquals(Math.nextDown(PercentileBuckets.PERCENTILES[k] / 100), PercentileBuckets.FRACTIONS[k]);
    }
  }

  @Test
  void ranksAtTheEdges() {
    int[] out = new int[4];
    PercentileBuckets.of(0, null, null, out);
    assertArrayEquals(new int[] {0, 0, 0, 0}, out, "no histogram (a counter, a rate, a gauge)");
    PercentileBuckets.of(3, new int[0], new long[0], out);
    assertArrayEquals(new int[] {0, 0, 0, 0}, out);
    PercentileBuckets.of(1, new int[] {42}, new long[] {1}, out);
    assertArrayEquals(new int[] {42, 42, 42, 42}, out, "one sample is every percentile");
    // 100 samples: p(50) is rank 50, p(90) rank 90, p(95) rank 95, p(99) rank 99
    PercentileBuckets.of(100, new int[] {-7, 3, 9, 11, 12}, new long[] {50, 40, 5, 4, 1}, out);
    assertArrayEquals(new int[] {-7, 3, 9, 11}, out);
    PercentileBuckets.of(101, new int[] {-7, 3, 9, 11, 12}, new long[] {50, 40, 5, 4, 2}, out);
    assertArrayEquals(new int[] {3, 9, 11, 12}, out, "ranks 51, 91, 96, 100");
    // a count the histogram does not reach (as the columns' expressions: no bucket, 0)
    PercentileBuckets.of(10, new int[] {5}, new long[] {2}, out);
    assertArrayEquals(new int[] {0, 0, 0, 0}, out);
    PercentileBuckets.of(Long.MAX_VALUE, new int[] {5}, new long[] {2}, out);
    assertArrayEquals(new int[] {0, 0, 0, 0}, out, "the largest count: no rank overflows into a bucket");
    PercentileBuckets.of(0, new int[] {5, 9}, new long[] {2, 1}, out);
    assertArrayEquals(new int[] {5, 5, 5, 5}, out, "a count of 0 ranks 1, as the expressions do");
  }
}
