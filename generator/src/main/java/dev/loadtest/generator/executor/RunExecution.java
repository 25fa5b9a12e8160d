package dev.loadtest.generator.executor;

import dev.loadtest.generator.engine.EpochClock;
import dev.loadtest.generator.engine.IterationRunner;
import dev.loadtest.generator.engine.RunContext;
import dev.loadtest.generator.engine.ScenarioContext;
import dev.loadtest.generator.engine.VirtualUser;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.plan.Step;
import dev.loadtest.schemas.sample.TagSet;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a plan on this generator, for its execution segment: setup, then every scenario at its
 * startTime, each with its executor, then teardown. Reports {@code vus} and {@code vus_max} every
 * second while it runs.
 *
 * <p>Setup and teardown run on every generator of a run, once each (as distributed k6 does without
 * {@code --no-setup}); their variables are visible to all VUs of that generator.
 *
 * <p>Threads: {@link #run} blocks its caller until the run is over; {@link #stop} and {@link #abort}
 * may be called from any thread.
 */
public final class RunExecution {
  private static final Logger LOG = LoggerFactory.getLogger(RunExecution.class);
  private static final int SETUP_VU = 0;

  private final RunContext run;
  private final ExecutionSegmentSequence sequence;
  private final int segment;
  private final List<ScenarioRunner> runners = new ArrayList<>();
  private volatile boolean stopped;
  private volatile boolean aborted;

  public RunExecution(RunContext run, ExecutionSegmentSequence sequence, int segment) {
    this.run = run;
    this.sequence = sequence;
    this.segment = segment;
    int vuOffset = 0;
    for (Scenario s : run.plan().scenarios().values()) {
      runners.add(ScenarioRunner.of(new ScenarioContext(run, s), s, sequence, segment, vuOffset));
      vuOffset = Math.toIntExact(vuOffset + s.executor().maxVus());
    }
  }

  public String segment() {
    return sequence.segment(segment);
  }

  /**
   * Runs the plan; scenario times count from {@code startNanos} ({@link System#nanoTime()}), which may
   * lie in the future (all generators of a run start together).
   *
   * @return true when the run ended on its own or by a graceful stop, false when it was aborted
   */
  public boolean run(long startNanos) throws InterruptedException {
    Thread gauges = Thread.ofVirtual().name("vus-" + run.testRunId()).start(this::reportVus);
    try {
      if (!waitUntil(startNanos)) {
        return !aborted;
      }
      if (!run.plan().setup().isEmpty() && !stopped) {
        run.setup().set(lifecycle("setup", run.plan().setup()));
      }
      long scenariosStart = Math.max(startNanos, System.nanoTime());
      List<Thread> threads = new ArrayList<>();
      for (ScenarioRunner r : runners) {
        Scenario s = run.plan().scenarios().get(r.name());
        long at = scenariosStart + (s.startTime() == null ? 0 : s.startTime().toNanos());
        threads.add(Thread.ofPlatform().name("scenario-" + r.name()).start(() -> {
          try {
            if (waitUntil(at)) {
              r.run(at);
            }
          } catch (InterruptedException e) {
            r.abort();
          } catch (RuntimeException e) {
            LOG.error("run {}: scenario {} failed", run.testRunId(), r.name(), e);
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
      if (!run.plan().teardown().isEmpty() && !aborted) {
        lifecycle("teardown", run.plan().teardown());
      }
    } catch (InterruptedException e) {
      abort();
      throw e;
    } finally {
      gauges.interrupt();
      gauges.join();
    }
    return !aborted;
  }

  private boolean waitUntil(long at) throws InterruptedException {
    while (!stopped) {
      long left = at - System.nanoTime();
      if (left <= 0) {
        return true;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(left, 50_000_000L));
    }
    return false;
  }

  /** Runs setup or teardown once on a VU of its own; returns the variables it left. */
  private Map<String, String> lifecycle(String name, List<Step> steps) throws InterruptedException {
    ScenarioContext sc = ScenarioContext.lifecycle(run, name, steps);
    VirtualUser vu = new VirtualUser(SETUP_VU, sc);
    if (IterationRunner.run(vu, System.nanoTime()) == IterationRunner.Outcome.INTERRUPTED) {
      throw new InterruptedException(name + " was interrupted");
    }
    Map<String, String> vars = new java.util.HashMap<>(run.setupVars());
    vars.putAll(vu.variables());
    return vars;
  }

  private void reportVus() {
    TagSet tags = TagSet.of(run.plan().tags());
    TagSet hostTags = TagSet.of(java.util.Map.of("generator", run.sink().generatorId()));
    try {
      while (true) {
        long now = EpochClock.nowMicros();
        run.sink().point("vus", MetricType.GAUGE, now, tags, activeVus());
        run.sink().point("vus_max", MetricType.GAUGE, now, tags, allocatedVus());
        if (run.hosts().count() > 0) {
          run.sink().point("generator_hosts", MetricType.GAUGE, now, hostTags, run.hosts().count());
        }
        Thread.sleep(1000);
      }
    } catch (InterruptedException e) {
      // the run is over
    }
  }

  /** Graceful stop: scenarios start no new iterations; running ones get their gracefulStop. */
  public void stop() {
    stopped = true;
    runners.forEach(ScenarioRunner::stop);
  }

  /** Abort: every VU is interrupted at once; teardown does not run. */
  public void abort() {
    aborted = true;
    stopped = true;
    runners.forEach(ScenarioRunner::abort);
  }

  public int activeVus() {
    return runners.stream().mapToInt(ScenarioRunner::activeVus).sum();
  }

  public int allocatedVus() {
    return runners.stream().mapToInt(ScenarioRunner::allocatedVus).sum();
  }

  public long iterations() {
    return runners.stream().mapToLong(ScenarioRunner::iterations).sum();
  }

  public long droppedIterations() {
    return runners.stream().mapToLong(ScenarioRunner::droppedIterations).sum();
  }

  public long failedIterations() {
    return runners.stream().mapToLong(ScenarioRunner::failedIterations).sum();
  }

  /** Iterations per scenario, for tests and the end-of-run report. */
  public Map<String, Long> iterationsByScenario() {
    Map<String, Long> m = new java.util.LinkedHashMap<>();
    runners.forEach(r -> m.put(r.name(), r.iterations()));
    return m;
  }
}
