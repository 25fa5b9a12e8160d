package dev.loadtest.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.plan.PlanLimits;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The running coordinator on the real broker against more than a thousand malformed commands (random and
 * mutated JSON, truncated commands, wrong keys, reused command ids, plans at and past every limit, records
 * larger than the broker takes): it keeps running, every command the broker accepted is answered in
 * {@code loadtest.runs} or {@code loadtest.dlq}, and a valid run submitted afterwards is validated.
 */
@Timeout(300)
class HostileCommandsIT {
  static final ObjectMapper JSON = new ObjectMapper();

  /** A command sent: its key and value, and where the broker put it (null when the broker refused it). */
  record Sent(String key, String value, String at) {}

  @Test
  void aThousandMalformedCommandsAreEachAnsweredAndTheCoordinatorGoesOn() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    String prefix = "hostile-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    SplittableRandom r = new SplittableRandom(18);
    List<String[]> commands = new ArrayList<>(); // key, value
    for (int i = 0; i < 1_000; i++) {
      String run = r.nextBoolean() ? prefix + r.nextInt(30) : prefix + "u-" + i;
      String key = r.nextInt(20) == 0 ? null : r.nextInt(30) == 0 ? prefix + "other" : run;
      String value = CommandFuzzTest.randomRecord(r, i, run);
      commands.add(new String[] {key, value});
    }
    commands.addAll(sizedCommands(prefix));

