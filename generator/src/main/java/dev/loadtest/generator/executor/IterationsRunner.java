package dev.loadtest.generator.executor;

import dev.loadtest.generator.engine.ScenarioContext;
import dev.loadtest.generator.engine.VirtualUser;
import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * per-vu-iterations (each of the segment's VUs runs {@code iterations}) and shared-iterations (the
 * segment's VUs share the segment's part of {@code iterations}), both bounded by maxDuration, then
 * gracefulStop. The shares of any segment partition add up exactly, as k6 splits them: VUs by
 * {@link ExecutionSegmentSequence#scale}; shared iterations by the sequence re-divided by each segment's
 * share of the VUs ({@link ExecutionSegmentSequence#redivide}), so a segment's iterations follow its
 * VUs and a segment without VUs runs none.
 */
final class IterationsRunner extends ScenarioRunner {
  /** k6's default maxDuration. */
  static final Duration DEFAULT_MAX_DURATION = Duration.ofMinutes(10);

  private final int vus;
  private final long perVu;
  private final AtomicLong shared;
  private final Duration maxDuration;

  IterationsRunner(ScenarioContext context, Scenario scenario, ExecutionSegmentSequence sequence, int segment,
      int vuOffset) {
    super(context, scenario, sequence, segment, vuOffset);
    switch (scenario.executor()) {
      case Scenario.PerVuIterations p -> {
        vus = (int) sequence.scale(segment, p.vus());
        perVu = p.iterations();
        shared = null;
        maxDuration = p.maxDuration();
      }
      case Scenario.SharedIterations s -> {
        Split mine = sharedSplit(s.vus(), s.iterations(), sequence, segment);
        vus = (int) mine.vus();
        perVu = Long.MAX_VALUE;
        shared = new AtomicLong(mine.iterations());
        maxDuration = s.maxDuration();
      }
      default -> throw new IllegalArgumentException(scenario.executor().type() + " is not an iterations executor");
    }
  }

  /** A segment's part of a shared-iterations scenario. */
  record Split(long vus, long iterations) {}

  /**
   * k6's split of shared-iterations: the segment's VUs are its share of {@code vus}; its iterations are its
   * share of {@code iterations} by the sequence re-divided by each segment's share of the VUs, so that a
   * segment without VUs runs no iteration (13 equal segments of 12 VUs: one segment gets nothing).
   */
  static Split sharedSplit(long vus, long iterations, ExecutionSegmentSequence sequence, int segment) {
    long mine = sequence.redivide(segment, vus)
        .map(share -> share.sequence().scale(share.segment(), iterations)).orElse(0L);
    return new Split(Math.min(sequence.scale(segment, vus), mine), mine);
  }

  @Override
  public void run(long startNanos) throws InterruptedException {
    long deadline = startNanos + (maxDuration != null ? maxDuration : DEFAULT_MAX_DURATION).toNanos();
    for (int j = 0; j < vus; j++) {
      VirtualUser vu = newVu(j);
      activeVus.incrementAndGet();
      startVuThread("vu-" + vu.number() + "-" + name(), () -> {
        try {
          for (long k = 0; k < perVu && !stopping && System.nanoTime() < deadline; k++) {
            if (shared != null && shared.getAndDecrement() <= 0) {
              break;
            }
            if (!iterate(vu, System.nanoTime())) {
              break;
            }
          }
        } finally {
          activeVus.decrementAndGet();
        }
      });
    }
    // Done when every VU is done or maxDuration has passed.
    synchronized (wake) {
      while (!threads.isEmpty() && !stopping && System.nanoTime() < deadline) {
        java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(wake, Math.min(deadline - System.nanoTime(), 50_000_000L));
      }
    }
    finish();
  }
}
