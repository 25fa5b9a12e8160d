package dev.loadtest.schemas.histogram;

/**
 * The bucket layout every trend histogram of the system uses: HdrHistogram's log-linear layout with
 * 2 significant digits and a unit of 1 (microsecond for durations), which is bucket-for-bucket the
 * layout of the k6 cloud output v2.
 *
 * <p>For a value {@code v} in whole units (fractions rounded up): {@code index = v} when
 * {@code v < 256}, else {@code (m << 7) + (v >> m)} with {@code m = floor(log2(v >> 7))}. Each bucket
 * above 255 covers {@code 2^m} consecutive values, so its width relative to its lower bound is at most
 * 1/128. Histograms from any generator and any second merge by adding counts at equal indexes.
 *
 * <p>Negative values (user Trend metrics may have them, as in k6) take the mirror image: the index of
 * {@code v < 0} is {@code -index(-v)}, so a bucket below zero is as narrow as its twin above, and indexes
 * ascend with the values they hold (a merge or a sorted {@code sumMap} stays in value order). Index 0 holds
 * 0 alone; indexes run from {@link #MIN_INDEX} to {@link #MAX_INDEX}. Data stored before negative indexes
 * existed (every index {@code >= 0}) reads the same.
 *
 * <p>This is a contract: stored data depends on it. Pure functions, safe from any thread.
 */
public final class HistogramLayout {
  /** Values below this have a bucket of their own (width 1). */
  public static final int LINEAR_LIMIT = 256;
  /** Index of the bucket of {@link Long#MAX_VALUE}: the largest index there is. */
  public static final int MAX_INDEX = bucketIndex(Long.MAX_VALUE);
  /** Index of the bucket of {@code -Long.MAX_VALUE} (and of {@link Long#MIN_VALUE}): the smallest index there is. */
  public static final int MIN_INDEX = -MAX_INDEX;

  private HistogramLayout() {}

  /** Bucket index of {@code value} (whole units); below zero, minus the index of its magnitude. */
  public static int bucketIndex(long value) {
    if (value < 0) {
      return -magnitudeIndex(value == Long.MIN_VALUE ? Long.MAX_VALUE : -value);
    }
    return magnitudeIndex(value);
  }

  private static int magnitudeIndex(long value) {
    if (value < LINEAR_LIMIT) {
      return (int) value;
    }
    int m = 63 - Long.numberOfLeadingZeros(value >>> 7);
    return (m << 7) + (int) (value >>> m);
  }

  /** Bucket index of a fractional value: rounded up to the next whole unit first. */
  public static int bucketIndex(double value) {
    return bucketIndex(toUnits(value));
  }

  /**
   * A fractional value rounded up (towards positive infinity, on both sides of zero) to whole units, within
   * [-Long.MAX_VALUE, Long.MAX_VALUE]. NaN becomes 0.
   */
  public static long toUnits(double value) {
    if (value != value) {
      return 0;
    }
    if (value >= 0x1p63) {
      return Long.MAX_VALUE;
    }
    return value <= -0x1p63 ? -Long.MAX_VALUE : (long) Math.ceil(value);
  }

  /** Smallest value that falls in bucket {@code index}. */
  public static long lowerBound(int index) {
    checkIndex(index);
    if (index < 0) {
      return -upperBound(-index);
    }
    if (index < LINEAR_LIMIT) {
      return index;
    }
    int m = (index >>> 7) - 1;
    long sub = (index & 127) + 128L;
    return sub << m;
  }

  /** Largest value that falls in bucket {@code index}. */
  public static long upperBound(int index) {
    checkIndex(index);
    if (index < 0) {
      return -lowerBound(-index);
    }
    if (index < LINEAR_LIMIT) {
      return index;
    }
    int m = (index >>> 7) - 1;
    long sub = (index & 127) + 128L;
    long next = (sub + 1) << m;
    return next <= 0 ? Long.MAX_VALUE : next - 1;
  }

  private static void checkIndex(int index) {
    if (index < MIN_INDEX || index > MAX_INDEX) {
      throw new IllegalArgumentException("not a bucket index of the layout: " + index);
    }
  }
}
