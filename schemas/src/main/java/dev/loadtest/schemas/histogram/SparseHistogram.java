package dev.loadtest.schemas.histogram;

import java.util.Arrays;

/**
 * An immutable trend histogram in the {@link HistogramLayout}: the non-empty buckets as ascending
 * indexes (negative below zero) with their counts, plus count, sum, min and max of the recorded values (whole units).
 * This is the shape stored in ClickHouse and carried in aggregate records.
 *
 * <p>Percentiles are computed from the bucket counts (never by averaging percentiles of parts), so a
 * merge of histograms from many generators gives the same percentile as one histogram of all samples.
 * Safe to share between threads.
 */
public final class SparseHistogram {
  public static final SparseHistogram EMPTY =
      new SparseHistogram(new int[0], new long[0], 0, 0, Long.MAX_VALUE, Long.MIN_VALUE);

  private final int[] indexes;
  private final long[] counts;
  private final long count;
  private final long sum;
  private final long min;
  private final long max;

  private SparseHistogram(int[] indexes, long[] counts, long count, long sum, long min, long max) {
    this.indexes = indexes;
    this.counts = counts;
    this.count = count;
    this.sum = sum;
    this.min = min;
    this.max = max;
  }

  /**
   * Builds a histogram from stored parts, checking that they are consistent: indexes strictly
   * ascending and valid, counts positive, and their total equal to {@code count}.
   */
  public static SparseHistogram of(int[] indexes, long[] counts, long sum, long min, long max) {
    long total = check(indexes, counts);
    if (total == 0) {
      return EMPTY;
    }
    if (min > max) {
      throw new IllegalArgumentException("min " + min + " is greater than max " + max);
    }
    return new SparseHistogram(indexes.clone(), counts.clone(), total, sum, min, max);
  }

  /**
   * Checks stored parts as {@link #of} does (indexes strictly ascending and valid, counts positive, as many
   * of each), without copying them.
   *
   * @return the total count
   * @throws IllegalArgumentException naming the first entry at fault
   */
  public static long check(int[] indexes, long[] counts) {
    if (indexes == null || counts == null) {
      if (indexes == null && counts == null) {
        return 0;
      }
      throw new IllegalArgumentException("indexes and counts must both be present or both absent");
    }
    if (indexes.length != counts.length) {
      throw new IllegalArgumentException(
          "indexes and counts differ in length: " + indexes.length + " vs " + counts.length);
    }
    long total = 0;
    for (int i = 0; i < indexes.length; i++) {
      if (indexes[i] < HistogramLayout.MIN_INDEX || indexes[i] > HistogramLayout.MAX_INDEX) {
        throw new IllegalArgumentException("bucket index out of range at " + i + ": " + indexes[i]);
      }
      if (i > 0 && indexes[i] <= indexes[i - 1]) {
        throw new IllegalArgumentException("bucket indexes must be strictly ascending at " + i);
      }
      if (counts[i] <= 0) {
        throw new IllegalArgumentException("bucket count must be positive at " + i + ": " + counts[i]);
      }
      total = Math.addExact(total, counts[i]);
    }
    return total;
  }

  static SparseHistogram trusted(int[] indexes, long[] counts, long count, long sum, long min, long max) {
    return count == 0 ? EMPTY : new SparseHistogram(indexes, counts, count, sum, min, max);
  }

  public int bucketCount() {
    return indexes.length;
  }

  public int indexAt(int i) {
    return indexes[i];
  }

  public long countAt(int i) {
    return counts[i];
  }

  /** A copy of the non-empty bucket indexes, ascending. */
  public int[] indexes() {
    return indexes.clone();
  }

  /** A copy of the counts, one per entry of {@link #indexes()}. */
  public long[] counts() {
    return counts.clone();
  }

  public long count() {
    return count;
  }

  public long sum() {
    return sum;
  }

  /** Smallest recorded value; {@link Long#MAX_VALUE} when empty. */
  public long min() {
    return min;
  }

  /** Largest recorded value; {@link Long#MIN_VALUE} when empty. */
  public long max() {
    return max;
  }

  public boolean isEmpty() {
    return count == 0;
  }

  /** Mean of the recorded values, NaN when empty. */
  public double mean() {
    return count == 0 ? Double.NaN : (double) sum / count;
  }

