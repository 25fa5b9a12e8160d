package dev.loadtest.schemas.threshold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.threshold.ThresholdExpression.Aggregation;
import dev.loadtest.schemas.threshold.ThresholdExpression.Operator;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ThresholdExpressionTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "p(95)<500        | PERCENTILE | 95   | LT        | 500",
      "p(99.9) <= 1500  | PERCENTILE | 99.9 | LE        | 1500",
      "rate<0.01        | RATE       | NaN  | LT        | 0.01",
      "count>=100       | COUNT      | NaN  | GE        | 100",
      "avg > 200        | AVG        | NaN  | GT        | 200",
      "min==0           | MIN        | NaN  | EQ        | 0",
      "max===3          | MAX        | NaN  | STRICT_EQ | 3",
      "med!=7           | MED        | NaN  | NE        | 7",
      "value<1e3        | VALUE      | NaN  | LT        | 1000",
      "' p( 90 ) < 2.5 '| PERCENTILE | 90   | LT        | 2.5"})
  void parsesK6Expressions(String source, Aggregation agg, double pct, Operator op, double value) {
    ThresholdExpression e = ThresholdExpression.parse(source);
    assertEquals(agg, e.aggregation());
    assertEquals(pct, e.percentile());
    assertEquals(op, e.operator());
    assertEquals(value, e.value());
    assertEquals(Optional.empty(), e.window());
  }

  @Test
  void windowExtensionJudgesTheLastDuration() {
    ThresholdExpression e = ThresholdExpression.parse("p(95)<500 over 1m");
    assertEquals(Optional.of(Duration.ofMinutes(1)), e.window());
    assertEquals("p(95)", e.aggregationText());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "p95<500", "p(95)", "<500", "p(95)<", "avg<<3", "foo<3", "p(101)<3",
      "rate<0.01 over", "rate<0.01 over 0s", "rate<0.01 over x", "p(95)<500ms", "avg < abc"})
  void rejectsMalformedExpressionsSayingWhatIsWrong(String source) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThresholdExpression.parse(source));
    assertFalse(e.getMessage().isBlank());
  }

  @Test
  void operatorsCompareAsK6Does() {
    assertTrue(ThresholdExpression.parse("p(95)<500").passes(499.9));
    assertFalse(ThresholdExpression.parse("p(95)<500").passes(500));
    assertTrue(ThresholdExpression.parse("p(95)<=500").passes(500));
    assertTrue(ThresholdExpression.parse("count===3").passes(3));
    assertTrue(ThresholdExpression.parse("count!=3").passes(4));
    assertFalse(ThresholdExpression.parse("rate>0.5").passes(Double.NaN), "NaN passes no comparison");
  }

  @Test
  void selectorsParseSubMetricsWithSortedTags() {
    MetricSelector s = MetricSelector.parse("http_req_duration{scenario:browse, name:checkout}");
    assertEquals("http_req_duration", s.metric());
    assertEquals(Map.of("name", "checkout", "scenario", "browse"), s.tags());
    assertEquals("http_req_duration{name:checkout,scenario:browse}", s.toString());
    assertEquals(Map.of("check", "status is 200"), MetricSelector.parse("checks{check:status is 200}").tags());
    assertEquals(Map.of("name", "a:b"), MetricSelector.parse("http_reqs{name:\"a:b\"}").tags());
    assertEquals(Map.of(), MetricSelector.parse("http_reqs").tags());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1metric", "http_reqs{", "http_reqs{}", "http_reqs{name}", "http_reqs{:x}",
      "http_reqs{a:1,a:2}", "bad-name"})
  void rejectsMalformedSelectors(String key) {
    assertThrows(IllegalArgumentException.class, () -> MetricSelector.parse(key));
  }
}
