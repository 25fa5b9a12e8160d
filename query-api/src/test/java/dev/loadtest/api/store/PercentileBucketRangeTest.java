package dev.loadtest.api.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.histogram.HistogramLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The range a ranking takes a group's merged percentile to be in, from each stored row's count and
 * percentile bucket: it always holds the bucket the merged histogram gives, and few-sample rows hardly
 * widen it.
 */
class PercentileBucketRangeTest {
  /** The bucket of percentile p of these samples' buckets, nearest rank as stored and as merged. */
  static int bucketOf(int[] sortedBuckets, double p) {
    long rank = Math.max(1, (long) Math.ceil(Agg.rankFraction(p) * sortedBuckets.length));
    return sortedBuckets[(int) rank - 1];
  }

  static int[] samples(Random rnd, int n, double medianUs, double spread) {
    int[] b = new int[n];
    for (int i = 0; i < n; i++) {
      b[i] = HistogramLayout.bucketIndex((long) Math.max(1, medianUs * Math.exp(rnd.nextGaussian() * spread)));
    }
    Arrays.sort(b);
    return b;
  }

  @Test
  void theMergedPercentileIsAlwaysWithinTheRange() {
    Random rnd = new Random(5);
    for (int trial = 0; trial < 3_000; trial++) {
      int rows = 1 + rnd.nextInt(12);
      double p = new double[] {50, 90, 95, 99, 99.9, 75.5}[rnd.nextInt(6)];
      long[] counts = new long[rows];
      int[] buckets = new int[rows];
      List<Integer> all = new ArrayList<>();
      for (int r = 0; r < rows; r++) {
        int n = rnd.nextBoolean() ? 1 + rnd.nextInt(10) : 1 + rnd.nextInt(3_000);
        int[] s = samples(rnd, n, 1_000 + rnd.nextInt(200_000), 0.1 + rnd.nextDouble());
        counts[r] = n;
        buckets[r] = bucketOf(s, p);
        Arrays.stream(s).forEach(all::add);
      }
      int merged = bucketOf(all.stream().mapToInt(Integer::intValue).sorted().toArray(), p);
      int[] range = MetricReader.percentileBucketRange(counts, buckets, p);
      assertTrue(range[0] <= merged && merged <= range[1], "trial " + trial + ": p(" + p + ") bucket " + merged
          + " outside " + Arrays.toString(range) + " of rows " + Arrays.toString(counts) + " " + Arrays.toString(buckets));
      assertTrue(range[0] >= Arrays.stream(buckets).min().orElseThrow()
          && range[1] <= Arrays.stream(buckets).max().orElseThrow(), "never wider than the rows' own buckets");
    }
  }

  @Test
  void aFewSamplesOutsideDoNotWidenItWhereTheRowsRanksLeaveRoom() {
    // Ten minutes of about 3,000 samples with p(95) in buckets 1000-1009 (their ranks, rounded up, leave 5
    // samples of room), and two 1-sample seconds far below and far above: min and max would say 500-1500.
    long[] counts = new long[12];
    int[] buckets = new int[12];
    for (int i = 0; i < 10; i++) {
      counts[i] = 2_991 + 2 * i;
      buckets[i] = 1_000 + i;
    }
    counts[10] = 1;
    buckets[10] = 500;
    counts[11] = 1;
    buckets[11] = 1_500;
    assertEquals(List.of(1_000, 1_009), Arrays.stream(MetricReader.percentileBucketRange(counts, buckets, 95)).boxed()
        .toList());
  }

  @Test
  void oneRowIsItsOwnBucket() {
    assertEquals(List.of(42, 42), Arrays.stream(MetricReader.percentileBucketRange(new long[] {7}, new int[] {42}, 95))
        .boxed().toList());
  }
}
