package dev.loadtest.benchmarks;

import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.flink.sink.MetricRowBinary;
import dev.loadtest.flink.sink.RowBinaryOutput;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * What putting an insert's rows in the tables' key order costs the sink ({@code RowOrder}, per row), against
 * encoding the same rows ({@code MetricRowBinary.write}, per row) as the peer. The rows are one insert of the
 * aggregate job at 5,000 names: 50,000 rows of 1 s buckets as a closing second emits them (series in hash
 * order, each with its by-name row), histograms of a few buckets. ClickHouse 18.16 spent about 1.6 us per row
 * sorting such a block itself (1 M rows: 3.1 s of CPU unsorted, 1.6 s in key order).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RowOrderBenchmark {
  static final int ROWS = 50_000;

  List<SeriesBucket> buckets;
  MetricRowBinary encoder;
  RowBinaryOutput out;
  int[] starts;
  byte[] rows;
  int length;

  @Setup
  public void setUp() {
    Random rnd = new Random(7);
    String[] metrics = {"http_reqs", "http_req_duration", "http_req_failed", "http_req_blocked", "http_req_connecting",
        "http_req_tls_handshaking", "http_req_sending", "http_req_waiting", "http_req_receiving", "data_sent",
        "data_received"};
    buckets = new ArrayList<>(ROWS);
    for (int i = 0; buckets.size() < ROWS; i++) {
      for (String analysis : new String[] {"", "~name"}) {
        SeriesBucket b = new SeriesBucket();
        b.testRunId = "card-5000-mxdeyyl7";
        b.analysisId = analysis;
        b.metric = metrics[i % metrics.length];
        b.seriesId = rnd.nextLong();
        b.widthMs = 1_000;
        b.startMs = 1_780_000_000_000L;
        b.writerId = "main";
        b.count = 10;
        b.histIndexes = new int[] {900 + rnd.nextInt(20), 1000 + rnd.nextInt(20), 1100 + rnd.nextInt(20)};
        b.histCounts = new long[] {3, 5, 2};
        buckets.add(b);
      }
    }
    Collections.shuffle(buckets, rnd); // a HashMap's order
    encoder = new MetricRowBinary();
    out = new RowBinaryOutput(ROWS * 128);
    starts = new int[ROWS];
    for (int i = 0; i < ROWS; i++) {
      starts[i] = out.size();
      encoder.write(buckets.get(i), out);
    }
    rows = out.toByteArray();
    length = rows.length;
  }

  @Benchmark
  @OperationsPerInvocation(ROWS)
  public byte[] sortIntoKeyOrder() {
    return MetricRowBinary.KEY.sort(rows, length, starts, ROWS);
  }

  @Benchmark
  @OperationsPerInvocation(ROWS)
  public int encodeRows() {
    out.reset();
    for (SeriesBucket b : buckets) {
      encoder.write(b, out);
    }
    return out.size();
  }
}
