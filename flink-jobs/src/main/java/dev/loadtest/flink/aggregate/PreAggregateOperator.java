package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;

/**
 * The aggregate job's first stage, in one operator so that nothing is copied between chained steps:
 * decodes each sample batch, keeps only the configured run and time range, folds it into buckets per
 * (series, second) that successive batches add to ({@link BatchPreAggregator}), generates the event-time
 * watermark, and hands each second's buckets to the keyed shuffle just before the watermark passes it.
 * The shuffle then carries a series' second once per task rather than once per batch of every generator,
 * and no later than the downstream {@link BucketLadder} would close it anyway.
 *
 * <p><b>Watermark.</b> Bounded out-of-orderness, advanced after every batch: the latest second seen minus
 * {@code outOfOrderness}. When no batch has come for {@code idleness} (counting only time the task was
 * free to take one, not time it was held up by back-pressure or a checkpoint), event time goes on at the wall
 * clock's pace from the latest second (so the last seconds of a run that has ended are closed without
 * waiting for other runs' samples); a task that never had a batch is marked idle, holding no one back.
 * Samples of seconds the watermark has just passed become buckets of their own batch at once (downstream,
 * whose event time is the slowest task's, they are mostly still in time; else correction rows named after the
 * batch). Samples more than {@link BatchPreAggregator#HOLD_AFTER_MS} late are merged per series and
 * second and handed over at the next checkpoint barrier as one bucket each, named
 * {@code merged:<subtask>/<checkpoint id>} (correction rows downstream): a job that has fallen behind writes
 * at most one correction row per series and second per checkpoint and task, however many batches came late.
 * The name is unique: a checkpoint's data is committed only with it, and after a restore from checkpoint C
 * names start above C.
 * Upstream watermarks are ignored, except the final one of a bounded input, which hands over everything.
 *
 * <p><b>Checkpoints.</b> The carried buckets of seconds the watermark has not passed are kept in the
 * checkpoint (encoded as {@link SeriesBucketSerializer.Chunks}), not handed over before the barrier: handed
 * over, every series' open seconds (up to two per series) left in a burst just ahead of the barrier, which
 * the next stage had to take in before it could align (at 55,000 series 0.6-1.5 s of each checkpoint, and
 * so of the delay before rows are readable), and each series' second reached it in several parts. On restore
 * they are handed over as they are, before anything else; the seconds they are of set where event time
 * resumes (were the input quiet from then on, they still close). Late samples' buckets are handed over
 * before each barrier, named after it (below). More than {@code maxCarried} buckets (a stalled watermark)
 * are handed over at once.
 *
 * <p>A record that is not a readable batch, or has a sample time out of range ({@link BatchTimes}), goes to
 * {@link #REJECTED} (for the DLQ: where it was, why, its first 64 KiB in base64) and is counted in
 * {@code malformedBatches}; nothing of it is counted, and the batches around it are unaffected.
 */
