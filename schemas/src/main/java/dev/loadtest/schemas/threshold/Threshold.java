package dev.loadtest.schemas.threshold;

import java.time.Duration;

/**
 * One threshold of a plan: which (sub-)metric, what must hold, and whether failing it aborts the run
 * (k6's {@code abortOnFail}, judged only once more than {@code delayAbortEval} has passed since the
 * start of the run).
 */
public record Threshold(MetricSelector selector, ThresholdExpression expression, boolean abortOnFail,
    Duration delayAbortEval) {

  /**
   * Whether a failure of this threshold {@code elapsedMs} after the run's start aborts the run: as k6,
   * only with abortOnFail and when delayAbortEval is strictly less than the time spent.
   */
  public boolean abortsAt(long elapsedMs) {
    return abortOnFail && (delayAbortEval == null ? 0 : delayAbortEval.toMillis()) < elapsedMs;
  }
}
