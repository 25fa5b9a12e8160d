package dev.loadtest.cli.follow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoadTestTrendTest {
  @Test
  void theEarlierRunsComeOldestFirstThenThisOneWithTheBaselineStarred() {
    LoadTestTrend t = new LoadTestTrend("lt-1", "checkout", List.of(
        new LoadTestTrend.Point("r1", 62.21, 0.0111, 1666.7, true),
        new LoadTestTrend.Point("r2", 67.07, null, 1666.7, false)),
        new LoadTestTrend.Point("r3", 120.32, 0.0113, 1500.0, false));
    String out = t.render("http://127.0.0.1:8080/#/load-tests/lt-1");
    assertTrue(out.contains("█ LOAD TEST checkout (lt-1)"), out);
    assertTrue(out.contains("the last 3 run(s), oldest first, this one last (* the baseline)"), out);
    assertTrue(out.contains("p(95)    62.21ms* → 67.07ms → 120.32ms\n"), out);
    assertTrue(out.contains("errors   1.11%* → - → 1.13%\n"), out);
    assertTrue(out.contains("req/s    1666.7* → 1666.7 → 1500.0\n"), out);
    assertTrue(out.endsWith("    http://127.0.0.1:8080/#/load-tests/lt-1\n"), out);
  }

  @Test
  void runsWithoutHttpRequestsSaySoInsteadOfDashes() {
    String out = new LoadTestTrend("lt-1", "tool run", List.of(new LoadTestTrend.Point("r1", null, null, null, false)),
        new LoadTestTrend.Point("r2", null, null, null, false)).render("URL");
    assertTrue(out.contains("no HTTP requests in these runs: nothing to trend"), out);
    assertEquals(-1, out.indexOf("p(95)"), out);
  }

  @Test
  void aFirstRunHasNothingToTrend() {
    String out = new LoadTestTrend("lt-1", "checkout", List.of(), new LoadTestTrend.Point("r1", 1.0, 0.0, 1.0, false))
        .render("URL");
    assertTrue(out.contains("its first ended run: nothing to trend yet"), out);
    assertEquals(-1, out.indexOf("→"), out);
  }
}
