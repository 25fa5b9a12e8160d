package dev.loadtest.schemas.metrics;

import java.util.Locale;
import java.util.Optional;

/** The four k6 metric types, and which threshold aggregations each one has. */
public enum MetricType {
  /** Cumulative sum: http_reqs, iterations, data_sent... Thresholds: count, rate (per second). */
  COUNTER,
  /** Last value, with min and max kept: vus, vus_max. Threshold: value. */
  GAUGE,
  /** Share of non-zero values: http_req_failed, checks. Threshold: rate. */
  RATE,
  /** Distribution: http_req_duration... Thresholds: avg, min, max, med, p(N). */
  TREND;

  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<MetricType> fromJsonName(String name) {
    for (MetricType t : values()) {
      if (t.jsonName().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
