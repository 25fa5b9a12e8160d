package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.generator.agent.GeneratorAgent;
import dev.loadtest.generator.agent.GeneratorConfig;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.topics.Topics;
import dev.loadtest.topology.Coordinator;
import dev.loadtest.topology.CoordinatorConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.NewTopic;
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
 * The coordinator and two generator agents in two load zones, on the real broker: a start command
 * becomes a run split across both generators by zone, which start together, run, and finish; stop and
 * abort reach them.
 */
@Timeout(240)
class CoordinatorWithGeneratorsIT {
  static EmbeddedKafka kafka;
  static HttpServer target;
  static final Map<String, AtomicLong> hits = new ConcurrentHashMap<>();
  static Coordinator coordinator;
  static GeneratorAgent eu;
  static GeneratorAgent us;
  static KafkaProducer<String, String> producer;
  static KafkaConsumer<String, String> runs;
  static final Map<String, RunState> latest = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
    target.createContext("/", ex -> {
      hits.computeIfAbsent(ex.getRequestURI().getPath(), k -> new AtomicLong()).incrementAndGet();
      byte[] body = "{\"ok\":true}".getBytes();
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    target.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    target.start();
    Path state = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "coordinator");
    coordinator = Coordinator.start(kafka.bootstrapServers(), state, CoordinatorConfig.defaults());
    eu = agent("gen-eu", "local:eu");
    us = agent("gen-us", "local:us");
    producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        new StringSerializer(), new StringSerializer());
    runs = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
        new StringDeserializer(), new StringDeserializer());
    runs.subscribe(List.of(Topics.RUNS));
  }

  static GeneratorAgent agent(String id, String zone) throws InterruptedException {
    return GeneratorAgent.join(GeneratorConfig.of(id, zone, kafka.bootstrapServers()), Path.of("."));
  }

  @AfterAll
  static void stop() throws Exception {
    eu.close();
    us.close();
    coordinator.close();
    producer.close();
    runs.close();
    target.stop(0);
  }

  static RunState await(String run, Predicate<RunState> p, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      RunState s = latest.get(run);
      if (s != null && p.test(s)) {
        return s;
      }
      runs.poll(Duration.ofMillis(200)).forEach(r -> latest.merge(r.key(), RunState.fromJson(r.value()),
          (a, b) -> b.version() >= a.version() ? b : a));
    }
    throw new AssertionError("run " + run + " did not get there within " + timeout + "; last: " + latest.get(run));
  }

  static String plan(String path, String scenario) {
    return """
        {"name": "e2e", "env": {"BASE": "http://127.0.0.1:%d"},
         "scenarios": {"s": %s},
         "flows": {"f": {"steps": [{"request": {"url": "${ENV.BASE}%s", "name": "p"}}, {"think": "10ms"}]}},
         "distribution": {"eu": {"loadZone": "local:eu", "percent": 60}, "us": {"loadZone": "local:us", "percent": 40}}}
        """.formatted(target.getAddress().getPort(), scenario, path);
  }

  /** Waits until the target has seen more than {@code n} requests to {@code path}. */
  static void awaitHits(String path, long n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (hits.getOrDefault(path, new AtomicLong()).get() <= n && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
    }
    assertTrue(hits.getOrDefault(path, new AtomicLong()).get() > n, "the generators sent load to " + path);
  }

  static void command(String run, String json) throws Exception {
    producer.send(new ProducerRecord<>(Topics.COMMANDS, run, json)).get();
  }

  static String start(String run, String plan) {
    return "{\"type\":\"start\",\"commandId\":\"" + UUID.randomUUID() + "\",\"testRunId\":\"" + run
        + "\",\"plan\":" + plan + ",\"metadata\":{\"name\":\"e2e\",\"who\":\"it\"}}";
  }

  @Test
  void aStartCommandRunsAcrossBothZonesAndFinishesWithEveryIterationDoneOnce() throws Exception {
    String run = "e2e-" + UUID.randomUUID();
    command(run, start(run, plan("/once", """
        {"executor": "shared-iterations", "vus": 4, "iterations": 250, "exec": "f"}""")));
    RunState done = await(run, s -> s.status().terminal(), Duration.ofSeconds(90));
    assertEquals(RunStatus.FINISHED, done.status(), done.history().toString());
    assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.ALLOCATED, RunStatus.RUNNING,
        RunStatus.FINISHED), done.history().stream().map(RunState.Transition::status).toList());
    assertEquals(250, hits.get("/once").get(), "the two segments add up to the whole run");
    assertTrue(done.history().get(2).reason().contains("gen-eu (local:eu, 0:3/5)"), done.history().get(2).reason());
  }

  @Test
  void stopAndAbortReachTheGenerators() throws Exception {
    String stopped = "stop-" + UUID.randomUUID();
    command(stopped, start(stopped, plan("/long", """
        {"executor": "constant-vus", "vus": 4, "duration": "10m", "exec": "f"}""")));
    await(stopped, s -> s.status() == RunStatus.RUNNING, Duration.ofSeconds(60));
    awaitHits("/long", 50, Duration.ofSeconds(30));
    command(stopped, "{\"type\":\"stop\",\"commandId\":\"s-1\",\"testRunId\":\"" + stopped + "\"}");
    RunState finished = await(stopped, s -> s.status().terminal(), Duration.ofSeconds(60));
    assertEquals(RunStatus.FINISHED, finished.status(), "a stopped run finishes when its generators have");

    String aborted = "abort-" + UUID.randomUUID();
    command(aborted, start(aborted, plan("/long", """
        {"executor": "constant-vus", "vus": 4, "duration": "10m", "exec": "f"}""")));
    await(aborted, s -> s.status() == RunStatus.RUNNING, Duration.ofSeconds(60));
    long sofar = hits.get("/long").get();
    awaitHits("/long", sofar + 50, Duration.ofSeconds(30));
    command(aborted, "{\"type\":\"abort\",\"commandId\":\"a-1\",\"testRunId\":\"" + aborted
        + "\",\"reason\":\"enough\",\"source\":\"user\"}");
    RunState end = await(aborted, s -> s.status().terminal(), Duration.ofSeconds(30));
    assertEquals(RunStatus.ABORTED, end.status());
    // The generators stop sending: the count settles once they have the abort.
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    long before = -1;
    long now = hits.get("/long").get();
    while (now != before && System.nanoTime() < deadline) {
      before = now;
      java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
      now = hits.get("/long").get();
    }
    assertEquals(before, now, "no more requests after the abort reached the generators");
  }
}
