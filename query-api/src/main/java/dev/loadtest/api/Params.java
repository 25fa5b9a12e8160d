package dev.loadtest.api;

import dev.loadtest.api.store.Agg;
import dev.loadtest.api.store.MetricReader.TagFilter;
import dev.loadtest.schemas.command.CommandParser;
import dev.loadtest.schemas.histogram.PercentileMethod;
import dev.loadtest.schemas.metrics.BuiltinMetrics;
import dev.loadtest.schemas.threshold.MetricSelector;
import io.vertx.core.MultiMap;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The query and path parameters of one request, each read with its rule; a parameter that breaks its
 * rule, or one the endpoint does not know, is a 400 that names it and says what is expected.
 */
final class Params {
  static final Pattern TAG_KEY = Pattern.compile("[A-Za-z0-9_.:\\-]{1,128}");
  static final int MAX_VALUE_LENGTH = 1024;
  static final int MAX_GROUP_BY = 3;
  static final int MAX_TAG_FILTERS = 20;

  private final MultiMap query;
  private final Map<String, String> path;

  Params(MultiMap query, Map<String, String> path, Set<String> allowed) {
    this.query = query;
    this.path = path;
    for (String name : query.names()) {
      if (!allowed.contains(name) && !name.equals("access_token")) {
        throw ApiException.badRequest(name, "unknown parameter \"" + name + "\"" + (allowed.isEmpty()
            ? " (this endpoint takes none)" : " (this endpoint takes " + String.join(", ", allowed.stream().sorted()
            .toList()) + ")"));
      }
    }
  }

  /** A path parameter that is a run id. */
  String runId(String name) {
    return id(name, path.get(name));
  }

  static String id(String name, String v) {
    if (v == null || !CommandParser.ID.matcher(v).matches()) {
      throw ApiException.badRequest(name, name + " must be a run id (letters, digits and . _ : -, at most 128"
          + " characters, starting with a letter or digit), got \"" + abbreviate(v) + "\"");
    }
    return v;
  }

  /** A query parameter given at most once. */
  String one(String name) {
    List<String> all = query.getAll(name);
    if (all.size() > 1) {
      throw ApiException.badRequest(name, name + " is given " + all.size() + " times; give it once");
    }
    return all.isEmpty() ? null : all.get(0);
  }

  String required(String name) {
    String v = one(name);
    if (v == null || v.isEmpty()) {
      throw ApiException.badRequest(name, name + " is required");
    }
    return v;
  }

  /** Values of a parameter given several times, each whole (commas kept: for values that hold them). */
  List<String> all(String name) {
    return query.getAll(name).stream().filter(v -> !v.isBlank()).map(String::strip).toList();
  }

  /** Values of a parameter given several times and/or comma-separated. */
  List<String> list(String name) {
    List<String> out = new ArrayList<>();
    for (String v : query.getAll(name)) {
      for (String s : v.split(",")) {
        if (!s.isBlank()) {
          out.add(s.strip());
        }
      }
    }
    return out;
  }

  String analysis() {
    String v = one("analysis");
    return v == null || v.isEmpty() ? "" : id("analysis", v);
  }

  String metric(String name, boolean required) {
    String v = required ? required(name) : one(name);
    if (v == null) {
      return null;
    }
    if (!BuiltinMetrics.NAME.matcher(v).matches()) {
      throw ApiException.badRequest(name, name + " must be a metric name (letters, digits and _, starting with a"
          + " letter or _), got \"" + abbreviate(v) + "\"");
    }
    return v;
  }

  /** A time: epoch milliseconds or an ISO-8601 instant such as 2026-11-23T10:00:00Z. */
  Long time(String name) {
    String v = one(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    long ms;
    try {
      ms = Long.parseLong(v);
    } catch (NumberFormatException e) {
      try {
        ms = Instant.parse(v).toEpochMilli();
      } catch (DateTimeParseException e2) {
        throw ApiException.badRequest(name, name + " must be epoch milliseconds or an ISO-8601 instant"
            + " (2026-11-23T10:00:00Z), got \"" + abbreviate(v) + "\"");
      }
    }
    if (ms < 0 || ms > MAX_TIME_MS) {
      throw ApiException.badRequest(name, name + " must be a time between 1970 and 9999 (epoch milliseconds 0 to "
          + MAX_TIME_MS + "), got \"" + abbreviate(v) + "\"");
    }
    return ms;
  }

  /** 9999-12-31T23:59:59.999Z. */
  static final long MAX_TIME_MS = 253_402_300_799_999L;

  /** A flag: absent or {@code false} is false, {@code true} (or an empty value, {@code ?stats}) is true. */
  boolean bool(String name) {
    String v = one(name);
    if (v == null || v.equals("false")) {
      return false;
    }
    if (v.isEmpty() || v.equals("true")) {
      return true;
    }
    throw ApiException.badRequest(name, name + " must be true or false, got \"" + abbreviate(v) + "\"");
  }

  long integer(String name, long dflt, long min, long max) {
    String v = one(name);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(name, name + " must be a whole number, got \"" + abbreviate(v) + "\"");
    }
    if (n < min || n > max) {
      throw ApiException.badRequest(name, name + " must be within " + min + ".." + max + ", got " + n);
    }
    return n;
  }

