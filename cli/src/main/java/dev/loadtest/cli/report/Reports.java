package dev.loadtest.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.cli.follow.SummaryText;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The reports of a finished run: {@code summary.json} (machine-readable), {@code junit.xml} (one test case
 * per threshold, for CI systems) and a self-contained {@code report.html} (charts over time as inline SVG,
 * thresholds and metrics tables; no script, no network). The kind is chosen by the file's name.
 */
public final class Reports {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The charts of the HTML report; each line has a colour of its own (the HTML test looks for them). */
  public record Line(String label, String stat, String color) {}

  /** One chart: a metric's stats over time. */
  public record Chart(String title, String metric, String unit, List<Line> lines) {}

  public static final List<Chart> CHARTS = List.of(
      new Chart("Requests per second", "http_reqs", "req/s", List.of(new Line("requests/s", "rate", "#2563eb"))),
      new Chart("Virtual users", "vus", "VUs", List.of(new Line("VUs", "value", "#16a34a"))),
      new Chart("Response time (http_req_duration)", "http_req_duration", "ms", List.of(
          new Line("p50", "p(50)", "#0891b2"), new Line("p95", "p(95)", "#ea580c"), new Line("p99", "p(99)", "#9333ea"))),
      new Chart("Errors (http_req_failed)", "http_req_failed", "%", List.of(new Line("error rate", "rate", "#dc2626"))));

  private Reports() {}

  /** Writes {@code file} as the kind its name says; returns what was written, for the console. */
  public static String write(Path file, RunFollower.Outcome outcome, int exitCode, ApiClient api)
      throws IOException, InterruptedException {
    return write(file, outcome, exitCode, api, null);
  }

  /** As {@link #write(Path, RunFollower.Outcome, int, ApiClient)}, with a regression gate's result (or null). */
  public static String write(Path file, RunFollower.Outcome outcome, int exitCode, ApiClient api,
      dev.loadtest.cli.follow.RegressionGate gate) throws IOException, InterruptedException {
    return write(file, outcome, exitCode, api, gate, null);
  }

  /** As above, with the run's performance insights ({@code GET /runs/{id}/insights}, or null). */
  public static String write(Path file, RunFollower.Outcome outcome, int exitCode, ApiClient api,
      dev.loadtest.cli.follow.RegressionGate gate, JsonNode insights) throws IOException, InterruptedException {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (name.endsWith(".json")) {
      ObjectNode json = summaryJson(outcome, exitCode);
      if (insights != null) {
        json.set("insights", insights.path("insights"));
      }
      if (gate != null) {
        ObjectNode g = json.putObject("regression");
        g.put("baseline", gate.baseline());
        g.put("chosen", gate.chosen());
        g.put("regressed", gate.regressed());
        g.set("checks", gate.checks());
        g.put("note", gate.note());
      }
      Files.writeString(file, JSON.writeValueAsString(json));
      return "summary (JSON)";
    }
    if (name.endsWith(".xml")) {
      Files.writeString(file, junit(outcome, gate));
      return "JUnit XML, one test case per threshold" + (gate != null && gate.checks() != null
          && gate.note() == null ? " and regression limit" : "");
    }
    if (name.endsWith(".html") || name.endsWith(".htm")) {
      Files.writeString(file, html(outcome, exitCode, series(api, outcome), gate, insights), StandardCharsets.UTF_8);
      return "HTML report";
    }
    throw new IllegalArgumentException("unknown report kind of " + file + " (use a name ending in .json, .xml or .html)");
  }

  /** Checks the kind of each report before the run, so that a typo does not cost a test. */
  public static void checkName(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (!name.endsWith(".json") && !name.endsWith(".xml") && !name.endsWith(".html") && !name.endsWith(".htm")) {
      throw new IllegalArgumentException("--out " + file + ": the kind of a report is given by its name: *.json"
          + " (summary), *.xml (JUnit), *.html (report)");
    }
  }

