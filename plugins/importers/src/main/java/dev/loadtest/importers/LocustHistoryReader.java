package dev.loadtest.importers;

import dev.loadtest.generator.plugin.ToolTimings;
import dev.loadtest.schemas.metrics.MetricType;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Locust's {@code PREFIX_stats_history.csv} ({@code --csv PREFIX}; with {@code --csv-full-history} a row per
 * request name each interval, else the "Aggregated" rows alone). It holds aggregates, not requests, so an import is
 * an approximation, and says so: each row's new requests (its Total Request Count less the name's previous row's)
 * become that many requests in that second, their response times spread over the row's percentiles (50% to 100%,
 * below the median from the run's minimum), the new failures marked failed; the user count becomes {@code vus}.
 * Lost: each request's own time and response time (rebuilt from the percentiles), status codes (Locust's CSV has
 * none: the tag is empty), and, without full history, the names (everything is "Aggregated").
 */
final class LocustHistoryReader {
  private static final String[] PERCENTILES = {"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%",
      "99.99%", "100%"};
  private static final double[] LEVELS = {0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0};

  private LocustHistoryReader() {}

  static void read(BufferedReader in, Emitter out) throws IOException, InterruptedException {
    Csv csv = new Csv(in, ',');
    List<String> header = csv.next();
    Map<String, Integer> col = new HashMap<>();
    for (int i = 0; header != null && i < header.size(); i++) {
      col.put(header.get(i).strip(), i);
    }
    for (String required : List.of("Timestamp", "User Count", "Type", "Name", "Total Request Count",
        "Total Failure Count", "Total Min Response Time", "50%", "100%")) {
      if (!col.containsKey(required)) {
        throw new ImportException("line 1", "Locust's _stats_history.csv starts with a header line with " + required
            + " (found " + (header == null ? "nothing" : String.join(",", header)) + ")");
      }
    }
    boolean fullHistory = false;
    List<List<String>> rows = new java.util.ArrayList<>();
    List<Long> lines = new java.util.ArrayList<>();
    List<String> row;
    while ((row = csv.next()) != null) {
      if (row.size() != header.size()) {
        throw new ImportException("line " + csv.line(), "has " + row.size() + " fields, the header " + header.size());
      }
      fullHistory |= !row.get(col.get("Name")).equals("Aggregated");
      rows.add(row);
      lines.add(csv.line());
    }
    if (!fullHistory) {
      out.note("rows of \"Aggregated\" only: every request is named Aggregated (run Locust with --csv-full-history"
          + " for names)");
    }
    out.note("of Locust's aggregates: requests rebuilt from each interval's counts and percentiles (its response"
        + " times and statuses are not in the CSV)");
    Map<String, long[]> previous = new HashMap<>();
    long lastUsersSecond = Long.MIN_VALUE;
    for (int r = 0; r < rows.size(); r++) {
      row = rows.get(r);
      String where = "line " + lines.get(r);
      String name = row.get(col.get("Name"));
      if (fullHistory && name.equals("Aggregated")) {
        long t = (long) number(row, col, "Timestamp", where);
        if (t != lastUsersSecond) {
          out.point("vus", MetricType.GAUGE, t * 1_000_000, Map.of(), number(row, col, "User Count", where));
          lastUsersSecond = t;
        }
        continue; // the per-name rows hold the requests
      }
      long t = (long) number(row, col, "Timestamp", where);
      if (!fullHistory && t != lastUsersSecond) {
        out.point("vus", MetricType.GAUGE, t * 1_000_000, Map.of(), number(row, col, "User Count", where));
        lastUsersSecond = t;
      }
      String method = row.get(col.get("Type"));
      long total = (long) number(row, col, "Total Request Count", where);
      long failures = (long) number(row, col, "Total Failure Count", where);
      long[] prev = previous.getOrDefault(method + " " + name, new long[2]);
      long n = total - prev[0];
      long f = failures - prev[1];
      if (n < 0 || f < 0) {
        throw new ImportException(where, "Total Request Count or Total Failure Count of " + name + " went down");
      }
      previous.put(method + " " + name, new long[] {total, failures});
      if (n == 0) {
        continue;
      }
      double min = number(row, col, "Total Min Response Time", where);
      double[] at = new double[PERCENTILES.length];
      for (int i = 0; i < PERCENTILES.length; i++) {
        Integer c = col.get(PERCENTILES[i]);
        String v = c == null ? "N/A" : row.get(c);
        at[i] = v.equals("N/A") || v.isEmpty() ? (i == 0 ? min : at[i - 1]) : number(row, col, PERCENTILES[i], where);
      }
      for (long k = 0; k < n; k++) {
        double q = (k + 0.5) / n;
        double ms = quantile(q, min, at);
        // failures spread evenly over the interval's requests
        boolean failed = f > 0 && (k * f) / n != ((k + 1) * f) / n;
        out.request(t * 1_000_000 + k * 1_000_000 / n, name, method, -1, "locust", "", failed, Map.of(),
            ToolTimings.responseTime(Math.round(ms * 1000), 0));
      }
    }
  }

  /** The response time at quantile {@code q}: linear between the known percentiles, from {@code min} below 50%. */
  static double quantile(double q, double min, double[] at) {
    if (q <= LEVELS[0]) {
      return min + (at[0] - min) * (q / LEVELS[0]);
    }
    for (int i = 1; i < LEVELS.length; i++) {
      if (q <= LEVELS[i]) {
        double f = (q - LEVELS[i - 1]) / (LEVELS[i] - LEVELS[i - 1]);
        return at[i - 1] + (at[i] - at[i - 1]) * f;
      }
    }
    return at[at.length - 1];
  }

  private static double number(List<String> row, Map<String, Integer> col, String name, String where) {
    String v = row.get(col.get(name)).strip();
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new ImportException(where, name + " \"" + (v.length() > 40 ? v.substring(0, 40) + "..." : v)
          + "\" is not a number");
    }
  }
}
