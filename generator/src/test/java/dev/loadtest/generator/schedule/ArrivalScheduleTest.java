package dev.loadtest.generator.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.plan.Scenario.ConstantArrivalRate;
import dev.loadtest.schemas.plan.Scenario.RampingArrivalRate;
import dev.loadtest.schemas.plan.Scenario.Stage;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ArrivalScheduleTest {
  private static ArrivalSchedule constant(long rate, Duration unit, Duration duration) {
    return ArrivalSchedule.of(new ConstantArrivalRate(rate, unit, duration, 10, 10));
  }

  @Test
  void aConstantRateOf100PerSecondFor10SecondsIs1000IterationsEvery10Ms() {
    ArrivalSchedule s = constant(100, Duration.ofSeconds(1), Duration.ofSeconds(10));
    assertEquals(1000, s.totalIterations());
    for (long i = 0; i < 1000; i++) {
      assertEquals(i * 10_000_000L, s.startNanos(i), "iteration " + i);
    }
  }

  @ParameterizedTest
  @CsvSource({
      "3, 1s, 1s, 3", "90, 1m, 2m, 180", "10, 1s, 950ms, 10", "10, 1s, 1000ms, 10", "10, 1s, 1001ms, 11",
      "1, 1h, 30m, 1", "7, 2s, 1m, 210"})
  void countsEveryIterationDueBeforeTheEnd(long rate, String unit, String duration, long expected) {
    ArrivalSchedule s = constant(rate, dev.loadtest.schemas.time.Durations.parse(unit),
        dev.loadtest.schemas.time.Durations.parse(duration));
    assertEquals(expected, s.totalIterations());
    assertTrue(s.startNanos(expected - 1) < s.durationNanos());
  }

  @Test
  void aRampFollowsTheIntegralOfItsRate() {
    // 0 -> 100/s over 10 s (500 arrivals), then 100/s for 10 s (1000): A(t) = 5 t^2 for t <= 10 s.
    ArrivalSchedule s = ArrivalSchedule.of(new RampingArrivalRate(0, Duration.ofSeconds(1),
        List.of(new Stage(Duration.ofSeconds(10), 100), new Stage(Duration.ofSeconds(10), 100)), 10, 100));
    assertEquals(1500, s.totalIterations());
    long previous = -1;
    for (long i = 0; i < 1500; i++) {
      long t = s.startNanos(i);
      assertTrue(t >= previous, "starts never go back in time at " + i);
      previous = t;
      double seconds = t / 1e9;
      double arrivals = seconds <= 10 ? 5 * seconds * seconds : 500 + 100 * (seconds - 10);
      assertEquals(i + 1, arrivals, 1e-3, "iteration " + i + " waits for arrival " + (i + 1) + ", as in k6");
    }
    assertEquals(Math.round(Math.sqrt(100.0 / 5) * 1e9), s.startNanos(99), 2, "the 100th arrival at sqrt(20) s");
    assertEquals(20_000_000_000L, s.startNanos(1499), "the last arrival exactly at the end still runs");
  }

  @Test
  void aRampDownIsDenseFirst() {
    ArrivalSchedule s = ArrivalSchedule.of(new RampingArrivalRate(100, Duration.ofSeconds(1),
        List.of(new Stage(Duration.ofSeconds(10), 0)), 10, 100));
    assertEquals(500, s.totalIterations());
    long firstHalf = 0;
    for (long i = 0; i < 500; i++) {
      if (s.startNanos(i) < 5_000_000_000L) {
        firstHalf++;
      }
    }
    assertEquals(374, firstHalf, "A(5 s) = 100*5 - 5*25 = 375: the 375th arrival is due at 5 s exactly, not before");
  }

  @Test
  void aPauseAtRateZeroHoldsNoIteration() {
    ArrivalSchedule s = ArrivalSchedule.of(new RampingArrivalRate(0, Duration.ofSeconds(1),
        List.of(new Stage(Duration.ofSeconds(5), 0), new Stage(Duration.ofSeconds(1), 10),
            new Stage(Duration.ofSeconds(2), 10)), 10, 100));
    assertEquals(25, s.totalIterations());
    // 0 -> 10/s over 1 s after the pause: A = 5 t^2 reaches the first arrival at sqrt(0.2) s.
    assertEquals(5_000_000_000L + Math.round(Math.sqrt(0.2) * 1e9), s.startNanos(0), 2, "nothing is due while the rate is 0");
  }

  @Test
  void executionSegmentsShareTheScheduleExactly() {
    ArrivalSchedule s = constant(1000, Duration.ofSeconds(1), Duration.ofSeconds(3));
    ExecutionSegmentSequence thirds = ExecutionSegmentSequence.split(3);
    List<List<Long>> perGenerator = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (long i = 0; i < s.totalIterations(); i++) {
      perGenerator.get(thirds.ownerOf(i)).add(s.startNanos(i));
    }
    long total = 0;
    for (int g = 0; g < 3; g++) {
      assertEquals(thirds.scale(g, s.totalIterations()), perGenerator.get(g).size());
      total += perGenerator.get(g).size();
      // each generator's own arrivals are evenly spread: every 3 ms
      for (int k = 1; k < perGenerator.get(g).size(); k++) {
        assertEquals(3_000_000L, perGenerator.get(g).get(k) - perGenerator.get(g).get(k - 1));
      }
    }
    assertEquals(3000, total);
  }

  @Test
  void anIterationOutsideTheScheduleIsRefused() {
    ArrivalSchedule s = constant(10, Duration.ofSeconds(1), Duration.ofSeconds(1));
    assertThrows(IllegalArgumentException.class, () -> s.startNanos(10));
    assertThrows(IllegalArgumentException.class, () -> s.startNanos(-1));
  }
}
