package dev.loadtest.generator.agent;

import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.schemas.generator.Heartbeat;

/**
 * How a run ended on this generator, with the fate of every sample it recorded and the iterations that
 * failed for a reason of ours ({@code failedIterations}, with their first distinct reasons).
 */
public record RunReport(String testRunId, String segment, Heartbeat.RunPhase phase, long iterations,
    long droppedIterations, BatchingSampleSink.Stats samples, String message, long failedIterations,
    java.util.List<String> iterationErrors) {

  public Heartbeat.RunProgress progress() {
    return new Heartbeat.RunProgress(testRunId, segment, phase, iterations, droppedIterations, samples.requests(),
        samples.recorded(), samples.undelivered(), samples.backpressureNanos() / 1_000_000, message, failedIterations,
        iterationErrors);
  }
}