  /** {@code tag=key:value}, repeatable; values of one key are alternatives, keys must all match. */
  List<TagFilter> tags() {
    Map<String, List<String>> byKey = new LinkedHashMap<>();
    List<String> all = query.getAll("tag");
    if (all.size() > MAX_TAG_FILTERS) {
      throw ApiException.badRequest("tag", all.size() + " tag filters, more than the limit of " + MAX_TAG_FILTERS);
    }
    for (String t : all) {
      int colon = t.indexOf(':');
      if (colon <= 0) {
        throw ApiException.badRequest("tag", "a tag filter is key:value (e.g. name:checkout), got \""
            + abbreviate(t) + "\"");
      }
      String key = t.substring(0, colon);
      String value = t.substring(colon + 1);
      checkTagKey("tag", key);
      if (value.length() > MAX_VALUE_LENGTH) {
        throw ApiException.badRequest("tag", "the value of tag " + key + " is longer than " + MAX_VALUE_LENGTH);
      }
      byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }
    List<TagFilter> out = new ArrayList<>();
    byKey.forEach((k, v) -> out.add(new TagFilter(k, v)));
    return out;
  }

  List<String> groupBy() {
    List<String> keys = list("groupBy");
    if (keys.size() > MAX_GROUP_BY) {
      throw ApiException.badRequest("groupBy", "at most " + MAX_GROUP_BY + " tags to group by, got " + keys.size());
    }
    for (String k : keys) {
      checkTagKey("groupBy", k);
    }
    if (keys.stream().distinct().count() != keys.size()) {
      throw ApiException.badRequest("groupBy", "a tag appears twice in groupBy");
    }
    return keys;
  }

  /** The percentile method {@code name} asks for (nearest-rank when absent). */
  PercentileMethod percentileMethod(String name) {
    String v = one(name);
    if (v == null || v.isEmpty()) {
      return PercentileMethod.NEAREST_RANK;
    }
    try {
      return PercentileMethod.parse(v);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(name, "unknown percentile method \"" + abbreviate(v)
          + "\": use k6 (k6's interpolation between samples) or nearest-rank");
    }
  }

  List<String> stats(String name, List<String> dflt) {
    List<String> stats = list(name);
    if (stats.isEmpty()) {
      return dflt;
    }
    if (stats.size() > 12) {
      throw ApiException.badRequest(name, "at most 12 stats, got " + stats.size());
    }
    for (String s : stats) {
      if (!Agg.STAT.matcher(s).matches()) {
        throw ApiException.badRequest(name, "unknown stat \"" + abbreviate(s) + "\" (count, rate, sum, avg, min,"
            + " med, max, value, passes, fails, p(N) with N within 0..100)");
      }
    }
    return stats;
  }

  List<MetricSelector> submetrics() {
    List<MetricSelector> out = new ArrayList<>();
    for (String s : query.getAll("submetric")) {
      try {
        MetricSelector sel = MetricSelector.parse(s);
        for (Map.Entry<String, String> e : sel.tags().entrySet()) {
          checkTagKey("submetric", e.getKey());
        }
        out.add(sel);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("submetric", "submetric must be metric{tag:value,...}: " + e.getMessage());
      }
    }
    return out;
  }

  private static void checkTagKey(String param, String key) {
    if (!TAG_KEY.matcher(key).matches()) {
      throw ApiException.badRequest(param, "\"" + abbreviate(key) + "\" is not a tag name (letters, digits and"
          + " _ . : -, at most 128 characters)");
    }
  }

  static String abbreviate(String v) {
    if (v == null) {
      return "";
    }
    return v.length() > 80 ? v.substring(0, 80) + "..." : v;
  }
}
