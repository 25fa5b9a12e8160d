package dev.loadtest.api;

import dev.loadtest.api.store.Agg;
import dev.loadtest.api.store.LoadTestStore;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.threshold.MetricSelector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Load tests: every run of one plan {@code name} in one {@code project} is a run of the same load test, so
 * that runs can be listed together, trended, compared with a baseline (regression gates) and kept or deleted
 * as a whole. Answers are maps ready for JSON. Thread-safe; every method blocks on ClickHouse.
 */
public final class LoadTests {
  private static final Logger LOG = LoggerFactory.getLogger(LoadTests.class);
  /** How long a deletion waits for ClickHouse's mutations before answering (they go on after). */
  static final Duration DELETE_WAIT = Duration.ofSeconds(30);

  private final QueryService queries;
  private final LoadTestStore store;
  /**
   * The headline numbers of runs that ended (their summaries no longer change), by run id; only the numbers:
   * a run's verdict and baseline mark can change after its end.
   */
  private final Map<String, Map<String, Object>> endedNumbers = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<String, Object>> eldest) {
          return size() > 10_000; // the runs trended most recently
        }
      });

  /** Told of each regression a gate finds (the webhooks' {@code regression} event), or null. */
  private final dev.loadtest.api.notify.Notifier notifier;

  public LoadTests(QueryService queries, LoadTestStore store) {
    this(queries, store, null);
  }

  public LoadTests(QueryService queries, LoadTestStore store, dev.loadtest.api.notify.Notifier notifier) {
    this.queries = queries;
    this.store = store;
    this.notifier = notifier;
  }

  /** A page of load tests, newest activity first. */
  public Map<String, Object> list(String project, String nameContains, int limit, long offset) {
    LoadTestStore.Page page = store.list(project, nameContains, limit, offset);
    List<Map<String, Object>> tests = new ArrayList<>();
    for (LoadTestStore.LoadTest t : page.tests()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", t.id());
      m.put("explicitId", t.explicitId());
      m.put("project", t.project());
      m.put("name", t.name());
      m.put("runs", t.runs());
      m.put("lastRun", Map.of("testRunId", t.lastRunId(), "status", t.lastStatus(), "verdict", t.lastVerdict(),
          "createdAt", t.lastCreatedSec() * 1000));
      m.put("baseline", t.baselineRunId());
      m.put("link", ApiServer.BASE + "/load-tests/" + t.id());
      tests.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total", page.total());
    out.put("limit", limit);
    out.put("offset", offset);
    out.put("loadTests", tests);
    return out;
  }

  /**
   * One load test: its runs (newest first, at most {@code limit}), the plan versions they ran, its baseline, and
   * its trend: per run that ended, oldest first, p(95) of http_req_duration, the failure rate, requests/s,
   * the most VUs and the verdict.
   */
  public Map<String, Object> get(String id, int limit) {
    LoadTestStore.Key key = store.find(id).orElseThrow(() -> ApiException.notFound("no load test \"" + id + "\""));
    List<LoadTestStore.TestRun> runs = store.runs(key, limit);
    Map<String, Map<String, Object>> versions = new LinkedHashMap<>();
    List<Map<String, Object>> runList = new ArrayList<>();
    for (LoadTestStore.TestRun r : runs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("testRunId", r.testRunId());
      m.put("status", r.status());
      m.put("verdict", r.verdict().isEmpty() ? null : r.verdict());
      m.put("reason", r.reason());
      m.put("planHash", r.planHash());
      m.put("createdAt", r.createdSec() * 1000);
      m.put("startedAt", r.startedSec() == 0 ? null : r.startedSec() * 1000);
      m.put("endedAt", r.endedSec() == 0 ? null : r.endedSec() * 1000);
      m.put("baseline", r.baseline());
      runList.add(m);
      Map<String, Object> v = versions.computeIfAbsent(r.planHash(), h -> {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("planHash", h);
        x.put("runs", 0);
        x.put("firstRunId", r.testRunId());
        x.put("lastRunId", r.testRunId());
        return x;
      });
      v.put("runs", (int) v.get("runs") + 1);
      v.put("firstRunId", r.testRunId()); // runs come newest first
    }
    List<Map<String, Object>> trend = new ArrayList<>();
    for (int i = runs.size() - 1; i >= 0; i--) {
      LoadTestStore.TestRun r = runs.get(i);
      if (isEnded(r.status())) {
        trend.add(trendPoint(r));
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", id);
    out.put("explicitId", !key.explicitId().isEmpty());
    out.put("project", key.project());
    out.put("name", key.name());
    out.put("baseline", runs.stream().filter(LoadTestStore.TestRun::baseline).map(LoadTestStore.TestRun::testRunId)
        .findFirst().orElse(null));
    out.put("runs", runList);
    out.put("planVersions", List.copyOf(versions.values()));
    out.put("trend", trend);
    return out;
  }

  private static boolean isEnded(String status) {
    try {
      return dev.loadtest.schemas.run.RunStatus.valueOf(status).terminal();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private Map<String, Object> trendPoint(LoadTestStore.TestRun r) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("testRunId", r.testRunId());
    p.put("createdAt", r.createdSec() * 1000);
    p.put("status", r.status());
    p.put("verdict", r.verdict().isEmpty() ? null : r.verdict());
    p.put("baseline", r.baseline());
    p.put("planHash", r.planHash());
    p.putAll(numbers(r.testRunId(), r.status(), r.endedSec()));
    return p;
  }

  /**
   * A run's headline numbers from its summary: duration, requests, requests/s, p(95) of http_req_duration
   * (ms), the failure rate and the peak of VUs; none for a rejected run (it never ran). Kept once the run
   * has been over for ten minutes (its late results have arrived by then), read again before.
   */
  public Map<String, Object> numbers(String run, String status, long endedSec) {
    if ("REJECTED".equals(status)) {
      return Map.of();
    }
    Map<String, Object> known = endedNumbers.get(run);
    if (known != null) {
      return known;
    }
    Map<String, Object> summary = queries.summary(run, "", null, null, List.of("p(95)"), List.of());
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("durationSeconds", summary.get("durationSeconds"));
    Double requests = stat(summary, "http_reqs", "count");
    p.put("requests", requests == null ? null : requests.longValue());
    p.put("requestsPerSecond", stat(summary, "http_reqs", "rate"));
    p.put("p95Ms", stat(summary, "http_req_duration", "p(95)"));
    p.put("errorRate", stat(summary, "http_req_failed", "rate"));
    p.put("vusMax", stat(summary, "vus", "max"));
    if (isEnded(status) && endedSec > 0 && System.currentTimeMillis() / 1000 - endedSec > 600) {
      endedNumbers.put(run, java.util.Collections.unmodifiableMap(p));
    }
    return p;
  }

  @SuppressWarnings("unchecked")
  private static Double stat(Map<String, Object> summary, String metric, String stat) {
    for (Map<String, Object> m : (List<Map<String, Object>>) summary.get("metrics")) {
      if (metric.equals(m.get("metric")) && m.get("stats") instanceof Map<?, ?> stats) {
        return stats.get(stat) instanceof Number n ? n.doubleValue() : null;
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static Double stat(Map<String, Object> summary, MetricSelector sel, String stat) {
    if (sel.tags().isEmpty()) {
      return stat(summary, sel.metric(), stat);
    }
    for (Map<String, Object> m : (List<Map<String, Object>>) summary.get("metrics")) {
      if (!sel.metric().equals(m.get("metric")) || !(m.get("submetrics") instanceof List<?> subs)) {
        continue;
      }
      for (Object o : subs) {
        Map<String, Object> s = (Map<String, Object>) o;
        if (sel.tags().equals(s.get("tags")) && s.get("stats") instanceof Map<?, ?> stats) {
          return stats.get(stat) instanceof Number n ? n.doubleValue() : null;
        }
      }
    }
    return null;
  }

  /**
   * {@code run} against a baseline under {@code limits}: {@code baseline} is a run id, or {@code auto} (the
   * run's load test's baseline, else its newest earlier run that finished without failing a threshold). Each
   * limit is compared on both runs' merged data; a limit whose metric the run lacks while the baseline has it
   * counts as exceeded (the traffic it measured is gone), one the baseline lacks is not compared.
   */
  public Map<String, Object> compare(String run, String baseline, List<Regression> limits) {
    RunState state = queries.run(run);
    if (!state.status().terminal()) {
      throw ApiException.conflict("run \"" + run + "\" is " + state.status() + ": a run is compared once it has ended");
    }
    String project = project(state);
    String name = name(state);
    LoadTestStore.Key key = LoadTestStore.Key.of(state.metadata());
    String chosen;
    String how;
    if (baseline == null || baseline.equals("auto")) {
      long created = state.history().isEmpty() ? Long.MAX_VALUE / 1000 : state.history().get(0).atMs() / 1000;
      chosen = store.autoBaseline(key, run, created).orElseThrow(() -> new ApiException(404, "baseline",
          key + " has no"
          + " baseline and no earlier run that finished without failing a threshold: nothing to compare with yet"
          + " (mark a run with POST " + ApiServer.BASE + "/runs/{id}/baseline)"));
      how = store.isBaseline(chosen) ? "the load test's baseline" : "the load test's newest earlier run that passed"
          + " (no run is marked baseline)";
    } else {
      if (baseline.equals(run)) {
        throw ApiException.badRequest("baseline", "a run cannot be its own baseline");
      }
      chosen = baseline;
      how = "given";
    }
    RunState base = queries.run(chosen);
    if (!base.status().terminal()) {
      throw ApiException.conflict("baseline run \"" + chosen + "\" is " + base.status() + ": it has not ended");
    }
    Set<String> stats = new LinkedHashSet<>(Agg.DEFAULT_TREND_STATS);
    Set<MetricSelector> subs = new LinkedHashSet<>();
    for (Regression l : limits) {
      if (l.stat().startsWith("p(")) {
        stats.add(l.stat());
      }
      if (!l.selector().tags().isEmpty()) {
        subs.add(l.selector());
      }
    }
    Map<String, Object> now = queries.summary(run, "", null, null, List.copyOf(stats), List.copyOf(subs));
    Map<String, Object> then = queries.summary(chosen, "", null, null, List.copyOf(stats), List.copyOf(subs));
    List<Map<String, Object>> checks = new ArrayList<>();
    int exceeded = 0;
    for (Regression l : limits) {
      Double b = stat(then, l.selector(), l.stat());
      Double v = stat(now, l.selector(), l.stat());
      String state0;
      String message;
      if (b == null) {
        state0 = "NOT_COMPARED";
        message = "the baseline has no " + l.stat() + " of " + l.selector() + ": not compared";
      } else if (v == null) {
        state0 = "EXCEEDED";
        message = "the run has no " + l.stat() + " of " + l.selector() + " (the baseline had " + Regression.number(b) + ")";
      } else if (l.exceeded(b, v)) {
        state0 = "EXCEEDED";
        message = l.selector() + " " + l.stat() + " went from " + Regression.number(b) + " to " + Regression.number(v)
            + " (" + l.describe(b, v) + ", limit " + l.limit() + ")";
      } else {
        state0 = "PASSED";
        message = l.selector() + " " + l.stat() + " " + Regression.number(b) + " -> " + Regression.number(v) + " ("
            + l.describe(b, v) + ", limit " + l.limit() + ")";
      }
      if (state0.equals("EXCEEDED")) {
        exceeded++;
      }
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("regression", l.text());
      c.put("metric", l.selector().toString());
      c.put("stat", l.stat());
      c.put("limit", l.limit());
      c.put("baseline", b);
      c.put("value", v);
      c.put("change", b == null || v == null ? null : l.describe(b, v));
      c.put("state", state0);
      c.put("message", message);
      checks.add(c);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("testRunId", run);
    out.put("loadTest", key.id());
    out.put("baseline", Map.of("testRunId", chosen, "chosen", how));
    out.put("regressed", exceeded > 0);
    out.put("regressions", checks);
    out.put("comparison", queries.compare(then, now)); // the summaries read above, not read again
    if (exceeded > 0 && notifier != null) {
      notifier.regression(run, project, name, chosen, checks);
    }
    return out;
  }

  /** Marks {@code run} as its load test's baseline, or unmarks it. */
  public Map<String, Object> mark(String run, boolean baseline, String by) {
    RunState s = queries.run(run);
    if (baseline && !s.status().terminal()) {
      throw ApiException.conflict("run \"" + run + "\" is " + s.status() + ": only a run that has ended can be a baseline");
    }
    store.mark(run, baseline, by);
    endedNumbers.remove(run);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("testRunId", run);
    out.put("loadTest", LoadTestStore.Key.of(s.metadata()).id());
    out.put("baseline", baseline);
    return out;
  }

  /** Deletes an ended run and its aggregates (not a baseline: unmark it first), and records why. */
  public Map<String, Object> delete(String run, String reason, String by) throws InterruptedException {
    RunState s = queries.run(run);
    if (!s.status().terminal()) {
      throw ApiException.conflict("run \"" + run + "\" is " + s.status() + ": stop or abort it before deleting it");
    }
    if (store.isBaseline(run)) {
      throw ApiException.conflict("run \"" + run + "\" is its load test's baseline: unmark it (DELETE "
          + ApiServer.BASE + "/runs/" + run + "/baseline) before deleting it");
    }
    boolean done = store.delete(run, name(s), project(s), s.status().name(), createdSec(s), reason, by, DELETE_WAIT);
    endedNumbers.remove(run);
    LOG.info("deleted run {} ({} in project {}) for {}: {}", run, name(s), project(s), by, reason);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("testRunId", run);
    out.put("deleted", true);
    out.put("complete", done);
    out.put("reason", reason);
    return out;
  }

  /**
   * Deletes the ended runs created more than {@code days} days before {@code nowMs} that are no baseline,
   * oldest first, at most {@code max} of them; each is logged and recorded. Returns the ids deleted.
   */
  public List<String> applyRetention(int days, long nowMs, int max) throws InterruptedException {
    List<String> deleted = new ArrayList<>();
    long before = nowMs / 1000 - days * 86_400L;
    for (LoadTestStore.Expired e : store.expired(before, max)) {
      String reason = "retention: created more than " + days + " days ago";
      store.delete(e.testRunId(), e.name(), e.project(), e.status(), e.createdSec(), reason, "retention", DELETE_WAIT);
      endedNumbers.remove(e.testRunId());
      LOG.warn("retention deleted run {} ({} in project {}, created {}): older than {} days", e.testRunId(), e.name(),
          e.project(), java.time.Instant.ofEpochSecond(e.createdSec()), days);
      deleted.add(e.testRunId());
    }
    return deleted;
  }

  /** Recorded deletions, newest first. */
  public Map<String, Object> deletions(int limit, long offset) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (LoadTestStore.Deletion d : store.deletions(limit, offset)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("testRunId", d.testRunId());
      m.put("name", d.name());
      m.put("project", d.project());
      m.put("status", d.status());
      m.put("createdAt", d.createdSec() * 1000);
      m.put("reason", d.reason());
      m.put("deletedBy", d.deletedBy());
      m.put("deletedAt", d.deletedSec() * 1000);
      list.add(m);
    }
    return Map.of("deletions", list);
  }

  static String project(RunState s) {
    return s.metadata() == null || s.metadata().project() == null ? "" : s.metadata().project();
  }

  static String name(RunState s) {
    return s.metadata() == null || s.metadata().name() == null ? "" : s.metadata().name();
  }

  private static long createdSec(RunState s) {
    return s.history().isEmpty() ? 0 : s.history().get(0).atMs() / 1000;
  }
}
