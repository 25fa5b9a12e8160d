package dev.loadtest.generator.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The iterations of a run that failed for a reason of ours, not of the system under test: a step that
 * could not run (a template whose variable no extraction set) or an error of the generator itself. Such an
 * iteration makes no request, so without this count a VU failing every iteration would look like a quiet
 * one; the count and the first distinct reasons go to the coordinator with every heartbeat, and from there
 * to the run's warnings, its totals, the API and the CLI. Thread-safe; cheap when nothing fails.
 */
public final class IterationFailures {
  /** Distinct reasons kept; later new ones are counted, not kept (a message with a VU's data in it varies). */
  public static final int MAX_REASONS = 5;
  /** Reasons are cut to this many characters. */
  static final int MAX_REASON_CHARS = 300;

  private final AtomicLong count = new AtomicLong();
  private final Map<String, long[]> reasons = new LinkedHashMap<>();

  /** One iteration of {@code scenario} failed for {@code reason}. */
  public void record(String scenario, String reason) {
    count.incrementAndGet();
    String key = "scenario " + scenario + ": " + reason;
    if (key.length() > MAX_REASON_CHARS) {
      key = key.substring(0, MAX_REASON_CHARS - 1) + "…";
    }
    synchronized (reasons) {
      long[] n = reasons.get(key);
      if (n != null) {
        n[0]++;
      } else if (reasons.size() < MAX_REASONS) {
        reasons.put(key, new long[] {1});
      }
    }
  }

  /** How many iterations failed. */
  public long count() {
    return count.get();
  }

  /** The distinct reasons, first seen first, at most {@link #MAX_REASONS}. */
  public List<String> reasons() {
    synchronized (reasons) {
      return List.copyOf(new ArrayList<>(reasons.keySet()));
    }
  }
}
