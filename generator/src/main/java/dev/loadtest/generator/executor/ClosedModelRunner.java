package dev.loadtest.generator.executor;

import dev.loadtest.generator.engine.ScenarioContext;
import dev.loadtest.generator.engine.VirtualUser;
import dev.loadtest.generator.schedule.VuSchedule;
import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * constant-vus and ramping-vus (closed model): a level of VUs that loop over iterations, following the
 * segment's steps of {@link VuSchedule}. VU slot j runs while j is below the level. When the level
 * drops, a VU above it finishes its iteration, but is interrupted if that takes longer than
 * gracefulRampDown (k6's semantics); at the scenario's end, running iterations get gracefulStop.
 */
final class ClosedModelRunner extends ScenarioRunner {
  private final VuSchedule schedule;
  private final Duration gracefulRampDown;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition levelChanged = lock.newCondition();
  private volatile long level;
  private final List<Slot> slots = new ArrayList<>();

  /** One VU slot: its thread and which iteration it is in (to interrupt only a late one). */
  private static final class Slot {
    final int index;
    volatile Thread thread;
    volatile long iteration;
    volatile boolean busy;

    Slot(int index) {
      this.index = index;
    }
  }

  ClosedModelRunner(ScenarioContext context, Scenario scenario, ExecutionSegmentSequence sequence, int segment,
      int vuOffset) {
    super(context, scenario, sequence, segment, vuOffset);
    switch (scenario.executor()) {
      case Scenario.ConstantVus c -> {
        schedule = VuSchedule.of(c);
        gracefulRampDown = Duration.ZERO;
      }
      case Scenario.RampingVus r -> {
        schedule = VuSchedule.of(r);
        gracefulRampDown = r.gracefulRampDown() != null ? r.gracefulRampDown() : DEFAULT_GRACEFUL_STOP;
      }
      default -> throw new IllegalArgumentException(scenario.executor().type() + " is not a closed-model executor");
    }
  }

  @Override
  public void run(long startNanos) throws InterruptedException {
    long end = startNanos + schedule.durationNanos();
    java.util.concurrent.ScheduledExecutorService rampDown = java.util.concurrent.Executors
        .newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("ramp-down-" + name()).unstarted(r));
    try {
      for (VuSchedule.Step step : schedule.stepsOf(sequence, segment)) {
        if (!sleepUntil(startNanos + step.atNanos()) || step.atNanos() >= schedule.durationNanos()) {
          break;
        }
        setLevel(step.vus(), rampDown);
      }
      sleepUntil(end);
    } finally {
      rampDown.shutdownNow();
    }
    stopping = true;
    signal();
    finish();
  }

  private void setLevel(long vus, java.util.concurrent.ScheduledExecutorService rampDown) {
    long old = level;
    level = vus;
    for (int j = slots.size(); j < vus; j++) {
      Slot s = new Slot(j);
      slots.add(s);
      int local = j;
      VirtualUser vu = newVu(local);
      s.thread = startVuThread("vu-" + vu.number() + "-" + name(), () -> loop(local, s, vu));
    }
    activeVus.set((int) Math.min(vus, slots.size()));
    if (vus < old) {
      long graceNanos = gracefulRampDown.toNanos();
      for (int j = (int) vus; j < old && j < slots.size(); j++) {
        Slot s = slots.get(j);
        long iteration = s.iteration;
        if (s.busy) {
          // Only the iteration running now may overrun gracefulRampDown; the VU starts no other.
          rampDown.schedule(() -> {
            if (s.busy && s.iteration == iteration && s.index >= level) {
              s.thread.interrupt();
            }
          }, graceNanos, TimeUnit.NANOSECONDS);
        }
      }
    }
    signal();
  }

  private void signal() {
    lock.lock();
    try {
      levelChanged.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void loop(int j, Slot s, VirtualUser vu) {
    while (!stopping) {
      if (j >= level) {
        lock.lock();
        try {
          while (j >= level && !stopping) {
            levelChanged.await(100, TimeUnit.MILLISECONDS);
          }
        } catch (InterruptedException e) {
          return;
        } finally {
          lock.unlock();
        }
        continue;
      }
      s.iteration++;
      s.busy = true;
      boolean goOn;
      try {
        goOn = iterate(vu, System.nanoTime());
      } finally {
        s.busy = false;
      }
      if (!goOn) {
        // Interrupted by a ramp-down or abort: clear the flag and go on waiting unless stopping.
        Thread.interrupted();
      }
    }
  }
}
