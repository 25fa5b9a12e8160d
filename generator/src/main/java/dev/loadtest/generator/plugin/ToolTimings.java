package dev.loadtest.generator.plugin;

import dev.loadtest.generator.sink.SampleSink.RequestTimings;

/**
 * Other tools' request timings as k6's phases, shared by a tool's plug-in and its importer so that a live run and
 * an import of its results store the same numbers.
 */
public final class ToolTimings {
  private ToolTimings() {}

  /**
   * JMeter's whole milliseconds: elapsed (the whole sample), latency (to the first byte of the response, connect
   * time included) and connect time. connecting = connect; waiting = latency - connect; receiving = elapsed -
   * latency; {@code http_req_duration} = waiting + receiving (k6 leaves connecting out of it). A latency of 0 (not
   * measured) counts the whole elapsed time as waiting.
   */
  public static RequestTimings jmeter(long elapsedMs, long latencyMs, long connectMs, long bytesSent,
      long bytesReceived) {
    long elapsed = Math.max(0, elapsedMs);
    long connect = Math.max(0, Math.min(connectMs, elapsed));
    long latency = latencyMs <= 0 ? elapsed : Math.min(latencyMs, elapsed);
    long waiting = Math.max(0, latency - connect) * 1000;
    long receiving = Math.max(0, elapsed - Math.max(latency, connect)) * 1000;
    return new RequestTimings(waiting + receiving, 0, connect * 1000, 0, 0, waiting, receiving, Math.max(0, bytesSent),
        Math.max(0, bytesReceived));
  }

  /** A response time alone (Locust's, Gatling's): all of it waiting. */
  public static RequestTimings responseTime(long durationUs, long bytesReceived) {
    long d = Math.max(0, durationUs);
    return new RequestTimings(d, 0, 0, 0, 0, d, 0, 0, Math.max(0, bytesReceived));
  }
}
