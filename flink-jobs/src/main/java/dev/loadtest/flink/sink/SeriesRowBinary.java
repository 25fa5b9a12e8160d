package dev.loadtest.flink.sink;

import dev.loadtest.flink.aggregate.SeriesBucket;
import java.util.List;

/**
 * A series' first bucket as its row of the {@code series} table (migration V002): run, analysis, id,
 * metric, type, tags and the second it was first seen. ReplacingMergeTree keyed on the series keeps one
 * row however often a restart announces it again. Stateless.
 */
public final class SeriesRowBinary implements RowBinaryRows<SeriesBucket> {
  public static final String INSERT = "INSERT INTO series (test_run_id, analysis_id, series_id, metric, metric_type,"
      + " tag_keys, tag_values, first_seen) FORMAT RowBinary";
  private static final long serialVersionUID = 1L;

  @Override
  public List<String> inserts() {
    return List.of(INSERT);
  }

  @Override
  public void write(SeriesBucket b, RowBinaryOutput out) {
    out.string(b.testRunId);
    out.string(b.analysisId == null ? "" : b.analysisId);
    out.int64(b.seriesId);
    out.string(b.metric);
    out.string(b.type);
    out.strings(b.tagKeys);
    out.strings(b.tagValues);
    out.uint32(Math.floorDiv(b.startMs, 1000));
  }
}
