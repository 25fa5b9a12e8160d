package dev.loadtest.api;

/**
 * What one request may ask for, so that a run with 50,000 series stays usable and no caller can make
 * ClickHouse scan without bound.
 *
 * @param maxPoints points per series of a time series (the step grows to stay below)
 * @param maxRows metric rows one time-series query may read (estimated from matched series and step;
 *     the step grows to stay below)
 * @param maxGroups groups (series of the answer) of a time series; the busiest are kept
 * @param maxPage runs or series per page
 * @param maxTopK series of a top-K answer
 * @param maxRangeSeconds the longest time range a query may name
 * @param maxSubmetrics sub-metrics a summary may be asked for
 */
public record Limits(int maxPoints, long maxRows, int maxGroups, int maxPage, int maxTopK, long maxRangeSeconds,
    int maxSubmetrics) {
  /**
   * Defaults measured on a 2-core machine with ClickHouse 18.16: a query that merges histograms reads about
   * 150,000 rows/s, so 20,000 rows keep a panel near 100 ms; a faster server can be given more.
   */
  public static final Limits DEFAULT = new Limits(1000, 20_000, 100, 1000, 100, 31L * 24 * 3600, 20);
}
