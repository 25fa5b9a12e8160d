package dev.loadtest.flink.replay;

import static dev.loadtest.flink.testing.Fixtures.number;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.FlinkJobs;
import dev.loadtest.flink.sink.RowBinaryRows;
import dev.loadtest.flink.sink.RunRowBinary;
import dev.loadtest.flink.testing.Fixtures;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.sample.SampleBatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replay job through its entry point ({@code FlinkJobs replay RUN --analysis ID --thresholds FILE}) on
 * the real broker, MiniCluster and ClickHouse: a stored run's raw samples are judged again by other
 * thresholds, whose final results (values from the merged buckets of all generators) are stored under the
 * analysis id, while the run's own results stay as they were.
 */
@Timeout(300)
class ReplayJobIT {
  static final long BASE_US = 1_760_100_000_000_000L;
  static final ObjectMapper JSON = new ObjectMapper();
  final EmbeddedKafka kafka = EmbeddedKafka.shared();
  final ClickHouseServer server = ClickHouseServer.shared();
  final ClickHouseHttp ch = Fixtures.client(server);

  @Test
  void aReplayJudgesOtherThresholdsOnTheWholeRunsMergedData(@TempDir Path dir) throws Exception {
    String db = Fixtures.database(ch, "replay_thresholds");
    String samples = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(samples, 2);
    String run = "judged-again-" + UUID.randomUUID();
    List<SampleBatch> batches = new ArrayList<>();
    for (int k = 0; k < 6; k++) {
      for (String generator : List.of("gen-a", "gen-b")) {
        batches.add(Fixtures.batch(run, generator, k, BASE_US + k * 5_000_000L, 500,
            generator.equals("gen-a") ? 1.0 : 3.0, 31L * k + generator.hashCode()));
      }
    }
    Fixtures.send(kafka, samples, batches);

    // The run as the coordinator stored it: it ran over the samples' 30 s, with its own lenient threshold.
    long startMs = BASE_US / 1000 - 1_000;
    String plan = """
        {"scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "30s", "exec": "f"}},
         "thresholds": {"http_req_duration": ["p(95)<100000"]},
         "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}""";
    RunState stored = RunState.first(run, RunStatus.VALIDATED, startMs - 500, "validated", List.of(), "h", plan, null)
        .to(RunStatus.RUNNING, startMs, "started").to(RunStatus.FINISHED, startMs + 32_000, "done");
    RowBinaryRows.insertAll(ch, db, new RunRowBinary(), List.of(Tuple2.of(run, stored.toJson())));

    // Exact figures from the raw samples.
    List<Long> all = new ArrayList<>();
    List<Long> checkout = new ArrayList<>();
    long failed = 0;
    for (SampleBatch b : batches) {
      for (int i = 0; i < b.requests().size(); i++) {
        long us = b.requests().durationUs()[i];
        all.add(us);
        if (i % 2 == 1) {
          checkout.add(us); // the fixture's odd requests are named checkout
        }
        failed += b.requests().failed()[i] ? 1 : 0;
      }
    }
    double p95Ms = Fixtures.exactPercentile(sorted(all), 95) / 1000.0;
    double checkoutP99Ms = Fixtures.exactPercentile(sorted(checkout), 99) / 1000.0;
    double failedRate = (double) failed / all.size();
    Path thresholds = dir.resolve("stricter.json");
    Files.writeString(thresholds, """
        {"http_req_duration": ["p(95)<%s", "p(95)<%s"],
         "http_req_duration{name:checkout}": ["p(99)<%s"],
         "http_req_failed": ["rate<%s"],
         "http_reqs": ["count==%d"],
         "iteration_duration": ["avg<1000"]}""".formatted(p95Ms * 1.02, p95Ms * 0.9, checkoutP99Ms * 0.9,
        failedRate * 2, all.size()));

    FlinkJobs.Invocation inv = FlinkJobs.parse(List.of("replay", run, "--analysis", "stricter", "--thresholds",
        thresholds.toString(), "--bootstrap", kafka.bootstrapServers(), "--clickhouse-url", server.httpUri().toString(),
        "--clickhouse-user", server.user(), "--clickhouse-password", server.password(), "--database", db, "--samples-topic", samples), Map.of());
    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(1);
    inv.build(env);
    env.execute("replay-thresholds-it");

    Map<String, JsonNode> results = new HashMap<>();
    for (String line : ch.execute(db, "SELECT threshold, argMax(state, at_ms) AS state, argMax(value, at_ms) AS value,"
        + " max(final) AS final, count() AS n FROM thresholds WHERE test_run_id = " + ClickHouseHttp.quote(run)
        + " AND analysis_id = 'stricter' GROUP BY threshold FORMAT JSONEachRow").strip().split("\n")) {
      JsonNode r = JSON.readTree(line);
      results.put(r.path("threshold").asText(), r);
    }
    assertEquals(6, results.size(), "one final result per threshold of the file: " + results.keySet());
    results.values().forEach(r -> {
      assertEquals(1, r.path("final").asInt(), "only final results are stored: " + r);
      assertEquals(1, r.path("n").asInt(), "one row each: " + r);
    });
    assertEquals("PASSED", state(results, "http_req_duration: p(95)<" + p95Ms * 1.02));
    assertEquals("FAILED", state(results, "http_req_duration: p(95)<" + p95Ms * 0.9));
    assertEquals(p95Ms, results.get("http_req_duration: p(95)<" + p95Ms * 0.9).path("value").asDouble(), p95Ms * 0.01,
        "the p95 judged is the merged one, within 1% of the exact p95 of both generators' samples");
    assertEquals("FAILED", state(results, "http_req_duration{name:checkout}: p(99)<" + checkoutP99Ms * 0.9),
        "a sub-metric is judged on its own samples");
    assertEquals("PASSED", state(results, "http_req_failed: rate<" + failedRate * 2));
    assertEquals("PASSED", state(results, "http_reqs: count==" + all.size()), "every sample is in the verdict");
    assertEquals("NO_DATA", state(results, "iteration_duration: avg<1000"), "no iteration samples: no data, as k6");
    assertEquals(0, number(ch, db, "SELECT count() FROM thresholds WHERE analysis_id = ''"),
        "the replay does not touch the run's own results");
    assertEquals(all.size(), number(ch, db, "SELECT sum(count) FROM " + Fixtures.from("metric_1s", " FINAL WHERE"
        + " metric = 'http_reqs' AND analysis_id = 'stricter' AND test_run_id = " + ClickHouseHttp.quote(run))));
  }

  static String state(Map<String, JsonNode> results, String threshold) {
    JsonNode r = results.get(threshold);
    assertTrue(r != null, "no result for " + threshold + " among " + results.keySet());
    return r.path("state").asText();
  }

  static long[] sorted(List<Long> values) {
    long[] a = values.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a;
  }
}
