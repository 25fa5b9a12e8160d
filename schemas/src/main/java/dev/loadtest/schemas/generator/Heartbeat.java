package dev.loadtest.schemas.generator;

import java.util.List;

/**
 * What a generator says about itself on {@code loadtest.generators} (JSON, key: generatorId, compacted),
 * about once a second and at once when a run of it changes state. The coordinator counts a generator
 * as lost when heartbeats stop.
 *
 * @param capacityVus how many VUs this generator takes on (from its cores and memory)
 * @param cpu the process's CPU use, 0..1 of all cores
 * @param schedulingDelayMs how late a timer of the generator fired, worst over the last interval
 * @param warnings e.g. CPU above 80%: the generator's numbers are then less trustworthy
 * @param sentAtMs epoch milliseconds
 * @param plugins the generator plug-ins this generator runs ({@code http}, {@code synthetic}, {@code jmeter}...);
 *     null from a generator that does not say (it runs {@link #BUILT_IN_PLUGINS})
 */
public record Heartbeat(String generatorId, String loadZone, int cores, long capacityVus, String version,
    long activeVus, double cpu, long heapUsedBytes, long heapMaxBytes, double schedulingDelayMs,
    List<RunProgress> runs, List<String> warnings, long sentAtMs, List<String> plugins) {

  /** The plug-ins every generator has. */
  public static final List<String> BUILT_IN_PLUGINS = List.of("http", "synthetic");

  public Heartbeat {
    runs = List.copyOf(runs);
    warnings = List.copyOf(warnings);
    plugins = plugins == null ? null : List.copyOf(plugins);
  }

  /** A heartbeat that does not list its plug-ins. */
  public Heartbeat(String generatorId, String loadZone, int cores, long capacityVus, String version, long activeVus,
      double cpu, long heapUsedBytes, long heapMaxBytes, double schedulingDelayMs, List<RunProgress> runs,
      List<String> warnings, long sentAtMs) {
    this(generatorId, loadZone, cores, capacityVus, version, activeVus, cpu, heapUsedBytes, heapMaxBytes,
        schedulingDelayMs, runs, warnings, sentAtMs, null);
  }

  /** Whether this generator runs {@code plugin}. */
  public boolean offers(String plugin) {
    return (plugins == null ? BUILT_IN_PLUGINS : plugins).contains(plugin);
  }

  /** State of a run on this generator. */
  public enum RunPhase { WAITING, RUNNING, FINISHED, ABORTED, FAILED }

  /**
   * Progress of one run on this generator.
   *
   * @param undeliveredSamples samples that could not be delivered to Kafka (never silently dropped:
   *     counted here and in the run's summary)
   * @param backpressureMs how long VUs waited because Kafka fell behind
   * @param failedIterations iterations that failed for a reason of ours (the plan's or the generator's,
   *     not the system under test's), counted in {@code iterations}
   * @param iterationErrors the first distinct reasons of those failures, a few at most
   */
  public record RunProgress(String testRunId, String segment, RunPhase phase, long iterations,
      long droppedIterations, long requests, long samples, long undeliveredSamples, long backpressureMs,
      String message, long failedIterations, List<String> iterationErrors) {

    public RunProgress {
      iterationErrors = iterationErrors == null ? List.of() : List.copyOf(iterationErrors);
    }

    /** Progress without failed iterations (and as generators before they were reported send it). */
    public RunProgress(String testRunId, String segment, RunPhase phase, long iterations, long droppedIterations,
        long requests, long samples, long undeliveredSamples, long backpressureMs, String message) {
      this(testRunId, segment, phase, iterations, droppedIterations, requests, samples, undeliveredSamples,
          backpressureMs, message, 0, List.of());
    }
  }
}
