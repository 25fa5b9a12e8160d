package dev.loadtest.schemas.clickhouse;

/**
 * {@code metric_1s} as its readers see it (V017): a by-name row whose {@code raw_series} is not 0 also stands for
 * that series' row, which the aggregate job then does not write. As a table expression, every row as stored
 * plus each such by-name row again as its series' (its analysis without the {@code ~name} suffix, its
 * {@code raw_series} as {@code series_id}), so that {@code WHERE analysis_id = ''} finds every series' second and
 * {@code WHERE analysis_id = '~name'} the by-name rows as before. For tools, tests and benchmarks that count
 * rows; the query API reads the same way with conditions a primary key can use ({@code MetricReader}).
 */
public final class SecondsAsRead {
  private static final String COLUMNS = "ts, writer_id, count, sum, min, max, last, non_zero, hist_idx, hist_cnt,"
      + " bucket_p50, bucket_p90, bucket_p95, bucket_p99";
  /**
   * The columns of a by-name row that stands for a series, as that series' row (for a SELECT of {@code metric_1s}
   * whose WHERE takes the by-name rows with {@code raw_series != 0}); every column a reader of a series may name.
   */
  public static final String STOOD_FOR_COLUMNS = "metric, raw_series AS series_id, " + COLUMNS;
  private static final String NAME_SUFFIX = dev.loadtest.schemas.series.Projection.NAME.analysisId("");

  private SecondsAsRead() {}

  /** The table expression, each part {@code FINAL} when {@code deduplicated} (rows inserted again collapse). */
  public static String metric1s(boolean deduplicated) {
    String from = " FROM metric_1s" + (deduplicated ? " FINAL" : "");
    // (renamed in a subquery of their own: an alias may not name a column its expression reads, on 18.16)
    return "(SELECT test_run_id, analysis_id, metric, series_id, " + COLUMNS + from
        + " UNION ALL SELECT test_run_id, base AS analysis_id, metric, stood_for AS series_id, " + COLUMNS
        + " FROM (SELECT test_run_id, replaceRegexpOne(analysis_id, '" + NAME_SUFFIX + "$', '') AS base, metric,"
        + " raw_series AS stood_for, " + COLUMNS + from + " WHERE raw_series != 0))";
  }
}
