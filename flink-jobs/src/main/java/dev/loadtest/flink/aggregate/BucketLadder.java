package dev.loadtest.flink.aggregate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Merges the partial buckets of the series it is keyed by into 1 s buckets in event time, and rolls those
 * up to 10 s and 1 min, in one operator: a bucket is emitted complete (writer id {@code ""}, stored as
 * {@code main}) when the watermark passes its end. 1 s buckets leave on the main output, 10 s and 1 min
 * buckets on {@link #ROLLUPS} (without tags: the series table has them).
 *
 * <p><b>Late data is counted, never dropped.</b> A partial bucket for a time the watermark has passed goes
 * out at once as a correction row of its own, which readers add to the complete one. Its writer id names
 * where it came from ({@code <origin>@<its start ms>}, the origin being the partial's writer id, or
 * {@code main}), so it is unique per (series, bucket) and the same each time the same input is processed.
 * A 1 s correction is also rolled up: into the 10 s bucket if that is still open, else as a 10 s
 * correction named the same way (and so on to 1 min).
 *
 * <p><b>Why not keyed state and a timer per bucket.</b> Every bucket of a second closes at the same
 * watermark, so the open buckets are kept here by time, then series, in plain maps: a partial costs two
 * hash lookups, a watermark walks the seconds it closes, and nothing is kept per series once its buckets
 * are out. With keyed state and timers, at 55,000 series the state lookups, the timers and their copies
 * during snapshots were most of the job's time, and the per-series "emitted up to" value stayed for ever.
 * The open buckets are written to union list state at each checkpoint; on restore each subtask keeps
 * those of its key groups, so rescaling works as with keyed state. What has been emitted is the operator's
 * watermark (in the checkpoint; the largest of all subtasks' on restore): a bucket whose end it has passed
 * was either emitted complete before the checkpoint, or is restored open and emitted at the next watermark,
 * so no complete row is emitted twice, and the same input is classified the same way before and after a
 * restore.
 *
 * <p>Gauges leave summed over generators ({@link SeriesBucket#sumGauges}): the 1 s level sees every
 * generator's last value of a second and adds them; rollups roll up sums.
 *
 * <p>With {@code announceSeries}, the first bucket of each series this task sees also goes to
 * {@link #NEW_SERIES}, for the series table (a ReplacingMergeTree: a series announced again after a restore
 * collapses).
 */
public final class BucketLadder extends AbstractStreamOperator<SeriesBucket>
    implements OneInputStreamOperator<SeriesBucket, SeriesBucket> {
  public static final OutputTag<SeriesBucket> NEW_SERIES = new OutputTag<>("new-series") {};
  public static final OutputTag<SeriesBucket> ROLLUPS = new OutputTag<>("rollups") {};
  /** The widths of the levels: 1 s, rolled up to 10 s and 1 min. */
  static final int[] WIDTHS_MS = {1_000, 10_000, 60_000};
  /** Series remembered as announced at most (then forgotten: announcing again costs a row that collapses). */
  static final int ANNOUNCED_LIMIT = 1_000_000;
  private static final long serialVersionUID = 1L;

  private final boolean announceSeries;
  private final boolean keepTags;

  /** Per level: open buckets by start, then series id. */
  private transient List<TreeMap<Long, Map<Long, SeriesBucket>>> open;
  private transient long watermark;
  private transient Set<Long> announced;
  private transient ListState<SeriesBucket> openState;
  private transient ListState<Long> watermarkState;
  private transient StreamRecord<SeriesBucket> reuse;

  /**
   * @param announceSeries whether first buckets go to {@link #NEW_SERIES}
   * @param keepTags whether the 1 s buckets keep their tags (those of the series do, for the projections and
   *     the aggregates topic; a projection's need not)
   */
  public BucketLadder(boolean announceSeries, boolean keepTags) {
    this.announceSeries = announceSeries;
    this.keepTags = keepTags;
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    open = new ArrayList<>();
    for (int i = 0; i < WIDTHS_MS.length; i++) {
      open.add(new TreeMap<>());
    }
    watermark = Long.MIN_VALUE;
    announced = new HashSet<>();
    reuse = new StreamRecord<>(null);
    openState = context.getOperatorStateStore().getUnionListState(
        new ListStateDescriptor<>("open-buckets", TypeInformation.of(SeriesBucket.class)));
    watermarkState = context.getOperatorStateStore().getUnionListState(
        new ListStateDescriptor<>("watermark", Types.LONG));
    if (context.isRestored()) {
      for (Long w : watermarkState.get()) {
        watermark = Math.max(watermark, w);
      }
      int maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
      int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
      int me = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
      for (SeriesBucket b : openState.get()) {
        if (KeyGroupRangeAssignment.assignKeyToParallelOperator(b.seriesId, maxParallelism, parallelism) == me) {
          open.get(level(b.widthMs)).computeIfAbsent(b.startMs, k -> new HashMap<>()).put(b.seriesId, b);
        }
      }
    }
  }

  private static int level(int widthMs) {
    for (int i = 0; i < WIDTHS_MS.length; i++) {
      if (WIDTHS_MS[i] == widthMs) {
        return i;
      }
    }
    throw new IllegalStateException("a restored bucket of width " + widthMs + " ms, not one of this operator's");
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    List<SeriesBucket> all = new ArrayList<>();
    for (TreeMap<Long, Map<Long, SeriesBucket>> level : open) {
      for (Map<Long, SeriesBucket> atStart : level.values()) {
        all.addAll(atStart.values());
      }
    }
    openState.update(all);
    watermarkState.update(List.of(watermark));
  }

  /**
   * {@code in} is this operator's own (Flink deserialises or copies each record for it, object reuse being
   * off), so it is changed in place rather than copied.
   */
  @Override
  public void processElement(StreamRecord<SeriesBucket> element) {
    SeriesBucket in = element.getValue();
    if (announceSeries && announced.add(in.seriesId)) {
      if (announced.size() > ANNOUNCED_LIMIT) {
        announced.clear();
        announced.add(in.seriesId);
      }
      output.collect(NEW_SERIES, new StreamRecord<>(in.copy()));
    }
    if (!keepTags) { // tags are not needed past this point: not in every checkpoint either
      in.tagKeys = null;
      in.tagValues = null;
    }
    add(0, in);
  }

  /** Adds {@code in} to level {@code l}: into its open bucket, or out at once as a correction row. */
  private void add(int l, SeriesBucket in) {
    int width = WIDTHS_MS[l];
    long start = Math.floorDiv(in.startMs, width) * width;
    if (start + width - 1 <= watermark) {
      String origin = in.writerId == null || in.writerId.isEmpty() ? "main" : in.writerId;
      in.writerId = origin + "@" + in.startMs;
      in.startMs = start;
      in.widthMs = width;
      in.sumGauges();
      emit(l, in);
      if (l + 1 < WIDTHS_MS.length) {
        add(l + 1, rollupCopy(in));
      }
      return;
    }
    in.startMs = start;
    in.widthMs = width;
    Map<Long, SeriesBucket> atStart = open.get(l).computeIfAbsent(start, k -> new HashMap<>());
    SeriesBucket acc = atStart.get(in.seriesId);
    if (acc == null) {
      in.writerId = "";
      atStart.put(in.seriesId, in);
    } else {
      acc.merge(in);
    }
  }

  private static SeriesBucket rollupCopy(SeriesBucket b) {
    String[] keys = b.tagKeys;
    String[] values = b.tagValues;
    b.tagKeys = null; // not copied: a rollup does not keep them
    b.tagValues = null;
    SeriesBucket c = b.copy();
    b.tagKeys = keys;
    b.tagValues = values;
    return c;
  }

  private void emit(int l, SeriesBucket b) {
    if (l == 0) {
      output.collect(reuse.replace(b, b.startMs));
    } else {
      output.collect(ROLLUPS, new StreamRecord<>(b, b.startMs));
    }
  }

  /**
   * Closes, level by level, the buckets whose end {@code mark} passes. A closed bucket is rolled up into the
   * level above while that level still classifies by the previous watermark (as a downstream operator would
   * see it before the watermark): the wider bucket around it ends no earlier, so it merges into it, and that
   * closes in the same pass if {@code mark} passes its end too.
   */
  @Override
  public void processWatermark(Watermark mark) throws Exception {
    long w = mark.getTimestamp();
    if (w > watermark) {
      for (int l = 0; l < WIDTHS_MS.length; l++) {
        int width = WIDTHS_MS[l];
        Iterator<Map.Entry<Long, Map<Long, SeriesBucket>>> it = open.get(l).entrySet().iterator();
        while (it.hasNext()) {
          Map.Entry<Long, Map<Long, SeriesBucket>> e = it.next();
          if (e.getKey() + width - 1 > w) {
            break;
          }
          it.remove();
          for (SeriesBucket complete : e.getValue().values()) {
            complete.sumGauges();
            emit(l, complete);
            if (l + 1 < WIDTHS_MS.length) {
              add(l + 1, rollupCopy(complete));
            }
          }
        }
      }
      watermark = w;
    }
    super.processWatermark(mark);
  }
}
