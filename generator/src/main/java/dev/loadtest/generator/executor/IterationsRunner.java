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
 * gracefulStop. The shares of any segment partition add up exactly: VUs and iterations are split by
 * {@link ExecutionSegmentSequence#scale}; a segment with iterations but no VU of its own gets one, so
 * that no iteration is lost.
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
        long mine = sequence.scale(segment, s.iterations());
        vus = (int) Math.min(Math.max(sequence.scale(segment, s.vus()), mine > 0 ? 1 : 0), mine);
        perVu = Long.MAX_VALUE;
        shared = new AtomicLong(mine);
        maxDuration = s.maxDuration();
      }
      default -> throw new IllegalArgumentException(scenario.executor().type() + " is not an iterations executor");
    }
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
