package dev.loadtest.generator.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.schedule.VuSchedule.Step;
import dev.loadtest.schemas.plan.Scenario.ConstantVus;
import dev.loadtest.schemas.plan.Scenario.RampingVus;
import dev.loadtest.schemas.plan.Scenario.Stage;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class VuScheduleTest {
  private static final long S = 1_000_000_000L;

  private static VuSchedule ramp(long start, Stage... stages) {
    return VuSchedule.of(new RampingVus((int) start, List.of(stages), Duration.ofSeconds(30)));
  }

  @Test
  void aRampUpAddsOneVuEveryStepAndTheLastAtTheStagesEnd() {
    VuSchedule s = ramp(0, new Stage(Duration.ofSeconds(10), 10));
    assertEquals(0, s.vusAt(999_999_999L));
    assertEquals(1, s.vusAt(S));
    assertEquals(5, s.vusAt(5 * S + 1));
    assertEquals(10, s.vusAt(10 * S));
    assertEquals(11, s.steps().size(), s.toString());
    assertEquals(10, s.maxVus());
  }

  @Test
  void aRampDownRemovesThemTheSameWay() {
    VuSchedule s = ramp(10, new Stage(Duration.ofSeconds(10), 0));
    assertEquals(10, s.vusAt(0));
    assertEquals(9, s.vusAt(S));
    assertEquals(0, s.vusAt(10 * S));
  }

  @Test
  void aStageOfLengthZeroJumpsAtOnceAndHoldsAreFlat() {
    VuSchedule s = ramp(1, new Stage(Duration.ofSeconds(5), 1), new Stage(Duration.ZERO, 20),
        new Stage(Duration.ofSeconds(5), 20));
    assertEquals(List.of(new Step(0, 1), new Step(5 * S, 20)), s.steps());
    assertEquals(10 * S, s.durationNanos());
  }

  @Test
  void constantVusAreOneLevelForTheDuration() {
    VuSchedule s = VuSchedule.of(new ConstantVus(50, Duration.ofMinutes(1)));
    assertEquals(50, s.vusAt(59 * S));
    assertEquals(60 * S, s.durationNanos());
  }

  @Test
  void generatorsShareEveryLevelExactlyAndNoneShedsVusWhileTheTestRampsUp() {
    VuSchedule s = ramp(0, new Stage(Duration.ofSeconds(30), 100), new Stage(Duration.ofSeconds(30), 100),
        new Stage(Duration.ofSeconds(10), 0));
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse("0,1/3,0.5,1");
    for (Step global : s.steps()) {
      long sum = 0;
      for (int g = 0; g < seq.segmentCount(); g++) {
        sum += levelAt(s.stepsOf(seq, g), global.atNanos());
      }
      assertEquals(global.vus(), sum, "at " + global.atNanos());
    }
    for (int g = 0; g < seq.segmentCount(); g++) {
      long previous = 0;
      for (Step step : s.stepsOf(seq, g)) {
        if (step.atNanos() <= 30 * S) {
          assertTrue(step.vus() >= previous, "segment " + g + " sheds a VU at " + step.atNanos() + " while ramping up");
        }
        previous = step.vus();
      }
    }
  }

  private static long levelAt(List<Step> steps, long nanos) {
    long v = 0;
    for (Step s : steps) {
      if (s.atNanos() <= nanos) {
        v = s.vus();
      }
    }
    return v;
  }
}
