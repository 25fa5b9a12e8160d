package dev.loadtest.cli.follow;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The load test a finished run belongs to, as {@code loadtest run} closes with it: the trend of its last
 * ended runs (p(95), errors, requests/s; from {@code GET /load-tests/{id}}) and this run's own numbers (from
 * its summary, which the stored trend may not hold yet), as k6 Cloud shows a test's trend beside a run.
 *
 * @param earlier the load test's ended runs before this one, oldest first (at most {@link #SHOWN} - 1)
 */
public record LoadTestTrend(String id, String name, List<Point> earlier, Point now) {
  /** Runs shown, this one included. */
  static final int SHOWN = 5;

  /** One run's numbers (null: not known). */
  public record Point(String testRunId, Double p95Ms, Double errorRate, Double requestsPerSecond, boolean baseline) {}

  /**
   * The trend of load test {@code id} up to run {@code run}, whose {@code summary} is given. A load test the
   * API does not know yet (this is its first stored run) has no earlier runs.
   */
  public static LoadTestTrend read(ApiClient api, String id, String name, String run, JsonNode summary)
      throws IOException, InterruptedException {
    List<Point> earlier = new ArrayList<>();
    try {
      JsonNode t = api.get("/load-tests/" + ApiClient.enc(id), java.util.Map.of("limit", Integer.toString(SHOWN + 1)));
      for (JsonNode p : t.path("trend")) {
        if (!p.path("testRunId").asText().equals(run)) {
          earlier.add(new Point(p.path("testRunId").asText(), number(p.path("p95Ms")), number(p.path("errorRate")),
              number(p.path("requestsPerSecond")), p.path("baseline").asBoolean()));
        }
      }
    } catch (ApiClient.ApiError e) {
      if (e.status() != 404) {
        throw e;
      }
    }
    if (earlier.size() > SHOWN - 1) {
      earlier = List.copyOf(earlier.subList(earlier.size() - (SHOWN - 1), earlier.size()));
    }
    Point now = new Point(run, stat(summary, "http_req_duration", "p(95)"), stat(summary, "http_req_failed", "rate"),
        stat(summary, "http_reqs", "rate"), false);
    return new LoadTestTrend(id, name, earlier, now);
  }

  /** The lines {@code loadtest run} prints; {@code link} is the load test's page in the web app. */
  public String render(String link) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%n  █ LOAD TEST %s (%s)%n%n", name, id));
    if (earlier.isEmpty()) {
      b.append("    its first ended run: nothing to trend yet\n");
    } else {
      b.append(String.format(Locale.ROOT, "    the last %d run(s), oldest first, this one last%s%n", earlier.size() + 1,
          earlier.stream().anyMatch(Point::baseline) ? " (* the baseline)" : ""));
      int lines = line(b, "p(95)", Point::p95Ms, v -> String.format(Locale.ROOT, "%.2fms", v))
          + line(b, "errors", Point::errorRate, v -> String.format(Locale.ROOT, "%.2f%%", v * 100))
          + line(b, "req/s", Point::requestsPerSecond, v -> String.format(Locale.ROOT, "%.1f", v));
      if (lines == 0) {
        b.append("    no HTTP requests in these runs: nothing to trend\n");
      }
    }
    b.append("    ").append(link).append('\n');
    return b.toString();
  }

  /** One stat's line over the runs ("-" where a run lacks it); none (0) when no run has it. */
  private int line(StringBuilder b, String label, Function<Point, Double> stat, Function<Double, String> format) {
    if (stat.apply(now) == null && earlier.stream().allMatch(p -> stat.apply(p) == null)) {
      return 0;
    }
    List<String> parts = new ArrayList<>();
    for (Point p : earlier) {
      Double v = stat.apply(p);
      parts.add((v == null ? "-" : format.apply(v)) + (p.baseline() ? "*" : ""));
    }
    parts.add(stat.apply(now) == null ? "-" : format.apply(stat.apply(now)));
    b.append(String.format(Locale.ROOT, "    %-8s %s%n", label, String.join(" → ", parts)));
    return 1;
  }

  private static Double number(JsonNode n) {
    return n.isNumber() ? n.asDouble() : null;
  }

  /** A stat of a metric in a summary ({@code GET /runs/{id}/summary}), or null. */
  static Double stat(JsonNode summary, String metric, String stat) {
    if (summary == null) {
      return null;
    }
    for (JsonNode m : summary.path("metrics")) {
      if (m.path("metric").asText().equals(metric)) { // (sub-metrics are nested in it)
        JsonNode v = m.path("stats").path(stat);
        return v.isNumber() ? v.asDouble() : null;
      }
    }
    return null;
  }
}
