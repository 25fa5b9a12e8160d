package dev.loadtest.flink.sink;

import dev.loadtest.schemas.insight.Insight;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * An insight of {@code loadtest.insights} (key, JSON) as its row of the {@code insights} table (migration
 * V011). Stateless; the JSON must be a readable insight (filter with {@link #readable} first).
 */
public final class InsightRowBinary implements RowBinaryRows<Tuple2<String, String>> {
  public static final String INSERT = "INSERT INTO insights (test_run_id, rule, subject, severity, title, message,"
      + " from_ms, to_ms, value_keys, value_values, at_ms) FORMAT RowBinary";
  private static final long serialVersionUID = 1L;

  /** Whether {@code json} is an insight this encoder can write. */
  public static boolean readable(String json) {
    return RowBinaryRows.parses(json, Insight::fromJson);
  }

  @Override
  public List<String> inserts() {
    return List.of(INSERT);
  }

  @Override
  public void write(Tuple2<String, String> record, RowBinaryOutput out) {
    Insight i = Insight.fromJson(record.f1);
    out.string(i.testRunId());
    out.string(i.rule());
    out.string(i.subject());
    out.string(i.severity() == null ? "" : i.severity());
    out.string(i.title() == null ? "" : i.title());
    out.string(i.message());
    out.int64(i.fromMs());
    out.int64(i.toMs());
    Map<String, Double> values = new TreeMap<>(i.values());
    out.varint(values.size());
    values.keySet().forEach(out::string);
    out.varint(values.size());
    values.values().forEach(out::float64);
    out.int64(i.atMs());
  }
}
