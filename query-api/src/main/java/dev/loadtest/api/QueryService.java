package dev.loadtest.api;

import dev.loadtest.api.store.Agg;
import dev.loadtest.api.store.MetricReader;
import dev.loadtest.api.store.MetricReader.Query;
import dev.loadtest.api.store.MetricReader.TagFilter;
import dev.loadtest.api.store.RunReader;
import dev.loadtest.api.store.Slices;
import dev.loadtest.schemas.histogram.HistogramLayout;
import dev.loadtest.schemas.histogram.PercentileMethod;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.series.Projection;
import dev.loadtest.schemas.threshold.MetricSelector;
import dev.loadtest.schemas.threshold.Threshold;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Future;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The reads of the API, independent of HTTP: summaries, time series, heatmaps, series, top-K,
 * thresholds and comparisons, computed from merged stored buckets. Answers are maps and lists ready for
 * JSON. Thread-safe; every method blocks on ClickHouse.
 */
public final class QueryService {
  private volatile dev.loadtest.api.live.RecentRuns recent;
  /** Steps a time series may use, in seconds: from 10 s on, multiples of 10 s (so rollups serve them). */
  static final int[] STEPS = {1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400};

  private final MetricReader metrics;
  private final RunReader runs;
  private final Limits limits;
  private final Clock clock;

  public QueryService(MetricReader metrics, RunReader runs, Limits limits, Clock clock) {
    this.metrics = metrics;
    this.runs = runs;
    this.limits = limits;
    this.clock = clock;
  }

  public RunReader runs() {
    return runs;
  }

  /** A run's state, or 404. */
  public RunState run(String id) {
    return findRun(id).orElseThrow(() -> ApiException.notFound("no run \"" + id + "\""));
  }

  /** A run's state: the newer of the stored one and the one seen on the runs topic (see withRecentRuns). */
  public Optional<RunState> findRun(String id) {
    Optional<RunState> stored = runs.run(id);
    return recent == null ? stored : recent.newest(id, stored);
  }

  /**
   * Reads a run's state as the newer of ClickHouse's and {@code r}'s (the states seen on the runs topic and
   * the start commands accepted, ahead of the store).
   */
  public QueryService withRecentRuns(dev.loadtest.api.live.RecentRuns r) {
    this.recent = r;
    return this;
  }

  /** A time range in whole seconds, [from, to). */
  public record Range(long fromSec, long toSec) {
    long seconds() {
      return Math.max(1, toSec - fromSec);
    }
  }

  /** When the run ran: from its RUNNING transition (or creation) to its end (or now, while it runs). */
  Range runRange(RunState s) {
    long start = s.history().stream().filter(t -> t.status() == RunStatus.RUNNING).mapToLong(RunState.Transition::atMs)
        .findFirst().orElse(s.history().isEmpty() ? clock.millis() : s.history().get(0).atMs());
    long end = s.status().terminal() ? s.history().get(s.history().size() - 1).atMs() : clock.millis();
    return new Range(Math.floorDiv(start, 1000), Math.max(Math.floorDiv(start, 1000) + 1, -Math.floorDiv(-end, 1000)));
  }

  /** The range asked for ({@code fromMs}/{@code toMs} may be null: the run's), checked against the limits. */
  Range range(RunState s, Long fromMs, Long toMs) {
    Range run = runRange(s);
    long from = fromMs == null ? run.fromSec() : Math.floorDiv(fromMs, 1000);
    long to = toMs == null ? run.toSec() : -Math.floorDiv(-toMs, 1000);
    if (to <= from) {
      throw ApiException.badRequest(toMs == null ? "from" : "to", "the range is empty: to must be after from");
    }
    if (to - from > limits.maxRangeSeconds()) {
      throw ApiException.badRequest("to", "the range spans " + (to - from) + " s, more than the limit of "
          + limits.maxRangeSeconds() + " s");
    }
    return new Range(from, to);
  }

  // ---------------------------------------------------------------- summary

  /**
   * The k6-style end-of-test summary of a run (or of [fromMs, toMs)): every metric, the sub-metrics of its
   * thresholds and of {@code submetrics}, checks and thresholds.
   */
  public Map<String, Object> summary(String runId, String analysis, Long fromMs, Long toMs, List<String> trendStats,
      List<MetricSelector> submetrics) {
    return summary(runId, analysis, fromMs, toMs, trendStats, submetrics, PercentileMethod.NEAREST_RANK);
  }

