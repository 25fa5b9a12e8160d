package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.series.Projection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
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
 * {@code main}) when the watermark passes its end. Every row leaves on the main output: 1 s buckets (with
 * their tags), 10 s and 1 min buckets (without: the series table has them), and with projections the
 * by-name rows; so the ClickHouse sink, this operator's only consumer of rows, is chained to it and takes
 * each row without a serialisation and a network hop (at 55,000 series these were 120,000 records a
 * second serialised, sent and read again).
 *
 * <p><b>Late data is counted, never dropped.</b> A partial bucket for a time the watermark has passed goes
 * out at once as a correction row of its own, which readers add to the complete one. Its writer id names
 * where it came from ({@code <origin>@<its start ms>}, the origin being the partial's writer id, or
 * {@code main}), so it is unique per (series, bucket) and the same each time the same input is processed.
 * A 1 s correction is also rolled up: into the 10 s bucket if that is still open, else as a 10 s
 * correction named the same way (and so on to 1 min).
 *
 * <p><b>Projections in the same pass</b> ({@link #seriesAndNames()}). Keyed by {@link #BY_NAME} (run,
 * analysis, metric and {@code name} tag), every series of a by-name projection is on one task, so each 1 s
 * bucket of a series (complete or a correction) is also merged here into its {@link Projection#NAME} bucket,
 * a ladder of its own whose 1 s and rollup rows leave on the main output too; and the complete by-name buckets
 * a watermark closes are added up per metric on the task and leave on {@link #TOTAL_PARTS}, a few parts a
 * second per task, for a small {@link Projection#TOTAL} ladder keyed by series ({@link #projections()}).
 * This replaced a copy of every 1 s bucket per projection, shuffled to a second keyed ladder: at 55,000
 * series with one tag set per name that was 110,000 records a second serialised, sent and merged again
 * for as many rows as the series had. A part's writer id gets the id of the series it comes from appended
 * ({@code #<hex id>}): a correction of a series is a correction of its projections too, and many series feed
 * one projection, so without the source's id their corrections would share a key and replace each other
 * under ReplacingMergeTree, and the projection would count less than its series.
 *
 * <p><b>Why not keyed state and a timer per bucket.</b> Every bucket of a second closes at the same
 * watermark, so the open buckets are kept here by time, then series, in plain maps: a partial costs two
 * hash lookups, a watermark walks the seconds it closes, and nothing is kept per series once its buckets
 * are out. With keyed state and timers, at 55,000 series the state lookups, the timers and their copies
 * during snapshots were most of the job's time, and the per-series "emitted up to" value stayed for ever.
 * The open buckets are written to union list state at each checkpoint; on restore each subtask keeps
 * those of its key groups (by the same key the stream is keyed by), so rescaling works as with keyed
 * state. What has been emitted is the operator's watermark (in the checkpoint; the largest of all
 * subtasks' on restore): a bucket whose end it has passed was either emitted complete before the
 * checkpoint, or is restored open and emitted at the next watermark, so no complete row is emitted twice,
 * and the same input is classified the same way before and after a restore.
 *
 * <p><b>Whole-run rows of the by-name trends</b> ({@link #seriesAndNames()}, not the timing phases:
 * {@link #keepsRunPart}). Each by-name 1 s bucket of a trend is also added into its series' run part, which
 * leaves as a row of {@code metric_run} (width {@link #RUN_WIDTH_MS}, its version the watermark, carried in
 * {@code lastTimeUs}) each time the watermark crosses a multiple of {@link #RUN_EMIT_MS} after it changed: a
 * whole-run ranking of thousands of names then reads one row per name with its percentile buckets stored,
 * not every minute's histogram. A part that stops changing is written sooner: after {@link #RUN_QUIET_MS} of
 * event time, or at once when this task's input goes quiet ({@link #QUIET_INPUT_CHECK_MS}), so that a run's
 * last whole-run rows come with its last seconds. A part quiet for {@link #RUN_IDLE_MS} is let go; data for its series later
 * starts a new part (its start is the row's time, so the rows add), and a correction that finds no part
 * open leaves as a row of its own, named as in {@code metric_1s}.
 *
 * <p><b>One row where a name has one series.</b> When a watermark closes a second in which a name had data from
 * one series only (most names of most tests, whose requests have one tag set), that series' 1 s bucket and its
 * name's hold the same numbers; the name's row is written with {@code raw_series} naming the series and the
 * series' own row is not ({@link SeriesBucket#rawSeries}, {@link SeriesBucket#inNameRow}, migration V017):
 * half of the rows of {@code metric_1s} were such copies. A correction is always alone in its by-name
 * correction. Readers of the series add the by-name rows that stand for one. The rollups keep both rows,
 * but a checkpoint keeps a by-name rollup made of one series' seconds alone as a reference to that series'
 * rollup, which holds the same numbers ({@link SeriesBucket#standsFor}, {@link #referenceOrSelf}): those were
 * half of a checkpoint's bytes.
 *
 * <p>Gauges leave summed over generators ({@link SeriesBucket#sumGauges}): the 1 s level sees every
 * generator's last value of a second and adds them; rollups roll up sums. Gauges are not projected.
 *
 * <p>With {@code announceSeries}, the first bucket of each series (and projection) this task sees also goes
 * to {@link #NEW_SERIES}, for the series table (a ReplacingMergeTree: a series announced again after a
 * restore collapses).
 */
public class BucketLadder extends AbstractStreamOperator<SeriesBucket>
    implements OneInputStreamOperator<SeriesBucket, SeriesBucket> {
  public static final OutputTag<SeriesBucket> NEW_SERIES = new OutputTag<>("new-series") {};
  /** With {@link #seriesAndNames()}: this task's part of each metric's total per closed second. */
  public static final OutputTag<SeriesBucket> TOTAL_PARTS = new OutputTag<>("total-parts") {};
  /**
   * With publishing: the 1 s buckets of the series and of the totals (not the by-name projection's) as
   * {@code loadtest.aggregates} records, the complete ones a watermark closes batched per run, analysis,
   * second and {@link AggregateRecords.Kind}. With the run states ({@link WithPlans}), a run judged on its
   * totals gets only each series' first 1 s bucket published.
   */
  public static final OutputTag<AggregateRecords.Published> PUBLISHED = new OutputTag<>("published") {};
  /** The key of {@link #seriesAndNames()}: every series of a by-name projection has the same. */
  public static final KeySelector<SeriesBucket, Long> BY_NAME = BucketLadder::nameKey;
  /** The key of the other ladders. */
  public static final KeySelector<SeriesBucket, Long> BY_SERIES = b -> b.seriesId;
  /** The widths of the levels: 1 s, rolled up to 10 s and 1 min. */
  static final int[] WIDTHS_MS = {1_000, 10_000, 60_000};
  /** The width of a whole-run part and of its {@code metric_run} rows (not a time bucket's). */
  public static final int RUN_WIDTH_MS = 0;
  /** How often, in event time, the run parts that changed are written again. */
  static final long RUN_EMIT_MS = 10_000;
  /**
   * A run part without data for this long in event time is written at once rather than at the next multiple
   * of {@link #RUN_EMIT_MS}: the last rows of a run that has ended are there a few seconds after its end.
   */
  static final long RUN_QUIET_MS = 3_000;
  /**
   * How often, in wall time, this task looks whether its input has gone quiet: when nothing came since the
   * last look, every part that changed is written at once (a run that ended on a quiet system has its
   * whole-run rows with its last 1 s rows, not {@link #RUN_QUIET_MS} of event time later).
   */
  static final long QUIET_INPUT_CHECK_MS = 500;
  /** How long, in event time, a run part without data is kept. */
  static final long RUN_IDLE_MS = 120_000;
  /**
   * Trends without whole-run rows: the timing phases, which nobody ranks names by, and which would make the
   * parts seven times as many (they are kept in every checkpoint).
   */
  static final Set<String> NO_RUN_PART = Set.of("http_req_blocked", "http_req_connecting",
      "http_req_tls_handshaking", "http_req_sending", "http_req_waiting", "http_req_receiving");
  /** Series remembered as announced at most (then forgotten: announcing again costs a row that collapses). */
  static final int ANNOUNCED_LIMIT = 1_000_000;
  private static final String[] NO_TAGS = new String[0];
  private static final String[] NAME_KEY = {Projection.NAME_TAG};
  private static final String NAME_SUFFIX = Projection.NAME.analysisId("");
  static final String TOTAL_SUFFIX = Projection.TOTAL.analysisId("");
  private static final long serialVersionUID = 1L;

  private final boolean announceSeries;
  private final boolean keepTags;
  private final boolean projectByName;
  private final boolean publish;
  /**
   * Whether the totals are made here ({@link #seriesAndNamesWithTotals}: one task has every part of them)
   * instead of leaving as parts on {@link #TOTAL_PARTS}.
   */
  private final boolean totalsHere;

  /** The size of a checkpoint's chunks of encoded open buckets. */
  static final int SNAPSHOT_CHUNK_BYTES = 4 << 20;
  /**
   * The writer id of a by-name bucket kept in a checkpoint as a reference to its series' bucket (followed by
   * the series' id in hex): an open bucket's writer id is otherwise always empty.
   */
  static final String SAME_AS = "=";
  /** Open buckets from which a checkpoint's encoding is split with a helper thread. */
  static final int SNAPSHOT_SPLIT_BUCKETS = 64;

  private transient Levels series;
  private transient Levels names;
  private transient Levels totals;
  /** Per closed second, this task's part of each total (by total series id), while a watermark is processed. */
  private transient TreeMap<Long, Map<Long, SeriesBucket>> totalParts;
  /** The open whole-run parts of the by-name trends, by series id. */
  private transient Map<Long, RunPart> runParts;
  /** The parts changed since they were last written, the least recently changed first. */
  private transient java.util.LinkedHashMap<Long, RunPart> unwritten;
  /** Source series id -> its by-name projection's id, and by-name id -> total id. */
  private transient Map<Long, Long> projectedIds;
  private transient long watermark;
  /** Input records so far, and as many at the last quiet-input check. */
  private transient long received;
  private transient long receivedAtCheck;
  private transient Set<Long> announced;
  /** The open buckets, encoded ({@link SeriesBucketSerializer.Chunks}). */
  private transient ListState<byte[]> openState;
  private transient java.util.concurrent.ExecutorService snapshotEncoder;
  /** The by-name buckets the last checkpoint kept as references to their series' ({@link #referenceOrSelf}). */
  transient int referencesInLastCheckpoint;
  private transient ListState<Long> watermarkState;
  private transient StreamRecord<SeriesBucket> reuse;
  /** Complete 1 s buckets to publish, per run, analysis and second, while a watermark is processed. */
  private transient Map<List<Object>, List<byte[]>> toPublish;
  /**
   * Runs whose plans are known ({@link WithPlans}), the least recently planned first: whether their
   * thresholds are judged on the series (then every series' 1 s bucket is published).
   */
  private transient java.util.LinkedHashMap<String, Boolean> judgedOnSeries;
  private transient ListState<String> plansState;
  /**
   * While a watermark closes seconds: per name and second ({@link #closingKey}), the one series' complete 1 s
   * bucket that closes, or {@link #SEVERAL}; a name's bucket made of one alone stands for it
   * ({@link SeriesBucket#inNameRow}, {@link SeriesBucket#rawSeries}).
   */
  private transient Map<Long, SeriesBucket> closingPerName;
  private static final SeriesBucket SEVERAL = new SeriesBucket();
  /** Series whose first 1 s bucket has been published (of runs judged on the totals). */
  private transient Set<Long> firstPublished;
  /** Runs whose plans are kept at most. */
  static final int PLANS_KEPT = 100_000;

  /**
   * A ladder keyed by {@link #BY_SERIES} without projections.
   *
   * @param announceSeries whether first buckets go to {@link #NEW_SERIES}
   * @param keepTags whether the 1 s buckets keep their tags (those of the series do, for the aggregates topic;
   *     a projection's need not)
   */
  public BucketLadder(boolean announceSeries, boolean keepTags) {
    this(announceSeries, keepTags, false, false, false);
  }

  BucketLadder(boolean announceSeries, boolean keepTags, boolean projectByName, boolean publish,
      boolean totalsHere) {
    this.totalsHere = totalsHere;
    this.announceSeries = announceSeries;
    this.keepTags = keepTags;
    this.projectByName = projectByName;
    this.publish = publish;
  }

  /** The series' ladder with their by-name projection and parts of their totals; keyed by {@link #BY_NAME}. */
  public static BucketLadder seriesAndNames() {
    return seriesAndNames(false);
  }

  /** As {@link #seriesAndNames()}; with {@code publish}, the 1 s buckets also as records on {@link #PUBLISHED}. */
  public static BucketLadder seriesAndNames(boolean publish) {
    return new BucketLadder(true, true, true, publish, false);
  }

  /**
   * As {@link #seriesAndNames(boolean)} for a job of one task, which holds every part of every total: the
   * totals are made here too, their rows on the main output (no {@link #TOTAL_PARTS}, no totals ladder). So
   * every row of a checkpoint leaves through the one sink chained to this operator, and is inserted in the
   * same commit: with the totals in a sink of their own, the total projection (which the summary reads, and
   * by which a run is known to be stored) could be committed before the series and by-name rows of the
   * same seconds, and a reader told "complete" found a second missing there.
   */
  public static BucketLadder seriesAndNamesWithTotals(boolean publish) {
    return new BucketLadder(true, true, true, publish, true);
  }

  /**
   * As {@link #seriesAndNames(boolean)} ({@code totalsHere}: {@link #seriesAndNamesWithTotals}), publishing,
   * with the run states as a second, broadcast input ({@link WithPlans}).
   */
  public static WithPlans seriesAndNamesWithPlans(boolean totalsHere) {
    return new WithPlans(totalsHere);
  }

  /** The ladder of the totals' parts ({@link #TOTAL_PARTS}); keyed by {@link #BY_SERIES}. */
  public static BucketLadder projections() {
    return projections(false);
  }

  /** As {@link #projections()}; with {@code publish}, the totals' 1 s buckets also on {@link #PUBLISHED}. */
  public static BucketLadder projections(boolean publish) {
    return new BucketLadder(true, false, false, publish, false);
  }

  /**
   * The key of a series bucket or of its by-name projection's: run, analysis (without the projection's
   * suffix), metric and the {@code name} tag, from strings whose hash codes are cached.
   */
  static long nameKey(SeriesBucket b) {
    String analysis = baseAnalysis(b.analysisId);
    String name = nameOf(b);
    long h = b.testRunId == null ? 0 : b.testRunId.hashCode();
    h = h * 31 + analysis.hashCode();
    h = h * 31 + (b.metric == null ? 0 : b.metric.hashCode());
    h = h * 31 + (name == null ? -1 : name.hashCode());
    return h;
  }

  private static String nameOf(SeriesBucket b) {
    if (b.tagKeys != null) {
      for (int i = 0; i < b.tagKeys.length; i++) {
        if (Projection.NAME_TAG.equals(b.tagKeys[i])) {
          return b.tagValues[i];
        }
      }
    }
    return null;
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    series = new Levels();
    names = new Levels();
    totals = new Levels();
    totalParts = new TreeMap<>();
    runParts = new HashMap<>();
    unwritten = new java.util.LinkedHashMap<>();
    toPublish = new java.util.LinkedHashMap<>();
    projectedIds = new HashMap<>();
    closingPerName = new HashMap<>();
    watermark = Long.MIN_VALUE;
    announced = new HashSet<>();
    reuse = new StreamRecord<>(null);
    openState = context.getOperatorStateStore().getUnionListState(
        new ListStateDescriptor<>("open-buckets-encoded",
            org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    watermarkState = context.getOperatorStateStore().getUnionListState(
        new ListStateDescriptor<>("watermark", Types.LONG));
    judgedOnSeries = new java.util.LinkedHashMap<>();
    firstPublished = new HashSet<>();
    plansState = context.getOperatorStateStore().getUnionListState(
        new ListStateDescriptor<>("runs-judged-on-series", Types.STRING));
    for (String entry : plansState.get()) { // "1:<run>" or "0:<run>"; every subtask has every run's
      judgedOnSeries.put(entry.substring(2), entry.charAt(0) == '1');
    }
    if (context.isRestored()) {
      for (Long w : watermarkState.get()) {
        watermark = Math.max(watermark, w);
      }
      int maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
      int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
      int me = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
      Consumer<SeriesBucket> restore = b -> {
        long key = projectByName ? nameKey(b) : b.seriesId;
        if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, maxParallelism, parallelism) == me) {
          boolean projected = projectByName && b.analysisId != null && b.analysisId.endsWith(NAME_SUFFIX);
          boolean total = totalsHere && b.analysisId != null && b.analysisId.endsWith(TOTAL_SUFFIX);
          if (b.widthMs == RUN_WIDTH_MS) { // written again at the next emission: it may have changed unwritten
            RunPart part = new RunPart(b, Math.max(watermark, b.startMs));
            part.writtenVersion = watermark; // rows of a later version were not committed
            runParts.put(b.seriesId, part);
            unwritten.put(b.seriesId, part);
          } else {
            (total ? totals : projected ? names : series).put(b);
          }
        }
      };
      for (byte[] chunk : openState.get()) {
        SeriesBucketSerializer.decode(chunk, restore);
      }
      names.forEach(b -> {
        if (b.writerId.startsWith(SAME_AS)) {
          fill(b);
        }
      });
    }
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    // Encoded here rather than copied for the asynchronous part to encode: the buckets change as soon as
    // this returns, and a deep copy of every open bucket then its encoding cost twice the encoding alone.
    // This task waits meanwhile (it was a quarter of its time at 55,000 series), so a helper thread encodes
    // half of the buckets beside it: the buckets are not touched by anyone else until both are done.
    List<SeriesBucket> all = new ArrayList<>();
    series.forEach(all::add);
    referencesInLastCheckpoint = 0;
    names.forEach(b -> all.add(referenceOrSelf(b)));
    totals.forEach(all::add);
    runParts.values().forEach(p -> all.add(p.bucket));
    int half = all.size() < SNAPSHOT_SPLIT_BUCKETS ? all.size() : all.size() / 2;
    java.util.concurrent.Future<List<byte[]>> second = half == all.size() ? null
        : snapshotEncoder().submit(() -> encode(all.subList(half, all.size())));
    List<byte[]> chunks = encode(all.subList(0, half));
    if (second != null) {
      try {
        chunks.addAll(second.get());
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("cannot encode the open buckets for a checkpoint", e.getCause());
      }
    }
    openState.update(chunks);
    watermarkState.update(List.of(watermark));
    if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) { // a union: one copy is enough
      List<String> plans = new ArrayList<>(judgedOnSeries.size());
      judgedOnSeries.forEach((run, series) -> plans.add((series ? "1:" : "0:") + run));
      plansState.update(plans);
    } else {
      plansState.clear();
    }
  }

  /**
   * A by-name rollup bucket as a checkpoint keeps it: when it holds what its one series' rollup holds
   * ({@link SeriesBucket#standsFor}; most names of most tests have one series), a reference to that bucket
   * (its identity, no numbers, writer id {@link #SAME_AS} and the series' id), which a restore fills from the
   * series' bucket; else the bucket itself. The rollups of the names were half of a checkpoint's bytes at
   * 55,000 series, and the biggest buckets in it.
   */
  private SeriesBucket referenceOrSelf(SeriesBucket b) {
    if (b.standsFor == 0 || b.widthMs == WIDTHS_MS[0]) {
      return b;
    }
    SeriesBucket same = series.get(level(b.widthMs), b.startMs, b.standsFor);
    if (same == null || same.count != b.count || Double.compare(same.sum, b.sum) != 0) {
      return b; // not expected; the bucket itself is always right
    }
    SeriesBucket ref = b.identity();
    ref.writerId = SAME_AS + Long.toHexString(b.standsFor);
    referencesInLastCheckpoint++;
    return ref;
  }

  /** A by-name bucket restored as a reference ({@link #referenceOrSelf}), filled from its series' bucket. */
  private void fill(SeriesBucket ref) {
    long of = Long.parseUnsignedLong(ref.writerId.substring(SAME_AS.length()), 16);
    SeriesBucket same = series.get(level(ref.widthMs), ref.startMs, of);
    if (same == null) {
      throw new IllegalStateException("the checkpoint's by-name bucket " + ref + " holds what series " + of
          + "'s does, and that bucket is not in the checkpoint");
    }
    ref.takeNumbers(same);
    ref.writerId = "";
    ref.standsFor = of;
  }

  private static List<byte[]> encode(List<SeriesBucket> buckets) {
    SeriesBucketSerializer.Chunks chunks = new SeriesBucketSerializer.Chunks(SNAPSHOT_CHUNK_BYTES);
    buckets.forEach(chunks);
    return chunks.chunks();
  }

  /** The helper thread of {@link #snapshotState}, named after this task's so that its CPU counts as the task's. */
  private java.util.concurrent.ExecutorService snapshotEncoder() {
    if (snapshotEncoder == null) {
      String name = Thread.currentThread().getName() + " (checkpoint encoder)";
      snapshotEncoder = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      });
    }
    return snapshotEncoder;
  }

  @Override
  public void open() throws Exception {
    super.open();
    if (projectByName) {
      scheduleQuietInputCheck();
    }
  }

  private void scheduleQuietInputCheck() {
    org.apache.flink.streaming.runtime.tasks.ProcessingTimeService time = getProcessingTimeService();
    time.registerTimer(time.getCurrentProcessingTime() + QUIET_INPUT_CHECK_MS, now -> {
      if (received == receivedAtCheck && !unwritten.isEmpty()) {
        emitChangedRunParts(watermark);
      }
      receivedAtCheck = received;
      scheduleQuietInputCheck();
    });
  }

  @Override
  public void close() throws Exception {
    if (snapshotEncoder != null) {
      snapshotEncoder.shutdownNow();
      snapshotEncoder = null;
    }
    super.close();
  }

  /**
   * {@code in} is this operator's own (Flink deserialises or copies each record for it, object reuse being
   * off), so it is changed in place rather than copied.
   */
  @Override
  public void processElement(StreamRecord<SeriesBucket> element) {
    SeriesBucket in = element.getValue();
    received++;
    announce(in);
    if (!keepTags) { // tags are not needed past this point: not in every checkpoint either
      in.tagKeys = null;
      in.tagValues = null;
    }
    series.add(0, in, watermark, this::seriesOut); // complete buckets only leave on a watermark: no total parts
  }

  private void announce(SeriesBucket b) {
    if (announceSeries && announced.add(b.seriesId)) {
      if (announced.size() > ANNOUNCED_LIMIT) {
        announced.clear();
        announced.add(b.seriesId);
      }
      output.collect(NEW_SERIES, new StreamRecord<>(b.copy()));
    }
  }

  /**
   * A bucket of the input's series out (complete or a correction); with projections, then into its name's.
   * A 1 s bucket that is the only one of its name in its second (every correction is: it goes into a
   * by-name correction of its own) is written once, as its name's row with {@code raw_series} naming it
   * ({@link SeriesBucket#rawSeries}); it still goes out, marked {@link SeriesBucket#inNameRow}, to whoever
   * reads the series' buckets (publishing, a replay's thresholds), and the sink skips it.
   */
  private void seriesOut(int level, SeriesBucket b) {
    if (level == 0) {
      boolean projected = projectByName && b.metricType() != MetricType.GAUGE;
      boolean alone = projected && (!b.writerId.isEmpty() || b.inNameRow); // marked as its watermark came
      b.inNameRow = alone;
      output.collect(reuse.replace(b, b.startMs));
      if (publish) {
        publish(b);
      }
      if (projected) {
        long source = b.seriesId;
        SeriesBucket byName = toProjection(b, Projection.NAME);
        byName.rawSeries = alone ? source : 0;
        names.add(0, byName, watermark, this::nameOut);
      }
    } else {
      output.collect(reuse.replace(b, b.startMs));
    }
  }

  /**
   * The key of a series' name and second among the buckets a watermark closes: equal for every series of a
   * name (and for names whose hashes collide, which only costs a by-name row standing for a series).
   */
  private static long closingKey(SeriesBucket b) {
    return nameKey(b) * 1_000_003L + Math.floorDiv(b.startMs, 1_000L);
  }

  /** A by-name bucket out; a 1 s one then into this task's part of its total. */
  private void nameOut(int level, SeriesBucket b) {
    output.collect(reuse.replace(b, b.startMs));
    if (level > 0) {
      return;
    }
    if (keepsRunPart(b)) {
      runAdd(b);
    }
    boolean correction = !b.writerId.isEmpty();
    SeriesBucket part = toProjection(b, Projection.TOTAL);
    if (correction) { // out at once, to become a correction of the total too
      partOut(part);
      return;
    }
    part.writerId = ""; // merged into the total's complete bucket downstream
    Map<Long, SeriesBucket> atStart = totalParts.computeIfAbsent(part.startMs, k -> new HashMap<>());
    SeriesBucket acc = atStart.get(part.seriesId);
    if (acc == null) {
      atStart.put(part.seriesId, part);
    } else {
      acc.merge(part);
    }
  }

  /**
   * A 1 s bucket to {@link #PUBLISHED}: a complete one with the others of its run, analysis, second and
   * kind after this watermark, a correction at once.
   */
  private void publish(SeriesBucket b) {
    AggregateRecords.Kind kind = AggregateRecords.Kind.of(b);
    if (kind == AggregateRecords.Kind.SERIES && Boolean.FALSE.equals(judgedOnSeries.get(b.testRunId))) {
      // Judged on the totals: the series' buckets are read by nobody, but the insights count the series
      // and names, so each series' first bucket goes out.
      if (!firstPublished.add(b.seriesId)) {
        return;
      }
      if (firstPublished.size() > ANNOUNCED_LIMIT) {
        firstPublished.clear();
        firstPublished.add(b.seriesId);
      }
    }
    String analysis = b.analysisId == null ? "" : b.analysisId;
    if (b.writerId.isEmpty()) {
      toPublish.computeIfAbsent(List.of(b.testRunId, analysis, b.startMs, kind), k -> new ArrayList<>())
          .add(AggregateRecords.encode(b));
    } else {
      publish(b.testRunId, analysis, b.startMs, kind, List.of(AggregateRecords.encode(b)));
    }
  }

  private void publish(String run, String analysis, long startMs, AggregateRecords.Kind kind,
      List<byte[]> b) {
    for (AggregateRecords.Published p : AggregateRecords.batches(run, analysis, startMs, kind, b)) {
      output.collect(PUBLISHED, new StreamRecord<>(p, startMs));
    }
  }

  private void flushTotalParts() {
    for (Map<Long, SeriesBucket> atStart : totalParts.values()) {
      atStart.values().forEach(this::partOut);
    }
    totalParts.clear();
  }

  /**
   * A part of a total out to {@link #TOTAL_PARTS}, or with {@link #totalsHere} into the totals made here:
   * a complete part stays open until the watermark that closes its second closes the totals too; a
   * correction goes out at once.
   */
  private void partOut(SeriesBucket part) {
    if (totalsHere) {
      announce(part);
      totals.add(0, part, watermark, this::totalOut);
    } else {
      output.collect(TOTAL_PARTS, new StreamRecord<>(part, part.startMs));
    }
  }

  /** A total's row out (made here: {@link #totalsHere}); a 1 s one published too. */
  private void totalOut(int level, SeriesBucket b) {
    output.collect(reuse.replace(b, b.startMs));
    if (publish && level == 0) {
      publish(b);
    }
  }

  /**
   * {@code b} (out already, and not kept) made in place into its part of projection {@code p}: the
   * projection's analysis and series id and tags, its writer id with {@code b}'s series id appended.
   */
  private SeriesBucket toProjection(SeriesBucket b, Projection p) {
    long source = b.seriesId;
    Long id = projectedIds.get(source);
    String name = p == Projection.NAME ? nameOf(b) : null;
    boolean first = id == null;
    if (first) {
      TreeMap<String, String> tags = new TreeMap<>();
      if (name != null) {
        tags.put(Projection.NAME_TAG, name);
      }
      id = p.seriesId(b.testRunId, b.metric, tags);
      if (projectedIds.size() >= ANNOUNCED_LIMIT) {
        projectedIds.clear();
      }
      projectedIds.put(source, id);
    }
    b.seriesId = id;
    b.analysisId = p.analysisId(p == Projection.NAME ? b.analysisId : baseAnalysis(b.analysisId));
    b.tagKeys = name == null ? NO_TAGS : NAME_KEY;
    b.tagValues = name == null ? NO_TAGS : new String[] {name};
    b.writerId = (b.writerId == null ? "" : b.writerId) + "#" + Long.toHexString(source);
    b.rawSeries = 0;
    b.inNameRow = false;
    b.standsFor = 0;
    if (first && p == Projection.NAME) { // the first bucket of its source here; the name may be announced already
      announce(b);
    }
    return b;
  }

  private static String baseAnalysis(String analysisId) {
    String a = analysisId == null ? "" : analysisId;
    return a.endsWith(NAME_SUFFIX) ? a.substring(0, a.length() - NAME_SUFFIX.length()) : a;
  }

  /**
   * Closes, level by level, the buckets whose end {@code mark} passes (the series' first, so that the
   * by-name buckets they complete are still open, then the names'), and sends this task's parts of the
   * totals of the seconds closed.
   */
  @Override
  public void processWatermark(Watermark mark) throws Exception {
    long w = mark.getTimestamp();
    if (w > watermark) {
      if (projectByName) { // mark the series' buckets each alone of its name in its second
        closingPerName.clear();
        series.forEachClosing(0, w, b -> {
          if (b.metricType() != MetricType.GAUGE) {
            closingPerName.merge(closingKey(b), b, (one, other) -> SEVERAL);
          }
        });
        for (SeriesBucket alone : closingPerName.values()) {
          if (alone != SEVERAL) {
            alone.inNameRow = true;
          }
        }
      }
      series.close(w, watermark, this::seriesOut);
      names.close(w, watermark, this::nameOut);
      if (!runParts.isEmpty() && Math.floorDiv(w, RUN_EMIT_MS) > Math.floorDiv(watermark, RUN_EMIT_MS)) {
        emitRunParts(w);
      } else {
        emitQuietRunParts(w);
      }
      flushTotalParts();
      if (totalsHere) {
        totals.close(w, watermark, this::totalOut);
      }
      for (Map.Entry<List<Object>, List<byte[]>> e : toPublish.entrySet()) {
        publish((String) e.getKey().get(0), (String) e.getKey().get(1), (Long) e.getKey().get(2),
            (AggregateRecords.Kind) e.getKey().get(3), e.getValue());
      }
      toPublish.clear();
      watermark = w;
    }
    super.processWatermark(mark);
  }

  /** Whether the by-name bucket {@code b} has a whole-run part: trends but the timing phases. */
  public static boolean keepsRunPart(SeriesBucket b) {
    return b.metricType() == MetricType.TREND && !NO_RUN_PART.contains(b.metric);
  }

  /**
   * Adds a by-name 1 s bucket (complete or a correction; out already, and about to be changed) into its
   * series' run part; a complete one opens a part when none is open, a correction leaves as a row of its own.
   */
  private void runAdd(SeriesBucket b) {
    RunPart part = runParts.get(b.seriesId);
    if (part != null) {
      part.bucket.absorb(b);
      part.lastDataMark = Math.max(watermark, b.startMs);
      unwritten.remove(b.seriesId); // to the end: the most recently changed
      unwritten.put(b.seriesId, part);
      return;
    }
    SeriesBucket first = b.copy();
    first.widthMs = RUN_WIDTH_MS;
    first.rawSeries = 0;
    if (!b.writerId.isEmpty()) { // its part was let go (or never opened): this correction is a row of its own
      first.lastTimeUs = watermark;
      output.collect(reuse.replace(first, first.startMs));
      return;
    }
    part = new RunPart(first, Math.max(watermark, b.startMs));
    runParts.put(first.seriesId, part);
    unwritten.put(first.seriesId, part);
  }

  /** Writes the run parts that changed (version {@code w}), and lets go those quiet for {@link #RUN_IDLE_MS}. */
  private void emitRunParts(long w) {
    emitChangedRunParts(w);
    runParts.values().removeIf(part -> w - part.lastDataMark >= RUN_IDLE_MS);
  }

  private void emitChangedRunParts(long w) {
    unwritten.values().forEach(part -> write(part, w));
    unwritten.clear();
  }

  /** Writes the changed run parts without data for {@link #RUN_QUIET_MS} (version {@code w}). */
  private void emitQuietRunParts(long w) {
    Iterator<RunPart> it = unwritten.values().iterator();
    while (it.hasNext()) {
      RunPart part = it.next();
      if (w - part.lastDataMark < RUN_QUIET_MS) {
        return; // the rest changed later
      }
      write(part, w);
      it.remove();
    }
  }

  /**
   * Writes {@code part} as of watermark {@code w}; its version is later than any it was written with before,
   * even at the same watermark (a correction, or input gone quiet), so that the latest row always wins.
   */
  private void write(RunPart part, long w) {
    SeriesBucket row = part.bucket.copy();
    long version = Math.max(w, part.writtenVersion + 1); // never written: MIN_VALUE + 1, so w
    part.writtenVersion = version;
    row.lastTimeUs = version;
    output.collect(reuse.replace(row, row.startMs));
  }

  /** A series' whole run so far (from its {@code startMs}), and the watermark at its last data. */
  private static final class RunPart {
    final SeriesBucket bucket;
    long lastDataMark;
    /** The version it was last written with ({@code Long.MIN_VALUE}: never). */
    long writtenVersion = Long.MIN_VALUE;

    RunPart(SeriesBucket bucket, long lastDataMark) {
      this.bucket = bucket;
      this.lastDataMark = lastDataMark;
    }
  }

  /** Receives the buckets a {@link Levels} lets out: level 0 is 1 s. May change {@code b}: it is out. */
  private interface Out {
    void emit(int level, SeriesBucket b);
  }

  /** Open buckets of the three levels, by start, then series id. */
  private final class Levels {
    private final List<TreeMap<Long, Map<Long, SeriesBucket>>> open = new ArrayList<>();

    Levels() {
      for (int i = 0; i < WIDTHS_MS.length; i++) {
        open.add(new TreeMap<>());
      }
    }

    void put(SeriesBucket b) {
      open.get(level(b.widthMs)).computeIfAbsent(b.startMs, k -> new HashMap<>()).put(b.seriesId, b);
    }

    void forEach(Consumer<SeriesBucket> each) {
      for (TreeMap<Long, Map<Long, SeriesBucket>> level : open) {
        for (Map<Long, SeriesBucket> atStart : level.values()) {
          atStart.values().forEach(each);
        }
      }
    }

    /** Adds {@code in} to level {@code l}: into its open bucket, or out at once as a correction row. */
    void add(int l, SeriesBucket in, long mark, Out out) {
      int width = WIDTHS_MS[l];
      long start = Math.floorDiv(in.startMs, width) * width;
      if (start + width - 1 <= mark) {
        String origin = in.writerId == null || in.writerId.isEmpty() ? "main" : in.writerId;
        in.writerId = origin + "@" + in.startMs;
        in.startMs = start;
        in.widthMs = width;
        in.sumGauges();
        SeriesBucket up = l + 1 < WIDTHS_MS.length ? rollupCopy(in) : null;
        out.emit(l, in);
        if (up != null) {
          add(l + 1, up, mark, out);
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
        if (acc.standsFor != in.standsFor) {
          acc.standsFor = 0; // in comes from a rollup copy: its standsFor is set
        }
      }
    }

    /** The open bucket of level {@code l} at {@code start} of series {@code id}, or null. */
    SeriesBucket get(int l, long start, long id) {
      Map<Long, SeriesBucket> atStart = open.get(l).get(start);
      return atStart == null ? null : atStart.get(id);
    }

    /** Each open bucket of level {@code l} that {@link #close} with {@code w} closes. */
    void forEachClosing(int l, long w, Consumer<SeriesBucket> each) {
      int width = WIDTHS_MS[l];
      for (Map.Entry<Long, Map<Long, SeriesBucket>> e : open.get(l).entrySet()) {
        if (e.getKey() + width - 1 > w) {
          break;
        }
        e.getValue().values().forEach(each);
      }
    }

    /** The open bucket of level {@code l} that {@code b} rolls up into, or null (none yet, or closed by {@code mark}). */
    SeriesBucket openAbove(int l, SeriesBucket b, long mark) {
      int width = WIDTHS_MS[l];
      long start = Math.floorDiv(b.startMs, width) * width;
      if (start + width - 1 <= mark) {
        return null;
      }
      Map<Long, SeriesBucket> atStart = open.get(l).get(start);
      return atStart == null ? null : atStart.get(b.seriesId);
    }

    /**
     * Closes the buckets whose end {@code w} passes. A closed bucket is rolled up into the level above
     * while that level still classifies by {@code previous} (as a downstream operator would see it before
     * the watermark): the wider bucket around it ends no earlier, so it merges into it, and that closes in
     * the same pass if {@code w} passes its end too.
     */
    void close(long w, long previous, Out out) {
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
            // Into the open bucket above when there is one (before it is out: out may change it); a copy
            // only to open one, or for a correction there.
            SeriesBucket above = l + 1 < WIDTHS_MS.length ? openAbove(l + 1, complete, previous) : null;
            if (above != null) {
              above.mergeWithin(complete);
              if (above.standsFor != (l == 0 ? complete.rawSeries : complete.standsFor)) {
                above.standsFor = 0;
              }
              out.emit(l, complete);
              continue;
            }
            SeriesBucket up = l + 1 < WIDTHS_MS.length ? rollupCopy(complete) : null;
            out.emit(l, complete);
            if (up != null) {
              add(l + 1, up, previous, out);
            }
          }
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

  /**
   * A copy for the level above: without tags (rollup rows do not keep them), but with projections its
   * {@code name} tag, which its key is made of on restore.
   */
  private SeriesBucket rollupCopy(SeriesBucket b) {
    String[] keys = b.tagKeys;
    String[] values = b.tagValues;
    b.tagKeys = null; // not copied: a rollup does not keep them
    b.tagValues = null;
    SeriesBucket c = b.copy();
    // What the series' rollup also holds while nothing else is added (a by-name bucket of one series alone).
    c.standsFor = b.widthMs == WIDTHS_MS[0] ? b.rawSeries : b.standsFor;
    c.rawSeries = 0; // a rollup row stands for no series' row
    c.inNameRow = false;
    b.tagKeys = keys;
    b.tagValues = values;
    if (projectByName) {
      String name = nameOf(b);
      c.tagKeys = name == null ? NO_TAGS : NAME_KEY;
      c.tagValues = name == null ? NO_TAGS : new String[] {name};
    }
    return c;
  }

  /**
   * The ladder with the run states as a second input, broadcast to every subtask
   * ({@link RunPlans.KeyAndValue} records of the runs topic): a run whose plan judges every threshold on
   * the metrics' totals gets only its series' first 1 s buckets published ({@link RunPlans}); a run whose
   * plan is not known (yet) gets all, as before.
   */
  public static final class WithPlans extends BucketLadder
      implements org.apache.flink.streaming.api.operators.TwoInputStreamOperator<SeriesBucket,
          Tuple2<String, String>, SeriesBucket> {
    private static final long serialVersionUID = 1L;

    WithPlans(boolean totalsHere) {
      super(true, true, true, true, totalsHere);
    }

    @Override
    public void processElement1(StreamRecord<SeriesBucket> element) {
      processElement(element);
    }

    @Override
    public void processElement2(StreamRecord<Tuple2<String, String>> element) {
      plan(element.getValue().f0, element.getValue().f1);
    }
  }

  /** Notes whether run {@code run}, whose state is {@code runStateJson}, is judged on its series. */
  void plan(String run, String runStateJson) {
    if (run == null || run.isEmpty() || judgedOnSeries.containsKey(run)) {
      return; // a run's plan does not change
    }
    Boolean series = RunPlans.judgedOnSeries(run, runStateJson);
    if (series != null) {
      judgedOnSeries.put(run, series);
      if (judgedOnSeries.size() > PLANS_KEPT) {
        judgedOnSeries.remove(judgedOnSeries.keySet().iterator().next());
      }
    }
  }
}
