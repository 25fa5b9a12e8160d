package dev.loadtest.flink.aggregate;

import static dev.loadtest.flink.testing.Fixtures.number;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.FlinkJobs;
import dev.loadtest.flink.testing.Fixtures;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The live aggregate job, with the restart strategy it runs with everywhere, against a samples topic that
 * one team's valid run shares with more than a thousand hostile records: garbage, truncated and bit-flipped
 * batches, batches hours ahead or at the epoch, exact copies of the valid run's batches, batches keyed as
 * another run, empty values. The valid run is stored exactly, every hostile record that cannot be a valid
 * batch reaches the DLQ with where it was and why, and the job never fails.
 */
@Timeout(300)
class HostileSamplesIT {
  static final long BASE_US = 1_775_000_000_000_000L;
  final EmbeddedKafka kafka = EmbeddedKafka.shared();
  final ClickHouseServer server = ClickHouseServer.shared();
  final ClickHouseHttp ch = Fixtures.client(server);
  final ObjectMapper json = new ObjectMapper();

  /** A hostile record: its key, value, and the reason fragment its DLQ record must carry (null: any or none). */
  record Hostile(String key, byte[] value, String expectedReason) {}

  @Test
  void aThousandHostileRecordsNeitherStopTheJobNorTouchAnotherRunsCounts() throws Exception {
    String db = Fixtures.database(ch, "hostile");
    String topic = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(topic, 3);
    kafka.createTopic(Topics.DLQ, 1);
    String victim = "victim-" + UUID.randomUUID();
    String fuzz = "fuzz-" + UUID.randomUUID();

    List<SampleBatch> valid = new ArrayList<>();
    for (int k = 0; k < 20; k++) {
      for (int g = 0; g < 2; g++) {
        valid.add(Fixtures.batch(victim, "gen-" + g, 1_000 + k, BASE_US + k * 1_000_000L, 200, 1.0, 11L * k + g));
      }
    }
    long expected = valid.stream().mapToLong(b -> b.requests().size()).sum();
    SplittableRandom r = new SplittableRandom(42);
    List<Hostile> hostile = hostileRecords(r, victim, fuzz, valid);
    long certain = hostile.stream().filter(h -> h.expectedReason() != null).count();
    assertTrue(hostile.size() >= 1_000 && certain >= 1_000, hostile.size() + " hostile records, " + certain + " certain");

    String id = UUID.randomUUID().toString();
    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(2);
    env.configure(FlinkJobs.restartStrategy());
    AggregateJob.build(env, AggregateJobConfig.live(kafka.bootstrapServers(), server.httpUri(), server.user(),
            server.password(), db)
        .withTopics(topic, "aggregates." + id, "hostile-" + UUID.randomUUID())
        .withTimes(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofMillis(500)));
    JobClient job = env.executeAsync("hostile-samples-it");
    // The threshold job judges the victim run on what the aggregate job publishes: copies must not inflate
    // its count, nor rejected records blind it.
    for (String t : List.of("aggregates." + id, "runs." + id, "thresholds." + id, "commands." + id)) {
      kafka.createTopic(t, 2);
    }
    StreamExecutionEnvironment judgeEnv = FlinkMiniCluster.shared().environment(1);
    judgeEnv.configure(FlinkJobs.restartStrategy());
    dev.loadtest.flink.threshold.ThresholdJob.build(judgeEnv, dev.loadtest.flink.threshold.ThresholdJobConfig
        .live(kafka.bootstrapServers()).withTopics("aggregates." + id, "runs." + id, "thresholds." + id, "commands." + id,
            "thr-" + id));
    JobClient judge = judgeEnv.executeAsync("hostile-samples-thresholds-it");
    Map<String, Hostile> sentAt = new HashMap<>(); // "partition/offset" -> the hostile record there
    List<String> validAt = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new ByteArraySerializer(),
        new ByteArraySerializer())) {
      // The valid batches, each followed by its share of hostile records (copies of a batch come after it).
      int copies = 150; // the last ones: they must come after their originals
      int perValid = (hostile.size() - copies) / valid.size() + 1;
      int h = 0;
      List<Future<RecordMetadata>> validSent = new ArrayList<>();
      Map<Hostile, Future<RecordMetadata>> hostileSent = new HashMap<>();
      for (SampleBatch b : valid) {
        validSent.add(producer.send(new ProducerRecord<>(topic, b.testRunId().getBytes(StandardCharsets.UTF_8),
            SampleBatchCodec.encode(b))));
        for (int i = 0; i < perValid && h < hostile.size() - copies; i++, h++) {
          Hostile x = hostile.get(h);
          hostileSent.put(x, producer.send(new ProducerRecord<>(topic,
              x.key() == null ? null : x.key().getBytes(StandardCharsets.UTF_8), x.value())));
        }
      }
      for (; h < hostile.size(); h++) {
        Hostile x = hostile.get(h);
        hostileSent.put(x, producer.send(new ProducerRecord<>(topic, x.key().getBytes(StandardCharsets.UTF_8), x.value())));
      }
      producer.flush();
      for (Map.Entry<Hostile, Future<RecordMetadata>> e : hostileSent.entrySet()) {
        sentAt.put(e.getValue().get().partition() + "/" + e.getValue().get().offset(), e.getKey());
      }
      for (Future<RecordMetadata> f : validSent) {
        validAt.add(f.get().partition() + "/" + f.get().offset());
      }
    }

    String where = " FINAL WHERE test_run_id = " + ClickHouseHttp.quote(victim) + " AND analysis_id = ''"
        + " AND metric = 'http_reqs'";
    String counted = "SELECT sum(count) FROM " + Fixtures.from("metric_1s", where);
    Fixtures.await(Duration.ofSeconds(120), "the valid run's " + expected + " requests in ClickHouse",
        () -> number(ch, db, counted) >= expected
            && number(ch, db, "SELECT sum(count) FROM metric_1m" + where) >= expected);
    List<JsonNode> dlq = new ArrayList<>();
    Fixtures.await(Duration.ofSeconds(60), certain + " rejections of " + topic + " in the DLQ", () -> {
      dlq.clear();
      dlq.addAll(Fixtures.dlqRecords(kafka, topic));
      return dlq.size() >= certain;
    });
    // The run ends: its state, with the requests its generators reported, goes to the judge.
    String plan = """
        {"name": "victim", "scenarios": {"s": {"executor": "constant-vus", "vus": 2, "duration": "20s", "exec": "f"}},
         "thresholds": {"http_reqs": ["count==%d"]},
         "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}""".formatted(expected);
    dev.loadtest.schemas.run.RunState running = dev.loadtest.schemas.run.RunState.first(victim,
        dev.loadtest.schemas.run.RunStatus.CREATED, BASE_US / 1000 - 1_000, "created", List.of(), "h", plan, null)
        .to(dev.loadtest.schemas.run.RunStatus.RUNNING, BASE_US / 1000, "running");
    dev.loadtest.schemas.run.RunState finished = running.to(dev.loadtest.schemas.run.RunStatus.FINISHED,
        BASE_US / 1000 + 20_500, "finished").withTotals(new dev.loadtest.schemas.run.RunState.Totals(expected,
        valid.stream().mapToLong(SampleBatch::size).sum(), 0, expected, 0, 2, 0));
    try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()), new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.StringSerializer())) {
      p.send(new ProducerRecord<>("runs." + id, victim, running.toJson())).get();
      p.send(new ProducerRecord<>("runs." + id, victim, finished.toJson())).get();
    }
    dev.loadtest.schemas.threshold.ThresholdResult verdict = null;
    try (KafkaConsumer<String, String> c = Fixtures.stringConsumer(kafka, "thresholds." + id)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (verdict == null && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> rec : c.poll(Duration.ofMillis(300))) {
          var t = dev.loadtest.schemas.threshold.ThresholdResult.fromJson(rec.value());
          if (t.finalResult()) {
            verdict = t;
          }
        }
      }
    }
    try {
      assertEquals(JobStatus.RUNNING, job.getJobStatus().get(), "no record failed the aggregate job");
      assertEquals(JobStatus.RUNNING, judge.getJobStatus().get(), "nor the threshold job");
    } finally {
      job.cancel().get();
      judge.cancel().get();
    }
    assertTrue(verdict != null, "the victim run's final verdict came");
    assertEquals(dev.loadtest.schemas.threshold.ThresholdResult.State.PASSED, verdict.state(), verdict.toString());
    assertEquals(expected, (long) verdict.value(), "judged on the valid requests exactly, copies not counted");
    assertTrue(!verdict.partial(), "with all of its data");

    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      assertEquals(expected, number(ch, db, "SELECT sum(count) FROM " + Fixtures.from(table, where)),
          "the valid run, exactly, in " + table);
      assertEquals(expected, number(ch, db, "SELECT sum(count) FROM " + Fixtures.from(table,
          where.replace("analysis_id = ''", "analysis_id = '~total'"))), "and its total projection in " + table);
    }
    // Every record that cannot be a valid batch is in the DLQ once, where it was, with its reason; no valid
    // batch of the victim is.
    Map<String, JsonNode> rejected = new HashMap<>();
    for (JsonNode d : dlq) {
      assertEquals(topic, d.path("topic").asText());
      assertTrue(d.path("partition").isInt() && d.path("offset").isIntegralNumber() && d.path("reason").isTextual(), d::toString);
      String at = d.path("partition").asInt() + "/" + d.path("offset").asLong();
      assertTrue(rejected.put(at, d) == null, "one DLQ record per rejected record: " + at);
      assertTrue(!validAt.contains(at), "a valid batch was rejected: " + d.path("reason"));
    }
    for (Map.Entry<String, Hostile> e : sentAt.entrySet()) {
      String reason = e.getValue().expectedReason();
      if (reason != null) {
        JsonNode d = rejected.get(e.getKey());
        assertTrue(d != null, "the hostile record at " + e.getKey() + " (" + reason + ") is in the DLQ");
        assertTrue(d.path("reason").asText().contains(reason), "reason at " + e.getKey() + ": " + d.path("reason"));
      }
    }
    System.out.printf("hostile samples: %d sent (%d certainly invalid), %d rejected to the DLQ, valid run %d of %d"
        + " requests stored%n", hostile.size(), certain, dlq.size(), number(ch, db, counted), expected);
  }

  static List<Hostile> hostileRecords(SplittableRandom r, String victim, String fuzz, List<SampleBatch> valid) {
    List<Hostile> out = new ArrayList<>();
    long now = System.currentTimeMillis() * 1000;
    for (int i = 0; i < 300; i++) { // garbage
      byte[] v = new byte[r.nextInt(2_000)];
      r.nextBytes(v);
      out.add(new Hostile(victim, v, "not a sample batch"));
    }
    byte[] header = Arrays.copyOf(SampleBatchCodec.encode(valid.get(0)), 10);
    for (int i = 0; i < 150; i++) { // the right header, a random body
      byte[] v = Arrays.copyOf(header, 10 + r.nextInt(1, 500));
      byte[] body = new byte[v.length - 10];
      r.nextBytes(body);
      System.arraycopy(body, 0, v, 10, body.length);
      out.add(new Hostile(fuzz, v, null));
    }
    for (int i = 0; i < 250; i++) { // truncated
      byte[] whole = SampleBatchCodec.encode(Fixtures.batch(fuzz, "trunc", i, BASE_US, 50, 1.0, i));
      out.add(new Hostile(fuzz, Arrays.copyOf(whole, r.nextInt(whole.length - 1)), "not a sample batch"));
    }
    for (int i = 0; i < 150; i++) { // bit flips: may still be a valid batch of the fuzz run
      byte[] v = SampleBatchCodec.encode(Fixtures.batch(fuzz, "flip", i, BASE_US, 50, 1.0, i));
      for (int f = 0; f < 3; f++) {
        int at = r.nextInt(v.length);
        v[at] ^= (byte) (1 << r.nextInt(8));
      }
      out.add(new Hostile(fuzz, v, null));
    }
    for (int i = 0; i < 50; i++) { // a generator whose clock is 2 hours fast
      out.add(new Hostile(fuzz, SampleBatchCodec.encode(Fixtures.batch(fuzz, "fast", i, now + 7_200_000_000L, 20, 1.0, i)),
          "ahead of the job's clock"));
    }
    for (int i = 0; i < 50; i++) { // at the epoch, and before it
      long start = i % 2 == 0 ? 0 : -86_400_000_000L * (1 + i);
      out.add(new Hostile(fuzz, SampleBatchCodec.encode(Fixtures.batch(fuzz, "epoch", i, start, 20, 1.0, i)),
          "is before 2000"));
    }
    for (int i = 0; i < 25; i++) { // a sample decades after the batch's base time
      SampleBatchBuilder b = new SampleBatchBuilder(fuzz, "far", "zone", i, BASE_US);
      int ts = b.tagSet("name", "far");
      b.addRequest(BASE_US + 1_000_000L * 86_400 * 365 * (30 + i), ts, 1000, 0, 0, 0, 1, 998, 1, 10, 10, false, 1);
      out.add(new Hostile(fuzz, SampleBatchCodec.encode(b.build()), "ahead of the job's clock"));
    }
    for (int i = 0; i < 150; i++) { // another run's batch keyed as the victim's (mislabelled), or unkeyed
      byte[] v = SampleBatchCodec.encode(Fixtures.batch(fuzz, "label", i, BASE_US, 20, 1.0, i));
      out.add(new Hostile(i % 2 == 0 ? victim : null, v, "is not the run id inside the batch"));
    }
    for (int i = 0; i < 50; i++) { // the victim's run id inside, but a key of another run
      byte[] v = SampleBatchCodec.encode(Fixtures.batch(victim, "intruder", i, BASE_US, 20, 1.0, i));
      out.add(new Hostile(fuzz, v, "is not the run id inside the batch"));
    }
    for (int i = 0; i < 50; i++) { // empty values
      out.add(new Hostile(victim, new byte[0], "not a sample batch"));
    }
    // Interleave the kinds.
    List<Hostile> shuffled = new ArrayList<>(out);
    for (int i = shuffled.size() - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      Hostile t = shuffled.get(i);
      shuffled.set(i, shuffled.get(j));
      shuffled.set(j, t);
    }
    for (int i = 0; i < 150; i++) { // exact copies of the valid run's batches, produced again after them
      SampleBatch copy = valid.get(i % valid.size());
      shuffled.add(new Hostile(victim, SampleBatchCodec.encode(copy), "duplicate"));
    }
    return shuffled;
  }


}
