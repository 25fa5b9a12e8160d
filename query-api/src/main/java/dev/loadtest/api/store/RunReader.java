package dev.loadtest.api.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.run.RunState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Reads runs (table {@code runs}, the newest state of each run) and threshold results (table
 * {@code thresholds}); both are written by the threshold job from the runs and thresholds topics.
 * Caller values reach SQL only as escaped literals or parsed numbers. Thread-safe.
 */
public final class RunReader {
  private final ClickHouseHttp ch;
  private final String database;

  public RunReader(ClickHouseHttp ch, String database) {
    this.ch = ch;
    this.database = database;
  }

  /** What a run list may be filtered by; null or empty: any. Times in epoch seconds. */
  public record RunFilter(List<String> statuses, String nameContains, String project, List<MetricReader.TagFilter> tags,
      Long createdFromSec, Long createdToSec) {}

  /** A run in a list. */
  public record RunRow(String testRunId, String name, String project, String status, Map<String, String> tags,
      long createdAtSec, long startedAtSec, long endedAtSec, String verdict, long version, String reason) {}

  /** A page of runs and how many match in all. */
  public record Page(List<RunRow> runs, long total) {}

  public Page list(RunFilter f, int limit, long offset) {
    StringBuilder where = new StringBuilder(" WHERE 1");
    if (f.statuses() != null && !f.statuses().isEmpty()) {
      where.append(" AND status IN (").append(f.statuses().stream().map(MetricReader::q)
          .collect(Collectors.joining(", "))).append(')');
    }
    if (f.nameContains() != null && !f.nameContains().isEmpty()) {
      where.append(" AND position(lowerUTF8(name), lowerUTF8(").append(MetricReader.q(f.nameContains()))
          .append(")) > 0");
    }
    if (f.project() != null && !f.project().isEmpty()) {
      where.append(" AND project = ").append(MetricReader.q(f.project()));
    }
    for (MetricReader.TagFilter t : f.tags() == null ? List.<MetricReader.TagFilter>of() : f.tags()) {
      where.append(" AND tag_values[indexOf(tag_keys, ").append(MetricReader.q(t.key())).append(")] IN (")
          .append(t.values().stream().map(MetricReader::q).collect(Collectors.joining(", "))).append(')');
    }
    if (f.createdFromSec() != null) {
      where.append(" AND created_at >= toDateTime(").append(Math.max(0, f.createdFromSec())).append(')');
    }
    if (f.createdToSec() != null) {
      where.append(" AND created_at < toDateTime(").append(Math.min(4_294_967_295L, f.createdToSec())).append(')');
    }
    String from = " FROM runs FINAL" + where;
    long total = Long.parseLong(ch.execute(database, "SELECT count()" + from + " FORMAT TabSeparated").strip());
    List<RunRow> rows = new ArrayList<>();
    String body = ch.execute(database, "SELECT test_run_id, name, project, status, tag_keys, tag_values,"
        + " toUInt32(created_at) AS created, toUInt32(started_at) AS started, toUInt32(ended_at) AS ended, verdict,"
        + " version, reason" + from + " ORDER BY created_at DESC, test_run_id LIMIT " + limit + " OFFSET " + offset
        + " FORMAT JSONEachRow");
    for (String line : body.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode n = MetricReader.tree(line);
      Map<String, String> tags = new LinkedHashMap<>();
      for (int i = 0; i < n.path("tag_keys").size(); i++) {
        tags.put(n.path("tag_keys").get(i).asText(), n.path("tag_values").get(i).asText());
      }
      rows.add(new RunRow(n.path("test_run_id").asText(), n.path("name").asText(), n.path("project").asText(),
          n.path("status").asText(), tags, n.path("created").asLong(), n.path("started").asLong(),
          n.path("ended").asLong(), n.path("verdict").asText(), n.path("version").asLong(), n.path("reason").asText()));
    }
    return new Page(rows, total);
  }

  /** The newest state of a run, if it is stored. */
  public Optional<RunState> run(String testRunId) {
    String body = ch.execute(database, "SELECT state_json FROM runs FINAL WHERE test_run_id = "
        + MetricReader.q(testRunId) + " LIMIT 1 FORMAT JSONEachRow").strip();
    if (body.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(RunState.fromJson(MetricReader.tree(body).path("state_json").asText()));
  }

  /** A threshold's newest stored state (its final result once there is one). */
  public record ThresholdRow(String threshold, String state, Double value, boolean finalResult, long atMs) {}

  public List<ThresholdRow> thresholds(String testRunId, String analysis) {
    String body = ch.execute(database, "SELECT threshold, argMax(state, final * 10000000000000 + at_ms) AS st,"
        + " argMax(value, final * 10000000000000 + at_ms) AS val, max(final) AS fin, max(at_ms) AS at"
        + " FROM thresholds WHERE test_run_id = " + MetricReader.q(testRunId) + " AND analysis_id = "
        + MetricReader.q(analysis) + " GROUP BY threshold ORDER BY threshold FORMAT JSONEachRow");
    List<ThresholdRow> out = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode n = MetricReader.tree(line);
      JsonNode v = n.path("val");
      Double value = v.isNumber() && !Double.isNaN(v.asDouble()) ? v.asDouble() : null;
      out.add(new ThresholdRow(n.path("threshold").asText(), n.path("st").asText(), value,
          n.path("fin").asInt() == 1, n.path("at").asLong()));
    }
    return out;
  }

  /** A stored performance insight (migration V011). */
  public record InsightRow(String rule, String subject, String severity, String title, String message, long fromMs,
      long toMs, Map<String, Double> values, long atMs) {}

  /** The run's insights, in the order they were raised. */
  public List<InsightRow> insights(String testRunId) {
    String body = ch.execute(database, "SELECT rule, subject, severity, title, message, from_ms, to_ms, value_keys,"
        + " value_values, at_ms FROM insights FINAL WHERE test_run_id = " + MetricReader.q(testRunId)
        + " ORDER BY at_ms, from_ms, rule, subject FORMAT JSONEachRow");
    List<InsightRow> out = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode n = MetricReader.tree(line);
      Map<String, Double> values = new LinkedHashMap<>();
      for (int i = 0; i < n.path("value_keys").size(); i++) {
        values.put(n.path("value_keys").get(i).asText(), n.path("value_values").get(i).asDouble());
      }
      out.add(new InsightRow(n.path("rule").asText(), n.path("subject").asText(), n.path("severity").asText(),
          n.path("title").asText(), n.path("message").asText(), n.path("from_ms").asLong(), n.path("to_ms").asLong(),
          values, n.path("at_ms").asLong()));
    }
    return out;
  }
}
