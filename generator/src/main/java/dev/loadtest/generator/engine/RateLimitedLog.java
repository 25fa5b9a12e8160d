package dev.loadtest.generator.engine;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Logs a kind of warning at most once per interval, with how many were held back since: a failing
 * endpoint under load must not flood the log. Thread-safe.
 */
public final class RateLimitedLog {
  private final Logger log;
  private final long intervalMs;
  private final ConcurrentHashMap<String, long[]> last = new ConcurrentHashMap<>();
  private final AtomicLong suppressed = new AtomicLong();

  public RateLimitedLog(Logger log, long intervalMs) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  /** Logs unless a warning of the same key was logged within the interval. */
  public void warn(String key, String format, Object... args) {
    long now = System.currentTimeMillis();
    long[] at = last.computeIfAbsent(key, k -> new long[] {0, 0});
    synchronized (at) {
      if (now - at[0] < intervalMs) {
        at[1]++;
        suppressed.incrementAndGet();
        return;
      }
      at[0] = now;
      if (at[1] > 0) {
        log.warn("({} more like the next one were not logged)", at[1]);
        at[1] = 0;
      }
    }
    log.warn(format, args);
  }
}
