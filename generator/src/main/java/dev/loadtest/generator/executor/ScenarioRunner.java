package dev.loadtest.generator.executor;

import dev.loadtest.generator.engine.EpochClock;
import dev.loadtest.generator.engine.IterationRunner;
import dev.loadtest.generator.engine.ScenarioContext;
import dev.loadtest.generator.engine.VirtualUser;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.sample.TagSet;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs one scenario's share (its execution segment) on this generator, with one k6 executor's
 * semantics. Subclasses decide when iterations start; this class owns the VU threads (virtual threads,
 * one per running iteration or per looping VU), the counters, graceful stop and abort.
 *
 * <p>Threads: {@link #run} is called once, on a thread of its own, and returns when the scenario is over
 * (its time is up or it was stopped, then gracefulStop has passed or every iteration has ended).
 * {@link #stop} and {@link #abort} may be called from any thread at any time.
 */
public abstract class ScenarioRunner {
  /** k6's default gracefulStop. */
  static final Duration DEFAULT_GRACEFUL_STOP = Duration.ofSeconds(30);

  protected final ScenarioContext context;
  protected final Scenario scenario;
  protected final ExecutionSegmentSequence sequence;
  protected final int segment;
  private final int vuOffset;
  private long[] ownedVuIndexes = new long[0];

  protected final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  protected volatile boolean stopping;
  private volatile boolean aborted;
  protected final AtomicLong iterations = new AtomicLong();
  protected final AtomicLong failedIterations = new AtomicLong();
  protected final AtomicLong interruptedIterations = new AtomicLong();
  protected final AtomicLong dropped = new AtomicLong();
  protected final AtomicInteger activeVus = new AtomicInteger();
  protected final AtomicInteger allocatedVus = new AtomicInteger();
  protected final Object wake = new Object();

  protected ScenarioRunner(ScenarioContext context, Scenario scenario, ExecutionSegmentSequence sequence, int segment,
      int vuOffset) {
    this.context = context;
    this.scenario = scenario;
    this.sequence = sequence;
    this.segment = segment;
    this.vuOffset = vuOffset;
  }

  public static ScenarioRunner of(ScenarioContext context, Scenario scenario, ExecutionSegmentSequence sequence,
      int segment, int vuOffset) {
    return switch (scenario.executor()) {
      case Scenario.ConstantVus c -> new ClosedModelRunner(context, scenario, sequence, segment, vuOffset);
      case Scenario.RampingVus r -> new ClosedModelRunner(context, scenario, sequence, segment, vuOffset);
      case Scenario.ConstantArrivalRate c -> new ArrivalRateRunner(context, scenario, sequence, segment, vuOffset);
      case Scenario.RampingArrivalRate r -> new ArrivalRateRunner(context, scenario, sequence, segment, vuOffset);
      case Scenario.PerVuIterations p -> new IterationsRunner(context, scenario, sequence, segment, vuOffset);
      case Scenario.SharedIterations s -> new IterationsRunner(context, scenario, sequence, segment, vuOffset);
    };
  }

  /** Runs the scenario, its time measured from {@code startNanos} ({@link System#nanoTime()}). */
  public abstract void run(long startNanos) throws InterruptedException;

  /** Graceful stop: no new iterations; running ones get gracefulStop to finish. */
  public void stop() {
    stopping = true;
    synchronized (wake) {
      wake.notifyAll();
    }
  }

  /** Abort: every running iteration is interrupted at once. */
  public void abort() {
    aborted = true;
    stop();
    threads.forEach(Thread::interrupt);
  }

  public String name() {
    return scenario.name();
  }

  public long iterations() {
    return iterations.get();
  }

  public long droppedIterations() {
    return dropped.get();
  }

  /** Iterations that failed for a reason of ours (counted in {@link #iterations()} too). */
  public long failedIterations() {
    return failedIterations.get();
  }

  public long interruptedIterations() {
    return interruptedIterations.get();
  }

  public int activeVus() {
    return activeVus.get();
  }

  public int allocatedVus() {
    return allocatedVus.get();
  }

  protected Duration gracefulStop() {
    return scenario.gracefulStop() != null ? scenario.gracefulStop() : DEFAULT_GRACEFUL_STOP;
  }

  /**
   * A new VU for local slot {@code local} (0-based): numbered by the index the segment owns in the
   * whole scenario's VU range, so VU numbers are unique across generators.
   */
  protected VirtualUser newVu(int local) {
    synchronized (this) {
      if (local >= ownedVuIndexes.length) {
        long[] grown = java.util.Arrays.copyOf(ownedVuIndexes, Math.max(local + 1, ownedVuIndexes.length * 2));
        long i = ownedVuIndexes.length == 0 ? 0 : ownedVuIndexes[ownedVuIndexes.length - 1] + 1;
        for (int k = ownedVuIndexes.length; k < grown.length; i++) {
          if (sequence.ownerOf(i) == segment) {
            grown[k++] = i;
          }
        }
        ownedVuIndexes = grown;
      }
    }
    allocatedVus.incrementAndGet();
    return new VirtualUser(Math.toIntExact(vuOffset + ownedVuIndexes[local] + 1), context);
  }

  /** Runs one iteration and counts its outcome; false when the VU was interrupted. */
  protected boolean iterate(VirtualUser vu, long dueNanos) {
    switch (IterationRunner.run(vu, dueNanos)) {
      case COMPLETED -> iterations.incrementAndGet();
      case FAILED -> {
        iterations.incrementAndGet();
        failedIterations.incrementAndGet();
      }
      case INTERRUPTED -> {
        interruptedIterations.incrementAndGet();
        return false;
      }
    }
    return !aborted;
  }

  /** Starts a virtual thread that is interrupted on abort or when gracefulStop runs out. */
  protected Thread startVuThread(String name, Runnable body) {
    Thread t = Thread.ofVirtual().name(name).unstarted(() -> {
      try {
        body.run();
      } finally {
        threads.remove(Thread.currentThread());
        synchronized (wake) {
          wake.notifyAll();
        }
      }
    });
    threads.add(t);
    t.start();
    return t;
  }

  protected void recordDropped(long count) throws InterruptedException {
    dropped.addAndGet(count);
    context.run().sink().point("dropped_iterations", MetricType.COUNTER, EpochClock.nowMicros(),
        TagSet.of(java.util.Map.of("scenario", scenario.name())), count);
  }

  /** Sleeps until {@code deadlineNanos} or until stopped; returns false when stopped first. */
  protected boolean sleepUntil(long deadlineNanos) throws InterruptedException {
    while (!stopping) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        return true;
      }
      synchronized (wake) {
        if (!stopping) {
          TimeUnit.NANOSECONDS.timedWait(wake, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
        }
      }
    }
    return false;
  }

  /**
   * Ends the scenario: no new iterations, then waits for running ones until gracefulStop has passed,
   * then interrupts what is left and waits for it to end.
   */
  protected void finish() throws InterruptedException {
    stopping = true;
    synchronized (wake) {
      wake.notifyAll();
    }
    long deadline = System.nanoTime() + gracefulStop().toNanos();
    synchronized (wake) {
      while (!threads.isEmpty() && System.nanoTime() < deadline) {
        TimeUnit.NANOSECONDS.timedWait(wake, Math.min(deadline - System.nanoTime(), 50_000_000L));
      }
    }
    threads.forEach(Thread::interrupt);
    for (Thread t : threads.toArray(Thread[]::new)) {
      t.join();
    }
  }

}
