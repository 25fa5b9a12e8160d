package dev.loadtest.schemas.generator;

/**
 * An order to a generator on {@code loadtest.assignments} (JSON, key: generatorId).
 *
 * <p>A start carries the plan JSON (with its env: this topic is as private as the commands topic),
 * the execution segment sequence of the run and which segment is this generator's, and the epoch
 * millisecond at which every generator of the run starts, so that they start together. Stop is graceful
 * (executors finish their iterations within gracefulStop); abort ends VUs at once.
 */
public sealed interface Assignment {
  String testRunId();

  String generatorId();

  /**
   * @param sequence k6's execution segment sequence, e.g. {@code 0,1/3,2/3,1}
   * @param segmentIndex which segment of the sequence this generator runs
   */
  record Start(String testRunId, String generatorId, String planJson, String sequence, int segmentIndex,
      long startAtMs) implements Assignment {}

  record Stop(String testRunId, String generatorId) implements Assignment {}

  record Abort(String testRunId, String generatorId, String reason) implements Assignment {}
}
