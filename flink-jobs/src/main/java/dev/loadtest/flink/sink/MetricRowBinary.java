package dev.loadtest.flink.sink;

import dev.loadtest.flink.aggregate.BucketLadder;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.histogram.PercentileBuckets;
import java.util.List;

/**
 * Buckets as rows of {@code metric_1s}, {@code metric_10s} and {@code metric_1m} (migrations V003-V005,
 * one column order; {@code hist_idx} signed since V009), chosen by the bucket's width, and whole-run parts
 * (width {@link BucketLadder#RUN_WIDTH_MS}) as rows of {@code metric_run} (V015), which also have a version
 * (carried in the part's {@code lastTimeUs}). Each row carries its bucket's writer id ({@code main}
 * for a complete bucket, the correction's origin for a late one): with ReplacingMergeTree keyed on it,
 * a row inserted again after a restart collapses to one, while corrections add. Each row also carries the
 * buckets of its usual percentiles ({@link PercentileBuckets}), which the tables would otherwise compute
 * from their DEFAULT expressions on insert (V016: two fifths of ClickHouse's CPU per insert). A 1 s row also
 * carries {@code raw_series} (V017): the series a by-name row stands for, whose own row is then not written
 * ({@link SeriesBucket#inNameRow}). Stateless.
 */
public final class MetricRowBinary implements RowBinaryRows<SeriesBucket> {
  /** Bucket widths, in the order of {@link #inserts()}. */
  public static final List<Integer> WIDTHS_MS = List.of(1_000, 10_000, 60_000, BucketLadder.RUN_WIDTH_MS);
  /** Tables, in the order of {@link #WIDTHS_MS}. */
  public static final List<String> TABLES = List.of("metric_1s", "metric_10s", "metric_1m", "metric_run");

  private static final long serialVersionUID = 1L;

  /**
   * Every table's sorting key (test_run_id, analysis_id, metric, series_id, ts, writer_id): the first six
   * fields of each row, in that order.
   */
  public static final RowOrder KEY = new RowOrder(RowOrder.Field.STRING, RowOrder.Field.STRING,
      RowOrder.Field.STRING, RowOrder.Field.UINT64, RowOrder.Field.UINT32, RowOrder.Field.STRING);

  /** The insert statement of {@code table}. */
  public static String insert(String table) {
    return "INSERT INTO " + table + " (test_run_id, analysis_id, metric, series_id, ts,"
        + " writer_id, " + (table.equals("metric_run") ? "version, " : "")
        + "count, sum, min, max, last, non_zero, hist_idx, hist_cnt,"
        + " bucket_p50, bucket_p90, bucket_p95, bucket_p99" + (table.equals("metric_1s") ? ", raw_series" : "")
        + ") FORMAT RowBinary";
  }

  @Override
  public List<String> inserts() {
    return TABLES.stream().map(MetricRowBinary::insert).toList();
  }

  @Override
  public RowOrder order(int table) {
    return KEY;
  }

  /** A series' 1 s bucket whose by-name row stands for it ({@link SeriesBucket#inNameRow}) is no row. */
  @Override
  public int table(SeriesBucket b) {
    if (b.inNameRow && b.widthMs == 1_000) {
      return NO_ROW;
    }
    int i = WIDTHS_MS.indexOf(b.widthMs);
    if (i < 0 || b.widthMs != BucketLadder.RUN_WIDTH_MS && b.startMs % b.widthMs != 0) {
      throw new IllegalArgumentException("no table takes a bucket of " + b.widthMs + " ms at " + b.startMs
          + " (widths " + WIDTHS_MS + ", aligned to their width)");
    }
    return i;
  }

  @Override
  public void write(SeriesBucket b, RowBinaryOutput out) {
    out.string(b.testRunId);
    out.string(b.analysisId == null ? "" : b.analysisId);
    out.string(b.metric);
    out.int64(b.seriesId);
    out.uint32(b.startMs / 1000);
    out.string(b.writerId == null || b.writerId.isEmpty() ? "main" : b.writerId);
    if (b.widthMs == BucketLadder.RUN_WIDTH_MS) {
      out.int64(b.lastTimeUs);
    }
    out.int64(b.count);
    out.float64(b.sum);
    out.float64(b.count == 0 ? 0 : b.min);
    out.float64(b.count == 0 ? 0 : b.max);
    out.float64(b.last);
    out.int64(b.nonZero);
    int n = b.histIndexes == null ? 0 : b.histIndexes.length;
    out.varint(n);
    for (int i = 0; i < n; i++) {
      int idx = b.histIndexes[i];
      if (idx < Short.MIN_VALUE || idx > Short.MAX_VALUE) {
        throw new IllegalArgumentException("bucket index " + idx + " does not fit hist_idx (Int16)");
      }
      out.int16(idx);
    }
    out.varint(n);
    for (int i = 0; i < n; i++) {
      out.int64(b.histCounts[i]);
    }
    int[] buckets = new int[PercentileBuckets.PERCENTILES.length];
    PercentileBuckets.of(b.count, b.histIndexes, b.histCounts, buckets);
    for (int bucket : buckets) {
      out.int16(bucket); // an index of hist_idx: within Int16, checked above
    }
    if (b.widthMs == 1_000) {
      out.int64(b.rawSeries);
    }
  }

  /** The rows of {@code buckets}, all of one width (for tests and tools that insert directly). */
  public static byte[] encode(List<SeriesBucket> buckets) {
    MetricRowBinary rows = new MetricRowBinary();
    RowBinaryOutput out = new RowBinaryOutput(64 + buckets.size() * 96);
    for (SeriesBucket b : buckets) {
      if (rows.table(b) != NO_ROW) {
        rows.write(b, out);
      }
    }
    return out.toByteArray();
  }
}
