package dev.loadtest.benchmarks;

import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import dev.loadtest.schemas.sample.SampleBatchCodecPeer;
import dev.loadtest.schemas.sample.SampleBatches;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericRecord;
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
 * Encode + decode of a 10,000-request sample batch, reported per sample (one HTTP request with its 13
 * columns, plus the batch's share of check and iteration points). The peer is Avro's own generic
 * writer and reader on the same schema and bytes. The encoder is reused across batches, as a
 * generator's batching thread does; {@code encodeDecodeFreshEncoder} shows the cost without reuse.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SampleBatchCodecBenchmark {
  static final int SAMPLES = 10_000;

  SampleBatch batch;
  byte[] bytes;
  GenericRecord generic;
  SampleBatchCodec.Encoder encoder;

  @Setup
  public void setUp() {
    batch = SampleBatches.checkout(SAMPLES, 1);
    bytes = SampleBatchCodec.encode(batch);
    generic = SampleBatchCodecPeer.toGeneric(batch);
    encoder = new SampleBatchCodec.Encoder();
  }

  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public SampleBatch encodeDecode() {
    return SampleBatchCodec.decode(encoder.encode(batch));
  }

  /** The same with a fresh encoder per batch (buffer allocated and grown each time). */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public SampleBatch encodeDecodeFreshEncoder() {
    return SampleBatchCodec.decode(SampleBatchCodec.encode(batch));
  }

  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public byte[] encode() {
    return encoder.encode(batch);
  }

  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public SampleBatch decode() {
    return SampleBatchCodec.decode(bytes);
  }

  /** Peer: Avro's GenericDatumWriter then GenericDatumReader on the same schema. */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public GenericRecord avroGenericEncodeDecode() {
    return SampleBatchCodecPeer.genericRoundTrip(generic);
  }
}
