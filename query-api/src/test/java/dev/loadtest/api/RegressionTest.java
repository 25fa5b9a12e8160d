package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RegressionTest {
  @Test
  void parsesMetricTagsStatDirectionAmountAndUnit() {
    Regression r = Regression.parse("http_req_duration{name:checkout,method:POST}: p(95) +10%");
    assertEquals("http_req_duration", r.selector().metric());
    assertEquals(Map.of("name", "checkout", "method", "POST"), r.selector().tags());
    assertEquals("p(95)", r.stat());
    assertTrue(r.upIsWorse());
    assertEquals(10, r.amount());
    assertEquals(Regression.Unit.PERCENT, r.unit());
    assertEquals("+10%", r.limit());

    Regression rate = Regression.parse("  http_req_failed :rate+0.5pp ");
    assertEquals(Regression.Unit.POINTS, rate.unit());
    assertEquals("+0.5pp", rate.limit());
    assertEquals("p(99.9)", Regression.parse("http_req_duration: p( 99.9 ) +20ms").stat());
    Regression drop = Regression.parse("http_reqs: rate -5%");
    assertFalse(drop.upIsWorse());
    assertEquals(Regression.Unit.SECONDS, Regression.parse("iteration_duration: avg +1.5s").unit());
    assertEquals(Regression.Unit.ABSOLUTE, Regression.parse("checks: rate -0.02").unit());
  }

  @Test
  void aLimitIsExceededOnlyBeyondItsAmountInItsDirection() {
    Regression p95 = Regression.parse("http_req_duration: p(95) +10%");
    assertFalse(p95.exceeded(200.0, 220.0), "exactly +10% is within the limit");
    assertTrue(p95.exceeded(200.0, 220.5));
    assertFalse(p95.exceeded(200.0, 100.0), "faster is no regression");
    assertEquals("+10.25%", p95.describe(200.0, 220.5));
    assertEquals("-50%", p95.describe(200.0, 100.0));

    Regression failed = Regression.parse("http_req_failed: rate +0.5pp");
    assertFalse(failed.exceeded(0.010, 0.0149));
    assertTrue(failed.exceeded(0.010, 0.0151));
    assertEquals("+0.51pp", failed.describe(0.010, 0.0151));

    Regression throughput = Regression.parse("http_reqs: rate -5%");
    assertTrue(throughput.exceeded(1000.0, 940.0), "a 6% drop");
    assertFalse(throughput.exceeded(1000.0, 2000.0), "more throughput is no regression");

    Regression ms = Regression.parse("http_req_duration{name:home}: med +20ms");
    assertTrue(ms.exceeded(15.0, 35.5));
    assertFalse(ms.exceeded(15.0, 35.0));
    assertTrue(Regression.parse("http_req_duration: max +0.5s").exceeded(1000.0, 1501.0));
  }

  @Test
  void aBaselineOfZeroAndMissingValuesAreSaidAsTheyAre() {
    Regression r = Regression.parse("http_req_failed: rate +10%");
    assertTrue(r.exceeded(0.0, 0.01), "any failure where there were none is more than +10%");
    assertFalse(r.exceeded(0.0, 0.0));
    assertEquals("+inf% (from 0)", r.describe(0.0, 0.01));
    assertFalse(r.exceeded(null, 0.5), "nothing to compare with");
    assertEquals("n/a", r.describe(0.5, null));
  }

  @Test
  void malformedLimitsAreRefusedWithWhatIsExpected() {
    for (String bad : new String[] {"", "http_req_duration p(95) +10%", "http_req_duration: p(95) 10%",
        "http_req_duration: p(95) +ten%", "http_req_duration: p(101) +10%", "http_req_duration: fastest +10%",
        "http_req_duration: p(95) +10% extra", "http_req_duration{name:a: p(95) +10%", "http_req_duration: avg +1pp",
        "x".repeat(501)}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Regression.parse(bad), bad);
      assertFalse(e.getMessage().isBlank(), bad);
    }
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Regression.parse("http_req_duration: p(95) 10%"))
        .getMessage().contains("(+|-)AMOUNT"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Regression.parse("http_req_duration: avg +1pp"))
        .getMessage().contains("pp (percentage points) applies to the rate"));
  }
}
