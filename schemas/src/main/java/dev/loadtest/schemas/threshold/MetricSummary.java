package dev.loadtest.schemas.threshold;

import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.metrics.MetricType;
import java.time.Duration;
import java.util.Objects;

/**
 * What is known of one (sub-)metric over the span a threshold judges (the run so far, or a window):
 * merged over every generator. Built by the threshold job from aggregates; pure value.
 *
 * @param samples number of samples recorded (for a counter, how many times it was added to)
 * @param sum counter: the total added; trend: the sum of values (in histogram units)
 * @param nonZero rate: samples that were non-zero (true)
 * @param last gauge: the last value
 * @param histogram trend: the merged histogram (in histogram units)
 * @param unitsPerThresholdUnit trend: histogram units per unit thresholds are written in (1000 as the
 *     aggregates store trends: time trends in microseconds, judged in milliseconds as k6 does)
 * @param span the time the summary covers (counter rate = count per second of it)
 */
public record MetricSummary(MetricType type, long samples, double sum, long nonZero, double last,
    SparseHistogram histogram, double unitsPerThresholdUnit, Duration span) {

  public MetricSummary {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(histogram, "histogram");
    Objects.requireNonNull(span, "span");
    if (samples < 0 || nonZero < 0 || nonZero > samples) {
      throw new IllegalArgumentException("inconsistent counts: samples " + samples + ", nonZero " + nonZero);
    }
  }

  public static MetricSummary counter(long samples, double total, Duration span) {
    return new MetricSummary(MetricType.COUNTER, samples, total, 0, 0, SparseHistogram.EMPTY, 1, span);
  }

  public static MetricSummary rate(long nonZero, long total) {
    return new MetricSummary(MetricType.RATE, total, nonZero, nonZero, 0, SparseHistogram.EMPTY, 1, Duration.ZERO);
  }

  public static MetricSummary gauge(long samples, double last) {
    return new MetricSummary(MetricType.GAUGE, samples, 0, 0, last, SparseHistogram.EMPTY, 1, Duration.ZERO);
  }

  /**
   * A trend as the aggregates store every trend: in thousandths of its k6 unit (microseconds for time
   * trends, which thresholds judge in milliseconds).
   */
  public static MetricSummary trend(SparseHistogram thousandths) {
    return trend(thousandths, 1000);
  }

  /** A trend whose histogram holds {@code unitsPerThresholdUnit} units per unit of its thresholds. */
  public static MetricSummary trend(SparseHistogram histogram, double unitsPerThresholdUnit) {
    return new MetricSummary(MetricType.TREND, histogram.count(), histogram.sum(), 0, 0, histogram,
        unitsPerThresholdUnit, Duration.ZERO);
  }
}
