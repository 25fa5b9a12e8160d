package dev.loadtest.schemas.threshold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.threshold.ThresholdEvaluator.Result;
import dev.loadtest.schemas.threshold.ThresholdEvaluator.Status;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Threshold outcomes against k6's documented meaning of each aggregation. */
class ThresholdEvaluatorTest {
  /** 100 response times of 1..100 ms, recorded in microseconds as the generators do. */
  static final SparseHistogram ONE_TO_HUNDRED_MS = histogram(1_000, 100, 1_000);
  /** 100 values 1..100 in single-value buckets (below 256), judged in the histogram's own unit. */
  static final SparseHistogram ONE_TO_HUNDRED = histogram(1, 100, 1);
  static final MetricSummary MS = MetricSummary.trend(ONE_TO_HUNDRED_MS);

  static Stream<Arguments> cases() {
    return Stream.of(
        // trends: time trends are judged in milliseconds
        Arguments.of("p(95)<96 on 1..100 ms", "p(95)<96", MS, Status.PASS, 95.0),
        Arguments.of("p(95)<95 is strict", "p(95)<95", MS, Status.FAIL, 95.0),
        Arguments.of("p(95)<=95 on exact buckets", "p(95)<=95", MetricSummary.trend(ONE_TO_HUNDRED, 1), Status.PASS, 95.0),
        Arguments.of("p(99.9) is the largest but one", "p(99.9)<100", MS, Status.FAIL, 100.0),
        Arguments.of("p(100) is the max", "p(100)==100", MS, Status.PASS, 100.0),
        Arguments.of("p(0) is the min", "p(0)===1", MS, Status.PASS, 1.0),
        Arguments.of("med is p(50)", "med==50", MetricSummary.trend(ONE_TO_HUNDRED, 1), Status.PASS, 50.0),
        Arguments.of("med of a time trend, in ms", "med<51", MS, Status.PASS, 50.0),
        Arguments.of("avg", "avg<50.6", MS, Status.PASS, 50.5),
        Arguments.of("min", "min>1", MS, Status.FAIL, 1.0),
        Arguments.of("max", "max<=100", MS, Status.PASS, 100.0),
        Arguments.of("a histogram kept at the threshold's own scale", "p(90)<=90", MetricSummary.trend(ONE_TO_HUNDRED, 1), Status.PASS, 90.0),
        Arguments.of("!= on a trend", "max!=100", MS, Status.FAIL, 100.0),
        // rates: non-zero / total
        Arguments.of("http_req_failed 1 of 200", "rate<0.01", MetricSummary.rate(1, 200), Status.PASS, 0.005),
        Arguments.of("http_req_failed 3 of 200", "rate<0.01", MetricSummary.rate(3, 200), Status.FAIL, 0.015),
        Arguments.of("checks all true", "rate==1", MetricSummary.rate(50, 50), Status.PASS, 1.0),
        // counters: count is the total, rate the total per second
        Arguments.of("counter count", "count>=100", MetricSummary.counter(40, 120, Duration.ofSeconds(60)), Status.PASS, 120.0),
        Arguments.of("counter rate per second", "rate>=10", MetricSummary.counter(600, 600, Duration.ofSeconds(60)), Status.PASS, 10.0),
        Arguments.of("counter rate below", "rate>10", MetricSummary.counter(300, 300, Duration.ofSeconds(60)), Status.FAIL, 5.0),
        // gauges: the last value
        Arguments.of("gauge value", "value<100", MetricSummary.gauge(7, 50), Status.PASS, 50.0),
        Arguments.of("gauge over", "value<100", MetricSummary.gauge(7, 150), Status.FAIL, 150.0));
  }

  /**
   * {@code exact} is the value k6's aggregation has on the raw samples (nearest rank for percentiles);
   * a percentile from buckets may read up to 1/128 above it, never below.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void judgesAsK6Does(String name, String expression, MetricSummary summary, Status status, double exact) {
    Result r = ThresholdEvaluator.evaluate(ThresholdExpression.parse(expression), summary);
    assertEquals(status, r.status());
    double observed = r.observed().orElseThrow();
    assertTrue(observed >= exact - 1e-9 && observed <= exact * (1 + 1.0 / 128) + 1e-9,
        "observed " + observed + " for exact " + exact);
  }

  static Stream<Arguments> noSamples() {
    return Stream.of(
        Arguments.of("checks with no check at all (k6#4283 reported it as passing)", "rate>=0.9", MetricSummary.rate(0, 0)),
        Arguments.of("http_req_failed with no request", "rate<0.01", MetricSummary.rate(0, 0)),
        Arguments.of("a trend with no samples", "p(95)<500", MetricSummary.trend(SparseHistogram.EMPTY)),
        Arguments.of("avg of nothing", "avg<1", MetricSummary.trend(SparseHistogram.EMPTY, 1)),
        Arguments.of("a gauge never set", "value>0", MetricSummary.gauge(0, 0)),
        Arguments.of("a counter rate over no time", "rate<5", MetricSummary.counter(0, 0, Duration.ZERO)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("noSamples")
  void withoutSamplesThereIsNoValueToJudge(String name, String expression, MetricSummary summary) {
    Result r = ThresholdEvaluator.evaluate(ThresholdExpression.parse(expression), summary);
    assertEquals(Status.NO_DATA, r.status());
    assertTrue(r.observed().isEmpty());
    assertFalse(r.failsNow(), "no data does not abort a running test");
    assertFalse(r.passesFinally(), "no data does not pass the final verdict");
  }

  @Test
  void anUnusedCounterCountsZeroAsK6Does() {
    MetricSummary unused = MetricSummary.counter(0, 0, Duration.ofSeconds(30));
    assertEquals(Status.FAIL, ThresholdEvaluator.evaluate(ThresholdExpression.parse("count>500"), unused).status(),
        "k6#1053: a threshold on a counter that was never used is judged, and fails here");
    assertEquals(Status.PASS, ThresholdEvaluator.evaluate(ThresholdExpression.parse("count<1"), unused).status(),
        "errors: count<1 passes when nothing failed");
  }

  @Test
  void anAggregationOfAnotherTypeIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> ThresholdEvaluator.evaluate(ThresholdExpression.parse("p(95)<1"), MetricSummary.rate(1, 2)));
    assertThrows(IllegalArgumentException.class,
        () -> ThresholdEvaluator.evaluate(ThresholdExpression.parse("value<1"), MS));
  }

  private static SparseHistogram histogram(long from, int n, long step) {
    SingleWriterHistogram h = new SingleWriterHistogram();
    for (int i = 0; i < n; i++) {
      h.record(from + i * step);
    }
    return h.snapshot();
  }
}
