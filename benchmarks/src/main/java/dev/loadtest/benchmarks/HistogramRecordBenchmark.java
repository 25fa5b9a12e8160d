package dev.loadtest.benchmarks;

import dev.loadtest.schemas.histogram.Latencies;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Recording one latency into a histogram of the shared layout, per value, against HdrHistogram's
 * {@code Histogram.recordValue} (same layout: 2 significant digits, unit 1) as the peer. Values are
 * log-normal latencies around 20 ms, precomputed so that the benchmark measures recording only.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HistogramRecordBenchmark {
  static final int VALUES = 4096;

  long[] values;
  SingleWriterHistogram ours;
  Histogram hdr;

  @Setup
  public void setUp() {
    values = Latencies.logNormal(VALUES, 5);
    ours = new SingleWriterHistogram();
    hdr = new Histogram(1, 3_600_000_000L, 2);
  }

  @Benchmark
  @OperationsPerInvocation(VALUES)
  public long record() {
    for (long v : values) {
      ours.record(v);
    }
    return ours.count();
  }

  @Benchmark
  @OperationsPerInvocation(VALUES)
  public long hdrHistogramRecordValue() {
    for (long v : values) {
      hdr.recordValue(v);
    }
    return hdr.getTotalCount();
  }
}
