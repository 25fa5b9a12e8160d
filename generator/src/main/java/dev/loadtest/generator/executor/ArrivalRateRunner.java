package dev.loadtest.generator.executor;

import dev.loadtest.generator.engine.ScenarioContext;
import dev.loadtest.generator.engine.VirtualUser;
import dev.loadtest.generator.schedule.ArrivalSchedule;
import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * constant-arrival-rate and ramping-arrival-rate (open model): iteration i of the whole test is due at
 * {@link ArrivalSchedule#startNanos(long)}, and this generator starts the iterations its segment owns,
 * on time, whatever the latency of earlier ones. As in k6, iterations are dealt by the sequence
 * re-divided by each segment's share of maxVUs ({@link ExecutionSegmentSequence#redivide}), so a
 * segment runs iterations in proportion to the VUs it may have, and a segment with no share of maxVUs
 * runs none. A due iteration takes an idle VU; if none is idle, a
 * new VU is allocated up to the segment's share of maxVUs; beyond that the iteration is dropped and
 * counted in {@code dropped_iterations} (k6's semantics). Iterations are timed from when they were due
 * (see {@link dev.loadtest.generator.engine.IterationRunner}).
 */
final class ArrivalRateRunner extends ScenarioRunner {
  private final ArrivalSchedule schedule;
  private final int preAllocated;
  private final int max;
  private final ConcurrentLinkedDeque<VirtualUser> idle = new ConcurrentLinkedDeque<>();
  /** The sequence and segment that deal the iterations: re-divided by maxVUs; null when none are this segment's. */
  private final ExecutionSegmentSequence.Share iterationShare;

  ArrivalRateRunner(ScenarioContext context, Scenario scenario, ExecutionSegmentSequence sequence, int segment,
      int vuOffset) {
    super(context, scenario, sequence, segment, vuOffset);
    int pre;
    int mx;
    switch (scenario.executor()) {
      case Scenario.ConstantArrivalRate c -> {
        schedule = ArrivalSchedule.of(c);
        pre = c.preAllocatedVUs();
        mx = c.maxVUs();
      }
      case Scenario.RampingArrivalRate r -> {
        schedule = ArrivalSchedule.of(r);
        pre = r.preAllocatedVUs();
        mx = r.maxVUs();
      }
      default -> throw new IllegalArgumentException(scenario.executor().type() + " is not an arrival-rate executor");
    }
    this.preAllocated = (int) sequence.scale(segment, pre);
    this.max = (int) sequence.scale(segment, Math.max(pre, mx));
    this.iterationShare = sequence.redivide(segment, Math.max(pre, mx)).orElse(null);
  }

  @Override
  public void run(long startNanos) throws InterruptedException {
    for (int j = 0; j < preAllocated; j++) {
      idle.add(newVu(j));
    }
    long total = iterationShare == null ? 0 : schedule.totalIterations();
    int allocated = preAllocated;
    for (long i = 0; i < total && !stopping; i++) {
      if (iterationShare.sequence().ownerOf(i) != iterationShare.segment()) {
        continue;
      }
      long due = startNanos + schedule.startNanos(i);
      if (!sleepUntil(due)) {
        break;
      }
      VirtualUser vu = idle.poll();
      if (vu == null) {
        if (allocated >= max) {
          recordDropped(1);
          continue;
        }
        vu = newVu(allocated++);
      }
      VirtualUser v = vu;
      activeVus.incrementAndGet();
      startVuThread("vu-" + v.number() + "-" + name(), () -> {
        try {
          iterate(v, due);
        } finally {
          activeVus.decrementAndGet();
          idle.push(v);
        }
      });
    }
    sleepUntil(startNanos + schedule.durationNanos());
    finish();
  }
}
