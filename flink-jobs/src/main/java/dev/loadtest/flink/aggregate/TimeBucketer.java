package dev.loadtest.flink.aggregate;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Merges a series' partial buckets into buckets of {@code widthMs} in event time: a bucket is emitted,
 * complete (writer id {@code ""}, stored as {@code main}), when the watermark passes its end. Keyed by
 * series id.
 *
 * <p><b>Late data is counted, never dropped.</b> A partial bucket for a time bucket that has already been
 * emitted goes out at once as a correction row of its own, which readers add to the complete one. Its
 * writer id names where it came from ({@code <origin>@<its start ms>}, the origin being the sample batch
 * for the 1 s stage, or the finer bucket's writer id), so it is unique per (series, bucket) and the same
 * each time the same input is processed.
 *
 * <p><b>Why not a window operator.</b> Which buckets have been emitted is kept in keyed state (the end of
 * the last emitted bucket), not derived from the watermark: after a restore from a checkpoint the
 * watermark starts again from nothing, and a window operator would then open a second complete bucket for
 * a time already emitted, whose row would replace the first under ReplacingMergeTree. With the emitted end
 * in the checkpoint, the same input is classified the same way before and after a restore.
 *
 * <p>Gauges leave summed over generators ({@link SeriesBucket#sumGauges}): the first stage sees every
 * generator's last value of a second and adds them; later stages roll up sums.
 *
 * <p>With {@code announceSeries}, the first bucket of each series also goes to {@link #NEW_SERIES}, for
 * the series table.
 */
public final class TimeBucketer extends KeyedProcessFunction<Long, SeriesBucket, SeriesBucket> {
  public static final OutputTag<SeriesBucket> NEW_SERIES = new OutputTag<>("new-series") {};
  private static final long serialVersionUID = 1L;

  private final int widthMs;
  private final boolean announceSeries;
  private final boolean keepTags;
  private transient MapState<Long, SeriesBucket> open;
  private transient ValueState<Long> emittedEndMs;
  private transient ValueState<Boolean> announced;

  public TimeBucketer(int widthMs, boolean announceSeries) {
    this(widthMs, announceSeries, true);
  }

  /**
   * @param keepTags whether the emitted buckets keep their tags (the 1 s buckets of the series do, for the
   *     projections and the aggregates topic; rollups do not need them)
   */
  public TimeBucketer(int widthMs, boolean announceSeries, boolean keepTags) {
    if (widthMs < 1) {
      throw new IllegalArgumentException("widthMs must be positive");
    }
    this.widthMs = widthMs;
    this.announceSeries = announceSeries;
    this.keepTags = keepTags;
  }

  @Override
  public void open(OpenContext ctx) {
    open = getRuntimeContext().getMapState(new MapStateDescriptor<>("open", Types.LONG,
        TypeInformation.of(SeriesBucket.class)));
    emittedEndMs = getRuntimeContext().getState(new ValueStateDescriptor<>("emittedEnd", Types.LONG));
    announced = getRuntimeContext().getState(new ValueStateDescriptor<>("announced", Types.BOOLEAN));
  }

  /**
   * {@code in} is this operator's own (Flink deserialises or copies each record for it, object reuse being
   * off), so it is changed in place rather than copied: this runs once per partial bucket.
   */
  @Override
  public void processElement(SeriesBucket in, Context ctx, Collector<SeriesBucket> out) throws Exception {
    if (announceSeries && announced.value() == null) {
      announced.update(true);
      ctx.output(NEW_SERIES, in); // copied on emission, before the changes below
    }
    long start = Math.floorDiv(in.startMs, widthMs) * widthMs;
    Long emitted = emittedEndMs.value();
    if (emitted != null && start < emitted) {
      String origin = in.writerId == null || in.writerId.isEmpty() ? "main" : in.writerId;
      in.writerId = origin + "@" + in.startMs;
      in.startMs = start;
      in.widthMs = widthMs;
      out.collect(in.sumGauges());
      return;
    }
    in.startMs = start;
    in.widthMs = widthMs;
    if (!keepTags) { // a rollup's rows need no tags (the series table has them): not in every checkpoint either
      in.tagKeys = null;
      in.tagValues = null;
    }
    SeriesBucket acc = open.get(start);
    if (acc == null) {
      in.writerId = "";
      acc = in;
      ctx.timerService().registerEventTimeTimer(start + widthMs - 1);
    } else {
      acc.merge(in);
    }
    open.put(start, acc);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<SeriesBucket> out) throws Exception {
    long start = timestamp - widthMs + 1;
    SeriesBucket complete = open.get(start);
    if (complete == null) {
      return;
    }
    open.remove(start);
    out.collect(complete.sumGauges());
    Long emitted = emittedEndMs.value();
    if (emitted == null || emitted < start + widthMs) {
      emittedEndMs.update(start + widthMs);
    }
  }
}
