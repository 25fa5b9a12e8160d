package dev.loadtest.flink.threshold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateJobConfig;
import dev.loadtest.flink.sink.ClickHouseTarget;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.flink.testing.Fixtures;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.threshold.ThresholdResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Samples through the real aggregate job into the aggregates topic, then the threshold job with the run's
 * state from the runs topic: each threshold's final result is what k6 would say on the merged data of
 * both generators, a sub-metric is judged on its own tags, a windowed threshold on its window, and a
 * failing abortOnFail threshold puts an abort command on the commands topic.
 */
@Timeout(300)
class ThresholdJobIT {
  static final long BASE_US = 1_780_000_000_000_000L;
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void thresholdsAreJudgedOnMergedDataAndAnAbortOnFailThresholdAbortsTheRun() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    ClickHouseServer server = ClickHouseServer.shared();
    Aggregated a = Aggregated.of(kafka, server, "thresholds", "thr-");
    String db = a.db(), id = a.id(), run = a.run();
    String aggregates = a.aggregates(), runs = a.runs(), thresholds = a.thresholds(), commands = a.commands();

    String plan = """
        {"name": "thresholds-it",
         "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "20s", "exec": "f"}},
         "metrics": {"errors": "counter"},
         "thresholds": {
           "http_req_duration": ["p(95)<40", "avg<1000", "p(95)<1000 over 5s"],
           "http_req_duration{name:checkout}": [{"threshold": "max<1", "abortOnFail": true, "delayAbortEval": "5s"}],
           "http_req_duration{name:nowhere}": ["p(95)<100"],
           "http_req_failed": ["rate<0.5"],
           "checks": ["rate>0.9"],
           "http_reqs": ["count==12000", "rate>100"],
           "errors": ["count<1"]
         },
         "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}
        """;
    long startMs = BASE_US / 1000;
    RunState running = a.running(plan);
    RunState finished = a.finished(running);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>(runs, run, running.toJson())).get();
    }

    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(1);
    ThresholdJob.build(env, ThresholdJobConfig.live(kafka.bootstrapServers())
        .withTopics(aggregates, runs, thresholds, commands, "thr-" + id)
        .withClickHouse(new ClickHouseTarget(server.httpUri(), server.user(), server.password(), db)));
    JobClient job = env.executeAsync("thresholds-it");
    Map<String, ThresholdResult> finals = new HashMap<>();
    List<ThresholdResult> changes = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = consumer(kafka, thresholds)) {
      // While the run runs, state changes come as its seconds are judged; then it ends.
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (changes.stream().noneMatch(c -> c.threshold().equals("http_req_duration{name:checkout}: max<1"))
          && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          ThresholdResult t = ThresholdResult.fromJson(r.value());
          assertFalse(t.finalResult(), "no final result while the run runs: " + t);
          changes.add(t);
        }
      }
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>(runs, run, finished.toJson())).get();
      }
      while (finals.size() < 10 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          ThresholdResult t = ThresholdResult.fromJson(r.value());
          assertEquals(run, r.key());
          if (t.finalResult()) {
            finals.put(t.threshold(), t);
          } else {
            changes.add(t);
          }
        }
      }
      // The run's states and every result are stored for the query API too (committed with a checkpoint).
      ClickHouseHttp ch = Fixtures.client(server);
      Fixtures.await(Duration.ofSeconds(60), "the final results in the thresholds table", () -> Fixtures.number(ch, db,
          "SELECT count() FROM thresholds FINAL WHERE test_run_id = '" + run + "' AND final = 1") == 10);
      Fixtures.await(Duration.ofSeconds(30), "the run's last state in the runs table", () -> Fixtures.number(ch, db,
          "SELECT count() FROM runs FINAL WHERE test_run_id = '" + run + "' AND status = 'FINISHED'") == 1);
      String stored = ch.execute(db, "SELECT state_json FROM runs FINAL WHERE test_run_id = '" + run
          + "' FORMAT TabSeparatedRaw").strip();
      assertEquals(finished, RunState.fromJson(stored), "the whole state, history included");
      assertEquals(0, Fixtures.number(ch, db, "SELECT count() FROM thresholds FINAL WHERE test_run_id = '" + run
          + "' AND final = 1 AND threshold = 'http_req_duration: p(95)<40' AND state != 'FAILED'"));
    } finally {
      job.cancel().get();
    }
    assertEquals(10, finals.size(), "a final result per threshold: " + finals.keySet());
    assertVerdictsOfTheUntaggedThresholds(finals);
    assertState(finals, "http_req_duration: p(95)<1000 over 5s", ThresholdResult.State.PASSED);
    assertState(finals, "http_req_duration{name:checkout}: max<1", ThresholdResult.State.FAILED);
    assertState(finals, "http_req_duration{name:nowhere}: p(95)<100", ThresholdResult.State.NO_DATA);
    assertState(finals, "http_reqs: rate>100", ThresholdResult.State.PASSED);
    assertState(finals, "errors: count<1", ThresholdResult.State.PASSED);
    assertEquals(12_000, finals.get("http_reqs: count==12000").value());
    assertTrue(finals.values().stream().noneMatch(ThresholdResult::partial), "judged on every request the generators sent");
    assertTrue(Double.isNaN(finals.get("http_req_duration{name:nowhere}: p(95)<100").value()));
    assertTrue(changes.stream().anyMatch(c -> c.threshold().equals("http_req_duration{name:checkout}: max<1")
        && c.state() == ThresholdResult.State.FAILED), "state changes are published as they happen");

    try (KafkaConsumer<String, String> consumer = consumer(kafka, commands)) {
      List<JsonNode> aborts = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (aborts.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          aborts.add(JSON.readTree(r.value()));
        }
      }
      assertEquals(1, aborts.size(), "one abort command");
      JsonNode abort = aborts.get(0);
      assertEquals("abort", abort.path("type").asText());
      assertEquals("threshold", abort.path("source").asText());
      assertEquals(run, abort.path("testRunId").asText());
      assertTrue(abort.path("reason").asText().contains("http_req_duration{name:checkout}: max<1"), abort.toString());
      dev.loadtest.schemas.command.CommandParser.parse(abort.toString());
    }
  }

  /**
   * A plan whose thresholds name no tag is judged on the metrics' totals that the aggregate job publishes
   * (the series' records are skipped without decoding), with the same verdicts; aggregates records that
   * cannot be judged go to the DLQ with where and why, and the run's verdict is not touched by them.
   */
  @Test
  void aPlanWithoutTaggedThresholdsIsJudgedOnTheTotalsAndHostileAggregatesGoToTheDlq() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopic(dev.loadtest.schemas.topics.Topics.DLQ, 1);
    ClickHouseServer server = ClickHouseServer.shared();
    Aggregated a = Aggregated.of(kafka, server, "thresholds_totals", "tot-");
    String id = a.id(), run = a.run();
    String aggregates = a.aggregates(), runs = a.runs(), thresholds = a.thresholds(), commands = a.commands();

    long startMs = BASE_US / 1000;
    byte[] key = run.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    dev.loadtest.flink.aggregate.SeriesBucket foreign = new dev.loadtest.flink.aggregate.SeriesBucket();
    foreign.testRunId = "someone-else";
    foreign.analysisId = dev.loadtest.schemas.series.Projection.TOTAL.analysisId("");
    foreign.metric = "http_reqs";
    foreign.type = "COUNTER";
    foreign.tagKeys = new String[0];
    foreign.tagValues = new String[0];
    foreign.startMs = startMs;
    foreign.widthMs = 1000;
    foreign.count = 1_000_000;
    java.nio.ByteBuffer foreignValue = dev.loadtest.flink.aggregate.AggregateRecords.toAvro(foreign).toByteBuffer();
    byte[] foreignBytes = new byte[foreignValue.remaining()];
    foreignValue.get(foreignBytes);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()), new org.apache.kafka.common.serialization.ByteArraySerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      producer.send(hostile(aggregates, startMs, key, new byte[] {1, 2, 3}, null)).get();
      producer.send(hostile(aggregates, startMs, key, foreignBytes, "totals")).get();
      producer.send(hostile(aggregates, 1L, key, foreignBytes, "totals")).get();
      producer.send(hostile(aggregates, startMs, key, new byte[] {4, 5, 6}, "series")).get(); // skipped, not read
    }

    String plan = """
        {"name": "totals-it",
         "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "20s", "exec": "f"}},
         "thresholds": {
           "http_req_duration": ["p(95)<40", "avg<1000"],
           "http_req_failed": ["rate<0.5"],
           "checks": ["rate>0.9"],
           "http_reqs": ["count==12000"]
         },
         "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}
        """;
    RunState running = a.running(plan);
    RunState finished = a.finished(running);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>(runs, run, running.toJson())).get();
      producer.send(new ProducerRecord<>(runs, run, finished.toJson())).get();
    }
    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(1);
    ThresholdJob.build(env, ThresholdJobConfig.live(kafka.bootstrapServers())
        .withTopics(aggregates, runs, thresholds, commands, "thr-" + id));
    JobClient job = env.executeAsync("thresholds-totals-it");
    Map<String, ThresholdResult> finals = new HashMap<>();
    List<JsonNode> dlq = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = consumer(kafka, thresholds)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (finals.size() < 5 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          ThresholdResult t = ThresholdResult.fromJson(r.value());
          if (t.finalResult()) {
            finals.put(t.threshold(), t);
          }
        }
      }
      Fixtures.await(Duration.ofSeconds(60), "three rejected aggregates records in the DLQ", () -> {
        dlq.clear();
        dlq.addAll(Fixtures.dlqRecords(kafka, aggregates));
        return dlq.size() >= 3;
      });
    } finally {
      job.cancel().get();
    }
    assertEquals(5, finals.size(), "a final result per threshold: " + finals.keySet());
    assertVerdictsOfTheUntaggedThresholds(finals);
    assertEquals(12_000, finals.get("http_reqs: count==12000").value(), "every request once: the totals, not them and"
        + " the series, and not the foreign record's million");
    assertTrue(finals.values().stream().noneMatch(ThresholdResult::partial), "judged on every sample the generators sent");
    String reasons = dlq.toString();
    assertEquals(3, dlq.size(), reasons);
    assertTrue(reasons.contains("not an aggregates record"), reasons);
    assertTrue(reasons.contains("is not the run id of its buckets"), reasons);
    assertTrue(reasons.contains("record time 1 ms is out of range"), reasons);
  }

  static ProducerRecord<byte[], byte[]> hostile(String topic, long timestampMs, byte[] key, byte[] value, String kind) {
    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null, timestampMs, key, value);
    if (kind != null) {
      r.headers().add(dev.loadtest.schemas.topics.Topics.AGGREGATES_KIND_HEADER,
          kind.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    return r;
  }

  static void assertState(Map<String, ThresholdResult> finals, String threshold, ThresholdResult.State state) {
    ThresholdResult r = finals.get(threshold);
    assertTrue(r != null, "no final result for " + threshold + " in " + finals.keySet());
    assertEquals(state, r.state(), threshold + " (value " + r.value() + ")");
  }

  static KafkaConsumer<String, String> consumer(EmbeddedKafka kafka, String topic) {
    return Fixtures.stringConsumer(kafka, topic);
  }

  /** The verdicts both plans' untagged thresholds get: only the merged data of the slow and the fast generator fails p(95)<40. */
  static void assertVerdictsOfTheUntaggedThresholds(Map<String, ThresholdResult> finals) {
      assertState(finals, "http_req_duration: p(95)<40", ThresholdResult.State.FAILED);
      assertState(finals, "http_req_duration: avg<1000", ThresholdResult.State.PASSED);
      assertState(finals, "http_req_failed: rate<0.5", ThresholdResult.State.PASSED);
      assertState(finals, "checks: rate>0.9", ThresholdResult.State.PASSED);
      assertState(finals, "http_reqs: count==12000", ThresholdResult.State.PASSED);
  }

  /**
   * One run's aggregates on fresh topics: 20 s of two generators, the second slow (3x), so that only the
   * merged data fails p(95)<40, aggregated by a bounded aggregate job into its own database.
   */
  record Aggregated(String id, String db, String run, String aggregates, String runs, String thresholds,
                    String commands, long samples) {
    /** The run, created from {@code plan} 2 s before it starts running with its first sample. */
    RunState running(String plan) {
      long startMs = BASE_US / 1000;
      return RunState.first(run, RunStatus.CREATED, startMs - 2_000, "created", List.of(), "hash", plan, null)
          .to(RunStatus.RUNNING, startMs, "running");
    }

    /** The run finished half a second after its 20 s of samples, with the generators' totals. */
    RunState finished(RunState running) {
      return running.to(RunStatus.FINISHED, BASE_US / 1000 + 20_500, "finished")
          .withTotals(new RunState.Totals(12_000, samples, 0, 12_000, 0, 2, 0));
    }

    static Aggregated of(EmbeddedKafka kafka, ClickHouseServer server, String database, String runPrefix)
        throws Exception {
      String db = Fixtures.database(Fixtures.client(server), database);
      String id = UUID.randomUUID().toString();
      String run = runPrefix + id;
      List<SampleBatch> batches = new ArrayList<>();
      for (int k = 0; k < 10; k++) {
        for (int g = 0; g < 2; g++) {
          batches.add(Fixtures.batch(run, "gen-" + g, k, BASE_US + k * 2_000_000L, 600, g == 1 ? 3.0 : 1.0,
              17L * k + g));
        }
      }
      Aggregated a = new Aggregated(id, db, run, "aggregates." + id, "runs." + id, "thresholds." + id,
          "commands." + id, batches.stream().mapToLong(SampleBatch::size).sum());
      String samples = "samples." + id;
      for (String t : List.of(samples, a.aggregates, a.runs, a.thresholds, a.commands)) {
        kafka.createTopic(t, 2);
      }
      Fixtures.send(kafka, samples, batches);
      StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(1);
      AggregateJob.build(env, AggregateJobConfig.live(kafka.bootstrapServers(), server.httpUri(), server.user(),
          server.password(), db).withTopics(samples, a.aggregates, "agg-" + id).withBounded(true));
      env.execute("aggregate-" + runPrefix + "it");
      return a;
    }
  }
}
