package dev.loadtest.cli.follow;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The end-of-test summary as text, laid out as k6's: thresholds, then the metrics by kind, then checks. */
public final class SummaryText {
  private static final Set<String> HTTP = Set.of("http_reqs", "http_req_duration", "http_req_failed", "http_req_waiting",
      "http_req_connecting", "http_req_tls_handshaking", "http_req_sending", "http_req_receiving", "http_req_blocked");
  private static final Set<String> EXECUTION = Set.of("iterations", "iteration_duration", "dropped_iterations", "vus",
      "vus_max");
  private static final Set<String> NETWORK = Set.of("data_sent", "data_received");
  private static final int WIDTH = 36;

  private SummaryText() {}

  /** The summary of {@code summary} (the API's answer), with the run's end and the verdict. */
  public static String render(JsonNode summary, RunFollower.Outcome outcome) {
    StringBuilder b = new StringBuilder();
    JsonNode thresholds = summary.path("thresholds").path("results");
    if (!thresholds.isEmpty()) {
      b.append("\n  █ THRESHOLDS\n");
      Map<String, List<JsonNode>> byMetric = new LinkedHashMap<>();
      for (JsonNode t : thresholds) {
        String label = t.path("threshold").asText();
        int colon = label.indexOf(": ");
        byMetric.computeIfAbsent(colon < 0 ? label : label.substring(0, colon), k -> new ArrayList<>()).add(t);
      }
      byMetric.forEach((metric, list) -> {
        b.append("\n    ").append(metric).append('\n');
        for (JsonNode t : list) {
          String label = t.path("threshold").asText();
          String expr = label.substring(label.indexOf(": ") + 2);
          String state = t.path("state").asText();
          String mark = switch (state) {
            case "PASSED" -> "✓";
            case "FAILED" -> "✗";
            default -> "?";
          };
          String agg = expr.replaceAll("\\s*(<=|>=|==|!=|<|>|===).*$", "").strip();
          String value = t.path("value").isNumber() ? agg + "=" + value(metric, agg, t.path("value").asDouble())
              : "no samples";
          b.append("    ").append(mark).append(" '").append(expr).append("' ").append(value)
              .append(state.equals("PASSED") || state.equals("FAILED") ? "" : " (" + state + ")").append('\n');
        }
      });
    }
    b.append("\n  █ TOTAL RESULTS\n");
    if (summary.path("percentileMethod").asText("").equals("k6")) {
      b.append("\n    percentiles: k6's interpolation between samples (within 1/128 of k6's own)\n");
    }
    JsonNode checks = summary.path("checks");
    long passes = checks.path("passed").asLong();
    long fails = checks.path("failed").asLong();
    if (passes + fails > 0) {
      b.append('\n');
      line(b, "checks_total", (passes + fails) + "");
      line(b, "checks_succeeded", percent(passes, passes + fails) + " " + passes + " out of " + (passes + fails));
      line(b, "checks_failed", percent(fails, passes + fails) + " " + fails + " out of " + (passes + fails));
      b.append('\n');
      for (JsonNode c : checks.path("byCheck")) {
        long p = c.path("passes").asLong();
        long f = c.path("fails").asLong();
        b.append("    ").append(f == 0 ? "✓ " : "✗ ").append(c.path("check").asText()).append('\n');
        if (f > 0) {
          b.append("      ↳  ").append(percent(p, p + f)).append(" — ✓ ").append(p).append(" / ✗ ").append(f).append('\n');
        }
      }
    }
    double seconds = Math.max(1, summary.path("durationSeconds").asDouble(1));
    section(b, "HTTP", summary, HTTP, seconds);
    section(b, "EXECUTION", summary, EXECUTION, seconds);
    section(b, "NETWORK", summary, NETWORK, seconds);
    Set<String> known = new java.util.HashSet<>(HTTP);
    known.addAll(EXECUTION);
    known.addAll(NETWORK);
    known.add("checks");
    List<String> custom = new ArrayList<>();
    summary.path("metrics").forEach(m -> {
      if (!known.contains(m.path("metric").asText())) {
        custom.add(m.path("metric").asText());
      }
    });
    section(b, "CUSTOM", summary, Set.copyOf(custom), seconds);
    b.append('\n');
    b.append(String.format(Locale.ROOT, "  run %s %s in %s%s%n", summary.path("testRunId").asText(),
        outcome.status().toLowerCase(Locale.ROOT), RunFollower.clock(seconds),
        outcome.reason().isEmpty() ? "" : " (" + outcome.reason() + ")"));
    return b.toString();
  }

