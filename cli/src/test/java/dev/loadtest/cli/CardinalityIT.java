package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.SecondsAsRead;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cardinality benchmark's exactness checks at a size CI affords, through the real pipeline (two
 * generators, broker, coordinator, Flink jobs, ClickHouse, query API, `loadtest run`): a synthetic run of
 * 1,000 names and two statuses (22,000 series) counts every request in every table of every projection and in
 * its whole-run time series, and a by-name panel answers with the top names and one "other" series that
 * together add up to the run, page by page.
 */
@Timeout(600)
class CardinalityIT {
  static EmbeddedStack stack;
  static ApiClient api;
  static ClickHouseHttp ch;
  static final String DB = "cardinality_it";

  @BeforeAll
  static void start() throws Exception {
    stack = EmbeddedStack.start(DB, new PrintStream(System.out, true));
    stack.addGenerators(2, Path.of("."));
    api = new ApiClient(stack.apiUrl(), stack.apiToken());
    ch = new ClickHouseHttp(stack.clickHouseUri(), stack.clickHouseUser(), stack.clickHousePassword(),
        Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void twentyTwoThousandSeriesAreCountedExactlyEverywhereAndTheByNamePanelPages(@TempDir Path dir) throws Exception {
    Path plan = dir.resolve("cardinality.json");
    Files.writeString(plan, """
        {"name": "cardinality it",
         "generator": {"plugin": "synthetic", "options": {"rate": 4000, "duration": "15s", "names": 1000,
           "statusMix": {"200": 0.9, "503": 0.1}, "latency": {"median": "20ms", "p99": "250ms"}}},
         "scenarios": {"unused": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "none"}},
         "flows": {"none": {"steps": [{"think": "1s"}]}}}""");
    String id = "cardinality-it-1";
    CliRun run = CliRun.of("run", plan.toString(), "--api", stack.apiUrl(), "--token", stack.apiToken(), "--run-id",
        id);
    assertEquals(0, run.code(), "exit 0 only once every request is stored and judged:\n" + run.out() + run.err());

    JsonNode state = api.get("/runs/" + id, Map.of());
    long requests = state.path("totals").path("requests").asLong();
    assertTrue(state.path("ingestion").path("samples").has("recordsBehind"), "a run that ended minutes ago says how"
        + " far ingestion is behind: " + state.path("ingestion"));
    assertTrue(run.out().contains("Waiting for the results to be complete"), run.out());
    assertEquals(60_000, requests, "4,000/s for 15 s");
    assertEquals(requests, RunFollower.samples(api.get("/runs/" + id + "/summary", Map.of()), "http_reqs"));
    long series = Long.parseLong(ch.execute(DB, "SELECT uniqExact(series_id) FROM series WHERE test_run_id = '" + id
        + "' AND analysis_id = '' FORMAT TabSeparated").strip());
    assertTrue(series > 20_000, series + " series");
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      for (String projection : List.of("", "~name", "~total")) {
        // metric_1s as read: a by-name row standing for its name's one series counts as that series' row too
        String from = table.equals("metric_1s") ? SecondsAsRead.metric1s(true) : table + " FINAL";
        long stored = Long.parseLong(ch.execute(DB, "SELECT sum(count) FROM " + from + " WHERE test_run_id = '"
            + id + "' AND analysis_id = '" + projection + "' AND metric = 'http_reqs' FORMAT TabSeparated").strip());
        if (table.equals("metric_1s")) {
          assertEquals(requests, stored, table + " of projection '" + projection + "'");
        } else {
          // a rollup is written when event time passes its end (the next run's samples); readers take the
          // seconds it does not cover yet from the 1 s rows
          assertTrue(stored <= requests, table + " of projection '" + projection + "': " + stored);
        }
      }
    }
    JsonNode whole = api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count"));
    assertEquals(requests, sum(whole.path("series").path(0)), "the whole-run series holds the run's tail too");

    // Every series carries its generator's load zone: grouped by it, the zones add up to the run, and a filter
    // on one zone counts what its group does.
    JsonNode byZone = api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count",
        "groupBy", "load_zone"));
    Map<String, Long> zones = new java.util.TreeMap<>();
    for (JsonNode s : byZone.path("series")) {
      zones.put(s.path("tags").path("load_zone").asText(), sum(s));
    }
    assertTrue(!zones.isEmpty() && EmbeddedStack.EXAMPLE_ZONES.containsAll(zones.keySet()), zones.toString());
    assertEquals(requests, zones.values().stream().mapToLong(Long::longValue).sum(), zones.toString());
    Map.Entry<String, Long> oneZone = zones.entrySet().iterator().next();
    assertEquals((long) oneZone.getValue(), sum(api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs",
        "stat", "count", "tag", "load_zone:" + oneZone.getKey())).path("series").path(0)));

    JsonNode first = api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count",
        "groupBy", "name", "top", "10"));
    assertEquals(1000, first.path("groups").path("total").asInt());
    assertEquals(100, first.path("groups").path("pages").asInt());
    assertEquals(11, first.path("series").size(), "10 names and the other 990 as one series");
    assertTrue(first.path("stepSeconds").asInt() <= 2, "the step is chosen for 10 names, not 1,000: "
        + first.path("stepSeconds"));
    long total = 0;
    double previous = Double.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      JsonNode s = first.path("series").path(i);
      assertEquals(i + 1, s.path("rank").asInt());
      assertTrue(s.path("rankValue").asDouble() <= previous, "ranked by count, highest first");
      previous = s.path("rankValue").asDouble();
      assertEquals((long) s.path("rankValue").asDouble(), sum(s), "a name's points add up to its rank value");
      total += sum(s);
    }
    JsonNode other = first.path("series").path(10);
    assertTrue(other.path("other").asBoolean());
    assertEquals(990, other.path("groups").asInt());
    assertEquals(requests, total + sum(other), "the top names and the other series add up to the run");

    JsonNode second = api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count",
        "groupBy", "name", "top", "10", "page", "1"));
    assertEquals(11, second.path("series").path(0).path("rank").asInt());
    assertTrue(second.path("series").path(0).path("rankValue").asDouble() <= previous);
    long total2 = 0;
    for (JsonNode s : second.path("series")) {
      total2 += sum(s);
    }
    assertEquals(requests, total2, "page 2 and its other series add up to the run too");

    JsonNode slowest = api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_req_duration", "stat",
        "p(95),count", "groupBy", "name", "top", "5", "rankBy", "p(95)", "order", "asc"));
    assertEquals("p(95)", slowest.path("groups").path("rankedBy").asText());
    JsonNode s0 = slowest.path("series").path(0);
    JsonNode s4 = slowest.path("series").path(4);
    assertTrue(s0.path("rankValue").asDouble() <= s4.path("rankValue").asDouble(), "ascending");
    long durations = 0;
    for (JsonNode s : slowest.path("series")) {
      for (JsonNode p : s.path("points")) {
        durations += p.path(2).asLong();
      }
    }
    assertEquals(requests, durations, "counts of a trend add up with the other series as well");

    // The whole run ranked by p(95) from the job's whole-run rows (one per name), once they are written (every
    // 10 s of event time while a name changes, so shortly after the run): the same names, in the same order,
    // with the same values as a ranking from the run's own rows (asked with a range, which the rows do not serve).
    Map<String, String> byP95 = Map.of("metric", "http_req_duration", "stat", "p(95)", "groupBy", "name",
        "top", "10", "rankBy", "p(95)", "page", "3");
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    JsonNode fast = api.get("/runs/" + id + "/timeseries", byP95);
    while (!fast.path("groups").path("rankedFrom").toString().equals("[\"metric_run\"]")) {
      assertTrue(System.nanoTime() < deadline, "ranked from the whole-run rows within 90 s: " + fast.path("groups"));
      Thread.sleep(500); // the rows come with the aggregate job's next checkpoint
      fast = api.get("/runs/" + id + "/timeseries", byP95);
    }
    assertEquals(requests, Long.parseLong(ch.execute(DB, "SELECT sum(c) FROM (SELECT argMax(count, version) AS c"
        + " FROM metric_run WHERE test_run_id = '" + id + "' AND analysis_id = '~name' AND metric ="
        + " 'http_req_duration' GROUP BY series_id, ts, writer_id) FORMAT TabSeparated").strip()),
        "the whole-run rows hold every request");
    assertEquals("0", ch.execute(DB, "SELECT count() FROM metric_run WHERE test_run_id = '" + id + "' AND metric"
        + " IN ('http_req_waiting', 'http_reqs') FORMAT TabSeparated").strip(), "only the trends, not the phases");
    Map<String, String> ranged = new java.util.HashMap<>(byP95);
    ranged.put("from", Long.toString(whole.path("from").asLong() - 60_000));
    ranged.put("to", Long.toString(whole.path("to").asLong() + 60_000));
    JsonNode slow = api.get("/runs/" + id + "/timeseries", ranged);
    assertTrue(!slow.path("groups").path("rankedFrom").toString().contains("metric_run"), slow.path("groups")
        .toString());
    assertEquals(1000, fast.path("groups").path("total").asInt());
    assertEquals(ranks(slow), ranks(fast), "the same page of names and values, whichever rows ranked them");

    ApiClient.ApiError past = org.junit.jupiter.api.Assertions.assertThrows(ApiClient.ApiError.class, () -> api.get(
        "/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count", "groupBy", "name", "top", "10",
            "page", "100")));
    assertEquals(400, past.status());
    assertTrue(past.body().toString().contains("past the last one (99)"), past.body().toString());
  }

  /** A ranked answer's page: each series' rank, name and rank value. */
  static List<String> ranks(JsonNode answer) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode s : answer.path("series")) {
      out.add(s.path("rank").asText() + " " + s.path("tags").path("name").asText() + " " + s.path("rankValue"));
    }
    return out;
  }

  /**
   * A plan that asks for it has every sample tagged with the generator that made it: grouped by generator, the
   * run's two generators add up to it, and a filter on one counts what its group does.
   */
  @Test
  void aPlanMayTagEverySampleWithItsGeneratorAndGroupAndFilterByIt(@TempDir Path dir) throws Exception {
    Path plan = dir.resolve("per-generator.json");
    Files.writeString(plan, """
        {"name": "per generator",
         "generator": {"plugin": "synthetic", "tagGenerator": true,
           "options": {"rate": 2000, "duration": "5s", "names": 10}},
         "distribution": {"eu": {"loadZone": "local:eu", "percent": 50}, "us": {"loadZone": "local:us", "percent": 50}},
         "scenarios": {"unused": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "none"}},
         "flows": {"none": {"steps": [{"think": "1s"}]}}}""");
    String id = "cardinality-it-per-generator";
    CliRun run = CliRun.of("run", plan.toString(), "--api", stack.apiUrl(), "--token", stack.apiToken(), "--run-id",
        id);
    assertEquals(0, run.code(), run.out() + run.err());
    long requests = RunFollower.samples(api.get("/runs/" + id + "/summary", Map.of()), "http_reqs");
    assertEquals(10_000, requests, "2,000/s for 5 s");
    Map<String, Long> byGenerator = new java.util.TreeMap<>();
    for (JsonNode s : api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count",
        "groupBy", "generator")).path("series")) {
      byGenerator.put(s.path("tags").path("generator").asText(), sum(s));
    }
    assertEquals(List.of("generator-1", "generator-2"), List.copyOf(byGenerator.keySet()), byGenerator.toString());
    assertEquals(requests, byGenerator.values().stream().mapToLong(Long::longValue).sum(), byGenerator.toString());
    assertTrue(byGenerator.values().stream().allMatch(n -> n > 0), byGenerator.toString());
    assertEquals((long) byGenerator.get("generator-2"), sum(api.get("/runs/" + id + "/timeseries", Map.of("metric",
        "http_reqs", "stat", "count", "tag", "generator:generator-2")).path("series").path(0)));
  }

  /** The sum of the first stat over a series' points ({@code [t, value, ...]}). */
  static long sum(JsonNode series) {
    long s = 0;
    for (JsonNode p : series.path("points")) {
      s += p.path(1).asLong();
    }
    return s;
  }
}
