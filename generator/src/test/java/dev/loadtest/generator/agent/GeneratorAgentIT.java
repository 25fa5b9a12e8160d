package dev.loadtest.generator.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.generator.testing.RecordingServer;
import dev.loadtest.generator.testing.SampleTopic;
import dev.loadtest.schemas.generator.Assignment;
import dev.loadtest.schemas.generator.GeneratorJson;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two generator agents in different load zones on the real broker, driven by assignments as the
 * coordinator sends them: their segments add up, they start together, and stop and abort reach them.
 */
@Timeout(180)
class GeneratorAgentIT {
  static EmbeddedKafka kafka;
  static RecordingServer server;
  static GeneratorAgent a;
  static GeneratorAgent b;
  static KafkaProducer<String, String> producer;
  static KafkaConsumer<String, String> heartbeats;
  static final Map<String, Heartbeat.RunProgress> lastProgress = new ConcurrentHashMap<>();
  static final Map<String, Heartbeat> lastHeartbeat = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    kafka = SampleTopic.kafkaWithTopics();
    server = new RecordingServer();
    heartbeats = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest"),
        new StringDeserializer(), new StringDeserializer());
    heartbeats.subscribe(List.of(Topics.GENERATORS));
    a = agent("gen-a", "local:eu");
    b = agent("gen-b", "local:us");
    producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        new StringSerializer(), new StringSerializer());
  }

  static GeneratorAgent agent(String id, String zone) throws InterruptedException {
    return GeneratorAgent.join(GeneratorConfig.of(id, zone, kafka.bootstrapServers()), Path.of("."));
  }

  @AfterAll
  static void stop() throws Exception {
    a.close();
    b.close();
    producer.close();
    heartbeats.close();
    server.close();
  }

  static void send(Assignment x) throws Exception {
    producer.send(new ProducerRecord<>(Topics.ASSIGNMENTS, x.generatorId(), GeneratorJson.assignment(x))).get();
  }

  /** Reads heartbeats until a run's progress on a generator satisfies {@code p}. */
  static Heartbeat.RunProgress awaitProgress(String generator, String run, Predicate<Heartbeat.RunProgress> p,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Heartbeat.RunProgress got = lastProgress.get(generator + "/" + run);
      if (got != null && p.test(got)) {
        return got;
      }
      heartbeats.poll(Duration.ofMillis(200)).forEach(r -> {
        Heartbeat h = GeneratorJson.parseHeartbeat(r.value());
        lastHeartbeat.put(h.generatorId(), h);
        h.runs().forEach(x -> lastProgress.put(h.generatorId() + "/" + x.testRunId(), x));
      });
    }
    throw new AssertionError("no heartbeat of " + generator + " showed the expected progress of " + run
        + " within " + timeout + "; last: " + lastProgress.get(generator + "/" + run));
  }

  private static String plan(String scenario) {
    return """
        {"name": "agents", "env": {"BASE": "%s"}, "scenarios": {"s": %s},
         "flows": {"f": {"steps": [{"request": {"url": "${ENV.BASE}/products/${__RUN}", "name": "p"}},
                                   {"think": "20ms"}]}}}
        """.formatted(server.baseUrl(), scenario);
  }

  @Test
  void twoAgentsRunTheirSegmentsTogetherAndTheSharesAddUp() throws Exception {
    String run = "agents-" + UUID.randomUUID();
    String planJson = plan("""
        {"executor": "shared-iterations", "vus": 6, "iterations": 301, "exec": "f"}""").replace("${__RUN}", "1");
    long startAt = System.currentTimeMillis() + 2_000;
    server.clear();
    send(new Assignment.Start(run, "gen-a", planJson, "0,2/5,1", 0, startAt));
    send(new Assignment.Start(run, "gen-b", planJson, "0,2/5,1", 1, startAt));
    Heartbeat.RunProgress pa = awaitProgress("gen-a", run, x -> x.phase() == Heartbeat.RunPhase.FINISHED,
        Duration.ofSeconds(60));
    Heartbeat.RunProgress pb = awaitProgress("gen-b", run, x -> x.phase() == Heartbeat.RunPhase.FINISHED,
        Duration.ofSeconds(60));
    assertEquals(301, server.count("GET", "/products/1"));
    // As k6 deals shared-iterations: by each segment's share of the VUs. Striped over 0,2/5,1, segment 0:2/5 has 2
    // of the 6 VUs, so a third of the 301 iterations (k6: 100 and 201, not 2/5 of 301).
    assertEquals(100, pa.iterations(), "segment 0:2/5 does its VUs' share of 301, as k6 does");
    assertEquals(201, pb.iterations());
    assertEquals(0, pa.undeliveredSamples() + pb.undeliveredSamples());
    // Synchronized start: neither generator sent anything before the start time, both within 300 ms of it.
    long first = server.seen().stream().mapToLong(RecordingServer.Seen::atNanos).min().orElseThrow();
    long firstEpochMs = System.currentTimeMillis() - (System.nanoTime() - first) / 1_000_000;
    assertTrue(Math.abs(firstEpochMs - startAt) < 300, "first request " + (firstEpochMs - startAt) + " ms after start");
    Heartbeat h = lastHeartbeat.get("gen-b");
    assertEquals("local:us", h.loadZone());
    assertTrue(h.cores() >= 1 && h.capacityVus() > 0 && h.heapUsedBytes() > 0, h.toString());
  }

  @Test
  void stopLetsIterationsFinishAndAbortEndsThemAtOnce() throws Exception {
    String stopRun = "stop-" + UUID.randomUUID();
    String abortRun = "abort-" + UUID.randomUUID();
    String longPlan = plan("""
        {"executor": "constant-vus", "vus": 4, "duration": "10m", "gracefulStop": "30s", "exec": "f"}""")
        .replace("${__RUN}", "2");
    long now = System.currentTimeMillis();
    send(new Assignment.Start(stopRun, "gen-a", longPlan, "0,1/2,1", 0, now));
    send(new Assignment.Start(stopRun, "gen-b", longPlan, "0,1/2,1", 1, now));
    awaitProgress("gen-a", stopRun, x -> x.iterations() > 10, Duration.ofSeconds(30));
    awaitProgress("gen-b", stopRun, x -> x.iterations() > 10, Duration.ofSeconds(30));
    long t0 = System.nanoTime();
    send(new Assignment.Stop(stopRun, "gen-a"));
    send(new Assignment.Stop(stopRun, "gen-b"));
    awaitProgress("gen-a", stopRun, x -> x.phase() == Heartbeat.RunPhase.FINISHED, Duration.ofSeconds(30));
    awaitProgress("gen-b", stopRun, x -> x.phase() == Heartbeat.RunPhase.FINISHED, Duration.ofSeconds(30));
    assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "a stop ends a 10-minute run within seconds");

    String slow = plan("""
        {"executor": "constant-vus", "vus": 2, "duration": "10m", "gracefulStop": "5m", "exec": "f"}""")
        .replace("/products/${__RUN}", "/slow");
    server.stallFor(60_000_000_000L);
    send(new Assignment.Start(abortRun, "gen-a", slow, "0,1", 0, System.currentTimeMillis()));
    awaitProgress("gen-a", abortRun, x -> x.phase() == Heartbeat.RunPhase.RUNNING && x.requests() == 0,
        Duration.ofSeconds(30));
    long t1 = System.nanoTime();
    send(new Assignment.Abort(abortRun, "gen-a", "test says so"));
    Heartbeat.RunProgress aborted = awaitProgress("gen-a", abortRun, x -> x.phase() == Heartbeat.RunPhase.ABORTED,
        Duration.ofSeconds(30));
    server.stallFor(0);
    assertTrue(System.nanoTime() - t1 < 5_000_000_000L, "abort does not wait for stalled requests or gracefulStop");
    assertEquals(0, aborted.iterations());
  }

  @Test
  void anInvalidAssignmentIsRefusedWithItsReasonAndTheAgentGoesOn() throws Exception {
    String run = "bad-" + UUID.randomUUID();
    send(new Assignment.Start(run, "gen-b", "{\"name\": \"x\", \"scenarios\": {}, \"flows\": {}}", "0,1", 0,
        System.currentTimeMillis()));
    Heartbeat.RunProgress p = awaitProgress("gen-b", run, x -> x.phase() == Heartbeat.RunPhase.FAILED,
        Duration.ofSeconds(30));
    assertTrue(p.message().contains("invalid plan") && p.message().contains("$.scenarios"), p.message());
    producer.send(new ProducerRecord<>(Topics.ASSIGNMENTS, "gen-b", "not json")).get();
    twoAgentsRunTheirSegmentsTogetherAndTheSharesAddUp();
  }
}
