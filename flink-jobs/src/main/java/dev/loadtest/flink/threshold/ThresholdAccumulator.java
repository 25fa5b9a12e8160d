package dev.loadtest.flink.threshold;

import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.threshold.MetricSelector;
import dev.loadtest.schemas.threshold.MetricSummary;
import java.time.Duration;
import java.util.Map;

/**
 * What a threshold judges, from buckets: which buckets belong to a (sub-)metric, and the summary of a
 * merged bucket. Stateless.
 */
final class ThresholdAccumulator {
  private ThresholdAccumulator() {}

  /** Whether {@code b} is a series of {@code selector}: its metric, and every tag of the selector among its tags. */
  static boolean matches(MetricSelector selector, SeriesBucket b) {
    if (!selector.metric().equals(b.metric)) {
      return false;
    }
    for (Map.Entry<String, String> tag : selector.tags().entrySet()) {
      if (!hasTag(b, tag.getKey(), tag.getValue())) {
        return false;
      }
    }
    return true;
  }

  private static boolean hasTag(SeriesBucket b, String key, String value) {
    for (int i = 0; b.tagKeys != null && i < b.tagKeys.length; i++) {
      if (b.tagKeys[i].equals(key)) {
        return b.tagValues[i].equals(value);
      }
    }
    return false;
  }

  /**
   * The summary of {@code merged} (null: no samples yet) for a metric of {@code type}; {@code span} is the
   * time the data covers (a counter's rate is per second of it).
   */
  static MetricSummary summary(MetricType type, SeriesBucket merged, Duration span) {
    if (merged == null) {
      return switch (type) {
        case COUNTER -> MetricSummary.counter(0, 0, span);
        case RATE -> MetricSummary.rate(0, 0);
        case GAUGE -> MetricSummary.gauge(0, 0);
        case TREND -> MetricSummary.trend(dev.loadtest.schemas.histogram.SparseHistogram.EMPTY);
      };
    }
    return switch (type) {
      case COUNTER -> MetricSummary.counter(merged.count, merged.sum, span);
      case RATE -> MetricSummary.rate(merged.nonZero, merged.count);
      case GAUGE -> MetricSummary.gauge(merged.count, merged.last);
      case TREND -> MetricSummary.trend(merged.histogram());
    };
  }
}
