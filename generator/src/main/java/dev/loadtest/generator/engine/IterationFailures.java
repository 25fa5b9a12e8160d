package dev.loadtest.generator.engine;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Why iterations of a run failed for a reason of ours, not of the system under test: a step that could not
 * run (a template whose variable no extraction set) or an error of the generator itself. Such an iteration
 * makes no request, so a VU failing every iteration would look like a quiet one; the first distinct reasons
 * go to the coordinator with every heartbeat (beside the count of failed iterations the scenario runners
 * keep), and from there to the run's warnings, its totals, the API and the CLI. Thread-safe; touched only
 * when an iteration fails.
 */
public final class IterationFailures {
  /** Distinct reasons kept; later new ones are not (a message with a VU's data in it varies). */
  public static final int MAX_REASONS = 5;
  /** Reasons are cut to this many characters. */
  static final int MAX_REASON_CHARS = 300;

  private final Set<String> reasons = new LinkedHashSet<>();

  /** An iteration of {@code scenario} (or its setup or teardown) failed for {@code reason}. */
  public void record(String scenario, String reason) {
    String key = "scenario " + scenario + ": " + reason;
    if (key.length() > MAX_REASON_CHARS) {
      key = key.substring(0, MAX_REASON_CHARS - 1) + "…";
    }
    synchronized (reasons) {
      if (reasons.size() < MAX_REASONS) {
        reasons.add(key);
      }
    }
  }

  /** The distinct reasons, first seen first, at most {@link #MAX_REASONS}. */
  public List<String> reasons() {
    synchronized (reasons) {
      return List.copyOf(reasons);
    }
  }
}
