package dev.loadtest.generator.plugin;

/**
 * One prepared run of a plug-in. {@link #run} is called once and blocks until the run is over;
 * the other methods may be called from any thread at any time.
 */
public interface PluginRun {
  /**
   * Runs, timing everything from {@code startNanos} ({@link System#nanoTime()}), which may be in the
   * future: all generators of a run start together.
   *
   * @return true when the run ended on its own or by a graceful stop, false when aborted
   */
  boolean run(long startNanos) throws InterruptedException;

  /** Graceful stop: no new iterations; running ones get their gracefulStop. */
  void stop();

  /** Ends at once. */
  void abort();

  long iterations();

  long droppedIterations();

  int activeVus();

  /**
   * Iterations that failed for a reason of ours (the plan's or the generator's, not the system under
   * test's): they made no request, so they are reported rather than left to look like quiet VUs.
   */
  default long failedIterations() {
    return 0;
  }

  /** The first distinct reasons of {@link #failedIterations()}, a few at most. */
  default java.util.List<String> iterationErrors() {
    return java.util.List.of();
  }
}
