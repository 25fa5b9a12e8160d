package dev.loadtest.flink.aggregate;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * Bounded out-of-orderness, emitted at every bucket rather than every 200 ms: the input is already
 * pre-aggregated (a few buckets per sample batch), so this costs little, and it makes a bucket's fate
 * (in its window or a correction) depend on the order of the input only, not on the wall clock, which
 * shortens the lag to ClickHouse and lets a test reproduce lateness. The operator forwards only
 * watermarks that advance.
 */
final class EagerBoundedOutOfOrderness<T> implements WatermarkGenerator<T> {
  private final long delayMs;
  private long maxTimestamp = Long.MIN_VALUE;

  EagerBoundedOutOfOrderness(Duration delay) {
    this.delayMs = delay.toMillis();
  }

  @Override
  public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
    if (eventTimestamp > maxTimestamp) {
      maxTimestamp = eventTimestamp;
      output.emitWatermark(new Watermark(maxTimestamp - delayMs - 1));
    }
  }

  @Override
  public void onPeriodicEmit(WatermarkOutput output) {
    // every watermark went out in onEvent
  }
}
