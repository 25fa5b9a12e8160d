package dev.loadtest.generator.plugin;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A generator made heavy on purpose for as long as a run goes, as a costly script would make it: CPU work
 * ({@link #THREADS_PER_CORE} threads per core, as many busy VUs would be, each busy for the given share of
 * every 10 ms, so that from a share of 1/4 on it asks for more than its cores and competes for them as a
 * saturated generator does) and a share of its maximum heap held (grown in 256 KiB chunks while the heap's use is below the share, so that what it holds
 * plus everything else live stays within it, never more). Released on {@link #close}. For the performance
 * insights {@code high-generator-cpu} and {@code high-generator-memory}: a generator that runs in a process of
 * its own (with {@code heap}, a small {@code -Xmx} is what makes it cheap).
 */
final class GeneratorLoad implements AutoCloseable {
  /** Above this share of the heap, a generator would spend its time collecting garbage. */
  static final double MAX_HEAP_SHARE = 0.95;
  static final int THREADS_PER_CORE = 4;
  private static final long PERIOD_NANOS = 10_000_000L;
  private static final int CHUNK = 256 * 1024;
  private static final GeneratorLoad NONE = new GeneratorLoad(() -> true);

  private final BooleanSupplier stopping;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean closed;
  /** The chunks held; only the heap thread touches it. */
  private final List<byte[]> held = new ArrayList<>();

  private GeneratorLoad(BooleanSupplier stopping) {
    this.stopping = stopping;
  }

  /** Starts its CPU threads, each busy {@code cpu} of the time, and holding {@code heap} of the maximum heap (0: not). */
  static GeneratorLoad start(double cpu, double heap, BooleanSupplier stopping) {
    if (cpu <= 0 && heap <= 0) {
      return NONE;
    }
    GeneratorLoad load = new GeneratorLoad(stopping);
    if (cpu > 0) {
      long busyNanos = Math.round(PERIOD_NANOS * Math.min(1, cpu));
      for (int i = 0; i < THREADS_PER_CORE * Runtime.getRuntime().availableProcessors(); i++) {
        load.threads.add(Thread.ofPlatform().daemon().name("synthetic-cpu-load-" + i).start(() -> load.burn(busyNanos)));
      }
    }
    if (heap > 0) {
      double share = Math.min(MAX_HEAP_SHARE, heap);
      load.threads.add(Thread.ofPlatform().daemon().name("synthetic-heap-load").start(() -> load.hold(share)));
    }
    return load;
  }

  private boolean over() {
    return closed || stopping.getAsBoolean();
  }

  private void burn(long busyNanos) {
    long sink = 0;
    while (!over()) {
      long periodStart = System.nanoTime();
      while (System.nanoTime() - periodStart < busyNanos && !closed) {
        sink += sink * 31 + periodStart; // work the JIT cannot drop: the result is published below
      }
      long rest = PERIOD_NANOS - (System.nanoTime() - periodStart);
      if (rest > 0 && busyNanos < PERIOD_NANOS) {
        LockSupport.parkNanos(rest);
      }
    }
    blackhole = sink;
  }

  @SuppressWarnings("unused")
  private volatile long blackhole;

  private void hold(double share) {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    while (!over()) {
      long max = memory.getHeapMemoryUsage().getMax();
      if (max <= 0) {
        return; // no maximum to take a share of
      }
      // Garbage counts in the use too, so after a collection the use drops and this holds a little more:
      // what it holds plus what else lives converges to the share, never above it.
      int grown = 0;
      while (!over() && grown < 64 && memory.getHeapMemoryUsage().getUsed() + CHUNK < share * max) {
        byte[] chunk = new byte[CHUNK];
        chunk[0] = 1;
        held.add(chunk);
        grown++;
      }
      LockSupport.parkNanos(grown == 64 ? 1_000_000L : 100_000_000L);
    }
    held.clear();
  }

  @Override
  public void close() throws InterruptedException {
    closed = true;
    for (Thread t : threads) {
      t.join();
    }
  }
}
