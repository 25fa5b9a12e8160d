package dev.loadtest.generator.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loadtest.generator.schedule.ArrivalSchedule;
import dev.loadtest.generator.schedule.VuSchedule;
import dev.loadtest.schemas.k6.K6Cases;
import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence.Share;
import dev.loadtest.schemas.time.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The executors' schedules and splits against cases carried over from k6's executor tests
 * ({@code src/test/resources/k6/*.tsv}, see the schemas module's {@code k6/README.md}): which iterations a
 * segment runs and when, how many VUs it has when, and how shared iterations are dealt.
 */
class K6ExecutorConformanceTest {
  private static List<Scenario.Stage> stages(String text) {
    return Arrays.stream(text.trim().split(" ")).map(s -> s.split(":"))
        .map(p -> new Scenario.Stage(Durations.parse(p[0]), Long.parseLong(p[1]))).toList();
  }

  /** The iterations of the whole scenario a share runs, from 0, in order. */
  private static List<Long> owned(Share share, long total) {
    List<Long> out = new ArrayList<>();
    for (long i = 0; i < total; i++) {
      if (share.sequence().ownerOf(i) == share.segment()) {
        out.add(i);
      }
    }
    return out;
  }

  @TestFactory
  Stream<DynamicTest> rampingArrivalRateStartsIterationsWhenK6Does() {
    return K6Cases.tests("ramping-arrival-rate-times.tsv", r -> {
      ArrivalSchedule schedule = ArrivalSchedule.of(new Scenario.RampingArrivalRate(Long.parseLong(r.get(0)),
          Durations.parse(r.get(1)), stages(r.get(2)), 1, 1));
      Share share = ExecutionSegmentSequence.share(r.get(3), r.get(4));
      List<Long> mine = owned(share, schedule.totalIterations());
      long[] expected = Arrays.stream(r.get(5).split(" ")).mapToLong(Long::parseLong).toArray();
      assertEquals(expected.length, mine.size(), "iterations of the segment: " + mine);
      for (int k = 0; k < expected.length; k++) {
        double ms = schedule.startNanos(mine.get(k)) / 1e6;
        // k6 asserts InEpsilon(expected, got, 0.001).
        assertEquals(expected[k], ms, expected[k] * 0.001, "start of the segment's iteration " + k);
      }
    });
  }

  @TestFactory
  Stream<DynamicTest> constantArrivalRateStartsIterationsWhenK6Does() {
    return K6Cases.tests("constant-arrival-rate-times.tsv", r -> {
      Duration unit = Durations.parse(r.get(1));
      Duration duration = Durations.parse(r.get(2));
      int maxVus = Integer.parseInt(r.get(3));
      ArrivalSchedule schedule = ArrivalSchedule.of(new Scenario.ConstantArrivalRate(Long.parseLong(r.get(0)), unit,
          duration, maxVus, maxVus));
      Share given = ExecutionSegmentSequence.share(r.get(4), r.get(5));
      Share share = given.sequence().redivide(given.segment(), maxVus).orElseThrow();
      List<Long> mine = owned(share, schedule.totalIterations());
      long[] steps = Arrays.stream(r.get(7).split(" ")).mapToLong(Long::parseLong).toArray();
      long expected = Long.parseLong(r.get(6));
      for (int k = 0; k < mine.size(); k++) {
        if (k > 0) {
          expected += steps[(k - 1) % steps.length];
        }
        assertEquals(expected * 1_000_000L, schedule.startNanos(mine.get(k)), "start of the segment's iteration " + k);
      }
      assertEquals(share.sequence().scale(share.segment(), schedule.totalIterations()), mine.size());
    });
  }

  @TestFactory
  Stream<DynamicTest> rampingVusStepsAreK6s() {
    return K6Cases.tests("ramping-vus-steps.tsv", r -> {
      VuSchedule schedule = VuSchedule.of(new Scenario.RampingVus(Integer.parseInt(r.get(0)), stages(r.get(1)),
          Duration.ZERO));
      Share share = ExecutionSegmentSequence.share(r.get(2), r.get(3));
      String steps = schedule.stepsOf(share.sequence(), share.segment()).stream()
          .map(s -> (s.atNanos() / 1_000_000_000L) + ":" + s.vus()).collect(Collectors.joining(" "));
      assertEquals(r.get(4), steps);
    });
  }

  @TestFactory
  Stream<DynamicTest> sharedIterationsAreSplitAsK6SplitsThem() {
    return K6Cases.tests("shared-iterations-split.tsv", r -> {
      ExecutionSegmentSequence sequence = ExecutionSegmentSequence.parse(r.get(2));
      String split = java.util.stream.IntStream.range(0, sequence.segmentCount())
          .mapToObj(g -> IterationsRunner.sharedSplit(Long.parseLong(r.get(0)), Long.parseLong(r.get(1)), sequence, g))
          .map(s -> s.vus() + "/" + s.iterations()).collect(Collectors.joining(" "));
      assertEquals(r.get(3), split);
    });
  }
}
