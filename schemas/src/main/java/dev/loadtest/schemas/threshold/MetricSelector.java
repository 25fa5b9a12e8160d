package dev.loadtest.schemas.threshold;

import dev.loadtest.schemas.metrics.BuiltinMetrics;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The key of a threshold: a metric, optionally narrowed to a sub-metric by tags, as k6 writes it:
 * {@code http_req_duration}, {@code http_req_duration{name:checkout}},
 * {@code checks{check:status is 200,scenario:browse}}. Tags are kept sorted by key.
 */
public record MetricSelector(String metric, Map<String, String> tags) {
  public MetricSelector {
    tags = Collections.unmodifiableMap(new TreeMap<>(tags));
  }

  /**
   * Parses a threshold key.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static MetricSelector parse(String key) {
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("a threshold key must name a metric");
    }
    String s = key.strip();
    int brace = s.indexOf('{');
    String metric = (brace < 0 ? s : s.substring(0, brace)).strip();
    if (!BuiltinMetrics.NAME.matcher(metric).matches()) {
      throw new IllegalArgumentException("\"" + metric + "\" is not a metric name (letters, digits and _,"
          + " starting with a letter or _, at most 128 characters)");
    }
    TreeMap<String, String> tags = new TreeMap<>();
    if (brace >= 0) {
      if (!s.endsWith("}")) {
        throw new IllegalArgumentException("sub-metric selector \"" + s.substring(brace) + "\" must end with '}'");
      }
      String inner = s.substring(brace + 1, s.length() - 1);
      if (inner.isBlank()) {
        throw new IllegalArgumentException("sub-metric selector {} is empty: write {tag:value}");
      }
      for (String pair : inner.split(",")) {
        int colon = pair.indexOf(':');
        if (colon < 0) {
          throw new IllegalArgumentException("\"" + pair.strip() + "\" in the sub-metric selector is not tag:value");
        }
        String k = pair.substring(0, colon).strip();
        String v = unquote(pair.substring(colon + 1).strip());
        if (k.isEmpty()) {
          throw new IllegalArgumentException("\"" + pair.strip() + "\" in the sub-metric selector has no tag name");
        }
        if (tags.put(k, v) != null) {
          throw new IllegalArgumentException("tag \"" + k + "\" appears twice in the sub-metric selector");
        }
      }
    }
    return new MetricSelector(metric, tags);
  }

  private static String unquote(String v) {
    if (v.length() >= 2 && (v.charAt(0) == '"' || v.charAt(0) == '\'') && v.charAt(v.length() - 1) == v.charAt(0)) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }

  /** The canonical text: metric, then {k:v,...} sorted by tag, or the bare metric. */
  @Override
  public String toString() {
    if (tags.isEmpty()) {
      return metric;
    }
    StringBuilder b = new StringBuilder(metric).append('{');
    tags.forEach((k, v) -> b.append(k).append(':').append(v).append(','));
    b.setLength(b.length() - 1);
    return b.append('}').toString();
  }
}
