package dev.loadtest.schemas.threshold;

import java.time.Duration;

/**
 * One threshold of a plan: which (sub-)metric, what must hold, and whether failing it aborts the run
 * (k6's {@code abortOnFail}, judged only after {@code delayAbortEval} from the start of the run).
 */
public record Threshold(MetricSelector selector, ThresholdExpression expression, boolean abortOnFail,
    Duration delayAbortEval) {}
