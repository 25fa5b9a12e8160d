package dev.loadtest.importers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.schemas.metrics.BuiltinMetrics;
import dev.loadtest.schemas.metrics.MetricType;
import java.io.BufferedReader;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * k6's own outputs: {@code --out json} (NDJSON: Metric declarations, then Points) and {@code --out csv}. k6 writes
 * an HTTP request as one point per {@code http_req*} metric with the same time and tags, one after the other; they
 * are put back together into one request. Tags that name a single request ({@code url}, {@code error} text,
 * {@code proto}, {@code subproto}, {@code tls_version}, {@code ip}) are dropped: they make a series per request
 * ({@code name} already holds the URL when the script names nothing). {@code data_sent} and
 * {@code data_received} are kept as k6 wrote them (per iteration), so requests carry no bytes. The CSV does not
 * declare metric types: k6's built-in metrics have theirs, other metrics are imported as trends (noted).
 */
public final class K6Reader {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Set<String> HTTP = Set.of("http_reqs", "http_req_duration", "http_req_blocked", "http_req_connecting",
      "http_req_tls_handshaking", "http_req_sending", "http_req_waiting", "http_req_receiving", "http_req_failed");
  private static final Set<String> DROPPED = Set.of("url", "error", "proto", "subproto", "tls_version", "ip");
  private static final Set<String> REQUEST_TAGS = Set.of("name", "method", "status", "scenario", "group",
      "expected_response");

  private K6Reader() {}

  /** The points of one request as they come, until a point of another request or another metric. */
  private static final class Pending {
    final String key;
    final long timeUs;
    final Map<String, String> tags;
    final Map<String, Double> values = new HashMap<>();
    final String where;

    Pending(String key, long timeUs, Map<String, String> tags, String where) {
      this.key = key;
      this.timeUs = timeUs;
      this.tags = tags;
      this.where = where;
    }
  }

  /** Reassembles requests from points; other points pass through. */
  private static final class Assembler {
    private final Emitter out;
    private Pending pending;

    Assembler(Emitter out) {
      this.out = out;
    }

    void point(String metric, MetricType type, long timeUs, Map<String, String> tags, double value, String where)
        throws InterruptedException {
      if (!HTTP.contains(metric)) {
        flush();
        out.point(metric, type, timeUs, keep(tags), value);
        return;
      }
      String key = timeUs + "\n" + tags;
      if (pending != null && (!pending.key.equals(key) || pending.values.containsKey(metric))) {
        flush();
      }
      if (pending == null) {
        pending = new Pending(key, timeUs, tags, where);
      }
      pending.values.put(metric, value);
    }

    void flush() throws InterruptedException {
      Pending p = pending;
      pending = null;
      if (p == null) {
        return;
      }
      if (!p.values.containsKey("http_reqs")) {
        out.note("http_req_* points without their http_reqs point not imported");
        return;
      }
      Map<String, String> t = p.tags;
      boolean failed = p.values.containsKey("http_req_failed") ? p.values.get("http_req_failed") != 0
          : "false".equals(t.get("expected_response"));
      int status;
      try {
        status = Integer.parseInt(t.getOrDefault("status", "0"));
      } catch (NumberFormatException e) {
        throw new ImportException(p.where, "status \"" + t.get("status") + "\" is not an HTTP status");
      }
      Map<String, String> extra = new TreeMap<>(keep(t));
      REQUEST_TAGS.forEach(extra::remove);
      out.request(p.timeUs, t.getOrDefault("name", t.getOrDefault("url", "")), t.getOrDefault("method", ""), status,
          t.getOrDefault("scenario", "default"), t.getOrDefault("group", ""), failed, extra, new SampleSink
              .RequestTimings(us(p, "http_req_duration"), us(p, "http_req_blocked"), us(p, "http_req_connecting"),
              us(p, "http_req_tls_handshaking"), us(p, "http_req_sending"), us(p, "http_req_waiting"),
              us(p, "http_req_receiving"), 0, 0));
    }

    private static long us(Pending p, String metric) {
      return Math.max(0, Math.round(p.values.getOrDefault(metric, 0.0) * 1000));
    }
  }

  private static Map<String, String> keep(Map<String, String> tags) {
    if (tags.keySet().stream().noneMatch(DROPPED::contains)) {
      return tags;
    }
    Map<String, String> m = new TreeMap<>(tags);
    DROPPED.forEach(m::remove);
    return m;
  }

  // ----------------------------------------------------------------------------------------------------- JSON

  static void json(BufferedReader in, Emitter out) throws IOException, InterruptedException {
    JsonLines lines = new JsonLines(out);
    Lines file = new Lines(in);
    String line;
    while ((line = file.next()) != null) {
      lines.line(line, "line " + file.number());
    }
    lines.end();
  }

  /**
   * A reader of k6's JSON output one line at a time (the k6 plug-in follows a running k6's output with it), into
   * {@code sink} with {@code planTags}.
   */
  public static ResultLines jsonLines(dev.loadtest.generator.sink.SampleSink sink, Map<String, String> planTags) {
    return new JsonLines(new Emitter(sink, planTags));
  }

