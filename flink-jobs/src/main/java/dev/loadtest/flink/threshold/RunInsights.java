package dev.loadtest.flink.threshold;

import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateRecords;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.insight.Insight;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Performance insights, per run while it goes: run states (its plan's disabled rules, its end, its totals) and its
 * aggregates records, keyed by test run id as the thresholds' judge has them. The totals' and gauges'
 * records are decoded; the series' only while the run's request names are counted (up to 501). Each second is
 * judged by {@link InsightRules} once event time has passed it, the run once event time has passed its end and
 * the totals hold as many requests as its generators reported (or a minute after, with what came);
 * each insight goes out once, as {@code (run id, Insight JSON)}, and after the run's end a last record of rule
 * {@link Insight#JUDGED} says that its insights are complete. Records it cannot read are left to the
 * judge, which sends them to the DLQ with the reason: here they are counted ({@code unreadableAggregates})
 * and skipped. State is dropped an hour after the run's end (or two hours after its last record).
 */
public final class RunInsights
    extends KeyedCoProcessFunction<String, Tuple2<String, String>, AggregateJob.RawRecord, Tuple2<String, String>> {
  private static final long serialVersionUID = 1L;
  static final long FORGET_AFTER_END_MS = 3_600_000;
  static final long FORGET_IDLE_MS = 2 * 3_600_000;
  /** How long after event time passed a run's end its last totals may still come (as the judge's final grace). */
  static final long FINAL_WAIT_MS = 60_000;

  private transient ValueState<String> rules;
  private transient ValueState<Long> endTimer;
  private transient ValueState<Long> startedAtMs;
  private transient ValueState<Boolean> ended;
  private transient ValueState<Long> forgetAt;
  /** Set once the run's series records are no longer needed: they are then skipped before any decoding. */
  private transient ValueState<Boolean> seriesDone;
  /** The requests the generators reported for the run (its totals), once known and countable. */
  private transient ValueState<Long> expectedRequests;
  /** Set when event time has passed the run's end: the run is judged once all its requests are counted. */
  private transient ValueState<Long> finishBy;
  /** The run's distinct series seen while its series records are read (for too-many-urls' series count). */
  private transient org.apache.flink.api.common.state.MapState<Long, Boolean> seriesSeen;
  private transient ValueState<Long> seriesCount;
  private transient Counter unreadable;
  private transient Counter raised;

  @Override
  public void open(OpenContext ctx) {
    var rc = getRuntimeContext();
    rules = rc.getState(new ValueStateDescriptor<>("insight-rules", Types.STRING));
    endTimer = rc.getState(new ValueStateDescriptor<>("insight-end-timer", Types.LONG));
    startedAtMs = rc.getState(new ValueStateDescriptor<>("insight-started-at", Types.LONG));
    ended = rc.getState(new ValueStateDescriptor<>("insight-ended", Types.BOOLEAN));
    forgetAt = rc.getState(new ValueStateDescriptor<>("insight-forget-at", Types.LONG));
    seriesDone = rc.getState(new ValueStateDescriptor<>("insight-series-done", Types.BOOLEAN));
    expectedRequests = rc.getState(new ValueStateDescriptor<>("insight-expected-requests", Types.LONG));
    finishBy = rc.getState(new ValueStateDescriptor<>("insight-finish-by", Types.LONG));
    seriesSeen = rc.getMapState(new org.apache.flink.api.common.state.MapStateDescriptor<>("insight-series-seen",
        Types.LONG, Types.BOOLEAN));
    seriesCount = rc.getState(new ValueStateDescriptor<>("insight-series-count", Types.LONG));
    unreadable = rc.getMetricGroup().counter("unreadableAggregates");
    raised = rc.getMetricGroup().counter("insightsRaised");
  }

  @Override
  public void processElement1(Tuple2<String, String> record, Context ctx, Collector<Tuple2<String, String>> out)
      throws Exception {
    RunState run;
    try {
      run = RunState.fromJson(record.f1);
    } catch (RuntimeException e) {
      return; // the judge rejects it with the reason
    }
    if (Boolean.TRUE.equals(ended.value()) || !ctx.getCurrentKey().equals(run.testRunId())) {
      return;
    }
    InsightRules r = InsightRules.fromJson(rules.value());
    if (run.plan() != null && !run.plan().isBlank()) {
      try {
        r.disable(PlanParser.parse(run.plan()).disabledInsights());
      } catch (RuntimeException e) {
        // an invalid plan never runs: nothing to disable
      }
    }
    for (RunState.Transition t : run.history()) {
      if (t.status() == RunStatus.RUNNING && startedAtMs.value() == null) {
        startedAtMs.update(t.atMs());
      }
    }
    rules.update(r.toJson());
    RunState.Totals t = run.totals();
    if (t != null && expectedRequests.value() == null && t.lost() == 0 && t.undelivered() == 0) {
      expectedRequests.update(t.requests());
      if (finishBy.value() != null) {
        finishIfComplete(ctx, r, out, false);
        return;
      }
    }
    if (run.status().terminal() && endTimer.value() == null) {
      if (run.status() == RunStatus.REJECTED) {
        forget(ctx.timerService().currentProcessingTime(), ctx);
        return;
      }
      long endMs = run.history().get(run.history().size() - 1).atMs();
      long at = Math.floorDiv(endMs, 1000) * 1000 + 2_000; // after the run's last second
      endTimer.update(at);
      ctx.timerService().registerEventTimeTimer(at);
    }
    if (finishIfAllCounted(ctx, r, out)) {
      return;
    }
    scheduleForget(ctx.timerService().currentProcessingTime() + FORGET_IDLE_MS, ctx);
  }

  /**
   * A run that has ended with every one of its requests counted is judged at once: its remaining seconds,
   * then the whole run, without waiting for event time to pass its end (the 2 s after it and the
   * out-of-orderness: seconds for an insight like not-enough-data).
   */
  private boolean finishIfAllCounted(Context ctx, InsightRules r, Collector<Tuple2<String, String>> out)
      throws Exception {
    Long end = endTimer.value();
    Long expected = expectedRequests.value();
    if (end == null || expected == null || r.requests() < expected || Boolean.TRUE.equals(ended.value())) {
      return false;
    }
    emit(ctx.getCurrentKey(), r.judgeUntil(Math.floorDiv(end, 1000) - 1, System.currentTimeMillis()), out);
    finishIfComplete(ctx, r, out, false);
    return true;
  }

  @Override
  public void processElement2(AggregateJob.RawRecord record, Context ctx, Collector<Tuple2<String, String>> out)
      throws Exception {
    if (Boolean.TRUE.equals(ended.value())
        || record.kind == AggregateRecords.Kind.SERIES && Boolean.TRUE.equals(seriesDone.value())) {
      return;
    }
    InsightRules r = InsightRules.fromJson(rules.value());
    List<SeriesBucket> buckets;
    try {
      buckets = AggregateRecords.fromAvro(AggregateBatch.fromByteBuffer(ByteBuffer.wrap(record.value)));
    } catch (java.io.IOException | RuntimeException e) {
      unreadable.inc();
      return;
    }
    long now = System.currentTimeMillis();
    for (SeriesBucket b : buckets) {
      if (!ctx.getCurrentKey().equals(b.testRunId) || b.widthMs != 1000) {
        continue;
      }
      boolean isTotal = AggregateRecords.Kind.of(b) == AggregateRecords.Kind.TOTALS;
      if (!isTotal && b.analysisId != null && !b.analysisId.isEmpty()) {
        continue; // a projection's series: the raw series have the tags
      }
      emit(ctx.getCurrentKey(), r.add(b, isTotal, now), out);
      if (!isTotal && r.wantsSeries() && !seriesSeen.contains(b.seriesId)) {
        seriesSeen.put(b.seriesId, Boolean.TRUE);
        long n = (seriesCount.value() == null ? 0 : seriesCount.value()) + 1;
        seriesCount.update(n);
        emit(ctx.getCurrentKey(), r.seriesSeen(n, Math.floorDiv(b.startMs, 1000), now), out);
      }
      // Its second is judged once event time reaches the second's last millisecond (the watermark is the
      // newest record's time less the out-of-orderness: records of two seconds later have come by then).
      ctx.timerService().registerEventTimeTimer(Math.floorDiv(b.startMs, 1000) * 1000 + 999);
    }
    if (totals(buckets) && r.countedThrough() > 0) {
      // Each metric's totals come second after second: once every metric judged on has come for a second,
      // the seconds before it are judged now rather than when event time (held back by the out-of-orderness
      // the series' records need) passes them.
      emit(ctx.getCurrentKey(), r.judgeUntil(r.countedThrough() - 1, now), out);
    }
    rules.update(r.toJson());
    if (!r.wantsSeries()) {
      seriesDone.update(true);
      seriesSeen.clear(); // no longer counted
    }
    if (finishBy.value() != null && totals(buckets)) {
      finishIfComplete(ctx, r, out, false);
      return;
    }
    if (totals(buckets) && finishIfAllCounted(ctx, r, out)) {
      return;
    }
    scheduleForget(ctx.timerService().currentProcessingTime() + FORGET_IDLE_MS, ctx);
  }

  private static boolean totals(List<SeriesBucket> buckets) {
    return !buckets.isEmpty() && AggregateRecords.Kind.of(buckets.get(0)) == AggregateRecords.Kind.TOTALS;
  }

  /**
   * Judges the whole run if all its requests have been counted (or {@code anyway}: the wait is over) and
   * closes it; otherwise leaves it for the next totals record or the wait's end.
   */
  private void finishIfComplete(Context ctx, InsightRules r, Collector<Tuple2<String, String>> out, boolean anyway)
      throws Exception {
    String run = ctx.getCurrentKey();
    Long expected = expectedRequests.value();
    if (!anyway && (expected == null || r.requests() < expected)) {
      return;
    }
    long end = endTimer.value();
    long from = startedAtMs.value() == null ? end - 2_000 : startedAtMs.value();
    emit(run, r.end(from, end - 2_000, System.currentTimeMillis()), out);
    emit(run, List.of(new Insight(null, Insight.JUDGED, "", "info", "Insights complete",
        anyway && (expected == null || r.requests() < expected) ? "judged without all of the run's requests (the"
            + " wait for them ended)" : "every rule has judged the run", from, end - 2_000, java.util.Map.of(),
        System.currentTimeMillis())), out);
    ended.update(true);
    rules.clear();
    seriesSeen.clear();
    Long by = finishBy.value();
    if (by != null && !anyway) {
      ctx.timerService().deleteProcessingTimeTimer(by);
    }
    finishBy.clear();
    scheduleForget(ctx.timerService().currentProcessingTime() + FORGET_AFTER_END_MS, ctx);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Tuple2<String, String>> out) throws Exception {
    Long forget = forgetAt.value();
    if (ctx.timeDomain() == org.apache.flink.streaming.api.TimeDomain.PROCESSING_TIME) {
      Long by = finishBy.value();
      if (by != null && timestamp >= by && !Boolean.TRUE.equals(ended.value())) {
        finishIfComplete(ctx, InsightRules.fromJson(rules.value()), out, true);
        return;
      }
      if (forget != null && timestamp >= forget) {
        rules.clear();
        endTimer.clear();
        startedAtMs.clear();
        ended.clear();
        forgetAt.clear();
        seriesDone.clear();
        seriesSeen.clear();
        seriesCount.clear();
      }
      return;
    }
    if (Boolean.TRUE.equals(ended.value()) || rules.value() == null) {
      return;
    }
    InsightRules r = InsightRules.fromJson(rules.value());
    long now = System.currentTimeMillis();
    Long end = endTimer.value();
    if (end != null && timestamp >= end) {
      for (long sec = Math.floorDiv(end, 1000) - 2; sec < Math.floorDiv(end, 1000); sec++) {
        emit(ctx.getCurrentKey(), r.second(sec, now), out);
      }
      rules.update(r.toJson());
      if (finishBy.value() == null) {
        long by = ctx.timerService().currentProcessingTime() + FINAL_WAIT_MS;
        finishBy.update(by);
        ctx.timerService().registerProcessingTimeTimer(by);
        finishIfComplete(ctx, r, out, false);
      }
      return;
    }
    emit(ctx.getCurrentKey(), r.second(Math.floorDiv(timestamp, 1000), now), out);
    rules.update(r.toJson());
  }

  private void emit(String run, List<Insight> insights, Collector<Tuple2<String, String>> out) {
    for (Insight i : insights) {
      if (!i.rule().equals(Insight.JUDGED)) {
        raised.inc();
      }
      out.collect(Tuple2.of(run, new Insight(run, i.rule(), i.subject(), i.severity(), i.title(), i.message(),
          i.fromMs(), i.toMs(), i.values(), i.atMs()).toJson()));
    }
  }

  private void scheduleForget(long at, Context ctx) throws Exception {
    Long old = forgetAt.value();
    if (old != null) {
      ctx.timerService().deleteProcessingTimeTimer(old);
    }
    forgetAt.update(at);
    ctx.timerService().registerProcessingTimeTimer(at);
  }

  private void forget(long now, Context ctx) throws Exception {
    rules.clear();
    ended.update(true);
    scheduleForget(now + FORGET_AFTER_END_MS, ctx);
  }
}