  static ObjectNode summaryJson(RunFollower.Outcome o, int exitCode) {
    ObjectNode root = JSON.createObjectNode();
    root.put("testRunId", o.summary() == null ? o.run().path("testRunId").asText() : o.summary().path("testRunId").asText());
    root.put("status", o.status());
    root.put("exitCode", exitCode);
    root.put("abortSource", o.abortSource().isEmpty() ? null : o.abortSource());
    root.put("reason", o.reason());
    root.set("verdict", o.verdict());
    root.set("totals", o.totals());
    root.put("complete", o.complete());
    if (!o.complete()) {
      root.put("incomplete", o.incompleteWhy());
    }
    if (o.degraded() != null) {
      root.put("degraded", o.degraded());
    }
    root.set("metadata", o.run().path("metadata"));
    root.set("history", o.run().path("history"));
    root.set("summary", o.summary());
    return root;
  }

  static String junit(RunFollower.Outcome o) {
    return junit(o, null);
  }

  /** JUnit XML: a test case per threshold, per regression limit of {@code gate} (when judged), and the run's end. */
  static String junit(RunFollower.Outcome o, dev.loadtest.cli.follow.RegressionGate gate) {
    JsonNode results = o.summary() == null ? JSON.createArrayNode() : o.summary().path("thresholds").path("results");
    String name = o.run().path("metadata").path("name").asText(o.run().path("testRunId").asText("run"));
    double seconds = o.summary() == null ? 0 : o.summary().path("durationSeconds").asDouble();
    List<String[]> cases = new ArrayList<>(); // classname, name, failure (null: passed)
    for (JsonNode t : results) {
      String label = t.path("threshold").asText();
      int colon = label.indexOf(": ");
      String metric = colon < 0 ? label : label.substring(0, colon);
      String expr = colon < 0 ? label : label.substring(colon + 2);
      String state = t.path("state").asText();
      String value = t.path("value").isNumber() ? SummaryText.number(t.path("value").asDouble()) : "none";
      cases.add(new String[] {metric, expr, switch (state) {
        case "PASSED" -> null;
        case "FAILED" -> "threshold " + expr + " failed on " + metric + ": value " + value;
        case "NO_DATA" -> "threshold " + expr + " on " + metric + " had no samples (counted as failed)";
        default -> "threshold " + expr + " on " + metric + " has no final result (" + state + ")";
      }});
    }
    if (gate != null && gate.checks() != null && gate.note() == null) {
      for (JsonNode c : gate.checks()) {
        String state = c.path("state").asText();
        cases.add(new String[] {"regression", c.path("regression").asText(), state.equals("EXCEEDED")
            ? c.path("message").asText() + " (baseline run " + gate.baseline() + ")" : null});
      }
    }
    String end = switch (o.status()) {
      case "FINISHED" -> null;
      case "ABORTED" -> "the run was aborted" + ("threshold".equals(o.abortSource()) ? " by a threshold" : "") + ": " + o.reason();
      default -> "the run ended " + o.status() + ": " + o.reason();
    };
    cases.add(new String[] {"run", "the run finishes", end});
    if (!o.complete()) {
      cases.add(new String[] {"run", "the results are complete", o.incompleteWhy()});
    }
    long failures = cases.stream().filter(c -> c[2] != null).count();
    StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.append(String.format(Locale.ROOT, "<testsuites name=\"loadtest\" tests=\"%d\" failures=\"%d\" time=\"%.3f\">%n",
        cases.size(), failures, seconds));
    x.append(String.format(Locale.ROOT, "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\""
        + " timestamp=\"%s\">%n", xml("loadtest " + name), cases.size(), failures, seconds, Instant.now()));
    for (String[] c : cases) {
      x.append("    <testcase classname=\"").append(xml(c[0])).append("\" name=\"").append(xml(c[1])).append('"');
      if (c[2] == null) {
        x.append("/>\n");
      } else {
        String type = c[0].equals("regression") || c[0].equals("run") ? c[0] : "threshold";
        x.append(">\n      <failure message=\"").append(xml(c[2])).append("\" type=\"").append(type).append("\">")
            .append(xml(c[2])).append("</failure>\n    </testcase>\n");
      }
    }
    x.append("  </testsuite>\n</testsuites>\n");
    return x.toString();
  }

