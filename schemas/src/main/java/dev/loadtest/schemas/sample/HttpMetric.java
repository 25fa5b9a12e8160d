package dev.loadtest.schemas.sample;

import dev.loadtest.schemas.metrics.MetricType;

/**
 * The k6 metrics one HTTP request of a {@link SampleBatch} stands for, and the column each one is read
 * from. Every request yields one sample of each, all with the request's tag set. Timings are trends in
 * microseconds (judged in milliseconds), byte counts counters, {@code http_reqs} a counter of 1 and
 * {@code http_req_failed} a rate.
 */
public enum HttpMetric {
  HTTP_REQS("http_reqs", MetricType.COUNTER),
  HTTP_REQ_DURATION("http_req_duration", MetricType.TREND),
  HTTP_REQ_BLOCKED("http_req_blocked", MetricType.TREND),
  HTTP_REQ_CONNECTING("http_req_connecting", MetricType.TREND),
  HTTP_REQ_TLS_HANDSHAKING("http_req_tls_handshaking", MetricType.TREND),
  HTTP_REQ_SENDING("http_req_sending", MetricType.TREND),
  HTTP_REQ_WAITING("http_req_waiting", MetricType.TREND),
  HTTP_REQ_RECEIVING("http_req_receiving", MetricType.TREND),
  HTTP_REQ_FAILED("http_req_failed", MetricType.RATE),
  DATA_SENT("data_sent", MetricType.COUNTER),
  DATA_RECEIVED("data_received", MetricType.COUNTER);

  private final String metric;
  private final MetricType type;

  HttpMetric(String metric, MetricType type) {
    this.metric = metric;
    this.type = type;
  }

  public String metric() {
    return metric;
  }

  public MetricType type() {
    return type;
  }

  /** The value request {@code i} contributes: a timing in microseconds, a byte count, 1, or 0/1 for failed. */
  public long value(SampleBatch.HttpRequests r, int i) {
    return switch (this) {
      case HTTP_REQS -> 1;
      case HTTP_REQ_DURATION -> r.durationUs()[i];
      case HTTP_REQ_BLOCKED -> r.blockedUs()[i];
      case HTTP_REQ_CONNECTING -> r.connectingUs()[i];
      case HTTP_REQ_TLS_HANDSHAKING -> r.tlsHandshakingUs()[i];
      case HTTP_REQ_SENDING -> r.sendingUs()[i];
      case HTTP_REQ_WAITING -> r.waitingUs()[i];
      case HTTP_REQ_RECEIVING -> r.receivingUs()[i];
      case HTTP_REQ_FAILED -> r.failed()[i] ? 1 : 0;
      case DATA_SENT -> r.bytesSent()[i];
      case DATA_RECEIVED -> r.bytesReceived()[i];
    };
  }
}
