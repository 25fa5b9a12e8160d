package dev.loadtest.flink.aggregate;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import java.time.Duration;

/**
 * Lets each sample batch be counted at most once and only in its own run, before any batch is decoded.
 * Keyed by the run id read from the batch's header ({@link AggregateJob.RawRecord#gateKey}), not by
 * generator: a run's batches share one partition and must leave here in the order they came, or the
 * stages after would see one generator's seconds after another's later ones and count them late.
 *
 * <ul>
 *   <li>A record whose header cannot be read is rejected with the reader's reason.</li>
 *   <li>A record whose Kafka key is not the run id inside it is rejected: a producer must not write into
 *       another team's run by mislabelling (and the key decides the partition, so the run's order too).</li>
 *   <li>A batch whose (generator, sequence) was counted already is rejected as a duplicate: a generator's
 *       retry, a replayed file, a copy produced again. The numbers seen are keyed state (exact intervals,
 *       {@link SeenSequences}), checkpointed with everything downstream, so a restore from a checkpoint
 *       forgets exactly the batches it will read again: exactly once end to end. Kept 2 days after a
 *       generator's last batch of a run.</li>
 * </ul>
 * Rejections go to {@link #REJECTED} (the DLQ) with the reason, and are counted in {@code rejectedBatches}.
 */
public final class BatchGate extends KeyedProcessFunction<String, AggregateJob.RawRecord, AggregateJob.RawRecord> {
  public static final OutputTag<String> REJECTED = new OutputTag<>("gate-rejected") {};
  static final Duration SEEN_TTL = Duration.ofDays(2);
  private static final long serialVersionUID = 1L;

  private final String job;
  private final String topic;
  /** Per generator of the run: the sequences counted. */
  private transient MapState<String, long[]> seen;
  private transient Counter rejected;

  public BatchGate(String job, String topic) {
    this.job = job;
    this.topic = topic;
  }

  @Override
  public void open(OpenContext ctx) {
    MapStateDescriptor<String, long[]> d = new MapStateDescriptor<>("seenSequences", Types.STRING,
        PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);
    d.enableTimeToLive(StateTtlConfig.newBuilder(SEEN_TTL).build());
    seen = getRuntimeContext().getMapState(d);
    rejected = getRuntimeContext().getMetricGroup().counter("rejectedBatches");
  }

  @Override
  public void processElement(AggregateJob.RawRecord r, Context ctx, Collector<AggregateJob.RawRecord> out)
      throws Exception {
    String reason = reasonToReject(r);
    if (reason != null) {
      rejected.inc();
      ctx.output(REJECTED, Rejections.json(job, topic, r.partition, r.offset, reason, r.value));
      return;
    }
    out.collect(r);
  }

  private String reasonToReject(AggregateJob.RawRecord r) throws Exception {
    if (r.headerError != null) {
      return "not a sample batch the " + job + " job can read: " + r.headerError;
    }
    if (r.key == null || !r.key.equals(r.testRunId)) {
      return "the record's key " + (r.key == null ? "(none)" : "\"" + abbreviate(r.key) + "\"")
          + " is not the run id inside the batch, \"" + abbreviate(r.testRunId) + "\": samples records are keyed by"
          + " their run id";
    }
    long[] s = seen.get(r.generatorId);
    if (s == null) {
      s = SeenSequences.NONE;
    }
    if (SeenSequences.contains(s, r.sequence)) {
      return "duplicate: batch " + r.sequence + " of generator \"" + abbreviate(r.generatorId) + "\" in run \""
          + abbreviate(r.testRunId) + "\" was counted already";
    }
    seen.put(r.generatorId, SeenSequences.add(s, r.sequence));
    return null;
  }

  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...(" + s.length() + " chars)";
  }
}
