package dev.loadtest.flink.sink;

import dev.loadtest.schemas.threshold.ThresholdResult;
import java.util.List;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * A threshold result of {@code loadtest.thresholds} (key, JSON) as its row of the {@code thresholds} table
 * (migration V007). Stateless; the JSON must be a readable result (filter with {@link #readable} first).
 */
public final class ThresholdRowBinary implements RowBinaryRows<Tuple2<String, String>> {
  public static final String INSERT = "INSERT INTO thresholds (test_run_id, analysis_id, threshold, state, value,"
      + " final, at_ms) FORMAT RowBinary";
  private static final long serialVersionUID = 1L;
  private final String analysisId;

  /** Results of live runs. */
  public ThresholdRowBinary() {
    this("");
  }

  /** Results of the re-analysis {@code analysisId} (a replay judged by its own thresholds). */
  public ThresholdRowBinary(String analysisId) {
    this.analysisId = analysisId;
  }

  /** Whether {@code json} is a threshold result this encoder can write. */
  public static boolean readable(String json) {
    return RowBinaryRows.parses(json, ThresholdResult::fromJson);
  }

  @Override
  public List<String> inserts() {
    return List.of(INSERT);
  }

  @Override
  public void write(Tuple2<String, String> record, RowBinaryOutput out) {
    ThresholdResult r = ThresholdResult.fromJson(record.f1);
    out.string(r.testRunId());
    out.string(analysisId);
    out.string(r.threshold());
    out.string(r.state().name());
    out.float64(r.value());
    out.write(r.finalResult() ? 1 : 0);
    out.int64(r.atMs());
  }
}
