package dev.loadtest.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.generator.GeneratorJson;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The coordinator is stopped mid-run and started again on an empty state directory: the run's state
 * comes back from Kafka (exactly-once changelogs) and the run goes on to its end.
 */
@Timeout(240)
class CoordinatorRestartIT {
  final Map<String, RunState> latest = new ConcurrentHashMap<>();

  RunState await(KafkaConsumer<String, String> runs, String run, Predicate<RunState> p) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      RunState s = latest.get(run);
      if (s != null && p.test(s)) {
        return s;
      }
      runs.poll(Duration.ofMillis(200)).forEach(r -> latest.merge(r.key(), RunState.fromJson(r.value()),
          (a, b) -> b.version() >= a.version() ? b : a));
    }
    throw new AssertionError("run " + run + " did not get there; last: " + latest.get(run));
  }

  static String heartbeat(String phase, String run) {
    List<Heartbeat.RunProgress> runs = phase == null ? List.of()
        : List.of(new Heartbeat.RunProgress(run, "0:1", Heartbeat.RunPhase.valueOf(phase), 5, 0, 5, 15, 0, 0, ""));
    return GeneratorJson.heartbeat(new Heartbeat("restart-gen", "local:eu", 2, 10_000, "test", 0, 0.1, 1, 2, 0.1, runs,
        List.of(), System.currentTimeMillis()));
  }

  @Test
  void aRunsStateSurvivesARestartOfTheCoordinator() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    String run = "restart-" + UUID.randomUUID();
    String schedule = "restart-schedule-" + UUID.randomUUID().toString().substring(0, 8);
    long scheduledAt = (System.currentTimeMillis() / 1000 + 25) * 1000;
    String scheduledRun = schedule + "-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmm")
        .withZone(java.time.ZoneOffset.UTC).format(Instant.ofEpochMilli(scheduledAt));
    String plan = """
        {"name": "restart", "scenarios": {"s": {"executor": "constant-vus", "vus": 5, "duration": "10m", "exec": "f"}},
         "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:9/", "name": "p"}}]}}}""";
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new StringSerializer());
         KafkaConsumer<String, String> runs = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG,
            "it-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
            new StringDeserializer(), new StringDeserializer())) {
      runs.subscribe(List.of(Topics.RUNS));
      RunState running;
      try (Coordinator first = Coordinator.start(kafka.bootstrapServers(), Files.createTempDirectory(tmp, "c1"),
          CoordinatorConfig.defaults())) {
        producer.send(new ProducerRecord<>(Topics.GENERATORS, "restart-gen", heartbeat(null, run))).get();
        producer.send(new ProducerRecord<>(Topics.COMMANDS, run, "{\"type\":\"start\",\"commandId\":\"c-1\",\"testRunId\":\""
            + run + "\",\"plan\":" + plan + "}")).get();
        // A schedule kept by this instance, due only after it has stopped.
        producer.send(new ProducerRecord<>(Topics.COMMANDS, schedule, "{\"type\":\"schedule\",\"commandId\":\"s-1\","
            + "\"scheduleId\":\"" + schedule + "\",\"recurrence\":{\"frequency\":\"daily\",\"startsAt\":\""
            + Instant.ofEpochMilli(scheduledAt) + "\"},\"plan\":" + plan + "}")).get();
        await(runs, run, s -> s.status() == RunStatus.ALLOCATED);
        producer.send(new ProducerRecord<>(Topics.GENERATORS, "restart-gen", heartbeat("RUNNING", run))).get();
        running = await(runs, run, s -> s.status() == RunStatus.RUNNING);
      }
      // A new instance with an empty state directory restores the run and the schedule from the changelogs.
      long secondStarted = System.currentTimeMillis();
      try (Coordinator second = Coordinator.start(kafka.bootstrapServers(), Files.createTempDirectory(tmp, "c2"),
          CoordinatorConfig.defaults())) {
        producer.send(new ProducerRecord<>(Topics.GENERATORS, "restart-gen", heartbeat("FINISHED", run))).get();
        RunState done = await(runs, run, s -> s.status().terminal());
        assertEquals(RunStatus.FINISHED, done.status(), done.history().toString());
        assertEquals(running.version() + 1, done.version(), "the restored state went on from where it was");
        assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.ALLOCATED, RunStatus.RUNNING,
            RunStatus.FINISHED), done.history().stream().map(RunState.Transition::status).toList());
        assertEquals(running.planHash(), done.planHash());
        // The command id is remembered too: the same start again has no second effect.
        producer.send(new ProducerRecord<>(Topics.COMMANDS, run, "{\"type\":\"start\",\"commandId\":\"c-1\",\"testRunId\":\""
            + run + "\",\"plan\":" + plan + "}")).get();
        producer.send(new ProducerRecord<>(Topics.GENERATORS, "restart-gen", heartbeat(null, run))).get();
        assertTrue(await(runs, run, s -> true).version() == done.version(), "no new state for a repeated command");
        RunState fromSchedule = await(runs, scheduledRun, s -> true);
        assertTrue(secondStarted < scheduledAt && fromSchedule.history().get(0).atMs() >= scheduledAt,
            "started by the restored schedule, when it was due");
        assertEquals(schedule, fromSchedule.metadata().tags().get("schedule"));

      }
    }
  }
}
