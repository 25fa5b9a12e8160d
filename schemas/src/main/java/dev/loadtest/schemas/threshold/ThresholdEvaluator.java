package dev.loadtest.schemas.threshold;

import dev.loadtest.schemas.metrics.MetricType;
import java.util.OptionalDouble;

/**
 * Judges a threshold expression against a {@link MetricSummary}, with k6's meaning of each aggregation:
 * <ul>
 *   <li>counter: {@code count} is the total added, {@code rate} that total per second of the span;</li>
 *   <li>gauge: {@code value} is the last value;</li>
 *   <li>rate: {@code rate} is non-zero samples / all samples;</li>
 *   <li>trend: {@code avg}, {@code min}, {@code max}, {@code med} = p(50), {@code p(N)}, time trends in
 *       milliseconds. Percentiles come from the merged histogram: the nearest-rank value's bucket,
 *       read at its upper bound, so never below the exact nearest-rank value and at most 1/128 above
 *       it (k6 interpolates between the two nearest values of its raw samples instead; on 1..100 ms,
 *       k6's p(95) is 95.05 ms, ours 95.23 ms). {@code avg}, {@code min} and {@code max} are exact.</li>
 * </ul>
 *
 * <p><b>No samples.</b> A counter that was never added to has a count of 0 and is judged on it, as k6
 * judges an unused counter (grafana/k6#1053): {@code errors: count<1} passes when nothing failed. Every
 * other aggregation of a metric without samples has no value (0/0, or the percentile of nothing): the
 * result is {@link Status#NO_DATA}. NO_DATA never triggers abortOnFail while a run goes on (data may
 * still come), and the final verdict counts it as failed, saying "no samples": a test whose
 * {@code checks: rate>0.99} saw no check at all has not shown what it promised (k6 reported such a
 * threshold as passing: grafana/k6#4283). Stateless and thread-safe.
 */
public final class ThresholdEvaluator {
  /** Outcome of one evaluation. */
  public enum Status { PASS, FAIL, NO_DATA }

  /** The outcome and the value it was judged on (empty for NO_DATA). */
  public record Result(Status status, OptionalDouble observed) {
    /** Whether the final verdict of a run counts this threshold as passed. */
    public boolean passesFinally() {
      return status == Status.PASS;
    }

    /** Whether, during a run, this result should abort it when the threshold has abortOnFail. */
    public boolean failsNow() {
      return status == Status.FAIL;
    }
  }

  private ThresholdEvaluator() {}

  public static Result evaluate(ThresholdExpression expression, MetricSummary summary) {
    if (!expression.aggregation().appliesTo(summary.type())) {
      throw new IllegalArgumentException("\"" + expression.aggregationText() + "\" does not apply to a "
          + summary.type().jsonName() + " metric");
    }
    OptionalDouble observed = observe(expression, summary);
    if (observed.isEmpty()) {
      return new Result(Status.NO_DATA, observed);
    }
    return new Result(expression.passes(observed.getAsDouble()) ? Status.PASS : Status.FAIL, observed);
  }

  /** The value a threshold's aggregation takes on a summary, or empty when there is none. */
  public static OptionalDouble observe(ThresholdExpression expression, MetricSummary s) {
    if (s.type() == MetricType.COUNTER) {
      return switch (expression.aggregation()) {
        case COUNT -> OptionalDouble.of(s.sum());
        case RATE -> s.span().isZero() ? OptionalDouble.empty()
            : OptionalDouble.of(s.sum() / (s.span().toNanos() / 1e9));
        default -> throw new IllegalStateException(expression.aggregation().name());
      };
    }
    if (s.samples() == 0) {
      return OptionalDouble.empty();
    }
    double unit = s.unitsPerThresholdUnit();
    return switch (expression.aggregation()) {
      case RATE -> OptionalDouble.of((double) s.nonZero() / s.samples());
      case VALUE -> OptionalDouble.of(s.last());
      case AVG -> OptionalDouble.of(s.histogram().mean() / unit);
      case MIN -> OptionalDouble.of(s.histogram().min() / unit);
      case MAX -> OptionalDouble.of(s.histogram().max() / unit);
      case MED -> OptionalDouble.of(s.histogram().percentile(50) / unit);
      case PERCENTILE -> OptionalDouble.of(s.histogram().percentile(expression.percentile()) / unit);
      case COUNT -> throw new IllegalStateException("count applies to counters only");
    };
  }
}
