package dev.loadtest.generator.engine;

import java.time.Instant;

/**
 * Epoch microseconds for sample timestamps, cheaply: wall-clock time read once, then advanced with
 * {@link System#nanoTime()}, so timestamps of one generator never go backwards when NTP steps the wall
 * clock mid-run (a sample's time is only used to place it in a one-second bucket). Thread-safe.
 */
public final class EpochClock {
  private static final long BASE_EPOCH_US;
  private static final long BASE_NANOS;

  static {
    Instant now = Instant.now();
    BASE_NANOS = System.nanoTime();
    BASE_EPOCH_US = now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
  }

  private EpochClock() {}

  public static long nowMicros() {
    return BASE_EPOCH_US + (System.nanoTime() - BASE_NANOS) / 1000;
  }

  /** The epoch microsecond of a {@link System#nanoTime()} reading. */
  public static long microsAt(long nanoTime) {
    return BASE_EPOCH_US + (nanoTime - BASE_NANOS) / 1000;
  }
}
