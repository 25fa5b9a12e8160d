package dev.loadtest.flink.threshold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.insight.Insight;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InsightRulesTest {
  static final long T0 = 1_780_000_000L;

  static SeriesBucket bucket(String metric, long sec, long count, double sum, long nonZero, String... tags) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = "r";
    b.metric = metric;
    b.startMs = sec * 1000;
    b.widthMs = 1000;
    b.count = count;
    b.sum = sum;
    b.nonZero = nonZero;
    b.last = sum;
    b.max = sum;
    b.tagKeys = new String[tags.length / 2];
    b.tagValues = new String[tags.length / 2];
    for (int i = 0; i < tags.length / 2; i++) {
      b.tagKeys[i] = tags[2 * i];
      b.tagValues[i] = tags[2 * i + 1];
    }
    b.seriesId = (metric + String.join(",", tags)).hashCode();
    return b;
  }

  /** One second of totals: requests, failed of them, iterations; and the VUs gauge when vus >= 0. */
  static List<Insight> second(InsightRules r, long sec, long requests, long failed, long iterations, double vus) {
    List<Insight> out = new ArrayList<>();
    out.addAll(r.add(bucket("http_reqs", sec, requests, requests, 0), true, 0));
    out.addAll(r.add(bucket("http_req_failed", sec, requests, failed, failed), true, 0));
    if (iterations > 0) {
      out.addAll(r.add(bucket("iterations", sec, iterations, iterations, 0), true, 0));
    }
    if (vus >= 0) {
      out.addAll(r.add(bucket("vus", sec, 1, vus, 0), false, 0));
    }
    out.addAll(r.second(sec, 0));
    return out;
  }

  static List<String> rules(List<Insight> insights) {
    return insights.stream().map(Insight::rule).toList();
  }

  @Test
  void risingVusOverFlatThroughputIsAThroughputLimitAndProportionalGrowthIsNot() {
    InsightRules limited = new InsightRules();
    InsightRules scaling = new InsightRules();
    List<Insight> a = new ArrayList<>();
    List<Insight> b = new ArrayList<>();
    for (int s = 0; s < 40; s++) {
      double vus = 10 + s;
      a.addAll(second(limited, T0 + s, 100, 0, 100, vus));
      b.addAll(second(scaling, T0 + s, (long) (vus * 10), 0, (long) (vus * 10), vus));
    }
    assertEquals(List.of(Insight.THROUGHPUT_LIMIT), rules(a), "raised once: " + a);
    Insight i = a.get(0);
    assertTrue(i.values().get("vusTo") >= i.values().get("vusFrom") * 1.2, i.toString());
    assertEquals(100, i.values().get("requestsPerSecondTo"), 1e-9);
    assertEquals(InsightRules.WINDOW_S * 1000L, i.toMs() - i.fromMs());
    assertEquals(List.of(), rules(b), "throughput that grows with the VUs is no limit");
  }

  @Test
  void aPeriodFailingClearlyMoreThanTheBeginningIsAnIncreasedFailureRate() {
    InsightRules r = new InsightRules();
    List<Insight> out = new ArrayList<>();
    for (int s = 0; s < 90; s++) {
      out.addAll(second(r, T0 + s, 100, s < 50 ? 1 : 20, 100, -1));
    }
    assertEquals(List.of(Insight.INCREASED_FAILURE_RATE), rules(out));
    Insight i = out.get(0);
    assertEquals(0.01, i.values().get("beginningFailureRate"), 1e-9);
    assertTrue(i.values().get("failureRate") >= 0.06, i.toString());
    assertTrue(i.fromMs() >= (T0 + 30) * 1000 && i.toMs() <= (T0 + 90) * 1000, i.toString());

    InsightRules steady = new InsightRules();
    List<Insight> none = new ArrayList<>();
    for (int s = 0; s < 90; s++) {
      none.addAll(second(steady, T0 + s, 100, s % 10 == 0 ? 5 : 1, 100, -1));
    }
    assertEquals(List.of(), rules(none), "noise around the beginning's rate is not an increase");
  }

  @Test
  void failingMoreThan15PercentUntilThe100thIterationIsAHighFailureRateEarly() {
    InsightRules r = new InsightRules();
    List<Insight> out = new ArrayList<>();
    for (int s = 0; s < 20; s++) {
      out.addAll(second(r, T0 + s, 20, 4, 10, -1)); // 20% failed, 10 iterations a second
    }
    assertEquals(List.of(Insight.HIGH_FAILURE_RATE_EARLY), rules(out));
    assertEquals(0.2, out.get(0).values().get("failureRate"), 1e-9);
    assertEquals(100, out.get(0).values().get("iterations"), 1e-9);
    assertEquals((T0 + 10) * 1000, out.get(0).toMs(), "judged at the second of the 100th iteration");

    InsightRules fine = new InsightRules();
    List<Insight> none = new ArrayList<>();
    for (int s = 0; s < 20; s++) {
      none.addAll(second(fine, T0 + s, 20, 2, 10, -1)); // 10%
    }
    assertEquals(List.of(), rules(none));
  }

  @Test
  void aGeneratorAbove80PercentFor10SecondsIsNamedOnce() {
    InsightRules r = new InsightRules();
    List<Insight> out = new ArrayList<>();
    for (int s = 0; s < 30; s++) {
      out.addAll(r.add(bucket("generator_cpu", T0 + s, 1, 0.95, 0, "generator", "gen-a"), false, 0));
      // gen-b is high 9 s at a time: never 10 in a row
      out.addAll(r.add(bucket("generator_cpu", T0 + s, 1, s % 10 == 9 ? 0.1 : 0.95, 0, "generator", "gen-b"), false, 0));
      out.addAll(r.add(bucket("generator_memory", T0 + s, 1, 0.5, 0, "generator", "gen-a"), false, 0));
      // gen-c's high seconds come twice each (a late part of the second): still one streak
      out.addAll(r.add(bucket("generator_memory", T0 + s, 1, 0.9, 0, "generator", "gen-c"), false, 0));
      out.addAll(r.add(bucket("generator_memory", T0 + s, 1, 0.9, 0, "generator", "gen-c"), false, 0));
    }
    assertEquals(List.of(Insight.HIGH_GENERATOR_CPU, Insight.HIGH_GENERATOR_MEMORY), rules(out), out.toString());
    assertEquals("gen-a", out.get(0).subject());
    assertEquals("gen-c", out.get(1).subject());
    assertTrue(out.get(0).message().contains("gen-a"), out.get(0).message());
    assertEquals(10_000, out.get(0).toMs() - out.get(0).fromMs());
  }

  @Test
  void aGeneratorWhoseMachineIsSaturatedByOthersIsNamedToo() {
    InsightRules r = new InsightRules();
    List<Insight> out = new ArrayList<>();
    for (int s = 0; s < 12; s++) {
      // the generator itself uses 30%; its machine, shared with other processes, 90%
      out.addAll(r.add(bucket("generator_cpu", T0 + s, 1, 0.3, 0, "generator", "gen-d"), false, 0));
      out.addAll(r.add(bucket("generator_host_cpu", T0 + s, 1, 0.9, 0, "generator", "gen-d"), false, 0));
    }
    assertEquals(List.of(Insight.HIGH_GENERATOR_CPU), rules(out), out.toString());
    assertEquals("gen-d", out.get(0).subject());
    assertEquals(0.9, out.get(0).values().get("hostCpu"));
    assertTrue(out.get(0).message().startsWith("the machine (or container) of generator gen-d ran above 80% CPU for 10 s"),
        out.get(0).message());
    for (int s = 12; s < 30; s++) { // both high now: still raised once per generator
      out.addAll(r.add(bucket("generator_cpu", T0 + s, 1, 0.95, 0, "generator", "gen-d"), false, 0));
    }
    assertEquals(1, out.size(), out.toString());
  }

  @Test
  void moreThan500NamesIsTooManyUrlsAndTheSeriesAreNoLongerNeeded() {
    InsightRules r = new InsightRules();
    List<Insight> out = new ArrayList<>();
    for (int n = 0; n < 600; n++) {
      out.addAll(r.add(bucket("http_req_duration", T0, 1, 5, 0, "name", "/users/" + n), false, 0));
    }
    assertEquals(List.of(Insight.TOO_MANY_URLS), rules(out));
    assertEquals(501, out.get(0).values().get("names"), 1e-9);
    assertTrue(!r.wantsSeries());
  }

  @Test
  void requestsToTenHostsOrMoreAreThirdPartyContent() {
    InsightRules r = new InsightRules();
    List<Insight> out = new ArrayList<>();
    for (int s = 0; s < 5; s++) {
      out.addAll(r.add(bucket("generator_hosts", T0 + s, 1, 3 + 3 * s, 0, "generator", "gen-a"), false, 0));
    }
    assertEquals(List.of(Insight.THIRD_PARTY_HOSTS), rules(out), "raised once, at 12 hosts");
    assertEquals(12, out.get(0).values().get("hosts"), 1e-9);
    assertTrue(out.get(0).message().contains("from generator gen-a"), out.get(0).message());
  }

  @Test
  void aRunOfFewerThan100IterationsHasNotEnoughDataUnlessThePlanDisabledIt() {
    InsightRules r = new InsightRules();
    second(r, T0, 60, 0, 60, -1);
    assertEquals(List.of(Insight.NOT_ENOUGH_DATA), rules(r.end(T0 * 1000, (T0 + 1) * 1000, 0)));
    InsightRules enough = new InsightRules();
    second(enough, T0, 150, 0, 150, -1);
    assertEquals(List.of(), rules(enough.end(T0 * 1000, (T0 + 1) * 1000, 0)));
    InsightRules quiet = new InsightRules();
    quiet.disable(List.of(Insight.NOT_ENOUGH_DATA));
    second(quiet, T0, 60, 0, 60, -1);
    assertEquals(List.of(), rules(quiet.end(T0 * 1000, (T0 + 1) * 1000, 0)));
  }

  @Test
  void aRunWhoseRequestsAreAllCountedIsJudgedToItsEndWithoutWaitingForEventTime() {
    InsightRules r = new InsightRules();
    for (int s = 0; s < 12; s++) { // counted, but event time has judged only the first 3 seconds
      r.add(bucket("http_reqs", T0 + s, 20, 20, 0), true, 0);
      r.add(bucket("http_req_failed", T0 + s, 20, 4, 4), true, 0);
      r.add(bucket("iterations", T0 + s, 10, 10, 0), true, 0);
      if (s < 3) {
        assertEquals(List.of(), r.second(T0 + s, 0));
      }
    }
    List<Insight> out = r.judgeUntil(T0 + 11, 0);
    assertEquals(List.of(Insight.HIGH_FAILURE_RATE_EARLY), rules(out), "the 100th iteration comes in second 9");
    assertEquals((T0 + 10) * 1000, out.get(0).toMs());
    assertEquals(List.of(), r.second(T0 + 11, 0), "a judged second is not judged again when event time reaches it");
    assertEquals(List.of(), r.judgeUntil(T0 + 11, 0));
  }

  @Test
  void aRunNearItsSeriesBudgetHasTooManyTimeSeriesEvenWithFewNames() {
    InsightRules r = new InsightRules();
    long near = (long) (InsightRules.NEAR_BUDGET * InsightRules.SERIES_BUDGET);
    assertEquals(List.of(), r.seriesSeen(near - 1, T0, 0));
    List<Insight> out = r.seriesSeen(near, T0 + 1, 0);
    assertEquals(List.of(Insight.TOO_MANY_URLS), rules(out));
    assertEquals("series", out.get(0).subject());
    assertEquals((double) near, out.get(0).values().get("series"));
    assertTrue(out.get(0).message().startsWith("the run made " + near + " distinct time series"), out.get(0).message());
    assertFalse(r.wantsSeries(), "its series records are no longer needed");
    assertEquals(List.of(), r.seriesSeen(near + 1, T0 + 2, 0), "raised once");
  }

  @Test
  void secondsAreCountedThroughTheOldestNewestTotalOfTheMetricsJudgedOn() {
    InsightRules r = new InsightRules();
    assertEquals(-1, r.countedThrough());
    r.add(bucket("http_reqs", T0 + 5, 20, 20, 0), true, 0);
    assertEquals(-1, r.countedThrough(), "http_req_failed's totals have not come");
    r.add(bucket("http_req_failed", T0 + 3, 20, 4, 4), true, 0);
    assertEquals(T0 + 3, r.countedThrough());
    r.add(bucket("iterations", T0 + 2, 10, 10, 0), true, 0);
    assertEquals(T0 + 2, r.countedThrough(), "iterations are judged on once they come");
    assertEquals(T0 + 2, InsightRules.fromJson(r.toJson()).countedThrough(), "kept in the state");
  }

  @Test
  void theRulesStateSurvivesItsJsonForm() {
    InsightRules r = new InsightRules();
    for (int s = 0; s < 9; s++) {
      second(r, T0 + s, 20, 4, 10, 5);
    }
    InsightRules back = InsightRules.fromJson(r.toJson());
    assertEquals(r.toJson(), back.toJson());
    assertEquals(List.of(Insight.HIGH_FAILURE_RATE_EARLY), rules(second(back, T0 + 9, 20, 4, 10, 5)),
        "the 100th iteration comes after the round trip");
  }
}
