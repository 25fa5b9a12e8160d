package dev.loadtest.flink.aggregate;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Lets each sample batch be counted at most once and only in its own run, before any batch is decoded.
 * Chained to the Kafka source (no shuffle: a run's batches share one partition, so they reach one instance,
 * in order, and raw batches are not copied between tasks).
 *
 * <ul>
 *   <li>A record whose header cannot be read is rejected with the reader's reason.</li>
 *   <li>A record whose Kafka key is not the run id inside it is rejected: a producer must not write into
 *       another team's run by mislabelling (and the key decides the partition, so the run's order too).</li>
 *   <li>A batch whose (generator, sequence) was counted already is rejected as a duplicate: a generator's
 *       retry, a replayed file, a copy produced again. The numbers seen are exact intervals
 *       ({@link SeenSequences}) per run and generator, checkpointed with everything downstream, so a restore
 *       from a checkpoint forgets exactly the batches it will read again: exactly once end to end. The state
 *       is a union list: after a restore or a rescale every instance has all of it, whichever partitions it
 *       then reads. A run and generator is forgotten {@link #SEEN_TTL} after its last batch.</li>
 * </ul>
 * Rejections go to {@link #REJECTED} (the DLQ) with the reason, and are counted in {@code rejectedBatches}.
 * Not thread-safe: Flink calls one instance from one thread.
 */
public final class BatchGate extends ProcessFunction<AggregateJob.RawRecord, AggregateJob.RawRecord>
    implements CheckpointedFunction {
  public static final OutputTag<String> REJECTED = new OutputTag<>("gate-rejected") {};
  static final Duration SEEN_TTL = Duration.ofDays(2);
  private static final long serialVersionUID = 1L;

  private final String job;
  private final String topic;
  private transient Map<String, SeenEntry> seen;
  private transient ListState<SeenEntry> checkpointed;
  private transient Counter rejected;

  /** The sequences of one run and generator counted so far: a Flink POJO, for the checkpoint. */
  public static final class SeenEntry {
    public String run;
    public String generator;
    public long[] sequences;
    public long lastSeenMs;

    public SeenEntry() {}

    SeenEntry(String run, String generator) {
      this.run = run;
      this.generator = generator;
      this.sequences = SeenSequences.NONE;
    }

    String key() {
      return key(run, generator);
    }

    static String key(String run, String generator) {
      return run + '\u0000' + generator;
    }
  }

  public BatchGate(String job, String topic) {
    this.job = job;
    this.topic = topic;
  }

  @Override
  public void initializeState(FunctionInitializationContext ctx) throws Exception {
    checkpointed = ctx.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>("seenSequences",
        TypeInformation.of(SeenEntry.class)));
    seen = new HashMap<>();
    if (ctx.isRestored()) {
      for (SeenEntry e : checkpointed.get()) {
        SeenEntry had = seen.get(e.key());
        if (had == null || had.lastSeenMs < e.lastSeenMs) {
          seen.put(e.key(), e);
        }
      }
    }
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
    long oldest = System.currentTimeMillis() - SEEN_TTL.toMillis();
    seen.values().removeIf(e -> e.lastSeenMs < oldest);
    checkpointed.update(new java.util.ArrayList<>(seen.values()));
  }

  @Override
  public void open(OpenContext ctx) {
    rejected = getRuntimeContext().getMetricGroup().counter("rejectedBatches");
  }

  @Override
  public void processElement(AggregateJob.RawRecord r, Context ctx, Collector<AggregateJob.RawRecord> out) {
    String reason = reasonToReject(r);
    if (reason != null) {
      rejected.inc();
      ctx.output(REJECTED, Rejections.json(job, topic, r.partition, r.offset, reason, r.value));
      return;
    }
    out.collect(r);
  }

  private String reasonToReject(AggregateJob.RawRecord r) {
    if (r.headerError != null) {
      return "not a sample batch the " + job + " job can read: " + r.headerError;
    }
    if (r.key == null || !r.key.equals(r.testRunId)) {
      return "the record's key " + (r.key == null ? "(none)" : "\"" + abbreviate(r.key) + "\"")
          + " is not the run id inside the batch, \"" + abbreviate(r.testRunId) + "\": samples records are keyed by"
          + " their run id";
    }
    SeenEntry e = seen.computeIfAbsent(SeenEntry.key(r.testRunId, r.generatorId),
        k -> new SeenEntry(r.testRunId, r.generatorId));
    e.lastSeenMs = System.currentTimeMillis();
    if (SeenSequences.contains(e.sequences, r.sequence)) {
      return "duplicate: batch " + r.sequence + " of generator \"" + abbreviate(r.generatorId) + "\" in run \""
          + abbreviate(r.testRunId) + "\" was counted already";
    }
    e.sequences = SeenSequences.add(e.sequences, r.sequence);
    return null;
  }

  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...(" + s.length() + " chars)";
  }
}
