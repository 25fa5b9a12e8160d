package dev.loadtest.generator.agent;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches the generator itself: process CPU (0..1 of all cores), the CPU of its machine or container (every
 * process on it: what competes with the generator for its cores), heap, and scheduling delay (how late a
 * 10 ms timer fires: a loaded or GC-pausing generator fires late, and then so do its VUs). Above
 * {@link #CPU_WARNING} CPU the generator's own numbers are less trustworthy, and it says so.
 * Thread-safe; one per generator, its sampling thread started by {@link #start}.
 */
public final class SelfMonitor implements AutoCloseable {
  public static final double CPU_WARNING = 0.8;
  private static final long TICK_NANOS = 10_000_000L;

  private final OperatingSystemMXBean os =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private final AtomicLong worstDelayNanos = new AtomicLong();
  private volatile Thread thread;

  /** One reading. */
  public record Reading(double cpu, long heapUsedBytes, long heapMaxBytes, double schedulingDelayMs, double hostCpu) {
    public boolean overloaded() {
      return cpu > CPU_WARNING;
    }

    public String warning() {
      return "generator CPU at %.0f%% (above %.0f%%): its timings may be inflated; add generators"
          .formatted(cpu * 100, CPU_WARNING * 100);
    }
  }

  public SelfMonitor start() {
    thread = Thread.ofPlatform().daemon().name("self-monitor").start(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        long t0 = System.nanoTime();
        try {
          Thread.sleep(TICK_NANOS / 1_000_000);
        } catch (InterruptedException e) {
          return;
        }
        long late = System.nanoTime() - t0 - TICK_NANOS;
        worstDelayNanos.accumulateAndGet(Math.max(0, late), Math::max);
      }
    });
    return this;
  }

  /** Reads CPU and heap, and the worst scheduling delay since the last reading. */
  public Reading read() {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    double cpu = os.getProcessCpuLoad();
    double host = os.getCpuLoad(); // container-aware: a container's share of its quota
    return new Reading(cpu < 0 ? 0 : cpu, heap.getUsed(), heap.getMax(), worstDelayNanos.getAndSet(0) / 1e6,
        host < 0 ? 0 : host);
  }

  public static int cores() {
    return Runtime.getRuntime().availableProcessors();
  }

  @Override
  public void close() {
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }
}