  private static void section(StringBuilder b, String title, JsonNode summary, Set<String> names, double seconds) {
    List<JsonNode> metrics = new ArrayList<>();
    summary.path("metrics").forEach(m -> {
      if (names.contains(m.path("metric").asText()) && m.path("samples").asLong() > 0) {
        metrics.add(m);
      }
    });
    if (metrics.isEmpty()) {
      return;
    }
    metrics.sort(java.util.Comparator.comparing(m -> m.path("metric").asText()));
    b.append("\n    ").append(title).append('\n');
    for (JsonNode m : metrics) {
      String name = m.path("metric").asText();
      line(b, name, stats(name, m.path("type").asText(), m.path("stats")));
      for (JsonNode s : m.path("submetrics")) {
        StringBuilder tags = new StringBuilder("  { ");
        s.path("tags").fields().forEachRemaining(e -> tags.append(tags.length() > 4 ? ", " : "").append(e.getKey())
            .append(':').append(e.getValue().asText()));
        line(b, tags.append(" }").toString(), stats(name, m.path("type").asText(), s.path("stats")));
      }
    }
  }

  private static String stats(String metric, String type, JsonNode stats) {
    return switch (type) {
      case "counter" -> String.format(Locale.ROOT, "%-10s %s/s", count(metric, stats.path("count").asDouble()),
          count(metric, stats.path("rate").asDouble()));
      case "rate" -> {
        long p = stats.path("passes").asLong();
        long f = stats.path("fails").asLong();
        yield percent(p, p + f) + " " + p + " out of " + (p + f);
      }
      case "gauge" -> String.format(Locale.ROOT, "%-10s min=%s max=%s", number(stats.path("value").asDouble()),
          number(stats.path("min").asDouble()), number(stats.path("max").asDouble()));
      default -> {
        StringBuilder s = new StringBuilder();
        stats.fields().forEachRemaining(e -> s.append(s.isEmpty() ? "" : " ").append(e.getKey()).append('=')
            .append(e.getValue().isNumber() ? trend(metric, e.getValue().asDouble()) : "-"));
        yield s.toString();
      }
    };
  }

  private static void line(StringBuilder b, String name, String value) {
    StringBuilder dots = new StringBuilder(name);
    while (dots.length() < WIDTH) {
      dots.append('.');
    }
    b.append("    ").append(dots).append(": ").append(value).append('\n');
  }

  private static String value(String metric, String agg, double v) {
    if (agg.equals("rate") && !metric.startsWith("http_reqs") && !metric.startsWith("iterations")) {
      return String.format(Locale.ROOT, "%.2f%%", v * 100);
    }
    if (agg.equals("count") || agg.equals("rate") || agg.equals("value")) {
      return number(v);
    }
    return trend(metric, v);
  }

  private static String trend(String metric, double v) {
    return metric.startsWith("http_req_") || metric.equals("iteration_duration") || metric.endsWith("_duration")
        ? millis(v) : number(v);
  }

  private static String count(String metric, double v) {
    return metric.startsWith("data_") ? bytes(v) : number(v);
  }

  /** A duration in milliseconds as k6 prints it: 812µs, 45.12ms, 1.23s, 2m3s. */
  public static String millis(double ms) {
    if (ms < 1) {
      return String.format(Locale.ROOT, "%.0fµs", ms * 1000);
    }
    if (ms < 1000) {
      return String.format(Locale.ROOT, "%.2fms", ms);
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.2fs", ms / 1000);
    }
    return String.format(Locale.ROOT, "%dm%.0fs", (long) (ms / 60_000), (ms % 60_000) / 1000);
  }

  /** A number as the summary prints it: whole numbers as they are, others with 4 significant digits. */
  public static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : "%.4g", v);
  }

  static String bytes(double v) {
    String[] units = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (Math.abs(v) >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return String.format(Locale.ROOT, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  }

  static String percent(long part, long whole) {
    return whole == 0 ? "0.00%" : String.format(Locale.ROOT, "%.2f%%", 100.0 * part / whole);
  }
}
