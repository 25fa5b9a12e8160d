package dev.loadtest.flink.threshold;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.metrics.BuiltinMetrics;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.sample.HttpMetric;
import dev.loadtest.schemas.threshold.Threshold;
import dev.loadtest.schemas.threshold.ThresholdEvaluator;
import dev.loadtest.schemas.threshold.ThresholdResult;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Judges every threshold of one test run (keyed by test run id) as its 1 s buckets arrive, on the merged
 * data of all generators: cumulative over the run so far (k6's semantics), or over the last window for
 * {@code ... over 1m}; per sub-metric by tag. Input 1: the run's state from {@code loadtest.runs} (key and
 * JSON value), which brings the plan's thresholds, the run's start and its end. Input 2: buckets.
 *
 * <ul>
 *   <li>Each time the watermark completes a second that had data, every threshold is judged and each
 *       change of state is emitted (run id and {@link ThresholdResult} JSON, not final).</li>
 *   <li>A failing threshold with {@code abortOnFail}, judged at least {@code delayAbortEval} after the
 *       run started, emits one abort command ({@link #ABORTS}, source {@code threshold}) with a command id
 *       derived from the run, so a repeat after a restore is dropped by the coordinator.</li>
 *   <li><b>A final verdict is final.</b> Every threshold's final result is emitted once, when the run has
 *       ended and this judge has counted every sample that the generators reported in the run's totals
 *       (a request counts once, in {@code http_reqs}; every other sample in its own metric): only then is
 *       every sample of the run in what it judges, whatever the watermark says (a run's last seconds may
 *       still be on their way through the aggregate job when the watermark passes its end, and the buckets
 *       of one second reach this judge in any order across series, so counting requests or iterations
 *       alone let a verdict miss a custom metric's last bucket). When the counts are not reached within {@code finalGrace}
 *       of the end (by the clock), or cannot be known (a lost generator, undelivered samples), the final
 *       results are emitted with what has come, marked {@code partial}: a verdict that may be wrong says so,
 *       and {@code loadtest run} exits 97 on it. NO_DATA stays NO_DATA (the coordinator's verdict counts it
 *       as failed; see {@link ThresholdEvaluator}). Records after that are counted in
 *       {@code bucketsAfterVerdict} and ignored (one that cannot be read still goes to the DLQ).</li>
 * </ul>
 * Buckets that arrive before the run's state are kept until it comes.
 *
 * <p><b>From the totals when they suffice.</b> The live judge reads {@code loadtest.aggregates} records
 * ({@link #live}), decoded here, after the shuffle by run. A plan whose thresholds name no tag is judged on
 * the metrics' totals and the gauges' series, a few dozen buckets per run and second, and the records of the
 * other series are skipped without being decoded; a plan with a tag in a threshold ({@code {name:...}},
 * {@code {status:...}}) is judged on the series (and the totals' records are skipped). Either way every
 * sample is counted once. A replay judges the buckets of its own stream ({@link #forBuckets}).
 *
 * @param <IN> the second input: records to decode ({@link #live}) or buckets ({@link #forBuckets})
 */
public final class RunThresholds<IN>
    extends KeyedCoProcessFunction<String, Tuple2<String, String>, IN, Tuple2<String, String>> {
  public static final OutputTag<Tuple2<String, String>> ABORTS = new OutputTag<>("abort-commands") {};
  /**
   * Aggregates records the live judge cannot use (unreadable, keyed as another run, times or histograms
   * out of range): DLQ JSON, counted in {@code malformedAggregates}.
   */
  public static final OutputTag<String> REJECTED_AGGREGATES = new OutputTag<>("rejected-aggregates") {};
  /** Run states this judge cannot use (unreadable, keyed as another run, a plan that does not parse): DLQ JSON. */
  public static final OutputTag<String> REJECTED_RUN_STATES = new OutputTag<>("rejected-run-states") {};
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final long finalGraceMs;
  private final String analysisId;
  private final String totalsAnalysisId;
  private final boolean verdictAtEndOfInput;
  private final Input<IN> input;
  private transient ValueState<String> plan;
  private transient ValueState<Long> startedAtMs;
  private transient ValueState<Long> firstBucketMs;
  private transient ValueState<Long> endedAtMs;
  private transient ValueState<Boolean> done;
  private transient ValueState<Boolean> abortSent;
  /** Samples counted in the run's buckets (a request once, in {@code http_reqs}). */
  private transient ValueState<Long> seenSamples;
  /** What the final verdict waits for, once the run's totals came: the samples the generators sent. */
  private transient ValueState<Long> expectedSamples;
  /** Why no count can be waited for (a generator lost, samples undelivered), or null. */
  private transient ValueState<String> uncountable;
  private transient MapState<Integer, SeriesBucket> cumulative;
  private transient MapState<Long, SeriesBucket> windowed;
  private transient MapState<Integer, String> lastState;
  private transient ListState<IN> pending;
  /** When the records pending for a run whose plan has not come are given up (a processing-time timer). */
  private transient ValueState<Long> unplannedUntil;
  private transient Map<String, Parsed> parsed;
  private transient Counter afterVerdict;
  private transient Counter unreadableRuns;
  private transient Counter malformedAggregates;
  private transient Counter unplannedRecords;

  /**
   * A plan's thresholds with the type of each one's metric, and whether they are judged on the totals
   * (none names a tag, and the input has the totals).
   */
  private record Parsed(List<Threshold> thresholds, List<MetricType> types, boolean fromTotals) {}

  /** How long aggregates records of a run wait for its run state before they are given up. */
  static final Duration UNPLANNED_WAIT = Duration.ofMinutes(10);

  /** How the judge reads its second input. */
  public interface Input<IN> extends java.io.Serializable {
    TypeInformation<IN> type();

    /** Whether the input carries the metrics' totals (and so the judge may use them instead of the series). */
    boolean hasTotals();

    /**
     * The buckets of {@code in}, a record keyed {@code key}; none when it holds only series and
     * {@code fromTotals} (read without decoding it).
     *
     * @throws IllegalArgumentException saying why {@code in} cannot be judged
     */
    List<SeriesBucket> read(IN in, String key, boolean fromTotals);

    /** {@code in} rejected for {@code reason}, as DLQ JSON. */
    String rejection(IN in, String reason);

    /**
     * Whether the input never ends (a topic's), so that records of a run whose state never comes must be given
     * up ({@link #UNPLANNED_WAIT}); a bounded input's pending records end with it.
     */
    boolean unbounded();
  }

  /** The live judge: {@code loadtest.aggregates} records of live runs (no analysis id), decoded here. */
  public static RunThresholds<dev.loadtest.flink.aggregate.AggregateJob.RawRecord> live(Duration finalGrace,
      String aggregatesTopic) {
    return new RunThresholds<>(finalGrace, "", false, new DecodeBuckets.Records(aggregatesTopic));
  }

  /**
   * A judge of buckets (a replay's, tests), on the series.
   *
   * @param analysisId only buckets of this analysis are judged ({@code ""}: the live runs)
   * @param verdictAtEndOfInput the final verdict waits for the end of the (bounded) input, whatever the
   *     watermark and the clock say: a replay reads partitions unevenly, and its verdict must include all
   */
  public static RunThresholds<SeriesBucket> forBuckets(Duration finalGrace, String analysisId,
      boolean verdictAtEndOfInput) {
    return new RunThresholds<>(finalGrace, analysisId, verdictAtEndOfInput, new DecodeBuckets.Buckets());
  }

  private RunThresholds(Duration finalGrace, String analysisId, boolean verdictAtEndOfInput, Input<IN> input) {
    this.finalGraceMs = finalGrace.toMillis();
    this.analysisId = analysisId == null ? "" : analysisId;
    this.totalsAnalysisId = dev.loadtest.schemas.series.Projection.TOTAL.analysisId(this.analysisId);
    this.verdictAtEndOfInput = verdictAtEndOfInput;
    this.input = input;
  }

  @Override
  public void open(OpenContext ctx) {
    var rc = getRuntimeContext();
    plan = rc.getState(new ValueStateDescriptor<>("plan", Types.STRING));
    startedAtMs = rc.getState(new ValueStateDescriptor<>("startedAt", Types.LONG));
    firstBucketMs = rc.getState(new ValueStateDescriptor<>("firstBucket", Types.LONG));
    endedAtMs = rc.getState(new ValueStateDescriptor<>("endedAt", Types.LONG));
    done = rc.getState(new ValueStateDescriptor<>("done", Types.BOOLEAN));
    abortSent = rc.getState(new ValueStateDescriptor<>("abortSent", Types.BOOLEAN));
    seenSamples = rc.getState(new ValueStateDescriptor<>("seenSamples", Types.LONG));
    expectedSamples = rc.getState(new ValueStateDescriptor<>("expectedSamples", Types.LONG));
    uncountable = rc.getState(new ValueStateDescriptor<>("uncountable", Types.STRING));
    TypeInformation<SeriesBucket> bucket = TypeInformation.of(SeriesBucket.class);
    cumulative = rc.getMapState(new MapStateDescriptor<>("cumulative", Types.INT, bucket));
    windowed = rc.getMapState(new MapStateDescriptor<>("windowed", Types.LONG, bucket));
    lastState = rc.getMapState(new MapStateDescriptor<>("lastState", Types.INT, Types.STRING));
    pending = rc.getListState(new ListStateDescriptor<>("pending", input.type()));
    unplannedUntil = rc.getState(new ValueStateDescriptor<>("unplannedUntil", Types.LONG));
    parsed = new HashMap<>();
    afterVerdict = rc.getMetricGroup().counter("bucketsAfterVerdict");
    unreadableRuns = rc.getMetricGroup().counter("unreadableRunStates");
    malformedAggregates = rc.getMetricGroup().counter("malformedAggregates");
    unplannedRecords = rc.getMetricGroup().counter("aggregatesOfRunsWithoutPlan");
  }

  @Override
  public void processElement1(Tuple2<String, String> runRecord, Context ctx, Collector<Tuple2<String, String>> out) throws Exception {
    RunState run;
    try {
      run = RunState.fromJson(runRecord.f1);
      if (!ctx.getCurrentKey().equals(run.testRunId())) {
        throw new IllegalArgumentException("the record's key is not the run id inside, \"" + run.testRunId() + "\"");
      }
    } catch (RuntimeException e) {
      rejectRunState(ctx, runRecord, "not a run state the threshold job can read: " + e.getMessage());
      return;
    }
    if (Boolean.TRUE.equals(done.value()) || run.status() == RunStatus.REJECTED) {
      return;
    }
    if (plan.value() == null && run.plan() != null && !run.plan().isBlank()) {
      try {
        thresholdsOf(run.plan(), input.hasTotals());
      } catch (RuntimeException e) {
        rejectRunState(ctx, runRecord, "the run state's plan cannot be judged: " + e.getMessage());
        return;
      }
      plan.update(run.plan());
      Long until = unplannedUntil.value();
      if (until != null) {
        ctx.timerService().deleteProcessingTimeTimer(until);
        unplannedUntil.clear();
      }
      List<IN> waiting = new ArrayList<>();
      pending.get().forEach(waiting::add);
      pending.clear();
      for (IN in : waiting) {
        use(in, ctx.timerService(), ctx.getCurrentKey(), ctx::output);
      }
    }
    for (RunState.Transition t : run.history()) {
      if (t.status() == RunStatus.RUNNING && startedAtMs.value() == null) {
        startedAtMs.update(t.atMs());
      }
    }
    if (run.totals() != null && expectedSamples.value() == null) {
      RunState.Totals t = run.totals();
      expectedSamples.update(t.samples());
      if (t.lost() > 0 || t.undelivered() > 0) {
        uncountable.update(t.lost() > 0 ? t.lost() + " generator(s) lost, their samples cannot be counted"
            : t.undelivered() + " samples were not delivered by the generators");
      }
    }
    if (run.status().terminal() && endedAtMs.value() == null) {
      long end = run.history().get(run.history().size() - 1).atMs();
      endedAtMs.update(end);
      if (verdictAtEndOfInput) {
        ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE); // fires with the input's final watermark
      } else {
        ctx.timerService().registerEventTimeTimer(finalTimerMs(end));
        ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + finalGraceMs);
      }
    }
    if (plan.value() != null && countsReached()) {
      finish(ctx.getCurrentKey(), false, out, ctx::output);
    }
  }

  /**
   * Whether a live run has ended and every sample its generators reported has been counted (a replay's
   * verdict waits for the end of its input instead).
   */
  private boolean countsReached() throws Exception {
    if (verdictAtEndOfInput || endedAtMs.value() == null || Boolean.TRUE.equals(done.value())
        || expectedSamples.value() == null || uncountable.value() != null) {
      return false;
    }
    return value(seenSamples) >= expectedSamples.value();
  }

  /**
   * The generators' samples a bucket holds: a request is one sample but fills a bucket of each of the 11
   * HTTP metrics, so it is counted in {@code http_reqs} only; every other metric's bucket counts its points.
   */
  static long samplesIn(SeriesBucket b) {
    if (REQUEST_METRICS.contains(b.metric)) {
      return HttpMetric.HTTP_REQS.metric().equals(b.metric) ? b.count : 0;
    }
    return b.count;
  }

  private static final Set<String> REQUEST_METRICS = Arrays.stream(HttpMetric.values()).map(HttpMetric::metric)
      .collect(Collectors.toUnmodifiableSet());

  private static long value(ValueState<Long> s) throws Exception {
    Long v = s.value();
    return v == null ? 0 : v;
  }

  /** The event time at which a run that ended at {@code endMs} has all its seconds complete. */
  private static long finalTimerMs(long endMs) {
    return Math.floorDiv(endMs, 1000) * 1000 + 999;
  }

  @Override
  public void processElement2(IN in, Context ctx, Collector<Tuple2<String, String>> out) throws Exception {
    if (Boolean.TRUE.equals(done.value())) {
      afterVerdict.inc();
      try { // not judged any more, but a record that cannot be read is still reported (series' records unread)
        input.read(in, ctx.getCurrentKey(), true);
      } catch (IllegalArgumentException e) {
        malformedAggregates.inc();
        ctx.output(REJECTED_AGGREGATES, input.rejection(in, e.getMessage()));
      }
      return;
    }
    if (plan.value() == null) { // its run state has not come yet: kept until it does, or for UNPLANNED_WAIT
      if (input.unbounded() && unplannedUntil.value() == null) {
        long until = ctx.timerService().currentProcessingTime() + UNPLANNED_WAIT.toMillis();
        ctx.timerService().registerProcessingTimeTimer(until);
        unplannedUntil.update(until);
      }
      pending.add(in);
      return;
    }
    use(in, ctx.timerService(), ctx.getCurrentKey(), ctx::output);
    if (countsReached()) {
      finish(ctx.getCurrentKey(), false, out, ctx::output);
    }
  }

  /** Reads {@code in} and accumulates the buckets this run is judged on; an unusable record to the DLQ. */
  private void use(IN in, org.apache.flink.streaming.api.TimerService timers, String run,
      java.util.function.BiConsumer<OutputTag<String>, String> side) throws Exception {
    Parsed p = parsed(run);
    List<SeriesBucket> buckets;
    try {
      buckets = input.read(in, run, p.fromTotals());
    } catch (IllegalArgumentException e) {
      malformedAggregates.inc();
      side.accept(REJECTED_AGGREGATES, input.rejection(in, e.getMessage()));
      return;
    }
    for (SeriesBucket b : buckets) {
      if (judgedOn(b, p.fromTotals())) {
        accumulate(b, timers, p);
      }
    }
  }

  /**
   * Whether the run is judged on {@code b}: a bucket of this judge's analysis, of the totals when judged on
   * them, else of the series; a gauge's series either way (gauges have no totals).
   */
  private boolean judgedOn(SeriesBucket b, boolean fromTotals) {
    String a = b.analysisId == null ? "" : b.analysisId;
    return switch (dev.loadtest.flink.aggregate.AggregateRecords.Kind.of(b)) {
      case TOTALS -> fromTotals && a.equals(totalsAnalysisId);
      case GAUGES -> a.equals(analysisId);
      case SERIES -> !fromTotals && a.equals(analysisId);
    };
  }

  private void accumulate(SeriesBucket b, org.apache.flink.streaming.api.TimerService timers, Parsed p)
      throws Exception {
    Long first = firstBucketMs.value();
    if (first == null || b.startMs < first) {
      firstBucketMs.update(b.startMs);
    }
    seenSamples.update(value(seenSamples) + samplesIn(b));
    boolean any = false;
    for (int i = 0; i < p.thresholds().size(); i++) {
      Threshold t = p.thresholds().get(i);
      if (!ThresholdAccumulator.matches(t.selector(), b)) {
        continue;
      }
      any = true;
      if (t.expression().window().isPresent()) {
        long key = ((long) i << 32) | Math.floorDiv(b.startMs, 1000);
        windowed.put(key, add(windowed.get(key), b));
      } else {
        cumulative.put(i, add(cumulative.get(i), b));
      }
    }
    if (any) {
      timers.registerEventTimeTimer(Math.floorDiv(b.startMs, 1000) * 1000 + 999);
    }
  }

  /** {@code b} merged into {@code acc} (null: nothing yet), across series and seconds. */
  private static SeriesBucket add(SeriesBucket acc, SeriesBucket b) {
    SeriesBucket part = b.copy();
    part.seriesId = 0;
    part.startMs = 0;
    part.widthMs = 0;
    return acc == null ? part : acc.merge(part);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Tuple2<String, String>> out) throws Exception {
    if (plan.value() == null) {
      Long until = unplannedUntil.value();
      if (until != null && ctx.timeDomain() == TimeDomain.PROCESSING_TIME && timestamp >= until) {
        giveUpUnplanned(ctx);
      }
      return;
    }
    if (Boolean.TRUE.equals(done.value())) {
      return;
    }
    Long end = endedAtMs.value();
    String run = ctx.getCurrentKey();
    if (end != null && verdictAtEndOfInput) {
      if (timestamp == Long.MAX_VALUE) {
        finish(run, false, out, ctx::output); // a replay: the bounded input has been read whole
      } else {
        judge(run, timestamp + 1, false, false, out, ctx::output);
      }
      return;
    }
    if (end != null && ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
      finish(run, !countsReached(), out, ctx::output); // the wait is over: what has come, marked if partial
      return;
    }
    if (end != null && timestamp >= finalTimerMs(end)) {
      if (countsReached()) {
        finish(run, false, out, ctx::output);
      } else if (uncountable.value() != null) {
        finish(run, true, out, ctx::output); // nothing more can be waited for: the watermark passed the end
      } else {
        judge(run, Math.min(timestamp, finalTimerMs(end)) + 1, false, false, out, ctx::output);
      }
      return;
    }
    judge(run, timestamp + 1, false, false, out, ctx::output);
  }

  /**
   * Forgets the records of a run whose run state (with its plan) did not come within {@link #UNPLANNED_WAIT}
   * of its first one (a run id nobody started, or a run rejected before it had a plan), so that they do not
   * stay in state for ever; one DLQ record says how many and why. The aggregate job has stored them anyway.
   */
  private void giveUpUnplanned(OnTimerContext ctx) throws Exception {
    IN first = null;
    long n = 0;
    for (IN in : pending.get()) {
      first = first == null ? in : first;
      n++;
    }
    pending.clear();
    unplannedUntil.clear();
    if (first != null) {
      unplannedRecords.inc(n);
      ctx.output(REJECTED_AGGREGATES, input.rejection(first, "no run state with a plan came for run \""
          + ctx.getCurrentKey() + "\" within " + UNPLANNED_WAIT.toMinutes() + " min of its first aggregates record: "
          + n + " record(s) of it not judged"));
    }
  }

  /** Emits every threshold's final result once, then forgets the run's data. */
  private void finish(String run, boolean partial, Collector<Tuple2<String, String>> out,
      java.util.function.BiConsumer<OutputTag<Tuple2<String, String>>, Tuple2<String, String>> side) throws Exception {
    if (Boolean.TRUE.equals(done.value())) {
      return;
    }
    judge(run, finalTimerMs(endedAtMs.value()) + 1, true, partial, out, side);
    done.update(true);
    cumulative.clear();
    windowed.clear();
    lastState.clear();
    pending.clear();
    parsed.remove(run);
  }

  private void judge(String run, long evalMs, boolean last, boolean partial, Collector<Tuple2<String, String>> out,
      java.util.function.BiConsumer<OutputTag<Tuple2<String, String>>, Tuple2<String, String>> side) throws Exception {
    Parsed p = parsed(run);
    Long first = firstBucketMs.value();
    Long started = startedAtMs.value();
    long startMs = started != null ? started : first != null ? first : evalMs;
    long longestWindowMs = 0;
    for (int i = 0; i < p.thresholds().size(); i++) {
      Threshold t = p.thresholds().get(i);
      SeriesBucket merged;
      Duration span;
      if (t.expression().window().isPresent()) {
        long windowMs = t.expression().window().get().toMillis();
        longestWindowMs = Math.max(longestWindowMs, windowMs);
        merged = null;
        for (long s = Math.floorDiv(evalMs - windowMs, 1000); s < Math.floorDiv(evalMs, 1000); s++) {
          SeriesBucket part = windowed.get(((long) i << 32) | s);
          merged = part == null ? merged : add(merged, part);
        }
        span = Duration.ofMillis(Math.min(windowMs, Math.max(0, evalMs - (first == null ? evalMs : first))));
      } else {
        merged = cumulative.get(i);
        span = Duration.ofMillis(Math.max(0, evalMs - (first == null ? evalMs : first)));
      }
      ThresholdEvaluator.Result r = ThresholdEvaluator.evaluate(t.expression(),
          ThresholdAccumulator.summary(p.types().get(i), merged, span));
      ThresholdResult.State state = switch (r.status()) {
        case PASS -> ThresholdResult.State.PASSED;
        case FAIL -> ThresholdResult.State.FAILED;
        case NO_DATA -> ThresholdResult.State.NO_DATA;
      };
      String text = t.selector() + ": " + t.expression().source();
      if (last || !state.name().equals(lastState.get(i))) {
        lastState.put(i, state.name());
        out.collect(Tuple2.of(run,
            new ThresholdResult(run, text, state, r.observed().orElse(Double.NaN), last, evalMs, last && partial).toJson()));
      }
      if (!last && r.failsNow() && t.abortsAt(evalMs - startMs)
          && abortSent.value() == null) {
        abortSent.update(true);
        side.accept(ABORTS, Tuple2.of(run, abortCommand(run, text, r.observed().orElse(Double.NaN))));
      }
    }
    // Seconds no window reaches any more are dropped.
    long oldest = Math.floorDiv(evalMs - longestWindowMs, 1000);
    List<Long> stale = new ArrayList<>();
    for (Long key : windowed.keys()) {
      if ((key & 0xFFFF_FFFFL) < oldest) {
        stale.add(key);
      }
    }
    for (Long key : stale) {
      windowed.remove(key);
    }
  }

  static String abortCommand(String run, String threshold, double value) {
    ObjectNode c = JSON.createObjectNode();
    c.put("type", "abort");
    c.put("commandId", "thresholds-" + UUID.nameUUIDFromBytes(run.getBytes(StandardCharsets.UTF_8)));
    c.put("testRunId", run);
    c.put("reason", "threshold " + threshold + " failed (" + value + ") and aborts on fail");
    c.put("source", "threshold");
    return c.toString();
  }

  /** A run state this judge cannot use, to the DLQ with its reason (a run state is written by the coordinator only). */
  private void rejectRunState(Context ctx, Tuple2<String, String> record, String reason) {
    unreadableRuns.inc();
    ctx.output(REJECTED_RUN_STATES, dev.loadtest.flink.aggregate.Rejections.json("thresholds", Topics.RUNS, -1, -1,
        reason + " (key \"" + record.f0 + "\")", record.f1.getBytes(StandardCharsets.UTF_8)));
  }

  private Parsed parsed(String key) throws Exception {
    Parsed p = parsed.get(key);
    if (p == null) {
      p = thresholdsOf(plan.value(), input.hasTotals());
      parsed.put(key, p);
    }
    return p;
  }

  /**
   * The thresholds of a plan with their metrics' types, judged on the totals when {@code totals} are there
   * and no threshold names a tag; throws when the plan cannot be judged.
   */
  private static Parsed thresholdsOf(String planJson, boolean totals) {
    TestPlan tp = PlanParser.parse(planJson);
    List<MetricType> types = new ArrayList<>();
    for (Threshold t : tp.thresholds()) {
      String m = t.selector().metric();
      types.add(tp.metrics().containsKey(m) ? tp.metrics().get(m)
          : BuiltinMetrics.typeOf(m).orElseThrow(() -> new IllegalArgumentException("the plan names an unknown"
              + " metric " + m)));
    }
    boolean tagged = dev.loadtest.flink.aggregate.RunPlans.judgedOnSeries(tp);
    return new Parsed(tp.thresholds(), types, totals && !tagged);
  }
}