  /**
   * The value at percentile {@code p} (0..100), nearest-rank: the upper bound of the bucket that holds
   * the {@code ceil(p/100 * count)}-th smallest value (as HdrHistogram's getValueAtPercentile), clamped
   * to [min, max]. Relative error against the exact nearest-rank value is at most 1/128. NaN when empty.
   */
  public double percentile(double p) {
    if (!(p >= 0 && p <= 100)) {
      throw new IllegalArgumentException("percentile must be within 0..100: " + p);
    }
    if (count == 0) {
      return Double.NaN;
    }
    // As HdrHistogram: step just below p so that 99.9% of 50,000 is rank 49,950 despite binary rounding.
    double requested = Math.max(0, Math.nextDown(p));
    long rank = Math.max(1, (long) Math.ceil(requested / 100.0 * count));
    long seen = 0;
    for (int i = 0; i < indexes.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        long v = p == 0 ? HistogramLayout.lowerBound(indexes[i]) : HistogramLayout.upperBound(indexes[i]);
        return Math.min(max, Math.max(min, v));
      }
    }
    return max;
  }

  /** The value at percentile {@code p} (0..100) by {@code method}; NaN when empty. */
  public double percentile(double p, PercentileMethod method) {
    return method == PercentileMethod.K6 ? percentileK6(p) : percentile(p);
  }

  /**
   * k6's interpolated percentile (see {@link PercentileMethod#K6}): the samples at ranks
   * {@code floor(p/100 * (n - 1))} and the next, weighted by the fraction of the rank. Each sample is read
   * as exactly as the histogram knows it: the smallest is min, the largest max, one in a bucket of width 1
   * exact, and one in a wider bucket placed by its position among the bucket's count, so the answer is
   * within 1/128 of k6's on the raw samples. NaN when empty.
   */
  public double percentileK6(double p) {
    if (!(p >= 0 && p <= 100)) {
      throw new IllegalArgumentException("percentile must be within 0..100: " + p);
    }
    if (count == 0) {
      return Double.NaN;
    }
    double rank = p / 100.0 * (count - 1);
    long lo = (long) Math.floor(rank);
    double frac = rank - lo;
    double low = sampleAt(lo);
    return frac == 0 ? low : low + (sampleAt(Math.min(lo + 1, count - 1)) - low) * frac;
  }

  /** An estimate of the {@code rank}-th smallest sample (from 0). */
  private double sampleAt(long rank) {
    if (rank <= 0) {
      return min;
    }
    if (rank >= count - 1) {
      return max;
    }
    long before = 0;
    for (int i = 0; i < indexes.length; i++) {
      if (rank < before + counts[i]) {
        long lower = Math.max(min, HistogramLayout.lowerBound(indexes[i]));
        long upper = Math.min(max, HistogramLayout.upperBound(indexes[i]));
        if (upper <= lower) {
          return lower;
        }
        // Spread the bucket's samples evenly over it: the j-th of c at lower + (j + 1/2) / c of its width.
        return lower + (upper - lower) * ((rank - before) + 0.5) / counts[i];
      }
      before += counts[i];
    }
    return max;
  }

  /** The sum of this and {@code other}: counts added bucket by bucket. */
  public SparseHistogram merge(SparseHistogram other) {
    if (other.count == 0) {
      return this;
    }
    if (count == 0) {
      return other;
    }
    int[] outIdx = new int[indexes.length + other.indexes.length];
    long[] outCnt = new long[outIdx.length];
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < indexes.length || j < other.indexes.length) {
      if (j == other.indexes.length || (i < indexes.length && indexes[i] < other.indexes[j])) {
        outIdx[n] = indexes[i];
        outCnt[n++] = counts[i++];
      } else if (i == indexes.length || other.indexes[j] < indexes[i]) {
        outIdx[n] = other.indexes[j];
        outCnt[n++] = other.counts[j++];
      } else {
        outIdx[n] = indexes[i];
        outCnt[n++] = counts[i++] + other.counts[j++];
      }
    }
    return new SparseHistogram(Arrays.copyOf(outIdx, n), Arrays.copyOf(outCnt, n),
        count + other.count, sum + other.sum, Math.min(min, other.min), Math.max(max, other.max));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SparseHistogram h && count == h.count && sum == h.sum && min == h.min
        && max == h.max && Arrays.equals(indexes, h.indexes) && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(indexes) + Arrays.hashCode(counts) + Long.hashCode(sum);
  }

  @Override
  public String toString() {
    return "SparseHistogram{count=" + count + ", sum=" + sum + ", min=" + min + ", max=" + max
        + ", buckets=" + indexes.length + "}";
  }
}
