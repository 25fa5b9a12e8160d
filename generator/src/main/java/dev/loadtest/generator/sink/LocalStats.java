package dev.loadtest.generator.sink;

import dev.loadtest.schemas.sample.TagSet;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A running tally of a run's requests on this generator, for the line a local run prints at its end
 * (the run's real summary is computed from the merged aggregates of all generators). Thread-safe:
 * VUs record from any thread through HdrHistogram's {@link Recorder}.
 */
public final class LocalStats {
  private final Recorder durations = new Recorder(3);
  private final Histogram total = new Histogram(3);
  private final LongAdder requests = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final long startNanos = System.nanoTime();

  void request(TagSet tags, SampleSink.RequestTimings t, boolean isFailed) {
    durations.recordValue(Math.max(0, t.durationUs()));
    requests.increment();
    if (isFailed) {
      failed.increment();
    }
  }

  /** Requests, failures, rate and duration percentiles so far. */
  public synchronized Snapshot snapshot() {
    total.add(durations.getIntervalHistogram());
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    return new Snapshot(requests.sum(), failed.sum(), requests.sum() / Math.max(seconds, 1e-9),
        total.getValueAtPercentile(50) / 1000.0, total.getValueAtPercentile(95) / 1000.0,
        total.getValueAtPercentile(99) / 1000.0, total.getMaxValue() / 1000.0);
  }

  /** Durations in milliseconds. */
  public record Snapshot(long requests, long failed, double requestsPerSecond, double p50Ms, double p95Ms,
      double p99Ms, double maxMs) {
    @Override
    public String toString() {
      return "%d requests (%.1f/s), %d failed (%.2f%%), http_req_duration p(50)=%.2fms p(95)=%.2fms p(99)=%.2fms max=%.2fms"
          .formatted(requests, requestsPerSecond, failed, requests == 0 ? 0 : 100.0 * failed / requests, p50Ms, p95Ms,
              p99Ms, maxMs);
    }
  }
}
