package dev.loadtest.flink.aggregate;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * Bounded out-of-orderness, emitted at every bucket rather than every 200 ms, and moving on with the
 * clock when the input goes quiet.
 *
 * <ul>
 *   <li>Per bucket: the input is already pre-aggregated (a few buckets per sample batch), so this costs
 *       little, and it makes a bucket's fate (in its window or a correction) depend on the order of the
 *       input only, which shortens the lag to ClickHouse and lets a test reproduce lateness. The operator
 *       forwards only watermarks that advance.</li>
 *   <li>Quiet input: when no bucket has come for {@code idleness}, event time is assumed to go on at the
 *       wall clock's pace from the last bucket, so the last seconds of a run that has ended are emitted
 *       without waiting for other runs' samples (a plain idleness mark would leave them open). An input
 *       that never had a bucket is marked idle, so that it holds no one back.</li>
 * </ul>
 */
public final class EagerBoundedOutOfOrderness<T> implements WatermarkGenerator<T> {
  private final long delayMs;
  private final long idleNanos;
  private final long createdNanos = System.nanoTime();
  private long maxTimestamp = Long.MIN_VALUE;
  private long lastEventNanos;

  public EagerBoundedOutOfOrderness(Duration delay, Duration idleness) {
    this.delayMs = delay.toMillis();
    this.idleNanos = idleness.toNanos();
  }

  @Override
  public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
    lastEventNanos = System.nanoTime();
    if (eventTimestamp > maxTimestamp) {
      maxTimestamp = eventTimestamp;
      output.emitWatermark(new Watermark(maxTimestamp - delayMs - 1));
    }
  }

  @Override
  public void onPeriodicEmit(WatermarkOutput output) {
    long now = System.nanoTime();
    if (maxTimestamp == Long.MIN_VALUE) {
      if (now - createdNanos >= idleNanos) {
        output.markIdle();
      }
      return;
    }
    long quietNanos = now - lastEventNanos;
    if (quietNanos >= idleNanos) {
      output.emitWatermark(new Watermark(maxTimestamp + quietNanos / 1_000_000 - delayMs - 1));
    }
  }
}