    Path state = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "hostile-coordinator");
    List<Sent> sent = new ArrayList<>();
    int refusedByKafka = 0;
    try (Coordinator coordinator = Coordinator.start(kafka.bootstrapServers(), state, CoordinatorConfig.defaults());
         KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
             ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
             ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20), new StringSerializer(), new StringSerializer())) {
      List<Future<RecordMetadata>> futures = new ArrayList<>();
      for (String[] c : commands) {
        futures.add(producer.send(new ProducerRecord<>(Topics.COMMANDS, c[0], c[1])));
      }
      producer.flush();
      for (int i = 0; i < commands.size(); i++) {
        try {
          RecordMetadata m = futures.get(i).get();
          sent.add(new Sent(commands.get(i)[0], commands.get(i)[1], m.partition() + "/" + m.offset()));
        } catch (ExecutionException e) {
          assertTrue(e.getCause() instanceof RecordTooLargeException, "only size is refused by the broker: " + e);
          refusedByKafka++;
        }
      }
      String valid = prefix + "valid";
      producer.send(new ProducerRecord<>(Topics.COMMANDS, valid, CoordinatorDriver.start("v-1", valid,
          CoordinatorDriver.plan()))).get();

      // Every accepted record is answered: a run state under its key, or a DLQ record at its offset.
      Map<String, List<RunState>> runs = new HashMap<>();
      Set<String> dlqAt = new HashSet<>();
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG,
          "it-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
          ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20), new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of(Topics.RUNS, Topics.DLQ));
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!answeredAll(sent, runs, dlqAt) || !runs.containsKey(valid)
            || runs.get(valid).stream().noneMatch(s -> s.status() == RunStatus.QUEUED)) {
          assertTrue(System.nanoTime() < deadline, "not every command was answered within 120 s: "
              + sent.stream().filter(s -> !answered(s, runs, dlqAt)).limit(3).map(s -> s.at() + " " + s.key()).toList());
          for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) {
            if (rec.topic().equals(Topics.RUNS) && rec.key() != null && rec.key().startsWith(prefix)) {
              runs.computeIfAbsent(rec.key(), k -> new ArrayList<>()).add(RunState.fromJson(rec.value()));
            } else if (rec.topic().equals(Topics.DLQ) && Topics.COMMANDS.equals(rec.key())) {
              JsonNode d = JSON.readTree(rec.value());
              assertFalse(d.path("reason").asText().isBlank(), rec.value());
              dlqAt.add(d.path("partition").asInt() + "/" + d.path("offset").asLong());
            }
          }
        }
      }
      assertEquals(KafkaStreams.State.RUNNING, coordinator.state(), "the coordinator is still running");
      assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.QUEUED),
          runs.get(valid).stream().map(RunState::status).toList(), "a valid run afterwards is validated and queued");
      long rejectedRuns = runs.values().stream().flatMap(List::stream).filter(s -> s.status() == RunStatus.REJECTED).count();
      for (List<RunState> states : runs.values()) {
        for (RunState s : states) {
          assertTrue(s.toJson().length() < CommandProcessor.MAX_RECORD_BYTES, "no run state is near Kafka's limit");
          if (s.status() == RunStatus.REJECTED) {
            assertFalse(s.errors().isEmpty(), s.toJson());
          }
        }
      }
      System.out.printf("hostile commands: %d tried, %d refused by the broker (over 1 MB), %d accepted: %d answered"
          + " on the DLQ, %d rejected runs, 0 unanswered%n", commands.size(), refusedByKafka, sent.size(), dlqAt.size(),
          rejectedRuns);
      assertTrue(refusedByKafka > 0 && rejectedRuns > 0 && dlqAt.size() > 500, "every kind of answer was reached");
    }
  }

  static boolean answeredAll(List<Sent> sent, Map<String, List<RunState>> runs, Set<String> dlqAt) {
    return sent.stream().allMatch(s -> answered(s, runs, dlqAt));
  }

  static boolean answered(Sent s, Map<String, List<RunState>> runs, Set<String> dlqAt) {
    return dlqAt.contains(s.at()) || (s.key() != null && runs.containsKey(s.key()));
  }

  /** Commands around and past every limit, each under a run id of its own. */
  static List<String[]> sizedCommands(String prefix) {
    List<String[]> out = new ArrayList<>();
    int n = 0;
    for (int scenarios : new int[] {PlanLimits.MAX_SCENARIOS, PlanLimits.MAX_SCENARIOS + 1, 10_000}) {
      ObjectNode p = CoordinatorDriver.plan();
      ObjectNode s = p.putObject("scenarios");
      for (int i = 0; i < scenarios; i++) {
        s.putObject("s" + i).put("executor", "constant-vus").put("vus", 1).put("duration", "1s").put("exec", "browse");
      }
      out.add(start(prefix + "size-" + n++, p));
    }
    for (int chars : new int[] {PlanLimits.MAX_DESCRIPTION_CHARS, PlanLimits.MAX_DESCRIPTION_CHARS + 1, 800_000, 1_500_000}) {
      ObjectNode p = CoordinatorDriver.plan().put("description", "d".repeat(chars));
      out.add(start(prefix + "size-" + n++, p));
    }
    for (int steps : new int[] {PlanLimits.MAX_STEPS - 10, PlanLimits.MAX_STEPS + 1}) {
      ObjectNode p = CoordinatorDriver.plan();
      var list = p.putObject("flows").putObject("browse").putArray("steps");
      for (int i = 0; i < steps; i++) {
        list.addObject().put("think", "1ms");
      }
      p.remove("scenarios");
      p.putObject("scenarios").putObject("s").put("executor", "constant-vus").put("vus", 1).put("duration", "1s")
          .put("exec", "browse");
      p.remove("thresholds");
      out.add(start(prefix + "size-" + n++, p));
    }
    for (int bytes : new int[] {PlanLimits.MAX_BYTES - 4_096, PlanLimits.MAX_BYTES + 1}) {
      ObjectNode p = CoordinatorDriver.plan();
      var rows = p.putObject("feeders").putObject("users").put("pick", "random").putArray("data");
      String value = "v".repeat(200);
      while (p.toString().length() < bytes - 300) {
        rows.addObject().put("u", value);
      }
      out.add(start(prefix + "size-" + n++, p));
    }
    String run = prefix + "size-" + n++;
    out.add(new String[] {"k".repeat(500_000), CoordinatorDriver.start("c", run, CoordinatorDriver.plan())});
    out.add(new String[] {run, "{\"type\":\"start\"," + " ".repeat(1_200_000) + "}"});
    // a start, then a stop and an abort reusing its command id
    String reused = prefix + "reused";
    out.add(new String[] {reused, CoordinatorDriver.start("same", reused, CoordinatorDriver.plan())});
    out.add(new String[] {reused, "{\"type\":\"stop\",\"commandId\":\"same\",\"testRunId\":\"" + reused + "\"}"});
    out.add(new String[] {reused, "{\"type\":\"abort\",\"commandId\":\"same\",\"testRunId\":\"" + reused + "\"}"});
    return out;
  }

  static String[] start(String run, ObjectNode plan) {
    return new String[] {run, CoordinatorDriver.start("c-" + run, run, plan)};
  }
}
