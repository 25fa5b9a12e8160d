package dev.loadtest.plugins.jmeter;

import dev.loadtest.generator.engine.EpochClock;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.jmeter.engine.StandardJMeterEngine;
import org.apache.jorphan.collections.HashTree;

/**
 * One run of a JMeter test plan on this generator: JMeter's {@link StandardJMeterEngine} on the plan's tree,
 * with a {@link SampleForwarder} beside its listeners, stopped after {@code maxDuration} if it has not ended.
 */
final class JMeterRun implements PluginRun {
  private final PluginContext c;
  private final HashTree tree;
  private final Duration maxDuration;
  private final SampleForwarder forwarder;
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile StandardJMeterEngine engine;
  private volatile boolean stopping;
  private volatile boolean aborted;

  JMeterRun(PluginContext c, HashTree tree, Duration maxDuration) {
    this.c = c;
    this.tree = tree;
    this.maxDuration = maxDuration;
    this.forwarder = new SampleForwarder(c);
  }

  @Override
  public boolean run(long startNanos) throws InterruptedException {
    while (!stopping && System.nanoTime() < startNanos) {
      LockSupport.parkNanos(Math.min(startNanos - System.nanoTime(), 10_000_000L));
    }
    if (stopping) {
      ended.countDown();
      return !aborted;
    }
    tree.add(tree.getArray()[0], forwarder);
    StandardJMeterEngine e = new StandardJMeterEngine();
    e.configure(tree);
    engine = e;
    Thread watchdog = Thread.ofVirtual().name("jmeter-max-duration").start(() -> {
      try {
        if (!ended.await(maxDuration.toMillis(), TimeUnit.MILLISECONDS)) {
          stop();
        }
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    });
    Thread vus = Thread.ofVirtual().name("jmeter-vus").start(this::reportVus);
    try {
      if (stopping) {
        return !aborted;
      }
      e.run();
    } finally {
      ended.countDown();
      watchdog.interrupt();
      vus.interrupt();
      forwarder.endOfRun();
    }
    if (forwarder.interrupted()) {
      throw new InterruptedException("the sample sink was interrupted");
    }
    return !aborted;
  }

  /** The running threads as k6's {@code vus} gauge, once a second, as the http plug-in reports its VUs. */
  private void reportVus() {
    TagSet tags = TagSet.of(c.plan().tags());
    try {
      do {
        c.sink().point("vus", MetricType.GAUGE, EpochClock.nowMicros(), tags, forwarder.activeThreads());
      } while (!ended.await(1, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void stop() {
    stopping = true;
    StandardJMeterEngine e = engine;
    if (e != null) {
      e.stopTest(false);
    }
  }

  @Override
  public void abort() {
    aborted = true;
    stopping = true;
    StandardJMeterEngine e = engine;
    if (e != null) {
      e.stopTest(true);
    }
  }

  @Override
  public long iterations() {
    return forwarder.iterations();
  }

  @Override
  public long droppedIterations() {
    return 0;
  }

  @Override
  public int activeVus() {
    return forwarder.activeThreads();
  }

  @Override
  public long failedIterations() {
    return forwarder.unsupportedSamples();
  }

  @Override
  public java.util.List<String> iterationErrors() {
    return forwarder.unsupportedReasons();
  }
}