  /** k6's JSON lines: Metric declarations (types) and Points, requests reassembled. */
  private static final class JsonLines implements ResultLines {
    private final Map<String, MetricType> types = new HashMap<>(BuiltinMetrics.all());
    private final Emitter out;
    private final Assembler a;

    JsonLines(Emitter out) {
      this.out = out;
      this.a = new Assembler(out);
    }

    @Override
    public long requests() {
      return out.requests;
    }

    @Override
    public void line(String line, String where) throws InterruptedException {
      if (line.isBlank()) {
        return;
      }
      JsonNode j;
      try {
        j = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        throw new ImportException(where, "not JSON: " + e.getOriginalMessage());
      }
      String metric = j.path("metric").asText("");
      switch (j.path("type").asText("")) {
        case "Metric" -> {
          String type = j.path("data").path("type").asText("");
          Optional<MetricType> t = MetricType.fromJsonName(type.toLowerCase(Locale.ROOT));
          if (t.isEmpty()) {
            throw new ImportException(where, "metric " + metric + " has type \"" + type + "\", not counter, gauge,"
                + " rate or trend");
          }
          types.put(name(metric, where), t.get());
        }
        case "Point" -> {
          JsonNode d = j.path("data");
          MetricType type = types.get(name(metric, where));
          if (type == null) {
            throw new ImportException(where, "a point of metric " + metric + ", which no Metric line declared before"
                + " it (k6 writes the declaration first)");
          }
          if (!d.path("value").isNumber()) {
            throw new ImportException(where, "a point without a numeric value");
          }
          Map<String, String> tags = new LinkedHashMap<>();
          d.path("tags").properties().forEach(e -> tags.put(e.getKey(), e.getValue().asText()));
          a.point(metric, type, time(d.path("time").asText(""), where), new TreeMap<>(tags),
              d.path("value").asDouble(), where);
        }
        default -> throw new ImportException(where, "neither a Metric nor a Point line of k6's JSON output");
      }
    }

    @Override
    public void end() throws InterruptedException {
      a.flush();
    }
  }

  private static String name(String metric, String where) {
    if (!BuiltinMetrics.NAME.matcher(metric).matches()) {
      throw new ImportException(where, "\"" + (metric.length() > 60 ? metric.substring(0, 60) + "..." : metric)
          + "\" is not a metric name");
    }
    return metric;
  }

  /** An RFC 3339 time, or epoch seconds, milliseconds, microseconds or nanoseconds (k6's CSV time formats). */
  static long time(String text, String where) {
    try {
      if (text.indexOf('T') > 0) {
        OffsetDateTime t = OffsetDateTime.parse(text);
        return Math.addExact(Math.multiplyExact(t.toEpochSecond(), 1_000_000L), t.getNano() / 1000);
      }
      long v = Long.parseLong(text.strip());
      int digits = Long.toString(Math.abs(v)).length();
      return digits <= 10 ? v * 1_000_000 : digits <= 13 ? v * 1000 : digits <= 16 ? v : v / 1000;
    } catch (DateTimeParseException | NumberFormatException | ArithmeticException e) {
      throw new ImportException(where, "time \"" + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
          + "\" is neither RFC 3339 nor epoch seconds, milliseconds, microseconds or nanoseconds");
    }
  }

  // ------------------------------------------------------------------------------------------------------ CSV

  static void csv(BufferedReader in, Emitter out) throws IOException, InterruptedException {
    Csv csv = new Csv(in, ',');
    List<String> header = csv.next();
    if (header == null || !header.contains("metric_name") || !header.contains("timestamp")
        || !header.contains("metric_value")) {
      throw new ImportException("line 1", "k6's CSV starts with a header line with metric_name, timestamp and"
          + " metric_value");
    }
    Map<String, MetricType> types = BuiltinMetrics.all();
    Assembler a = new Assembler(out);
    List<String> row;
    while ((row = csv.next()) != null) {
      String where = "line " + csv.line();
      if (row.size() != header.size()) {
        throw new ImportException(where, "has " + row.size() + " fields, the header " + header.size());
      }
      String metric = null;
      long timeUs = 0;
      double value = 0;
      Map<String, String> tags = new TreeMap<>();
      for (int i = 0; i < header.size(); i++) {
        String h = header.get(i);
        String v = row.get(i);
        switch (h) {
          case "metric_name" -> metric = name(v, where);
          case "timestamp" -> timeUs = time(v, where);
          case "metric_value" -> {
            try {
              value = Double.parseDouble(v);
            } catch (NumberFormatException e) {
              throw new ImportException(where, "metric_value \"" + v + "\" is not a number");
            }
          }
          case "extra_tags" -> {
            for (String kv : v.split("&")) {
              int eq = kv.indexOf('=');
              if (eq > 0) {
                tags.put(kv.substring(0, eq), kv.substring(eq + 1));
              }
            }
          }
          case "metadata" -> { } // per-sample metadata (vu, iter): not tags
          default -> {
            if (!v.isEmpty()) {
              tags.put(h, v);
            }
          }
        }
      }
      MetricType type = types.get(metric);
      if (type == null) {
        type = MetricType.TREND;
        out.note("points of custom metrics imported as trends (k6's CSV does not say their type)");
      }
      a.point(metric, type, timeUs, tags, value, where);
    }
    a.flush();
  }
}
