package dev.loadtest.generator.schedule;

import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How many VUs a closed-model scenario (constant-vus, ramping-vus) has at each moment, as a pure function
 * of the scenario, with k6's steps: a stage from v0 to v1 VUs over T makes its k-th change of one VU at
 * ceil(k T / |v1 - v0|), so the last change falls on the stage's end; a stage of length 0 jumps at once. A
 * generator runs its execution segment's share of the level, which never decreases while the level
 * rises (see {@link ExecutionSegmentSequence}). Immutable and thread-safe.
 */
public final class VuSchedule {
  /** From {@code atNanos} on (from the scenario's start), the level is {@code vus}. */
  public record Step(long atNanos, long vus) {}

  private final List<Step> steps;
  private final long durationNanos;

  private VuSchedule(List<Step> steps, long durationNanos) {
    this.steps = List.copyOf(steps);
    this.durationNanos = durationNanos;
  }

  public static VuSchedule of(Scenario.ConstantVus s) {
    return new VuSchedule(List.of(new Step(0, s.vus())), s.duration().toNanos());
  }

  public static VuSchedule of(Scenario.RampingVus s) {
    List<Step> steps = new ArrayList<>();
    steps.add(new Step(0, s.startVUs()));
    long at = 0;
    long level = s.startVUs();
    for (Scenario.Stage stage : s.stages()) {
      long length = stage.duration().toNanos();
      long diff = stage.target() - level;
      if (length == 0) {
        add(steps, at, stage.target());
      } else {
        long n = Math.abs(diff);
        for (long k = 1; k <= n; k++) {
          // ceil(k x length / n), as k6 places the k-th change (its end minus floor((n - k) x length / n)),
          // exact unless the product overflows (days of nanoseconds times many VUs).
          long offset = k <= (Long.MAX_VALUE - n) / length ? (k * length + n - 1) / n
              : (long) Math.ceil((double) k / n * length);
          add(steps, at + offset, level + Long.signum(diff) * k);
        }
      }
      at += length;
      level = stage.target();
    }
    return new VuSchedule(steps, at);
  }

  private static void add(List<Step> steps, long at, long vus) {
    Step last = steps.get(steps.size() - 1);
    if (last.atNanos() == at) {
      steps.set(steps.size() - 1, new Step(at, vus));
    } else if (last.vus() != vus) {
      steps.add(new Step(at, vus));
    }
  }

  /** Every change of the whole scenario's level, in time order. */
  public List<Step> steps() {
    return steps;
  }

  public long durationNanos() {
    return durationNanos;
  }

  /** The whole scenario's level at {@code nanos} from its start. */
  public long vusAt(long nanos) {
    long vus = steps.get(0).vus();
    for (Step s : steps) {
      if (s.atNanos() > nanos) {
        break;
      }
      vus = s.vus();
    }
    return vus;
  }

  /** The changes of one segment's level: its share of the level at each step, where the share changes. */
  public List<Step> stepsOf(ExecutionSegmentSequence sequence, int segment) {
    List<Step> out = new ArrayList<>();
    for (Step s : steps) {
      long mine = sequence.scale(segment, s.vus());
      if (out.isEmpty() || out.get(out.size() - 1).vus() != mine) {
        out.add(new Step(s.atNanos(), mine));
      }
    }
    return out;
  }

  /** The largest level the scenario reaches: the VUs to allocate. */
  public long maxVus() {
    return steps.stream().mapToLong(Step::vus).max().orElse(0);
  }

  @Override
  public String toString() {
    return "VuSchedule" + steps + " over " + Duration.ofNanos(durationNanos);
  }
}
