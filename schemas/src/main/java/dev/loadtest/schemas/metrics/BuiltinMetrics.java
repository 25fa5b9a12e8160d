package dev.loadtest.schemas.metrics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** The metrics every run has, with k6's names and types, and the rule for user metric names. */
public final class BuiltinMetrics {
  /** k6's rule for metric names: a letter or underscore, then letters, digits and underscores, at most 128. */
  public static final Pattern NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]{0,127}");

  private static final Map<String, MetricType> TYPES;

  static {
    Map<String, MetricType> m = new LinkedHashMap<>();
    m.put("http_reqs", MetricType.COUNTER);
    m.put("http_req_duration", MetricType.TREND);
    m.put("http_req_blocked", MetricType.TREND);
    m.put("http_req_connecting", MetricType.TREND);
    m.put("http_req_tls_handshaking", MetricType.TREND);
    m.put("http_req_sending", MetricType.TREND);
    m.put("http_req_waiting", MetricType.TREND);
    m.put("http_req_receiving", MetricType.TREND);
    m.put("http_req_failed", MetricType.RATE);
    m.put("iterations", MetricType.COUNTER);
    m.put("iteration_duration", MetricType.TREND);
    m.put("dropped_iterations", MetricType.COUNTER);
    m.put("vus", MetricType.GAUGE);
    m.put("vus_max", MetricType.GAUGE);
    m.put("data_sent", MetricType.COUNTER);
    m.put("data_received", MetricType.COUNTER);
    m.put("checks", MetricType.RATE);
    m.put("group_duration", MetricType.TREND);
    TYPES = Collections.unmodifiableMap(m);
  }

  private BuiltinMetrics() {}

  public static Optional<MetricType> typeOf(String metric) {
    return Optional.ofNullable(TYPES.get(metric));
  }

  /** Every built-in metric with its type, in k6's summary order. */
  public static Map<String, MetricType> all() {
    return TYPES;
  }
}
