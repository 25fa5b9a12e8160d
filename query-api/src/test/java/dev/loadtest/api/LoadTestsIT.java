package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.api.store.LoadTestStore;
import dev.loadtest.api.store.MetricReader;
import dev.loadtest.api.store.RunReader;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Load tests through the real API on a real ClickHouse: runs grouped by plan name and project, their trend,
 * baselines, regression gates on merged data, deletion with aggregates, and retention.
 */
@Timeout(180)
class LoadTestsIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String READ = "read-token-lt-0123456789";
  static final String WRITE = "write-token-lt-0123456789";
  static final long START = 1_780_000_000L;
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static ApiServer api;
  static ClickHouseHttp ch;
  static String db;
  static String id;
  /** Runs of the load test "checkout flow" in project "shop", oldest first; slow is 50% slower. */
  static RunData base;
  static RunData same;
  static RunData slow;

  @BeforeAll
  static void start() throws Exception {
    ClickHouseServer server = ClickHouseServer.shared();
    ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
    db = ClickHouseServer.newDatabaseName("loadtests");
    Migrations.apply(ch, db);
    id = UUID.randomUUID().toString().substring(0, 8);
    base = write(new RunData("lt-base-" + id, START, 40, 1.0, 1).named("checkout flow", "shop"));
    same = write(new RunData("lt-same-" + id, START + 3_600, 40, 1.0, 2).named("checkout flow", "shop"));
    slow = write(new RunData("lt-slow-" + id, START + 7_200, 40, 1.5, 3).named("checkout flow", "shop"));
    write(new RunData("lt-browse-" + id, START + 100, 20, 1.0, 4).named("browse", "shop"));
    write(new RunData("lt-elsewhere-" + id, START + 200, 20, 1.0, 5).named("checkout flow", "other team"));
    api = ApiServer.start(new ApiConfig("127.0.0.1", 0, server.httpUri(), server.user(), server.password(), db,
        EmbeddedKafka.shared().bootstrapServers(), Map.of(READ, ApiConfig.Scope.READ, WRITE, ApiConfig.Scope.WRITE),
        List.of(), Limits.DEFAULT));
  }

  static RunData write(RunData r) {
    r.write(ch, db, Long.MAX_VALUE);
    return r;
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  static HttpResponse<String> call(String method, String pathAndQuery, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.url() + pathAndQuery)).timeout(Duration.ofSeconds(60))
        .header("Authorization", "Bearer " + token).method(method, HttpRequest.BodyPublishers.noBody());
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode ok(String method, String pathAndQuery) throws Exception {
    HttpResponse<String> r = call(method, pathAndQuery, method.equals("GET") ? READ : WRITE);
    assertEquals(200, r.statusCode(), method + " " + pathAndQuery + " -> " + r.body());
    return JSON.readTree(r.body());
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String compareUrl(String run, String baseline, String... limits) {
    StringBuilder u = new StringBuilder("/runs/" + run + "/compare?baseline=" + baseline);
    for (String l : limits) {
      u.append("&regression=").append(enc(l));
    }
    return u.toString();
  }

  /** A stat of the run's summary as the API gives it (the numbers a trend and a gate must agree with). */
  static double summaryStat(String run, String metric, String stat, String submetric) throws Exception {
    JsonNode s = ok("GET", "/runs/" + run + "/summary?trendStats=" + enc("p(95)") + (submetric == null ? ""
        : "&submetric=" + enc(submetric)));
    for (JsonNode m : s.path("metrics")) {
      if (m.path("metric").asText().equals(metric)) {
        if (submetric == null) {
          return m.path("stats").path(stat).asDouble();
        }
        for (JsonNode sub : m.path("submetrics")) {
          if (sub.path("metric").asText().equals(submetric)) {
            return sub.path("stats").path(stat).asDouble();
          }
        }
      }
    }
    throw new AssertionError("no " + metric + " " + stat + " in " + s);
  }

  @Test
  void runsOfOnePlanNameInOneProjectAreOneLoadTestWithATrend() throws Exception {
    JsonNode list = ok("GET", "/load-tests?project=shop");
    assertEquals(2, list.path("total").asInt(), list.toString());
    JsonNode checkout = list.path("loadTests").get(0);
    assertEquals("checkout flow", checkout.path("name").asText(), "the newest activity first");
    assertEquals(3, checkout.path("runs").asInt());
    assertEquals(slow.run, checkout.path("lastRun").path("testRunId").asText());
    String testId = checkout.path("id").asText();
    assertEquals(LoadTestStore.loadTestId("shop", "checkout flow"), testId);
    assertTrue(testId.matches("lt-[0-9a-f]{16}"), testId);
    assertFalse(testId.equals(LoadTestStore.loadTestId("other team", "checkout flow")), "projects keep tests apart");
    assertEquals(1, ok("GET", "/load-tests?name=BROW").path("total").asInt(), "names match without case");

    JsonNode test = ok("GET", "/load-tests/" + testId);
    List<String> runs = new ArrayList<>();
    test.path("runs").forEach(r -> runs.add(r.path("testRunId").asText()));
    assertEquals(List.of(slow.run, same.run, base.run), runs, "newest first");
    JsonNode versions = test.path("planVersions");
    assertEquals(1, versions.size(), "one plan, one version: " + versions);
    assertEquals(3, versions.get(0).path("runs").asInt());
    assertEquals(base.run, versions.get(0).path("firstRunId").asText());
    assertEquals(slow.run, versions.get(0).path("lastRunId").asText());
    JsonNode trend = test.path("trend");
    assertEquals(3, trend.size());
    RunData[] oldestFirst = {base, same, slow};
    for (int i = 0; i < 3; i++) {
      String run = oldestFirst[i].run;
      JsonNode p = trend.get(i);
      assertEquals(run, p.path("testRunId").asText());
      assertEquals(summaryStat(run, "http_req_duration", "p(95)", null), p.path("p95Ms").asDouble(), 1e-9, run);
      assertEquals(summaryStat(run, "http_req_failed", "rate", null), p.path("errorRate").asDouble(), 1e-12, run);
      assertEquals(oldestFirst[i].count(r -> true), p.path("requests").asLong(), run);
      assertEquals(summaryStat(run, "http_reqs", "rate", null), p.path("requestsPerSecond").asDouble(), 1e-9, run);
      assertTrue(p.path("vusMax").asDouble() > 0, p.toString());
    }
    assertTrue(trend.get(2).path("p95Ms").asDouble() > trend.get(0).path("p95Ms").asDouble() * 1.3,
        "the slower run shows in the trend: " + trend);

    assertEquals(404, call("GET", "/load-tests/lt-0000000000000000", READ).statusCode());
    HttpResponse<String> bad = call("GET", "/load-tests/" + enc("x' OR 1"), READ);
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("lt- and 16 hex digits"), bad.body());
  }

  @Test
  void runsStartedWithAnExplicitLoadTestIdAreOneLoadTestWhateverTheirNames() throws Exception {
    String explicit = "checkout-" + id;
    // Two plan names (a renamed plan) in one load test by its id; a run of the same name without it stays apart.
    RunData first = write(new RunData("lt-x1-" + id, START + 10_000, 10, 1.0, 21).named("checkout v1", "mobile", explicit));
    RunData second = write(new RunData("lt-x2-" + id, START + 13_600, 10, 1.2, 22).named("checkout v2", "mobile", explicit));
    RunData apart = write(new RunData("lt-x3-" + id, START + 14_000, 10, 1.0, 23).named("checkout v2", "mobile"));
    JsonNode test = ok("GET", "/load-tests/" + explicit);
    assertEquals(explicit, test.path("id").asText());
    assertTrue(test.path("explicitId").asBoolean());
    assertEquals("checkout v2", test.path("name").asText(), "its newest run's name");
    List<String> runs = new ArrayList<>();
    test.path("runs").forEach(r -> runs.add(r.path("testRunId").asText()));
    assertEquals(List.of(second.run, first.run), runs);
    assertEquals(2, test.path("trend").size());
    JsonNode listed = ok("GET", "/load-tests?project=mobile");
    java.util.Map<String, Integer> byId = new java.util.TreeMap<>();
    listed.path("loadTests").forEach(t -> byId.put(t.path("id").asText(), t.path("runs").asInt()));
    assertEquals(java.util.Map.of(explicit, 2, LoadTestStore.loadTestId("mobile", "checkout v2"), 1), byId,
        listed.toString());
    JsonNode apartTest = ok("GET", "/load-tests/" + LoadTestStore.loadTestId("mobile", "checkout v2"));
    assertEquals(apart.run, apartTest.path("runs").get(0).path("testRunId").asText());
    assertEquals(1, apartTest.path("runs").size());
    // the gate's automatic baseline is the same load test's earlier run, not the one of the same name
    JsonNode gate = ok("GET", compareUrl(second.run, "auto", "http_req_duration: p(95) +50%"));
    assertEquals(first.run, gate.path("baseline").path("testRunId").asText(), gate.toString());
    assertEquals(explicit, gate.path("loadTest").asText());
    assertEquals(404, call("GET", "/load-tests/never-" + id, READ).statusCode());
    HttpResponse<String> bad = call("GET", "/load-tests/" + enc("-bad id"), READ);
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("explicit id"), bad.body());
  }

  @Test
  void aRegressionGateComparesWithTheBaselineOnMergedData() throws Exception {
    // No run marked: the newest earlier run that passed is the baseline.
    JsonNode unmarked = ok("GET", compareUrl(slow.run, "auto", "http_req_duration: p(95) +10%"));
    assertEquals(same.run, unmarked.path("baseline").path("testRunId").asText());
    assertTrue(unmarked.path("baseline").path("chosen").asText().contains("no run is marked baseline"));

    assertEquals(403, call("POST", "/runs/" + base.run + "/baseline", READ).statusCode(), "marking needs write");
    assertTrue(ok("POST", "/runs/" + base.run + "/baseline").path("baseline").asBoolean());
    // the project's webhook hears of the regression the gate finds
    java.util.List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer receiver = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/", ex -> {
      heard.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    receiver.start();
    HttpRequest create = HttpRequest.newBuilder(URI.create(api.url() + "/webhooks")).header("Authorization", "Bearer "
        + WRITE).POST(HttpRequest.BodyPublishers.ofString("{\"project\": \"shop\", \"url\": \"http://127.0.0.1:"
        + receiver.getAddress().getPort() + "/hook\", \"events\": [\"regression\"]}")).build();
    assertEquals(201, HTTP.send(create, HttpResponse.BodyHandlers.ofString()).statusCode());
    JsonNode test = ok("GET", "/load-tests/" + LoadTestStore.loadTestId("shop", "checkout flow"));
    assertEquals(base.run, test.path("baseline").asText());
    JsonNode listed = ok("GET", "/load-tests?project=shop&name=checkout");
    assertEquals(base.run, listed.path("loadTests").get(0).path("baseline").asText(), listed.toString());
    assertTrue(ok("GET", "/load-tests?project=shop&name=browse").path("loadTests").get(0).path("baseline").isNull(),
        "a test without a marked run has no baseline");

    JsonNode gate = ok("GET", compareUrl(slow.run, "auto", "http_req_duration: p(95) +10%",
        "http_req_duration{name:checkout}: p(95) +10%", "http_req_failed: rate +50pp", "http_reqs: count -99%",
        "no_such_metric: avg +1%"));
    assertEquals(base.run, gate.path("baseline").path("testRunId").asText());
    assertEquals("the load test's baseline", gate.path("baseline").path("chosen").asText());
    assertTrue(gate.path("regressed").asBoolean(), gate.toString());
    JsonNode[] c = new JsonNode[5];
    for (int i = 0; i < 5; i++) {
      c[i] = gate.path("regressions").get(i);
    }
    assertEquals("EXCEEDED", c[0].path("state").asText(), c[0].toString());
    assertEquals(summaryStat(base.run, "http_req_duration", "p(95)", null), c[0].path("baseline").asDouble(), 1e-9);
    assertEquals(summaryStat(slow.run, "http_req_duration", "p(95)", null), c[0].path("value").asDouble(), 1e-9);
    assertTrue(c[0].path("message").asText().contains("limit +10%"), c[0].toString());
    assertEquals("EXCEEDED", c[1].path("state").asText(), c[1].toString());
    assertEquals(summaryStat(slow.run, "http_req_duration", "p(95)", "http_req_duration{name:checkout}"),
        c[1].path("value").asDouble(), 1e-9, "a tagged limit is judged on its sub-metric");
    assertEquals("PASSED", c[2].path("state").asText(), c[2].toString());
    assertEquals("PASSED", c[3].path("state").asText(), c[3].toString());
    assertEquals("NOT_COMPARED", c[4].path("state").asText(), c[4].toString());
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (heard.isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "no regression event reached the webhook");
      Thread.sleep(50);
    }
    receiver.stop(0);
    JsonNode event = JSON.readTree(heard.get(0));
    assertEquals("regression", event.path("event").asText());
    assertEquals(slow.run, event.path("testRunId").asText());
    assertEquals(base.run, event.path("baseline").asText());
    assertEquals(1, heard.size(), "one event per run, however often the gate is asked");

    JsonNode calm = ok("GET", compareUrl(same.run, base.run, "http_req_duration: p(95) +30%"));
    assertFalse(calm.path("regressed").asBoolean(), calm.toString());
    assertEquals("given", calm.path("baseline").path("chosen").asText());

    HttpResponse<String> bad = call("GET", compareUrl(slow.run, "auto", "http_req_duration: p(95) 10%"), READ);
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("regression") && bad.body().contains("(+|-)AMOUNT"), bad.body());
    assertEquals(400, call("GET", compareUrl(slow.run, slow.run, "http_reqs: count -1%"), READ).statusCode());
    assertEquals(404, call("GET", compareUrl(slow.run, "no-such-run", "http_reqs: count -1%"), READ).statusCode());
    // The first run of a load test has nothing before it.
    HttpResponse<String> first = call("GET", compareUrl("lt-elsewhere-" + id, "auto", "http_reqs: count -1%"), READ);
    assertEquals(404, first.statusCode());
    assertTrue(first.body().contains("nothing to compare with yet"), first.body());
  }

  @Test
  void aDeletedRunLeavesNoRowsAndARecordAndABaselineIsNotDeleted() throws Exception {
    RunData gone = write(new RunData("lt-gone-" + id, START + 20_000, 20, 1.0, 9).named("deleted", "shop"));
    long othersBefore = rowsOf(base.run);
    assertTrue(rowsOf(gone.run) > 0);
    assertEquals(403, call("DELETE", "/runs/" + gone.run, READ).statusCode());
    ok("POST", "/runs/" + gone.run + "/baseline");
    HttpResponse<String> refused = call("DELETE", "/runs/" + gone.run, WRITE);
    assertEquals(409, refused.statusCode());
    assertTrue(refused.body().contains("baseline"), refused.body());
    ok("DELETE", "/runs/" + gone.run + "/baseline");

    JsonNode deleted = ok("DELETE", "/runs/" + gone.run + "?reason=" + enc("a mistake"));
    assertTrue(deleted.path("complete").asBoolean(), deleted.toString());
    assertEquals(0, rowsOf(gone.run), "every table is free of the run");
    assertEquals(404, call("GET", "/runs/" + gone.run, READ).statusCode());
    assertEquals(othersBefore, rowsOf(base.run), "other runs keep every row");
    JsonNode deletions = ok("GET", "/deletions");
    JsonNode d = deletions.path("deletions").get(0);
    assertEquals(gone.run, d.path("testRunId").asText(), deletions.toString());
    assertEquals("a mistake", d.path("reason").asText());
    assertEquals("deleted", d.path("name").asText());
    assertEquals(404, call("DELETE", "/runs/" + gone.run, WRITE).statusCode(), "a run is deleted once");
  }

  @Test
  void retentionDeletesEndedRunsPastTheirAgeButNeverABaseline() throws Exception {
    long day = 86_400;
    RunData old = write(new RunData("lt-old-" + id, START - 400 * day, 10, 1.0, 11).named("ancient", "archive"));
    RunData kept = write(new RunData("lt-kept-" + id, START - 401 * day, 10, 1.0, 12).named("ancient", "archive"));
    LoadTestStore store = new LoadTestStore(ch, db);
    store.mark(kept.run, true, "test");
    LoadTests tests = new LoadTests(new QueryService(new MetricReader(ch, db), new RunReader(ch, db), Limits.DEFAULT,
        Clock.systemUTC()), store);
    List<String> deleted = tests.applyRetention(365, START * 1000, 100);
    assertEquals(List.of(old.run), deleted, "only the old run that is no baseline");
    assertEquals(0, rowsOf(old.run));
    assertTrue(rowsOf(kept.run) > 0, "the baseline keeps its rows");
    assertTrue(rowsOf(base.run) > 0, "younger runs keep theirs");
    JsonNode d = ok("GET", "/deletions").path("deletions");
    boolean recorded = false;
    for (JsonNode x : d) {
      recorded |= x.path("testRunId").asText().equals(old.run) && x.path("reason").asText().contains("retention")
          && x.path("deletedBy").asText().equals("retention");
    }
    assertTrue(recorded, d.toString());
  }

  @Test
  void aRunsInsightsAreReadBackAsStoredAndCompleteOnceJudged() throws Exception {
    RunData run = write(new RunData("lt-insights-" + id, START + 30_000, 10, 1.0, 13).named("insightful", "shop"));
    JsonNode none = ok("GET", "/runs/" + run.run + "/insights");
    assertFalse(none.path("complete").asBoolean(), "not judged yet");
    assertEquals(0, none.path("insights").size());
    assertEquals(dev.loadtest.schemas.insight.Insight.RULES.size(), none.path("rules").size());
    dev.loadtest.schemas.insight.Insight insight = new dev.loadtest.schemas.insight.Insight(run.run,
        dev.loadtest.schemas.insight.Insight.HIGH_GENERATOR_CPU, "gen-a", "warning", "High load generator CPU usage",
        "generator gen-a ran above 80% CPU for 10 s", (START + 30_002) * 1000, (START + 30_012) * 1000,
        Map.of("cpu", 0.93), (START + 30_014) * 1000);
    dev.loadtest.schemas.insight.Insight judged = new dev.loadtest.schemas.insight.Insight(run.run,
        dev.loadtest.schemas.insight.Insight.JUDGED, "", "info", "Insights complete", "every rule has judged the run",
        0, 0, Map.of(), (START + 30_020) * 1000);
    for (int i = 0; i < 2; i++) { // a replayed insert is the same row
      dev.loadtest.flink.sink.RowBinaryRows.insertAll(ch, db, new dev.loadtest.flink.sink.InsightRowBinary(), List.of(
          org.apache.flink.api.java.tuple.Tuple2.of(run.run, insight.toJson()),
          org.apache.flink.api.java.tuple.Tuple2.of(run.run, judged.toJson())));
    }
    JsonNode got = ok("GET", "/runs/" + run.run + "/insights");
    assertTrue(got.path("complete").asBoolean(), got.toString());
    assertEquals(1, got.path("insights").size(), "the closing record is no insight, a replay no second one: " + got);
    JsonNode i = got.path("insights").get(0);
    assertEquals("high-generator-cpu", i.path("rule").asText());
    assertEquals("gen-a", i.path("subject").asText());
    assertEquals(0.93, i.path("values").path("cpu").asDouble(), 1e-12);
    assertEquals((START + 30_002) * 1000, i.path("from").asLong());
    assertEquals(404, call("GET", "/runs/no-such-run/insights", READ).statusCode());
  }

  /** Rows of {@code run} in every table keyed by run. */
  static long rowsOf(String run) {
    long n = 0;
    for (String t : List.of("metric_1s", "metric_10s", "metric_1m", "metric_run", "series", "thresholds", "insights",
        "runs", "run_marks")) {
      n += Long.parseLong(ch.execute(db, "SELECT count() FROM " + t + " WHERE test_run_id = "
          + ClickHouseHttp.quote(run) + " FORMAT TabSeparated").strip());
    }
    return n;
  }
}
