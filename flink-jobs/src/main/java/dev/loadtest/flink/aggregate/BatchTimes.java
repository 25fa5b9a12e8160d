package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.sample.SampleBatch;
import java.time.Instant;

/**
 * Which sample times the jobs accept: from 2000-01-01 to {@link #MAX_AHEAD_MS} past the job's clock. A
 * batch with any sample outside is rejected whole, with the reason, before anything of it is counted:
 * a generator whose clock runs hours fast would otherwise drag the shared watermark ahead (every other
 * run's samples would arrive "late") and stamp records Kafka refuses, and times at the epoch make timers
 * and timestamps negative. Pure: the clock is a parameter.
 */
public final class BatchTimes {
  /** The earliest sample time accepted (2000-01-01T00:00:00Z). */
  public static final long MIN_MS = 946_684_800_000L;
  /** How far ahead of the job's clock a sample may be (a generator's clock skew). */
  public static final long MAX_AHEAD_MS = 60_000;

  private BatchTimes() {}

  /**
   * Why {@code batch} cannot be accepted at {@code nowMs}, or null when every sample time is in range.
   */
  public static String outOfRange(SampleBatch batch, long nowMs) {
    long base = batch.baseTimeUs();
    long minOffset = Long.MAX_VALUE;
    long maxOffset = Long.MIN_VALUE;
    long[] offsets = batch.requests().offsetUs();
    for (int i = 0; i < batch.requests().size(); i++) {
      minOffset = Math.min(minOffset, offsets[i]);
      maxOffset = Math.max(maxOffset, offsets[i]);
    }
    offsets = batch.points().offsetUs();
    for (int i = 0; i < batch.points().size(); i++) {
      minOffset = Math.min(minOffset, offsets[i]);
      maxOffset = Math.max(maxOffset, offsets[i]);
    }
    if (minOffset == Long.MAX_VALUE) {
      return null; // no samples
    }
    long minUs = addSaturated(base, minOffset);
    long maxUs = addSaturated(base, maxOffset);
    if (Math.floorDiv(minUs, 1000) < MIN_MS) {
      return "sample time " + describe(minUs) + " is before " + Instant.ofEpochMilli(MIN_MS)
          + ": batch " + batch.sequence() + " of generator " + BatchGate.abbreviate(batch.generatorId())
          + " is rejected whole";
    }
    if (!accepts(Math.floorDiv(maxUs, 1000), nowMs)) {
      return "sample time " + describe(maxUs) + " is more than " + MAX_AHEAD_MS / 1000 + " s ahead of the job's clock ("
          + Instant.ofEpochMilli(nowMs) + "): the generator's clock is wrong; batch " + batch.sequence()
          + " of generator " + BatchGate.abbreviate(batch.generatorId()) + " is rejected whole";
    }
    return null;
  }

  /** Whether a time of {@code ms} is one the jobs accept at {@code nowMs}. */
  public static boolean accepts(long ms, long nowMs) {
    return ms >= MIN_MS && ms <= nowMs + MAX_AHEAD_MS;
  }

  private static long addSaturated(long a, long b) {
    long r = a + b;
    if (((a ^ r) & (b ^ r)) < 0) {
      return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    return r;
  }

  private static String describe(long us) {
    return Instant.ofEpochMilli(Math.floorDiv(us, 1000)).toString(); // any long of ms is an Instant
  }
}
