package dev.loadtest.api.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.loadtest.schemas.avro.AggregateBucket;
import dev.loadtest.schemas.avro.MetricKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a live second shows: the totals when they came (else the series), and the gauges' series. */
class LiveHubTest {
  static AggregateBucket bucket(String metric, MetricKind kind, long count, double last) {
    return AggregateBucket.newBuilder().setSeriesId(metric.hashCode()).setMetric(metric).setType(kind)
        .setTags(List.of()).setStartMs(1_780_000_000_000L).setWidthMs(1000).setCount(count).setSum(count)
        .setMin(1).setMax(1).setLast(last).setNonZero(count).setHistIndexes(List.of()).setHistCounts(List.of())
        .build();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Map<String, Object>> metrics(LiveHub.Second s) {
    return (Map<String, Map<String, Object>>) s.event(1_780_000_000_000L).get("metrics");
  }

  @Test
  void aSecondWithTotalsShowsThemAndTheGaugesNotTheSeriesAsWell() {
    LiveHub.Second s = new LiveHub.Second();
    s.add(bucket("http_reqs", MetricKind.COUNTER, 3, 0), false, 1);
    s.add(bucket("http_reqs", MetricKind.COUNTER, 4, 0), false, 1);
    s.add(bucket("vus", MetricKind.GAUGE, 1, 5), false, 1);
    s.add(bucket("vus", MetricKind.GAUGE, 1, 7), false, 1);
    assertEquals(7L, ((Number) metrics(s).get("http_reqs").get("count")).longValue(), "without totals: the series");
    s.add(bucket("http_reqs", MetricKind.COUNTER, 7, 0), true, 2);
    s.add(bucket("iterations", MetricKind.COUNTER, 2, 0), true, 2);
    Map<String, Map<String, Object>> m = metrics(s);
    assertEquals(2L, ((Number) m.get("iterations").get("count")).longValue(), "the totals are read");
    assertEquals(7L, ((Number) m.get("http_reqs").get("count")).longValue(), "with totals: them, not them and the series");
    assertFalse(m.get("vus").isEmpty());
    assertEquals(12.0, ((Number) m.get("vus").get("value")).doubleValue(), 1e-9, "gauges from their series, summed");
  }
}