  /**
   * As {@link #summary(String, String, Long, Long, List, List)}, with trend percentiles read by {@code method}
   * (k6's interpolation or nearest-rank, see {@link PercentileMethod}).
   */
  public Map<String, Object> summary(String runId, String analysis, Long fromMs, Long toMs, List<String> trendStats,
      List<MetricSelector> submetrics, PercentileMethod method) {
    RunState state = run(runId);
    boolean whole = fromMs == null && toMs == null;
    Range range = range(state, fromMs, toMs);
    Range read = whole ? new Range(0, 4_294_967_295L) : range;
    // The reads that do not need one another go side by side: a summary is a dashboard's most frequent read.
    Future<Map<String, MetricType>> typesRead = async(() -> metrics.metricTypes(runId, analysis));
    Future<List<Slices.Slice>> slicesRead = async(() -> slices(runId, analysis, read, 0));
    Future<Map<String, Object>> thresholdsRead = async(() -> thresholds(state, runId, analysis));
    String totals = source(runId, analysis, null, MetricType.TREND, List.of());
    List<Slices.Slice> totalSlices = totals.equals(analysis) ? join(slicesRead) : slices(runId, totals, read, 0);
    Map<String, MetricType> types = join(typesRead);
    Set<String> gauges = gauges(types);
    // Gauges from 1 s rows only: the smallest and largest total over time need every second.
    Future<List<MetricReader.Row>> gaugesRead = gauges.isEmpty() ? null : async(() -> metrics.gauges(new Query(runId,
        analysis, gauges, List.of(), List.of(), true, false, 0, slices(runId, analysis, read, 1))));
    Future<Map<String, Object>> checksRead = async(() -> checks(runId, analysis, types, join(slicesRead)));
    Map<String, Agg> byMetric = new LinkedHashMap<>();
    // Merged here from RowBinary rows: ClickHouse 18.16's sumMap over wide histograms (a long-tailed latency
    // spreads a second over hundreds of buckets) took most of a summary's time.
    for (MetricReader.Row r : metrics.aggregateHere(new Query(runId, totals, nonGauges(types), List.of(), List.of(),
        true, false, 0, totalSlices), Agg.percentiles(trendStats), Agg.Needs.ALL, Long.MAX_VALUE, true)) {
      byMetric.put(r.metric(), r.agg());
    }
    if (gaugesRead != null) {
      for (MetricReader.Row r : join(gaugesRead)) {
        byMetric.put(r.metric(), r.agg());
      }
    }
    List<Slices.Slice> slices = join(slicesRead);
    Set<MetricSelector> subs = new LinkedHashSet<>();
    for (MetricSelector judged : judgedSelectors(state, runId, analysis)) {
      if (!judged.tags().isEmpty()) {
        subs.add(judged);
      }
    }
    subs.addAll(submetrics);
    if (subs.size() > limits.maxSubmetrics()) {
      throw ApiException.badRequest("submetric", subs.size() + " sub-metrics (with the thresholds'), more than the"
          + " limit of " + limits.maxSubmetrics());
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map.Entry<String, MetricType> e : types.entrySet()) {
      Agg agg = byMetric.getOrDefault(e.getKey(), Agg.EMPTY);
      Map<String, Object> m = metricEntry(e.getKey(), e.getValue(), agg, trendStats, range.seconds(), method);
      List<Map<String, Object>> subOut = new ArrayList<>();
      for (MetricSelector sel : subs) {
        if (!sel.metric().equals(e.getKey())) {
          continue;
        }
        Agg subAgg = subAggregate(runId, analysis, e.getValue(), sel, slices);
        Map<String, Object> s = metricEntry(sel.toString(), e.getValue(), subAgg, trendStats, range.seconds(), method);
        s.put("tags", sel.tags());
        subOut.add(s);
      }
      m.put("submetrics", subOut);
      out.add(m);
    }
    for (MetricSelector sel : subs) {
      if (!types.containsKey(sel.metric())) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("metric", sel.toString());
        m.put("type", null);
        m.put("count", 0);
        m.put("note", "no samples of " + sel.metric() + " in this run");
        out.add(m);
      }
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("testRunId", runId);
    result.put("analysisId", analysis);
    result.put("status", state.status().name());
    result.put("from", range.fromSec() * 1000);
    result.put("to", range.toSec() * 1000);
    result.put("durationSeconds", range.seconds());
    result.put("percentileMethod", method.id());
    result.put("metrics", out);
    result.put("checks", join(checksRead));
    result.put("thresholds", join(thresholdsRead)); // the state read above: one query less
    return result;
  }

  private Agg subAggregate(String runId, String analysis, MetricType type, MetricSelector sel,
      List<Slices.Slice> slices) {
    List<TagFilter> filters = new ArrayList<>();
    sel.tags().forEach((k, v) -> filters.add(new TagFilter(k, List.of(v))));
    String source = source(runId, analysis, sel.metric(), type, sel.tags().keySet());
    Query q = new Query(runId, source, Set.of(sel.metric()), filters, List.of(), false, false, 0,
        source.equals(analysis) || slices.isEmpty() ? slices : Slices.plan(slices.get(0).fromSec(),
            slices.get(slices.size() - 1).toSec(), 0, metrics.coverage(runId, source, sel.metric())));
    if (slices.isEmpty()) {
      return Agg.EMPTY;
    }
    List<MetricReader.Row> rows = type == MetricType.GAUGE ? metrics.gauges(new Query(runId, analysis,
        Set.of(sel.metric()), filters, List.of(), false, false, 0, List.of(new Slices.Slice(1, slices.get(0).fromSec(),
        slices.get(slices.size() - 1).toSec())))) : metrics.aggregateHere(q, List.of(), Agg.Needs.ALL, Long.MAX_VALUE,
        true);
    return rows.isEmpty() ? Agg.EMPTY : rows.get(0).agg();
  }

