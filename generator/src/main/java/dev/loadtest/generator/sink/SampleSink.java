package dev.loadtest.generator.sink;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;

/**
 * Where VUs put their samples. Implementations are called by many VU threads at once. A call may block
 * (back-pressure when the samples cannot leave fast enough); it never drops a sample without counting
 * it.
 */
public interface SampleSink {
  /** One HTTP request: stands for the eleven k6 http_* metrics of the request ({@code startUs} in epoch us). */
  void request(long startUs, TagSet tags, RequestTimings timings, boolean failed, int vu) throws InterruptedException;

  /** One sample of a metric; trends in milliseconds as k6 reports them, {@code timeUs} in epoch us. */
  void point(String metric, MetricType type, long timeUs, TagSet tags, double value) throws InterruptedException;

  /** The generator the samples come from ({@code ""} when the sink does not know it: tests). */
  default String generatorId() {
    return "";
  }

  /** The k6 timing phases of one request in microseconds, and its bytes on the wire. */
  record RequestTimings(long durationUs, long blockedUs, long connectingUs, long tlsHandshakingUs, long sendingUs,
      long waitingUs, long receivingUs, long bytesSent, long bytesReceived) {}
}
