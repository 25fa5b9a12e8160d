package dev.loadtest.schemas.histogram;

import java.util.Arrays;

/**
 * A dense, growable histogram in the {@link HistogramLayout} for the hot path: {@link #record} is a
 * bucket computation and an array increment, with no allocation once the array has grown to the
 * largest value seen.
 *
 * <p>Not thread-safe: one thread records, and the same thread (or one that it hands the instance to
 * with a happens-before edge) takes a {@link #snapshot()}. A snapshot is an immutable copy, so it can
 * cross threads or the network while recording goes on.
 */
public final class SingleWriterHistogram {
  private static final long[] NONE = new long[0];
  private long[] counts = new long[HistogramLayout.LINEAR_LIMIT * 2];
  /** Counts of the negative indexes, at minus the index: allocated by the first value below zero. */
  private long[] negCounts = NONE;
  private int lowestIndex = Integer.MAX_VALUE;
  private int highestIndex = Integer.MIN_VALUE;
  private long count;
  private long sum;
  private long min = Long.MAX_VALUE;
  private long max = Long.MIN_VALUE;

  /** Records one value in whole units ({@link Long#MIN_VALUE} counts as {@code -Long.MAX_VALUE}). */
  public void record(long value) {
    long v = value == Long.MIN_VALUE ? -Long.MAX_VALUE : value;
    int index = HistogramLayout.bucketIndex(v);
    if (index >= 0) {
      if (index >= counts.length) {
        counts = grown(counts, index);
      }
      counts[index]++;
    } else {
      if (-index >= negCounts.length) {
        negCounts = grown(negCounts, -index);
      }
      negCounts[-index]++;
    }
    if (index < lowestIndex) {
      lowestIndex = index;
    }
    if (index > highestIndex) {
      highestIndex = index;
    }
    count++;
    sum += v;
    if (v < min) {
      min = v;
    }
    if (v > max) {
      max = v;
    }
  }

  private static long[] grown(long[] a, int index) {
    return Arrays.copyOf(a, Math.min(HistogramLayout.MAX_INDEX + 1,
        Math.max(index + 1, Math.max(HistogramLayout.LINEAR_LIMIT, a.length * 2))));
  }

  private long countAt(int index) {
    return index >= 0 ? counts[index] : negCounts[-index];
  }

  /** Records a fractional value, rounded up to whole units as the layout prescribes. */
  public void record(double value) {
    record(HistogramLayout.toUnits(value));
  }

  public long count() {
    return count;
  }

  /** An immutable sparse copy of what was recorded so far. */
  public SparseHistogram snapshot() {
    if (count == 0) {
      return SparseHistogram.EMPTY;
    }
    int n = 0;
    for (int i = lowestIndex; i <= highestIndex; i++) {
      if (countAt(i) != 0) {
        n++;
      }
    }
    int[] idx = new int[n];
    long[] cnt = new long[n];
    int k = 0;
    for (int i = lowestIndex; i <= highestIndex; i++) {
      long c = countAt(i);
      if (c != 0) {
        idx[k] = i;
        cnt[k++] = c;
      }
    }
    return SparseHistogram.trusted(idx, cnt, count, sum, min, max);
  }

  /** Forgets everything recorded, keeping the grown array for reuse. */
  public void reset() {
    if (highestIndex >= 0) {
      Arrays.fill(counts, Math.max(0, lowestIndex), highestIndex + 1, 0L);
    }
    if (lowestIndex < 0) {
      Arrays.fill(negCounts, 1, Math.min(-lowestIndex, negCounts.length - 1) + 1, 0L);
    }
    lowestIndex = Integer.MAX_VALUE;
    highestIndex = Integer.MIN_VALUE;
    count = 0;
    sum = 0;
    min = Long.MAX_VALUE;
    max = Long.MIN_VALUE;
  }
}