  /** The points of each chart from the API, per chart: columns t and the lines' stats. */
  static Map<Chart, JsonNode> series(ApiClient api, RunFollower.Outcome o) throws IOException, InterruptedException {
    Map<Chart, JsonNode> out = new LinkedHashMap<>();
    String run = o.summary() == null ? null : o.summary().path("testRunId").asText();
    if (run == null) {
      return out;
    }
    for (Chart c : CHARTS) {
      boolean present = false;
      for (JsonNode m : o.summary().path("metrics")) {
        present |= c.metric().equals(m.path("metric").asText()) && m.path("samples").asLong() > 0;
      }
      if (!present) {
        continue;
      }
      String stats = String.join(",", c.lines().stream().map(Line::stat).toList());
      out.put(c, api.get("/runs/" + ApiClient.enc(run) + "/timeseries", Map.of("metric", c.metric(), "stat", stats,
          "maxPoints", "600", "analysis", o.summary().path("analysisId").asText(""))));
    }
    return out;
  }

  static String html(RunFollower.Outcome o, int exitCode, Map<Chart, JsonNode> series) {
    return html(o, exitCode, series, null, null);
  }

  /** The HTML report, with the regression gate's limits and the run's performance insights when there are. */
  public static String html(RunFollower.Outcome o, int exitCode, Map<Chart, JsonNode> series,
      dev.loadtest.cli.follow.RegressionGate gate, JsonNode insights) {
    JsonNode s = o.summary();
    String name = o.run().path("metadata").path("name").asText(s == null ? "" : s.path("testRunId").asText());
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>").append(esc(name))
        .append(" — loadtest report</title>\n<style>\n")
        .append("body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;background:#fff}\n")
        .append("h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}\n")
        .append(".meta{color:#555}.pass{color:#15803d;font-weight:600}.fail{color:#b91c1c;font-weight:600}\n")
        .append("table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}\n")
        .append("td.n{text-align:right;font-variant-numeric:tabular-nums}\n")
        .append(".charts{display:grid;grid-template-columns:repeat(2,600px);gap:16px}\n")
        .append(".chart{border:1px solid #ddd;padding:8px}.chart h3{font-size:14px;margin:0 0 4px}\n")
        .append(".legend span{margin-right:12px}.legend i{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}\n")
        .append("</style></head><body>\n");
    boolean passed = exitCode == 0;
    h.append("<h1>").append(esc(name)).append("</h1>\n<p class=\"meta\">run ")
        .append(esc(s == null ? "" : s.path("testRunId").asText())).append(" · ").append(esc(o.status()))
        .append(s == null ? "" : " · " + esc(SummaryText.millis(
            s.path("durationSeconds").asDouble() * 1000)))
        .append(s == null ? "" : " · from " + Instant.ofEpochMilli(s.path("from").asLong()) + " to "
            + Instant.ofEpochMilli(s.path("to").asLong()))
        .append(" · <span class=\"").append(passed ? "pass\">PASSED" : "fail\">FAILED").append("</span> (exit code ")
        .append(exitCode).append(")</p>\n");
    if (!o.reason().isEmpty()) {
      h.append("<p class=\"meta\">").append(esc(o.reason())).append("</p>\n");
    }
    if (o.degraded() != null) {
      h.append("<p class=\"fail\">DEGRADED: ").append(esc(o.degraded())).append("</p>\n");
    }
    if (!o.complete()) {
      h.append("<p class=\"fail\">Incomplete results: ").append(esc(o.incompleteWhy())).append("</p>\n");
    }
    h.append("<h2>Thresholds</h2>\n");
    JsonNode thresholds = s == null ? JSON.createArrayNode() : s.path("thresholds").path("results");
    if (thresholds.isEmpty()) {
      h.append("<p class=\"meta\">The plan has no thresholds.</p>\n");
    } else {
      h.append("<table id=\"thresholds\"><tr><th>metric</th><th>threshold</th><th>value</th><th>result</th></tr>\n");
      for (JsonNode t : thresholds) {
        String label = t.path("threshold").asText();
        int colon = label.indexOf(": ");
        String state = t.path("state").asText();
        h.append("<tr><td>").append(esc(colon < 0 ? label : label.substring(0, colon))).append("</td><td><code>")
            .append(esc(colon < 0 ? "" : label.substring(colon + 2))).append("</code></td><td class=\"n\">")
            .append(t.path("value").isNumber() ? SummaryText.number(t.path("value").asDouble()) : "no samples")
            .append("</td><td class=\"").append(state.equals("PASSED") ? "pass" : "fail").append("\">")
            .append(esc(state)).append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    if (gate != null && gate.checks() != null && gate.note() == null) {
      h.append("<h2>Regression gate</h2>\n<p class=\"meta\">against run ").append(esc(gate.baseline())).append(" (")
          .append(esc(gate.chosen())).append(")</p>\n<table id=\"regressions\"><tr><th>limit</th><th>baseline</th>"
              + "<th>this run</th><th>change</th><th>result</th></tr>\n");
      for (JsonNode c : gate.checks()) {
        String state = c.path("state").asText();
        h.append("<tr><td><code>").append(esc(c.path("regression").asText())).append("</code></td><td class=\"n\">")
            .append(c.path("baseline").isNumber() ? SummaryText.number(c.path("baseline").asDouble()) : "-")
            .append("</td><td class=\"n\">")
            .append(c.path("value").isNumber() ? SummaryText.number(c.path("value").asDouble()) : "-")
            .append("</td><td class=\"n\">").append(esc(c.path("change").asText("-"))).append("</td><td class=\"")
            .append(state.equals("EXCEEDED") ? "fail" : "pass").append("\">").append(esc(state)).append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    if (insights != null) {
      h.append("<h2>Performance insights</h2>\n");
      if (insights.path("insights").isEmpty()) {
        h.append("<p class=\"meta\">").append(insights.path("complete").asBoolean() ? "No rule found anything to say."
            : "None yet (not complete when the report was written).").append("</p>\n");
      } else {
        h.append("<table id=\"insights\"><tr><th>insight</th><th>when</th><th>what</th></tr>\n");
        long start = s == null ? 0 : s.path("from").asLong();
        for (JsonNode i : insights.path("insights")) {
          h.append("<tr><td class=\"").append(i.path("severity").asText().equals("warning") ? "fail" : "meta")
              .append("\">").append(esc(i.path("title").asText())).append("<br><code>").append(esc(i.path("rule")
                  .asText())).append("</code></td><td>").append(Math.max(0, (i.path("from").asLong() - start) / 1000))
              .append(" s - ").append(Math.max(0, (i.path("to").asLong() - start) / 1000)).append(" s</td><td>")
              .append(esc(i.path("message").asText())).append("</td></tr>\n");
        }
        h.append("</table>\n");
      }
    }
    h.append("<h2>Over time</h2>\n<div class=\"charts\">\n");
    for (Chart c : CHARTS) {
      JsonNode data = series.get(c);
      h.append("<div class=\"chart\" id=\"chart-").append(c.metric()).append("\"><h3>").append(esc(c.title()))
          .append("</h3>\n<div class=\"legend\">");
      for (Line l : c.lines()) {
        h.append("<span><i style=\"background:").append(l.color()).append("\"></i>").append(esc(l.label())).append("</span>");
      }
      h.append("</div>\n").append(data == null ? "<p class=\"meta\">no samples</p>" : svg(c, data)).append("</div>\n");
    }
    h.append("</div>\n");
    h.append("<h2>Metrics</h2>\n<table id=\"metrics\"><tr><th>metric</th><th>type</th><th>samples</th><th>stats</th></tr>\n");
    if (s != null) {
      for (JsonNode m : s.path("metrics")) {
        h.append("<tr><td>").append(esc(m.path("metric").asText())).append("</td><td>").append(esc(m.path("type").asText()))
            .append("</td><td class=\"n\">").append(m.path("samples").asLong()).append("</td><td>");
        m.path("stats").fields().forEachRemaining(e -> h.append(esc(e.getKey())).append("=")
            .append(e.getValue().isNumber() ? SummaryText.number(e.getValue().asDouble()) : "-").append(" "));
        h.append("</td></tr>\n");
      }
    }
    h.append("</table>\n");
    JsonNode checks = s == null ? JSON.createObjectNode() : s.path("checks");
    if (!checks.path("byCheck").isEmpty()) {
      h.append("<h2>Checks</h2>\n<table id=\"checks\"><tr><th>check</th><th>passes</th><th>fails</th></tr>\n");
      for (JsonNode c : checks.path("byCheck")) {
        h.append("<tr><td>").append(esc(c.path("check").asText())).append("</td><td class=\"n\">")
            .append(c.path("passes").asLong()).append("</td><td class=\"n\">").append(c.path("fails").asLong())
            .append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    h.append("<p class=\"meta\">Generated by loadtest at ").append(Instant.now()).append(".</p>\n</body></html>\n");
    return h.toString();
  }

  /** A line chart of the series' points (columns t, then one per line) as inline SVG, 580 x 220. */
  public static String svg(Chart c, JsonNode data) {
    int w = 580;
    int hgt = 220;
    int left = 56;
    int right = 10;
    int top = 10;
    int bottom = 26;
    JsonNode points = data.path("series").path(0).path("points");
    if (points.isEmpty()) {
      return "<p class=\"meta\">no points</p>";
    }
    long t0 = points.get(0).get(0).asLong();
    long t1 = Math.max(t0 + 1000, points.get(points.size() - 1).get(0).asLong());
    double max = 0;
    for (JsonNode p : points) {
      for (int i = 1; i < p.size(); i++) {
        max = Math.max(max, scale(c, p.get(i).asDouble()));
      }
    }
    max = niceCeiling(max);
    StringBuilder g = new StringBuilder();
    g.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
        + " font-size=\"11\" font-family=\"sans-serif\">", w, hgt, w, hgt));
    for (int i = 0; i <= 4; i++) {
      double v = max * i / 4;
      double y = top + (hgt - top - bottom) * (1 - i / 4.0);
      g.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
          + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>", left, w - right, y, y, left - 4,
          y + 4, esc(SummaryText.number(v) + (i == 4 ? " " + c.unit() : ""))));
    }
    double secs = (t1 - t0) / 1000.0;
    for (int i = 0; i <= 4; i++) {
      double x = left + (w - left - right) * i / 4.0;
      long at = Math.round(secs * i / 4);
      g.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" fill=\"#555\">%d:%02d</text>", x,
          hgt - 8, i == 0 ? "start" : i == 4 ? "end" : "middle", at / 60, at % 60));
    }
    for (int li = 0; li < c.lines().size(); li++) {
      StringBuilder pts = new StringBuilder();
      for (JsonNode p : points) {
        JsonNode v = p.get(li + 1);
        if (v == null || !v.isNumber()) {
          continue;
        }
        double x = left + (w - left - right) * (p.get(0).asLong() - t0) / (double) (t1 - t0);
        double y = top + (hgt - top - bottom) * (1 - (max == 0 ? 0 : scale(c, v.asDouble()) / max));
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      }
      g.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(c.lines().get(li).color())
          .append("\" points=\"").append(pts.toString().strip()).append("\"/>");
    }
    g.append("</svg>");
    return g.toString();
  }

  private static double scale(Chart c, double v) {
    return c.unit().equals("%") ? v * 100 : v;
  }

  static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (v <= m * p) {
        return m * p;
      }
    }
    return 10 * p;
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  static String xml(String s) {
    return esc(s).replace("'", "&apos;").replaceAll("[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]", "");
  }
}
