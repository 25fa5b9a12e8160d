package dev.loadtest.flink.threshold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateJobConfig;
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
 * The live aggregate and threshold jobs, with a run whose last samples reach the pipeline after the run has
 * ended (a generator's gracefulStop tail, a slow producer): the final verdict waits until it has counted every
 * request the generators reported, so a count threshold is judged on the true count; and when the reported
 * count never arrives, the final verdict comes after the grace, marked partial, never as if complete.
 */
@Timeout(300)
class FinalVerdictIT {
  static final long BASE_US = 1_785_000_000_000_000L;
  final EmbeddedKafka kafka = EmbeddedKafka.shared();
  final ClickHouseServer server = ClickHouseServer.shared();

  record Pipeline(String id, String samples, String runs, String thresholds, List<JobClient> jobs) {
    void cancel() throws Exception {
      for (JobClient j : jobs) {
        j.cancel().get();
      }
    }
  }

  Pipeline start(Duration finalGrace) throws Exception {
    String id = UUID.randomUUID().toString();
    String db = Fixtures.database(Fixtures.client(server), "final");
    Pipeline p = new Pipeline(id, "samples." + id, "runs." + id, "thresholds." + id, new ArrayList<>());
    for (String t : List.of(p.samples(), "aggregates." + id, p.runs(), p.thresholds(), "commands." + id)) {
      kafka.createTopic(t, 2);
    }
    StreamExecutionEnvironment aggregate = FlinkMiniCluster.shared().environment(1);
    AggregateJob.build(aggregate, AggregateJobConfig.live(kafka.bootstrapServers(), server.httpUri(), server.user(),
            server.password(), db).withTopics(p.samples(), "aggregates." + id, "agg-" + id)
        .withTimes(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofMillis(500)));
    p.jobs().add(aggregate.executeAsync("final-verdict-aggregate"));
    StreamExecutionEnvironment thresholds = FlinkMiniCluster.shared().environment(1);
    ThresholdJob.build(thresholds, ThresholdJobConfig.live(kafka.bootstrapServers())
        .withTopics("aggregates." + id, p.runs(), p.thresholds(), "commands." + id, "thr-" + id)
        .withFinalGrace(finalGrace));
    p.jobs().add(thresholds.executeAsync("final-verdict-thresholds"));
    return p;
  }

  static final String PLAN = """
      {"name": "final-verdict",
       "scenarios": {"s": {"executor": "constant-vus", "vus": 2, "duration": "10s", "gracefulStop": "5s", "exec": "f"}},
       "thresholds": {"http_reqs": ["count>=%d"], "http_req_failed": ["rate<0.5"]},
       "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}
      """;

  /** Ten seconds of two generators, then each one's tail: a last batch in the run's final second. */
  static List<SampleBatch> batches(String run) {
    List<SampleBatch> out = new ArrayList<>();
    for (int s = 0; s < 10; s++) {
      for (int g = 0; g < 2; g++) {
        out.add(Fixtures.batch(run, "gen-" + g, s, BASE_US + s * 1_000_000L, 300, 1.0, 31L * s + g));
      }
    }
    for (int g = 0; g < 2; g++) {
      out.add(Fixtures.batch(run, "gen-" + g, 10, BASE_US + 10_000_000L, 150, 1.0, 7 + g));
    }
    return out;
  }

  /** The run's states, its totals those of {@code reported}: what the generators said they sent. */
  void sendStates(Pipeline p, String run, long requests, List<SampleBatch> reported) throws Exception {
    long requestsReported = reported.stream().mapToLong(b -> b.requests().size()).sum();
    sendStates(p, run, requests, new RunState.Totals(requestsReported, samples(reported), 0, requestsReported, 0, 2, 0));
  }

  static long samples(List<SampleBatch> batches) {
    return batches.stream().mapToLong(SampleBatch::size).sum();
  }

  void sendStates(Pipeline p, String run, long requests, RunState.Totals totals) throws Exception {
    long startMs = BASE_US / 1000;
    RunState running = RunState.first(run, RunStatus.CREATED, startMs - 1_000, "created", List.of(), "hash",
        PLAN.formatted(requests), null).to(RunStatus.RUNNING, startMs, "running");
    RunState finished = running.to(RunStatus.FINISHED, startMs + 11_500, "all 2 generator(s) finished")
        .withTotals(totals);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>(p.runs(), run, running.toJson())).get();
      producer.send(new ProducerRecord<>(p.runs(), run, finished.toJson())).get();
    }
  }

  /** Final results read until {@code count} have come, or none within {@code within} (then: empty). */
  static Map<String, ThresholdResult> finals(KafkaConsumer<String, String> consumer, int count, Duration within) {
    Map<String, ThresholdResult> out = new HashMap<>();
    long deadline = System.nanoTime() + within.toNanos();
    while (out.size() < count && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
        ThresholdResult t = ThresholdResult.fromJson(r.value());
        if (t.finalResult()) {
          out.put(t.threshold(), t);
        }
      }
    }
    return out;
  }

  @Test
  void theFinalVerdictWaitsForTheLastSamplesTheGeneratorsReported() throws Exception {
    Pipeline p = start(Duration.ofSeconds(60));
    String run = "final-" + p.id();
    List<SampleBatch> batches = batches(run);
    long requests = batches.stream().mapToLong(b -> b.requests().size()).sum();
    try (KafkaConsumer<String, String> consumer = ThresholdJobIT.consumer(kafka, p.thresholds())) {
      Fixtures.send(kafka, p.samples(), batches.subList(0, batches.size() - 2));
      sendStates(p, run, requests, batches);
      // The run has ended and its on-time seconds are judged, but its tail has not come: no final verdict yet,
      // however long the watermark has been past the end (event time runs on with the clock when input is
      // quiet: this window is more than the jobs' idleness and out-of-orderness together).
      assertTrue(finals(consumer, 1, Duration.ofSeconds(8)).isEmpty(), "no final verdict before the last samples");
      Fixtures.send(kafka, p.samples(), batches.subList(batches.size() - 2, batches.size()));
      Map<String, ThresholdResult> finals = finals(consumer, 2, Duration.ofSeconds(60));
      ThresholdResult count = finals.get("http_reqs: count>=" + requests);
      assertTrue(count != null, "a final result for the count: " + finals.keySet());
      assertEquals(ThresholdResult.State.PASSED, count.state());
      assertEquals(requests, (long) count.value(), "judged on every request, the tail included");
      assertFalse(count.partial());
      assertEquals(2, finals.size());
    } finally {
      p.cancel();
    }
  }

  @Test
  void aVerdictWhoseSamplesNeverAllArriveIsGivenAfterTheGraceMarkedPartial() throws Exception {
    Pipeline p = start(Duration.ofSeconds(4));
    String run = "partial-" + p.id();
    List<SampleBatch> batches = batches(run);
    long requests = batches.stream().mapToLong(b -> b.requests().size()).sum();
    try (KafkaConsumer<String, String> consumer = ThresholdJobIT.consumer(kafka, p.thresholds())) {
      Fixtures.send(kafka, p.samples(), batches.subList(0, batches.size() - 2)); // the tail never comes
      sendStates(p, run, requests - 300, batches);
      Map<String, ThresholdResult> finals = finals(consumer, 2, Duration.ofSeconds(60));
      assertEquals(2, finals.size(), finals.keySet().toString());
      finals.values().forEach(r -> assertTrue(r.partial(), "marked partial: " + r));
      assertEquals(requests - 300, (long) finals.get("http_reqs: count>=" + (requests - 300)).value(),
          "what did arrive");
    } finally {
      p.cancel();
    }
  }

  @Test
  void aRunThatLostAGeneratorGetsAPartialVerdictOnceEventTimeHasPassedItsEnd() throws Exception {
    Pipeline p = start(Duration.ofSeconds(60));
    String run = "lost-" + p.id();
    List<SampleBatch> batches = batches(run).subList(0, 12); // the generators' first 6 s; one is then lost
    long requests = batches.stream().mapToLong(b -> b.requests().size()).sum();
    try (KafkaConsumer<String, String> consumer = ThresholdJobIT.consumer(kafka, p.thresholds())) {
      Fixtures.send(kafka, p.samples(), batches);
      sendStates(p, run, requests, new RunState.Totals(requests / 2, samples(batches) / 2, 0, requests / 2, 0, 1, 1));
      // what the lost generator delivered cannot be counted: no waiting for a count, no false completeness
      Map<String, ThresholdResult> finals = finals(consumer, 2, Duration.ofSeconds(50));
      assertEquals(2, finals.size(), "final results before the 60 s grace: " + finals.keySet());
      finals.values().forEach(r -> assertTrue(r.partial(), "marked partial: " + r));
      assertEquals(requests, (long) finals.get("http_reqs: count>=" + requests).value(), "everything that arrived");
    } finally {
      p.cancel();
    }
  }
}