public final class PreAggregateOperator extends AbstractStreamOperator<SeriesBucket>
    implements OneInputStreamOperator<AggregateJob.RawRecord, SeriesBucket>, BoundedOneInput {
  public static final OutputTag<String> REJECTED = new OutputTag<>("rejected-batches") {};
  /** Accumulators (summed over tasks): batches read, and buckets handed to the shuffle. */
  public static final String BATCHES = "preAggregatedBatches";
  public static final String BUCKETS = "preAggregatedBuckets";
  private static final long serialVersionUID = 1L;
  private static final long TICK_MS = 200;
  /** The longest gap between two ticks counted as quiet input (a longer one: the task was held up). */
  static final long MAX_TICK_GAP_MS = 2 * TICK_MS;

  private final String job;
  private final String topic;
  private final String runFilter;
  private final String analysisId;
  private final long fromMs;
  private final long toMs;
  private final long delayMs;
  private final long idleMs;
  private final int maxCarried;

  private transient BatchPreAggregator aggregator;
  private transient StreamRecord<SeriesBucket> reuse;
  private transient long latestSecondMs;
  private transient long watermark;
  /**
   * Input quiet time counted so far: the time between ticks with no batch, each gap counted at most
   * {@link #MAX_TICK_GAP_MS}, so that a task held up (back-pressure, a long checkpoint, a collection) is
   * not taken for quiet input.
   */
  private transient long quietMs;
  /** When the last tick ran, in the processing-time service's milliseconds. */
  private transient long lastTickMs;
  private transient boolean batchSinceTick;
  /** When the task opened, in the processing-time service's milliseconds. */
  private transient long openedMs;
  private transient boolean idle;
  private transient Counter malformed;
  /** The last checkpoint barrier seen (or restored from): late buckets handed over now belong to the next. */
  private transient long lastCheckpointId;
  /** Late hand-overs since that barrier that were not at a barrier (too many buckets carried). */
  private transient int earlyLateDrains;
  private transient LongCounter batches;
  private transient LongCounter buckets;
  /** The carried buckets of the checkpoint restored from, until they are handed over. */
  private transient List<SeriesBucket> restored;
  private transient ListState<byte[]> carriedState;

  public PreAggregateOperator(AggregateJobConfig c, int maxCarried) {
    this.job = c.jobName();
    this.topic = c.samplesTopic();
    this.runFilter = c.runFilter();
    this.analysisId = c.analysisId();
    this.fromMs = c.fromMs();
    this.toMs = c.toMs();
    this.delayMs = c.outOfOrderness().toMillis();
    this.idleMs = c.idleness().toMillis();
    this.maxCarried = maxCarried;
  }

  @Override
  public void initializeState(org.apache.flink.runtime.state.StateInitializationContext context) throws Exception {
    super.initializeState(context);
    lastCheckpointId = context.getRestoredCheckpointId().orElse(0L);
    carriedState = context.getOperatorStateStore().getListState(
        new ListStateDescriptor<>("carried-buckets-encoded", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    restored = new ArrayList<>();
    latestSecondMs = Long.MIN_VALUE;
    if (context.isRestored()) {
      for (byte[] chunk : carriedState.get()) {
        SeriesBucketSerializer.decode(chunk, restored::add);
      }
      for (SeriesBucket b : restored) {
        latestSecondMs = Math.max(latestSecondMs, b.startMs);
      }
    }
  }

  @Override
  public void snapshotState(org.apache.flink.runtime.state.StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    SeriesBucketSerializer.Chunks chunks = new SeriesBucketSerializer.Chunks(BucketLadder.SNAPSHOT_CHUNK_BYTES);
    restored.forEach(chunks); // none once any element, tick or barrier came
    aggregator.forEachCarried(chunks);
    carriedState.update(chunks.chunks());
  }

  /** The restored carried buckets, handed over once, before anything this task does after a restore. */
  private void handOverRestored() {
    if (!restored.isEmpty()) {
      restored.forEach(this::emit);
      restored.clear();
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    aggregator = new BatchPreAggregator(analysisId, fromMs, toMs);
    reuse = new StreamRecord<>(null);
    watermark = Long.MIN_VALUE;
    openedMs = getProcessingTimeService().getCurrentProcessingTime();
    lastTickMs = openedMs;
    malformed = getMetricGroup().counter("malformedBatches");
    batches = new LongCounter();
    buckets = new LongCounter();
    getRuntimeContext().addAccumulator(BATCHES, batches);
    getRuntimeContext().addAccumulator(BUCKETS, buckets);
    scheduleTick();
  }

  private void scheduleTick() {
    var time = getProcessingTimeService();
    time.registerTimer(time.getCurrentProcessingTime() + TICK_MS, t -> {
      tick();
      scheduleTick();
    });
  }

  @Override
  public void processElement(StreamRecord<AggregateJob.RawRecord> element) {
    handOverRestored();
    AggregateJob.RawRecord record = element.getValue();
    SampleBatch batch;
    try {
      batch = SampleBatchCodec.decode(record.value);
      if (!runFilter.isEmpty() && !runFilter.equals(batch.testRunId())) {
        return;
      }
      String outOfRange = BatchTimes.outOfRange(batch, System.currentTimeMillis());
      if (outOfRange != null) {
        reject(record, outOfRange);
        return;
      }
      batches.add(1);
      // A bucket keeps its batch's name: the origin of a correction row, should it come too late.
      long latest = aggregator.add(batch, watermark, "late:" + batch.generatorId() + "/" + batch.sequence(), this::emit);
      latestSecondMs = Math.max(latestSecondMs, latest);
    } catch (RuntimeException e) {
      reject(record, "not a sample batch the " + job + " job can read: " + e.getMessage());
      return;
    }
    batchSinceTick = true;
    quietMs = 0;
    if (idle) {
      idle = false;
      output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
    }
    if (latestSecondMs != Long.MIN_VALUE) {
      advance(latestSecondMs - delayMs - 1);
    }
    if (aggregator.carried() > maxCarried) {
      aggregator.drain(Long.MAX_VALUE, this::emit);
      aggregator.drainLate(lateWriter(lastCheckpointId + 1) + "." + (++earlyLateDrains), this::emit);
    }
  }

  /**
   * Quiet input: event time goes on with the clock; a task that never had a batch is idle. Quiet means no
   * batch between ticks that came on time: when the task itself was held up (its output back-pressured, a
   * long checkpoint), batches waiting for it are not quiet input, and moving event time on with the clock
   * then would make the whole backlog late (a correction row per series and second instead of one complete row).
   */
  private void tick() {
    handOverRestored();
    long tickMs = getProcessingTimeService().getCurrentProcessingTime();
    long gapMs = tickMs - lastTickMs;
    lastTickMs = tickMs;
    if (latestSecondMs == Long.MIN_VALUE) {
      if (!idle && tickMs - openedMs >= idleMs) {
        idle = true;
        output.emitWatermarkStatus(WatermarkStatus.IDLE);
      }
      return;
    }
    if (batchSinceTick) {
      batchSinceTick = false;
      return;
    }
    quietMs += Math.min(gapMs, MAX_TICK_GAP_MS);
    if (quietMs >= idleMs) {
      if (idle) {
        idle = false;
        output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
      }
      advance(latestSecondMs + quietMs - delayMs - 1);
    }
  }

  private void advance(long to) {
    if (to > watermark) {
      watermark = to;
      aggregator.drain(watermark, this::emit);
      output.emitWatermark(new Watermark(watermark));
    }
  }

  private void emit(SeriesBucket b) {
    buckets.add(1);
    output.collect(reuse.replace(b, b.startMs));
  }

  @Override
  public void processWatermark(Watermark mark) {
    if (mark.getTimestamp() == Long.MAX_VALUE) { // the end of a bounded input
      handOverRestored();
      aggregator.drain(Long.MAX_VALUE, this::emit);
      aggregator.drainLate(lateWriter(lastCheckpointId + 1) + ".end", this::emit);
      watermark = Long.MAX_VALUE;
      output.emitWatermark(mark);
    }
  }

  @Override
  public void processWatermarkStatus(WatermarkStatus status) {
    // this operator generates the watermark and its status itself
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    super.prepareSnapshotPreBarrier(checkpointId);
    handOverRestored();
    aggregator.drainLate(lateWriter(checkpointId), this::emit);
    lastCheckpointId = checkpointId;
    earlyLateDrains = 0;
  }

  @Override
  public void endInput() {
    handOverRestored();
    aggregator.drain(Long.MAX_VALUE, this::emit);
    aggregator.drainLate(lateWriter(lastCheckpointId + 1) + ".end", this::emit);
  }

  /** The writer id of the late samples handed over for checkpoint {@code checkpointId} by this subtask. */
  private String lateWriter(long checkpointId) {
    return "merged:" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() + "/" + checkpointId;
  }

  private void reject(AggregateJob.RawRecord record, String reason) {
    malformed.inc();
    output.collect(REJECTED, new StreamRecord<>(Rejections.json(job, topic,
        record.partition, record.offset, reason, record.value)));
  }
}