  private Map<String, Object> checks(String runId, String analysis, Map<String, MetricType> types,
      List<Slices.Slice> slices) {
    Map<String, Object> out = new LinkedHashMap<>();
    long passes = 0;
    long fails = 0;
    List<Map<String, Object>> byCheck = new ArrayList<>();
    if (types.get("checks") == MetricType.RATE) {
      for (MetricReader.Row r : metrics.aggregate(new Query(runId, analysis, Set.of("checks"), List.of(),
          List.of("check"), false, false, 0, slices))) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("check", r.groups().get(0));
        c.put("passes", r.agg().nonZero());
        c.put("fails", r.agg().count() - r.agg().nonZero());
        passes += r.agg().nonZero();
        fails += r.agg().count() - r.agg().nonZero();
        byCheck.add(c);
      }
    }
    out.put("passed", passes);
    out.put("failed", fails);
    out.put("byCheck", byCheck);
    return out;
  }

  private static Map<String, Object> metricEntry(String name, MetricType type, Agg agg, List<String> trendStats,
      double seconds, PercentileMethod method) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("metric", name);
    m.put("type", type.name().toLowerCase(java.util.Locale.ROOT));
    m.put("samples", agg.count());
    m.put("stats", agg.summaryStats(type, trendStats, seconds, method));
    return m;
  }

  // ---------------------------------------------------------------- thresholds

  /**
   * Each threshold of the run's plan with its newest state (PENDING before any result), and totals. An
   * analysis (a replay) has the thresholds it was judged by, which need not be the plan's: its stored
   * results only, complete when all are final.
   */
  public Map<String, Object> thresholds(String runId, String analysis) {
    return thresholds(run(runId), runId, analysis);
  }

  /** As {@link #thresholds(String, String)}, for a run whose state was read already. */
  private Map<String, Object> thresholds(RunState state, String runId, String analysis) {
    Map<String, RunReader.ThresholdRow> stored = new LinkedHashMap<>();
    for (RunReader.ThresholdRow r : runs.thresholds(runId, analysis)) {
      stored.put(r.threshold(), r);
    }
    List<Map<String, Object>> list = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    TestPlan plan = analysis.isEmpty() ? plan(state) : null;
    if (plan != null) {
      for (Threshold t : plan.thresholds()) {
        String label = t.selector() + ": " + t.expression().source();
        seen.add(label);
        list.add(thresholdEntry(label, t, stored.get(label)));
      }
    }
    stored.forEach((label, r) -> {
      if (!seen.contains(label)) {
        list.add(thresholdEntry(label, null, r));
      }
    });
    long passed = list.stream().filter(m -> "PASSED".equals(m.get("state"))).count();
    long failed = list.stream().filter(m -> "FAILED".equals(m.get("state"))).count();
    long noData = list.stream().filter(m -> "NO_DATA".equals(m.get("state"))).count();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("passed", passed);
    out.put("failed", failed);
    out.put("noData", noData);
    out.put("pending", list.size() - passed - failed - noData);
    out.put("complete", analysis.isEmpty() ? state.verdict() != null && state.verdict().complete()
        : stored.values().stream().allMatch(RunReader.ThresholdRow::finalResult));
    // Final, but judged without all of the run's data: the verdict will not become complete.
    out.put("partial", analysis.isEmpty() && state.verdict() != null && state.verdict().partial());
    out.put("results", list);
    return out;
  }

  /** The selectors of the thresholds judged: the plan's for the run, the stored results' for an analysis. */
  private List<MetricSelector> judgedSelectors(RunState state, String runId, String analysis) {
    List<MetricSelector> out = new ArrayList<>();
    if (analysis.isEmpty()) {
      TestPlan plan = plan(state);
      if (plan != null) {
        plan.thresholds().forEach(t -> out.add(t.selector()));
      }
      return out;
    }
    for (RunReader.ThresholdRow r : runs.thresholds(runId, analysis)) {
      int colon = r.threshold().lastIndexOf(": ");
      try {
        out.add(MetricSelector.parse(colon < 0 ? r.threshold() : r.threshold().substring(0, colon)));
      } catch (IllegalArgumentException e) {
        // a label this version cannot read: its result is still listed, without a sub-metric line
      }
    }
    return out;
  }

  private static Map<String, Object> thresholdEntry(String label, Threshold t, RunReader.ThresholdRow r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("threshold", label);
    m.put("state", r == null ? "PENDING" : r.state());
    m.put("value", r == null ? null : r.value());
    m.put("final", r != null && r.finalResult());
    m.put("atMs", r == null ? null : r.atMs());
    if (t != null) {
      m.put("abortOnFail", t.abortOnFail());
      m.put("delayAbortEval", t.delayAbortEval() == null ? null : t.delayAbortEval().toMillis() + "ms");
    }
    return m;
  }

  static TestPlan plan(RunState s) {
    if (s.plan() == null || s.plan().isEmpty()) {
      return null;
    }
    try {
      return PlanParser.parse(s.plan());
    } catch (RuntimeException e) {
      return null; // a rejected run's plan: its errors are in the run state
    }
  }

  // ---------------------------------------------------------------- time series

  /** A time-series request, checked by the HTTP layer. */
  /**
   * @param top groups per page of a grouped answer; with more groups than that they are ranked by
   *     {@code rankBy} over the range and the rest is one "other" series
   * @param rankBy the stat that ranks groups (null: the first of {@code stats})
   * @param ascending rank from the lowest value (default: highest first)
   * @param page which page of {@code top} ranked groups (0: the first)
   */
  public record SeriesRequest(String run, String analysis, String metric, List<String> stats, List<TagFilter> filters,
      List<String> groupBy, Long fromMs, Long toMs, int maxPoints, int top, String rankBy, boolean ascending,
      int page) {
    public SeriesRequest(String run, String analysis, String metric, List<String> stats, List<TagFilter> filters,
        List<String> groupBy, Long fromMs, Long toMs, int maxPoints) {
      this(run, analysis, metric, stats, filters, groupBy, fromMs, toMs, maxPoints, Integer.MAX_VALUE, null, false, 0);
    }

    SeriesRequest ungrouped() {
      return new SeriesRequest(run, analysis, metric, stats, filters, List.of(), fromMs, toMs, maxPoints, top, rankBy,
          ascending, page);
    }
  }

  /** Points per group and step; the step is chosen from the range, the points and the rows it reads. */
  public Map<String, Object> timeseries(SeriesRequest req) {
    long t0 = System.nanoTime();
    Prepared prepared = prepare(req);
    MetricType type = prepared.type();
    for (String s : req.stats()) {
      if (!Agg.appliesTo(type, s)) {
        throw ApiException.badRequest("stat", "\"" + s + "\" is not a stat of " + type.name().toLowerCase(
            java.util.Locale.ROOT) + " metric " + req.metric() + " (" + statsOf(type) + ")");
      }
    }
    String source = prepared.source();
    if (!req.groupBy().isEmpty() && type != MetricType.GAUGE) {
      long groups = metrics.countGroups(req.run(), source, req.metric(), req.filters(), req.groupBy());
      if (groups > Math.min(req.top(), limits.maxGroups()) || req.page() > 0) {
        return ranked(req, prepared, groups, t0);
      }
    }
    Plan p = prepared.plan();
    Query q = new Query(req.run(), source, Set.of(req.metric()), req.filters(), req.groupBy(), false, false,
        p.step, p.slices);
    long t1 = System.nanoTime();
    List<MetricReader.Row> rows = type == MetricType.GAUGE ? metrics.gauges(q)
        : metrics.aggregateHere(q, Agg.percentiles(req.stats()), Agg.Needs.of(type, req.stats()), p.series);
    long t2 = System.nanoTime();
    Map<List<String>, List<MetricReader.Row>> groups = group(rows);
    boolean truncated = groups.size() > limits.maxGroups();
    List<String> columns = new ArrayList<>();
    columns.add("t");
    columns.addAll(req.stats());
    List<Map<String, Object>> series = new ArrayList<>();
    for (Map.Entry<List<String>, List<MetricReader.Row>> g : busiest(groups, limits.maxGroups())) {
      Points points = new Points(g.getValue().size(), req.stats().size());
      for (MetricReader.Row r : g.getValue()) {
        points.add(r.tsSec() * 1000);
        for (int k = 0; k < req.stats().size(); k++) {
          points.set(k, r.agg().stat(type, req.stats().get(k), p.step));
        }
      }
      series.add(Map.of("tags", tags(req.groupBy(), g.getKey()), "points", points));
    }
    Map<String, Object> out = header(req, type, p, source);
    out.put("columns", columns);
    out.put("truncated", truncated);
    out.put("timingsMs", Map.of("plan", (t1 - t0) / 1_000_000, "query", (t2 - t1) / 1_000_000,
        "points", (System.nanoTime() - t2) / 1_000_000));
    out.put("series", series);
    return out;
  }

  /**
   * A grouped answer with more groups than one page shows: every group ranked by {@code rankBy} over the
   * range (one merged aggregate per group, from the coarsest rows that cover it), the page's groups as
   * series at a step chosen for them alone, and everything else as one "other" series (the ungrouped read
   * minus the page's groups, histograms subtracted bucket by bucket), so that a panel of 20,000 names
   * answers with the top few at full resolution instead of one point per name.
   */
  private Map<String, Object> ranked(SeriesRequest req, Prepared prepared, long groupCount, long t0) {
    MetricType type = prepared.type();
    String source = prepared.source();
    String rankBy = req.rankBy() != null ? req.rankBy() : req.stats().get(0);
    if (!Agg.appliesTo(type, rankBy)) {
      throw ApiException.badRequest("rankBy", "\"" + rankBy + "\" is not a stat of " + type.name().toLowerCase(
          java.util.Locale.ROOT) + " metric " + req.metric() + " (" + statsOf(type) + ")");
    }
    int top = Math.min(req.top(), limits.maxGroups());
    if ((long) req.page() * top >= Math.max(1, groupCount)) { // before any ranking: no page past the groups
      throw pastTheLastPage(req.page(), groupCount, top);
    }
    Range asked = range(prepared.state(), req.fromMs(), req.toMs());
    // Everything (for the "other" series) is read beside the ranking, at the step a page of one series per
    // group would take (read again below in the rare case that the page's series need a coarser step).
    Future<Prepared> everything = async(() -> ungrouped(req, prepared));
    int guessedStep = plan(prepared.state(), req, Math.min(groupCount, top), prepared.coverage()).step;
    Future<OtherRows> everythingRows = async(() -> otherRows(req, join(everything), asked, guessedStep));
    Ranking ranked = rank(req, prepared, asked, rankBy, (req.page() + 1) * top, everythingRows);
    List<Map.Entry<List<String>, Double>> ranking = ranked.order();
    Comparator<Map.Entry<List<String>, Double>> byValue = Comparator.comparingDouble(e -> e.getValue());
    ranking.sort((a, b) -> {
      boolean na = a.getValue().isNaN();
      boolean nb = b.getValue().isNaN();
      if (na || nb) {
        return na == nb ? String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())) : na ? 1 : -1;
      }
      int c = req.ascending() ? byValue.compare(a, b) : byValue.compare(b, a);
      return c != 0 ? c : String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey()));
    });
    int pages = Math.max(1, (ranking.size() + top - 1) / top);
    if (req.page() >= pages) {
      throw pastTheLastPage(req.page(), ranking.size(), top);
    }
    List<Map.Entry<List<String>, Double>> shown = ranking.subList(req.page() * top,
        Math.min(ranking.size(), (req.page() + 1) * top));
    Map<Long, List<String>> pageGroupOf = new java.util.HashMap<>();
    for (Map.Entry<List<String>, Double> e : shown) {
      for (long id : ranked.seriesOf().get(e.getKey())) {
        pageGroupOf.put(id, e.getKey());
      }
    }
    boolean withOther = ranking.size() > shown.size();
    long pageSeries = pageGroupOf.size();
    Plan pagePlan = plan(prepared.state(), req, pageSeries, prepared.coverage());
    Prepared all = join(everything);
    int step = Math.max(pagePlan.step, all.plan().step);
    pagePlan = planAt(asked, step, prepared.coverage(), pageSeries);
    long t1 = System.nanoTime();
    Future<OtherRows> allRowsRead = everythingRows;
    if (withOther && join(everythingRows).step() != step) {
      allRowsRead = async(() -> otherRows(req, all, asked, step));
    }
    List<MetricReader.Row> rows = metrics.aggregateOfSeries(new Query(req.run(), source, Set.of(req.metric()),
        req.filters(), req.groupBy(), false, false, step, pagePlan.slices), pageGroupOf, Agg.percentiles(req.stats()));
    Map<List<String>, List<MetricReader.Row>> groups = group(rows);
    List<Map<String, Object>> series = new ArrayList<>();
    Map<Long, Agg> pageTotal = new java.util.HashMap<>();
    int rank = req.page() * top;
    for (Map.Entry<List<String>, Double> g : shown) {
      List<MetricReader.Row> points = groups.getOrDefault(g.getKey(), List.of());
      points.forEach(r -> pageTotal.merge(r.tsSec(), r.agg(), Agg::plus));
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("tags", tags(req.groupBy(), g.getKey()));
      entry.put("rank", ++rank);
      entry.put("rankValue", g.getValue().isNaN() ? null : g.getValue());
      entry.put("points", points(type, req.stats(), step, points));
      series.add(entry);
    }
    if (withOther) {
      List<MetricReader.Row> allRows = join(allRowsRead).rows();
      List<MetricReader.Row> rest = new ArrayList<>();
      for (MetricReader.Row r : allRows) {
        Agg left = r.agg().minus(pageTotal.getOrDefault(r.tsSec(), Agg.EMPTY));
        if (left.count() > 0) {
          rest.add(new MetricReader.Row(null, List.of(), 0, r.tsSec(), left));
        }
      }
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("tags", Map.of());
      entry.put("other", true);
      entry.put("groups", ranking.size() - shown.size());
      entry.put("points", points(type, req.stats(), step, rest));
      series.add(entry);
    }
    Map<String, Object> out = header(req, type, pagePlan, source);
    List<String> columns = new ArrayList<>();
    columns.add("t");
    columns.addAll(req.stats());
    out.put("columns", columns);
    out.put("truncated", withOther);
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("total", ranking.size());
    g.put("page", req.page());
    g.put("pages", pages);
    g.put("top", top);
    g.put("rankedBy", rankBy);
    g.put("rankedFrom", ranked.from());
    g.put("order", req.ascending() ? "asc" : "desc");
    out.put("groups", g);
    out.put("timingsMs", Map.of("rank", (t1 - t0) / 1_000_000, "points", (System.nanoTime() - t1) / 1_000_000));
    out.put("series", series);
    return out;
  }

  /**
   * Every group with data in {@code asked} and its {@code rankBy} over it: exact for each group that can be
   * among the first {@code needed} in the requested order, NaN for the others (which rank after them and are
   * never shown). Counts, sums, min, max and rates come from one query without histograms. A percentile
   * needs merged histograms, but that query also gives each group the range its percentile bucket can be in
   * (see {@link MetricReader#groupTotals}), so only the groups whose range reaches the {@code needed}-th best
   * bound (two buckets' margin, so that values are strictly apart) have their histograms merged: at 5,000
   * names of one latency profile about a tenth of them, where every name's histogram over the whole run was
   * read before.
   */
  private static ApiException pastTheLastPage(int page, long groups, int top) {
    long pages = Math.max(1, (groups + top - 1) / top);
    return ApiException.badRequest("page", "page " + page + " is past the last one (" + (pages - 1) + "): " + groups
        + " groups, " + top + " per page");
  }

  /** Everything a ranked answer covers, per step of {@code step} seconds (with histograms, to subtract its page). */
  private record OtherRows(int step, List<MetricReader.Row> rows) {}

  private OtherRows otherRows(SeriesRequest req, Prepared all, Range asked, int pageStep) {
    int step = Math.max(pageStep, all.plan().step);
    Plan allPlan = planAt(asked, step, all.coverage(), all.plan().series());
    return new OtherRows(step, metrics.aggregateHere(new Query(req.run(), all.source(), Set.of(req.metric()),
        req.filters(), List.of(), false, false, step, allPlan.slices), List.of(), Agg.Needs.ALL, all.plan().series(),
        true));
  }

  /**
   * The groups in no particular order with their values ({@link #rank}), each group's series, and where the
   * values came from ({@code metric_run}, or the tables of the range's rows).
   */
  private record Ranking(List<Map.Entry<List<String>, Double>> order, Map<List<String>, long[]> seriesOf,
      List<String> from) {}

  private Ranking rank(SeriesRequest req, Prepared prepared, Range asked, String rankBy, int needed,
      Future<OtherRows> everything) {
    MetricType type = prepared.type();
    // A whole run's ranking reads all of the run's rows, as its summary does: the coarsest rows, the rollups'
    // (a run's first and last minute need no 1 s rows at its edges).
    boolean whole = req.fromMs() == null && req.toMs() == null;
    List<Slices.Slice> slices = Slices.plan(whole ? 0 : asked.fromSec(), whole ? 4_294_967_295L : asked.toSec(), 0,
        prepared.coverage());
    List<Double> percentiles = Agg.percentiles(List.of(rankBy));
    Double percentile = type == MetricType.TREND && !percentiles.isEmpty() ? percentiles.get(0) : null;
    if (whole && percentile != null) {
      Ranking fromRunRows = wholeRunRanking(req, prepared, slices, percentile, rankBy, asked, everything);
      if (fromRunRows != null) {
        return fromRunRows;
      }
    }
    List<MetricReader.GroupTotals> totals = metrics.groupTotals(new Query(req.run(), prepared.source(),
        Set.of(req.metric()), req.filters(), req.groupBy(), false, false, 0, slices), percentile);
    List<Map.Entry<List<String>, Double>> ranking = new ArrayList<>();
    Map<List<String>, long[]> seriesOf = new java.util.HashMap<>();
    totals.forEach(t -> seriesOf.put(t.groups(), t.seriesIds()));
    if (percentile == null) {
      for (MetricReader.GroupTotals t : totals) {
        ranking.add(Map.entry(t.groups(), java.util.Objects.requireNonNullElse(t.agg().stat(type, rankBy,
            asked.seconds()), Double.NaN)));
      }
      return new Ranking(ranking, seriesOf, tables(slices));
    }
    java.util.Set<List<String>> candidates = new java.util.HashSet<>();
    if (totals.size() <= needed) {
      totals.forEach(t -> candidates.add(t.groups()));
    } else if (!req.ascending()) {
      int[] lows = totals.stream().mapToInt(MetricReader.GroupTotals::lowBucket).sorted().toArray();
      int bar = lows[lows.length - needed];
      totals.stream().filter(t -> t.highBucket() >= bar - 1).forEach(t -> candidates.add(t.groups()));
    } else {
      int[] highs = totals.stream().mapToInt(MetricReader.GroupTotals::highBucket).sorted().toArray();
      int bar = highs[needed - 1];
      totals.stream().filter(t -> t.lowBucket() <= bar + 1).forEach(t -> candidates.add(t.groups()));
    }
    Map<Long, List<String>> groupOfSeries = new java.util.HashMap<>();
    for (MetricReader.GroupTotals t : totals) {
      if (candidates.contains(t.groups())) {
        for (long id : t.seriesIds()) {
          groupOfSeries.put(id, t.groups());
        }
      }
    }
    java.util.Set<List<String>> valued = new java.util.HashSet<>();
    for (MetricReader.Row r : metrics.aggregateOfSeries(new Query(req.run(), prepared.source(), Set.of(req.metric()),
        req.filters(), req.groupBy(), false, false, 0, slices), groupOfSeries, percentiles)) {
      valued.add(r.groups());
      ranking.add(Map.entry(r.groups(), java.util.Objects.requireNonNullElse(r.agg().stat(type, rankBy,
          asked.seconds()), Double.NaN)));
    }
    for (MetricReader.GroupTotals t : totals) {
      if (!valued.contains(t.groups())) {
        ranking.add(Map.entry(t.groups(), Double.NaN));
      }
    }
    return new Ranking(ranking, seriesOf, tables(slices));
  }

  /**
   * A whole run's names ranked by a stored percentile (p50, p90, p95, p99) from the aggregate job's whole-run
   * rows ({@code metric_run}: one small row per name, its percentile's bucket stored), when they are complete:
   * their counts add up to what the run's rows hold (the ungrouped read of the same range, which the answer
   * reads anyway). A name whose row was written in several parts has its histograms merged from the run's
   * rows. Null when this does not apply (filters, another group-by, a live run whose rows are behind, a run
   * stored before these rows existed): the caller ranks from the run's rows.
   */
  private Ranking wholeRunRanking(SeriesRequest req, Prepared prepared, List<Slices.Slice> slices, double percentile,
      String rankBy, Range asked, Future<OtherRows> everything) {
    if (MetricReader.storedBucket(percentile) == null || !req.filters().isEmpty()
        || !req.groupBy().equals(List.of(Projection.NAME_TAG))
        || !prepared.source().equals(Projection.NAME.analysisId(req.analysis()))) {
      return null;
    }
    Future<Map<Long, List<String>>> groupsRead = async(() -> metrics.groupsOf(new Query(req.run(), prepared.source(),
        Set.of(req.metric()), List.of(), req.groupBy(), false, false, 0, slices)));
    List<MetricReader.RunTotals> rows = metrics.runTotals(req.run(), prepared.source(), req.metric(), percentile);
    if (rows.isEmpty()) {
      return null;
    }
    long inRunRows = rows.stream().mapToLong(r -> r.agg().count()).sum();
    long stored = join(everything).rows().stream().mapToLong(r -> r.agg().count()).sum();
    if (inRunRows != stored) {
      return null;
    }
    Map<Long, List<String>> groupOf = join(groupsRead);
    MetricType type = prepared.type();
    List<Map.Entry<List<String>, Double>> ranking = new ArrayList<>();
    Map<List<String>, long[]> seriesOf = new java.util.HashMap<>();
    Map<Long, List<String>> merged = new java.util.HashMap<>(); // names written in several parts
    for (MetricReader.RunTotals r : rows) {
      List<String> g = groupOf.get(r.seriesId());
      if (g == null || seriesOf.put(g, new long[] {r.seriesId()}) != null) {
        return null; // a series the series table does not know yet, or a name of several series
      }
      if (r.rows() == 1) {
        ranking.add(Map.entry(g, java.util.Objects.requireNonNullElse(r.agg().stat(type, rankBy, asked.seconds()),
            Double.NaN)));
      } else {
        merged.put(r.seriesId(), g);
      }
    }
    for (MetricReader.Row r : metrics.aggregateOfSeries(new Query(req.run(), prepared.source(), Set.of(req.metric()),
        List.of(), req.groupBy(), false, false, 0, slices), merged, List.of(percentile))) {
      ranking.add(Map.entry(r.groups(), java.util.Objects.requireNonNullElse(r.agg().stat(type, rankBy,
          asked.seconds()), Double.NaN)));
    }
    List<String> from = new ArrayList<>(List.of("metric_run"));
    if (!merged.isEmpty()) {
      from.addAll(tables(slices));
    }
    return new Ranking(ranking, seriesOf, from);
  }

  private static List<String> tables(List<Slices.Slice> slices) {
    return slices.stream().map(Slices.Slice::table).distinct().toList();
  }

  /**
   * What the ungrouped read of {@code req} needs (its source, series and coverage), knowing the run and the
   * metric's type from the grouped one already: the "other" series of a ranked answer.
   */
  private Prepared ungrouped(SeriesRequest req, Prepared grouped) {
    SeriesRequest u = req.ungrouped();
    Projection candidate = projectionFor(keys(u));
    String projected = candidate == null ? null : candidate.analysisId(req.analysis());
    String source = req.analysis();
    if (projected != null && (u.filters().isEmpty() || metrics.countSeries(req.run(), projected, Set.of(req.metric()),
        List.of()) > 0)) {
      source = projected;
    }
    String chosen = source;
    Future<Long> series = async(() -> metrics.countSeries(req.run(), chosen, Set.of(req.metric()), u.filters()));
    Slices.Coverage coverage = metrics.coverage(req.run(), chosen, req.metric());
    long n = join(series);
    if (n == 0 && !chosen.equals(req.analysis())) { // a run stored before projections existed
      return prepare(u);
    }
    return new Prepared(grouped.state(), grouped.type(), chosen, plan(grouped.state(), u, n, coverage), coverage);
  }

  private static Points points(MetricType type, List<String> stats, int step, List<MetricReader.Row> rows) {
    Points points = new Points(rows.size(), stats.size());
    for (MetricReader.Row r : rows) {
      points.add(r.tsSec() * 1000);
      for (int k = 0; k < stats.size(); k++) {
        points.set(k, r.agg().stat(type, stats.get(k), step));
      }
    }
    return points;
  }

  /** The plan of {@code asked} at {@code step}, its range aligned to the step. */
  private static Plan planAt(Range asked, int step, Slices.Coverage coverage, long series) {
    long from = Math.floorDiv(asked.fromSec(), step) * step;
    long to = -Math.floorDiv(-asked.toSec(), step) * step;
    return new Plan(new Range(from, to), step, Slices.plan(from, to, step, step == 1 ? Slices.Coverage.NONE : coverage),
        series);
  }

  /** Per step, the merged histogram's buckets (lower and upper bound in the metric's unit, and count). */
  public Map<String, Object> heatmap(SeriesRequest req) {
    Prepared prepared = prepare(req);
    MetricType type = prepared.type();
    if (type != MetricType.TREND) {
      throw ApiException.badRequest("metric", req.metric() + " is a " + type.name().toLowerCase(java.util.Locale.ROOT)
          + " metric; heatmaps are of trends");
    }
    String source = prepared.source();
    Plan p = prepared.plan();
    List<Map<String, Object>> steps = new ArrayList<>();
    for (MetricReader.Row r : metrics.aggregate(new Query(req.run(), source, Set.of(req.metric()),
        req.filters(), List.of(), false, false, p.step, p.slices))) {
      List<double[]> buckets = new ArrayList<>();
      for (int i = 0; i < r.agg().histIndexes().length; i++) {
        int idx = r.agg().histIndexes()[i];
        buckets.add(new double[] {HistogramLayout.lowerBound(idx) / 1000.0, HistogramLayout.upperBound(idx) / 1000.0,
            r.agg().histCounts()[i]});
      }
      steps.add(Map.of("t", r.tsSec() * 1000, "count", r.agg().count(), "buckets", buckets));
    }
    Map<String, Object> out = header(req, type, p, source);
    out.put("columns", List.of("lower", "upper", "count"));
    out.put("steps", steps);
    return out;
  }

  private Map<String, Object> header(SeriesRequest req, MetricType type, Plan p, String source) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("testRunId", req.run());
    out.put("analysisId", req.analysis());
    out.put("metric", req.metric());
    out.put("type", type.name().toLowerCase(java.util.Locale.ROOT));
    out.put("from", p.range.fromSec() * 1000);
    out.put("to", p.range.toSec() * 1000);
    out.put("stepSeconds", p.step);
    out.put("projection", source.equals(req.analysis()) ? null : source.substring(source.indexOf('~') + 1));
    out.put("matchedSeries", p.series);
    out.put("tables", p.slices.stream().map(Slices.Slice::table).distinct().toList());
    return out;
  }

  record Plan(Range range, int step, List<Slices.Slice> slices, long series) {}

  /** What a read of one metric needs first: its run, type, source and plan. */
  record Prepared(RunState state, MetricType type, String source, Plan plan, Slices.Coverage coverage) {}

  /**
   * Asks ClickHouse what a read of {@code req}'s metric needs, side by side (these small queries cost a
   * round trip each): the run and its metric types, and, for a projection that would serve the read, its
   * series and rollup coverage; then whatever the chosen source still lacks.
   */
  Prepared prepare(SeriesRequest req) {
    Future<RunState> state = async(() -> run(req.run()));
    Future<Map<String, MetricType>> types = async(() -> metrics.metricTypes(req.run(), req.analysis()));
    Projection candidate = projectionFor(keys(req));
    String projected = candidate == null ? null : candidate.analysisId(req.analysis());
    Future<Long> projectedSeries = projected == null ? null
        : async(() -> metrics.countSeries(req.run(), projected, Set.of(req.metric()), req.filters()));
    Future<Slices.Coverage> projectedCoverage = projected == null ? null
        : async(() -> metrics.coverage(req.run(), projected, req.metric()));
    RunState s = join(state);
    MetricType type = type(join(types), req.metric());
    boolean useProjection = projected != null && type != MetricType.GAUGE
        && (req.filters().isEmpty() ? join(projectedSeries) > 0
            : metrics.countSeries(req.run(), projected, Set.of(req.metric()), List.of()) > 0);
    String source = useProjection ? projected : req.analysis();
    Future<Long> series = useProjection ? projectedSeries
        : async(() -> metrics.countSeries(req.run(), source, Set.of(req.metric()), req.filters()));
    Future<Slices.Coverage> coverage = useProjection ? projectedCoverage : async(() -> metrics.coverage(req.run(), source,
        req.metric()));
    Slices.Coverage cov = join(coverage);
    return new Prepared(s, type, source, plan(s, req, join(series), cov), cov);
  }

  private static final java.util.concurrent.ExecutorService SIDE_BY_SIDE =
      java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

  private static <T> Future<T> async(java.util.concurrent.Callable<T> task) {
    return SIDE_BY_SIDE.submit(task);
  }

  private static <T> T join(Future<T> f) {
    try {
      return f.get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading ClickHouse", e);
    }
  }

  /** The finest step that keeps points and rows read within the limits, and the tiles that serve it. */
  Plan plan(RunState state, SeriesRequest req, long series, Slices.Coverage coverage) {
    Range asked = range(state, req.fromMs(), req.toMs());
    int maxPoints = Math.min(req.maxPoints(), limits.maxPoints());
    for (int step : STEPS) {
      long from = Math.floorDiv(asked.fromSec(), step) * step;
      long to = -Math.floorDiv(-asked.toSec(), step) * step;
      if ((to - from) / step > maxPoints) {
        continue;
      }
      List<Slices.Slice> slices = Slices.plan(from, to, step, coverage);
      long rows = 0;
      for (Slices.Slice s : slices) {
        rows += series * (s.seconds() / s.width());
      }
      if (rows <= limits.maxRows() || step == STEPS[STEPS.length - 1]) {
        return new Plan(new Range(from, to), step, slices, series);
      }
    }
    int step = STEPS[STEPS.length - 1];
    long from = Math.floorDiv(asked.fromSec(), step) * step;
    long to = -Math.floorDiv(-asked.toSec(), step) * step;
    return new Plan(new Range(from, to), step, Slices.plan(from, to, step, coverage), series);
  }

  private List<Slices.Slice> slices(String run, String analysis, Range r, int step) {
    // 1 s steps read 1 s rows only: which rollups are written does not matter, so it is not asked
    return Slices.plan(r.fromSec(), r.toSec(), step, step == 1 ? Slices.Coverage.NONE
        : metrics.coverage(run, analysis));
  }

  /**
   * The analysis id whose rows answer a read of {@code metric} (null: every metric) filtered or grouped by
   * {@code tagKeys}: a {@link Projection} when one keeps every such tag and the run has it (runs stored
   * before projections existed do not), else the full series.
   */
  String source(String run, String analysis, String metric, MetricType type, java.util.Collection<String> tagKeys) {
    if (type == MetricType.GAUGE) {
      return analysis;
    }
    Projection p = projectionFor(tagKeys);
    if (p == null) {
      return analysis;
    }
    String projected = p.analysisId(analysis);
    return metrics.countSeries(run, projected, metric == null ? Set.of() : Set.of(metric), List.of()) > 0
        ? projected : analysis;
  }

  /** The projection that keeps every tag of {@code tagKeys} (null: none does). */
  static Projection projectionFor(java.util.Collection<String> tagKeys) {
    return tagKeys.isEmpty() ? Projection.TOTAL
        : tagKeys.stream().allMatch(Projection.NAME_TAG::equals) ? Projection.NAME : null;
  }

  private static Set<String> keys(SeriesRequest req) {
    Set<String> keys = new java.util.HashSet<>(req.groupBy());
    req.filters().forEach(f -> keys.add(f.key()));
    return keys;
  }

  // ---------------------------------------------------------------- series and top-K

  public Map<String, Object> series(String runId, String analysis, String metric, List<TagFilter> filters, int limit,
      long offset) {
    run(runId);
    Set<String> ms = metric == null ? Set.of() : Set.of(metric);
    List<Map<String, Object>> list = new ArrayList<>();
    for (MetricReader.Series s : metrics.series(runId, analysis, ms, filters, limit, offset)) {
      list.add(seriesEntry(s));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total", metrics.countSeries(runId, analysis, ms, filters));
    out.put("limit", limit);
    out.put("offset", offset);
    out.put("series", list);
    return out;
  }

  /** The top {@code k} series of a metric by count, error rate (rate metrics) or a percentile (trends). */
  public Map<String, Object> top(String runId, String analysis, String metric, String by, List<TagFilter> filters,
      long minCount, int k, Long fromMs, Long toMs) {
    RunState state = run(runId);
    MetricType type = type(metrics.metricTypes(runId, analysis), metric);
    MetricReader.Rank rank;
    double p = 0;
    String stat;
    if (by.equals("count")) {
      rank = MetricReader.Rank.COUNT;
      stat = "count";
    } else if (by.equals("rate") || by.equals("error_rate")) {
      if (type != MetricType.RATE) {
        throw ApiException.badRequest("by", "ranking by rate needs a rate metric (e.g. http_req_failed); " + metric
            + " is a " + type.name().toLowerCase(java.util.Locale.ROOT));
      }
      rank = MetricReader.Rank.ERROR_RATE;
      stat = "rate";
    } else {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("p\\((100|[0-9]{1,2}(\\.[0-9]{1,4})?)\\)").matcher(by);
      if (!m.matches()) {
        throw ApiException.badRequest("by", "rank by count, rate or p(N) with N within 0..100, not \"" + by + "\"");
      }
      if (type != MetricType.TREND) {
        throw ApiException.badRequest("by", "ranking by a percentile needs a trend metric; " + metric + " is a "
            + type.name().toLowerCase(java.util.Locale.ROOT));
      }
      rank = MetricReader.Rank.PERCENTILE;
      p = Double.parseDouble(m.group(1));
      stat = by;
    }
    boolean whole = fromMs == null && toMs == null;
    Range range = range(state, fromMs, toMs);
    List<Slices.Slice> slices = slices(runId, analysis, whole ? new Range(0, 4_294_967_295L) : range, 0);
    List<MetricReader.Row> rows = metrics.top(new Query(runId, analysis, Set.of(metric), filters, List.of(), false,
        true, 0, slices), rank, p, minCount, k);
    Map<Long, MetricReader.Series> series = metrics.seriesByIds(runId, analysis, rows.stream()
        .map(MetricReader.Row::seriesId).toList());
    List<Map<String, Object>> list = new ArrayList<>();
    for (MetricReader.Row r : rows) {
      MetricReader.Series s = series.get(r.seriesId());
      Map<String, Object> e = s == null ? new LinkedHashMap<>(Map.of("id", Long.toUnsignedString(r.seriesId())))
          : seriesEntry(s);
      e.put("samples", r.agg().count());
      e.put(stat, r.agg().stat(type, stat, range.seconds()));
      list.add(e);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("metric", metric);
    out.put("by", stat);
    out.put("minCount", minCount);
    out.put("series", list);
    return out;
  }

  private static Map<String, Object> seriesEntry(MetricReader.Series s) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("id", Long.toUnsignedString(s.id()));
    e.put("metric", s.metric());
    e.put("type", s.type().name().toLowerCase(java.util.Locale.ROOT));
    e.put("tags", s.tags());
    return e;
  }

  // ---------------------------------------------------------------- comparison

  /** Two runs' summaries side by side, per metric and stat with the difference and relative change. */
  public Map<String, Object> compare(String a, String analysisA, String b, String analysisB, List<String> trendStats) {
    return compare(summary(a, analysisA, null, null, trendStats, List.of()),
        summary(b, analysisB, null, null, trendStats, List.of()));
  }

  /** Two summaries ({@link #summary}) side by side, metric by metric and stat by stat, with differences. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> compare(Map<String, Object> sa, Map<String, Object> sb) {
    String a = (String) sa.get("testRunId");
    String analysisA = (String) sa.get("analysisId");
    String b = (String) sb.get("testRunId");
    String analysisB = (String) sb.get("analysisId");
    Map<String, Map<String, Object>> ma = byName((List<Map<String, Object>>) sa.get("metrics"));
    Map<String, Map<String, Object>> mb = byName((List<Map<String, Object>>) sb.get("metrics"));
    Set<String> names = new LinkedHashSet<>(ma.keySet());
    names.addAll(mb.keySet());
    List<Map<String, Object>> out = new ArrayList<>();
    for (String name : names) {
      Map<String, Object> x = ma.get(name);
      Map<String, Object> y = mb.get(name);
      Map<String, Double> xs = x == null ? Map.of() : (Map<String, Double>) x.get("stats");
      Map<String, Double> ys = y == null ? Map.of() : (Map<String, Double>) y.get("stats");
      Map<String, Object> stats = new LinkedHashMap<>();
      Set<String> statNames = new LinkedHashSet<>(xs.keySet());
      statNames.addAll(ys.keySet());
      for (String s : statNames) {
        Double va = xs.get(s);
        Double vb = ys.get(s);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("a", va);
        d.put("b", vb);
        d.put("diff", va == null || vb == null ? null : vb - va);
        d.put("change", va == null || vb == null || va == 0 ? null : (vb - va) / Math.abs(va));
        stats.put(s, d);
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("metric", name);
      m.put("type", (x != null ? x : y).get("type"));
      m.put("stats", stats);
      out.add(m);
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("a", Map.of("testRunId", a, "analysisId", analysisA, "durationSeconds", sa.get("durationSeconds"),
        "thresholds", sa.get("thresholds")));
    result.put("b", Map.of("testRunId", b, "analysisId", analysisB, "durationSeconds", sb.get("durationSeconds"),
        "thresholds", sb.get("thresholds")));
    result.put("metrics", out);
    return result;
  }

  /**
   * The run's performance insights as the threshold job raised them while it went (rule, what it is about,
   * the time range and the values that triggered it), and the rules its plan disabled.
   */
  public Map<String, Object> insights(String runId) {
    RunState state = run(runId);
    List<Map<String, Object>> list = new ArrayList<>();
    boolean complete = false;
    for (RunReader.InsightRow i : runs.insights(runId)) {
      if (i.rule().equals(dev.loadtest.schemas.insight.Insight.JUDGED)) {
        complete = true;
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rule", i.rule());
      m.put("subject", i.subject().isEmpty() ? null : i.subject());
      m.put("severity", i.severity());
      m.put("title", i.title());
      m.put("message", i.message());
      m.put("from", i.fromMs());
      m.put("to", i.toMs());
      m.put("values", i.values());
      m.put("raisedAt", i.atMs());
      list.add(m);
    }
    TestPlan plan = plan(state);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("testRunId", runId);
    out.put("status", state.status().name());
    out.put("rules", dev.loadtest.schemas.insight.Insight.RULES);
    out.put("disabled", plan == null ? List.of() : plan.disabledInsights());
    out.put("complete", complete); // every rule has judged the whole run
    out.put("insights", list);
    return out;
  }

  private static Map<String, Map<String, Object>> byName(List<Map<String, Object>> list) {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    for (Map<String, Object> m : list) {
      if (m.get("stats") != null) {
        out.put((String) m.get("metric"), m);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private static MetricType type(Map<String, MetricType> types, String metric) {
    MetricType t = types.get(metric);
    if (t == null) {
      throw ApiException.notFound("the run has no metric \"" + metric + "\"" + (types.isEmpty() ? " (no metrics yet)"
          : " (it has " + String.join(", ", types.keySet()) + ")"));
    }
    return t;
  }

  static String statsOf(MetricType type) {
    return switch (type) {
      case TREND -> "count, rate, sum, avg, min, med, max, p(N)";
      case COUNTER -> "count, sum, rate";
      case RATE -> "rate, count, passes, fails";
      case GAUGE -> "value, min, max, count";
    };
  }

  private static Set<String> nonGauges(Map<String, MetricType> types) {
    Set<String> out = new LinkedHashSet<>();
    types.forEach((m, t) -> {
      if (t != MetricType.GAUGE) {
        out.add(m);
      }
    });
    return out;
  }

  private static Set<String> gauges(Map<String, MetricType> types) {
    Set<String> out = new LinkedHashSet<>();
    types.forEach((m, t) -> {
      if (t == MetricType.GAUGE) {
        out.add(m);
      }
    });
    return out;
  }

  private static Map<List<String>, List<MetricReader.Row>> group(List<MetricReader.Row> rows) {
    Map<List<String>, List<MetricReader.Row>> out = new LinkedHashMap<>();
    List<String> lastGroups = null;
    List<MetricReader.Row> last = null;
    for (MetricReader.Row r : rows) {
      if (r.groups() != lastGroups) { // a group's rows come together, with one instance of its values
        lastGroups = r.groups();
        last = out.computeIfAbsent(lastGroups, g -> new ArrayList<>());
      }
      last.add(r);
    }
    return out;
  }

  private static List<Map.Entry<List<String>, List<MetricReader.Row>>> busiest(
      Map<List<String>, List<MetricReader.Row>> groups, int max) {
    List<Map.Entry<List<String>, List<MetricReader.Row>>> list = new ArrayList<>(groups.entrySet());
    if (list.size() > max) {
      list.sort(Comparator.comparingLong((Map.Entry<List<String>, List<MetricReader.Row>> e) ->
          e.getValue().stream().mapToLong(r -> r.agg().count()).sum()).reversed());
      list = new ArrayList<>(list.subList(0, max));
    }
    return list;
  }

  private static Map<String, String> tags(List<String> keys, List<String> values) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      out.put(keys.get(i), values.get(i));
    }
    return out;
  }
}
