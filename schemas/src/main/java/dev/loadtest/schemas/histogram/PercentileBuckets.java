package dev.loadtest.schemas.histogram;

/**
 * The histogram bucket of a stored row's median, p(90), p(95) and p(99): what the metric tables' columns
 * {@code bucket_p50}, {@code bucket_p90}, {@code bucket_p95} and {@code bucket_p99} hold (migrations V008,
 * V009, V015, V016), so that a writer can give them rather than have ClickHouse evaluate their DEFAULT
 * expressions for every row. Computed exactly as those expressions do: the rank is
 * {@code max(1, ceil(count * f))} in doubles, {@code f} the percentile's fraction stepped just below it (as
 * {@link SparseHistogram#percentile} steps), and the bucket is the index at which the running sum of the
 * counts first reaches the rank; 0 when it never does (no histogram: counters, rates, gauges). Pure
 * functions, safe from any thread.
 */
public final class PercentileBuckets {
  /** The percentiles that have a column, in column order. */
  public static final double[] PERCENTILES = {50, 90, 95, 99};
  /** Their fractions as the columns' expressions write them (each {@code Math.nextDown(p / 100)}). */
  static final double[] FRACTIONS = {0.49999999999999994, 0.8999999999999999, 0.9499999999999998, 0.9899999999999999};

  private PercentileBuckets() {}

  /**
   * Writes into {@code out} (length at least 4) the buckets of the four percentiles of a row of {@code count}
   * samples with sparse histogram {@code indexes} / {@code counts} (either null or empty: no histogram).
   */
  public static void of(long count, int[] indexes, long[] counts, int[] out) {
    int n = indexes == null ? 0 : indexes.length;
    int i = 0;
    long seen = n == 0 ? 0 : counts[0];
    for (int k = 0; k < FRACTIONS.length; k++) {
      double rank = Math.max(1., Math.ceil(count * FRACTIONS[k]));
      while (i < n && seen < rank) {
        i++;
        seen += i < n ? counts[i] : 0;
      }
      out[k] = i < n ? indexes[i] : 0;
    }
  }
}
