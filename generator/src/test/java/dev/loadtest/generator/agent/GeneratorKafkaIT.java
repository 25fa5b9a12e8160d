package dev.loadtest.generator.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.generator.sink.KafkaPublisher;
import dev.loadtest.generator.testing.RecordingServer;
import dev.loadtest.generator.testing.SampleTopic;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.sample.SampleBatch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A generator running a plan on its own, every sample through the real broker. */
@Timeout(180)
class GeneratorKafkaIT {
  static EmbeddedKafka kafka;
  static RecordingServer server;

  @BeforeAll
  static void start() throws Exception {
    kafka = SampleTopic.kafkaWithTopics();
    server = new RecordingServer();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void samplesReadBackFromTheBrokerMatchTheRequestsTheServerSawOneForOne() throws Exception {
    String runId = "it-" + UUID.randomUUID();
    String plan = """
        {"name": "kafka", "env": {"BASE": "%s"},
         "scenarios": {"s": {"executor": "shared-iterations", "vus": 20, "iterations": 3000, "exec": "f"}},
         "flows": {"f": {"steps": [
            {"request": {"url": "${ENV.BASE}/products", "name": "products", "checks": [{"status": 200}]}},
            {"probability": 0.5, "request": {"url": "${ENV.BASE}/products/${ENV.ID}", "name": "product"}},
            {"request": {"url": "${ENV.BASE}/status/500", "name": "broken"}}]}}}
        """.formatted(server.baseUrl());
    RunReport report;
    try (KafkaPublisher publisher = new KafkaPublisher(kafka.bootstrapServers(), "it", Map.of());
         Generator g = new Generator(GeneratorConfig.of("g-local", "local:test", kafka.bootstrapServers()), publisher)) {
      report = g.runLocal(runId, plan, Map.of("ID", "7"), Path.of("."));
    }
    assertEquals(Heartbeat.RunPhase.FINISHED, report.phase(), report.message());
    assertEquals(3000, report.iterations());
    assertEquals(0, report.samples().undelivered());
    assertEquals(report.samples().recorded(), report.samples().delivered(), "every sample delivered");

    long sent = server.seen().size();
    List<SampleBatch> batches = SampleTopic.read(kafka, runId, sent, Duration.ofSeconds(60));
    Map<String, Long> byName = new HashMap<>();
    Set<Long> sequences = new HashSet<>();
    long requests = 0;
    double iterations = 0;
    for (SampleBatch b : batches) {
      assertEquals("g-local", b.generatorId());
      assertEquals("local:test", b.loadZone());
      assertTrue(sequences.add(b.sequence()), "batch sequence numbers are unique");
      for (int i = 0; i < b.requests().size(); i++) {
        String[] tags = b.tags(b.requests().tagSet()[i]);
        byName.merge(tagValue(tags, "name"), 1L, Long::sum);
        requests++;
      }
      for (int i = 0; i < b.points().size(); i++) {
        if (b.strings().get(b.metrics().get(b.points().metric()[i]).name()).equals("iterations")) {
          iterations += b.points().value()[i];
        }
      }
    }
    assertEquals(sent, requests, "one sample per request the server saw");
    assertEquals(server.count("GET", "/products"), byName.get("products"));
    assertEquals(server.count("GET", "/products/7"), byName.get("product"));
    assertEquals(server.count("GET", "/status/500"), byName.get("broken"));
    assertEquals(3000, iterations);
  }

  @Test
  void aRunOfOneExecutionSegmentDoesItsShareAsK6Would() throws Exception {
    // k6: 5 VUs over 0,1/4,3/4,1 are 1/3/1, so segment 1/4:3/4 runs 30 of the 50 shared iterations.
    String plan = """
        {"name": "part", "env": {"BASE": "%s"},
         "scenarios": {"s": {"executor": "shared-iterations", "vus": 5, "iterations": 50, "exec": "f"}},
         "flows": {"f": {"steps": [{"request": {"url": "${ENV.BASE}/segment", "name": "segment"}}]}}}
        """.formatted(server.baseUrl());
    long before = server.count("GET", "/segment");
    RunReport report;
    try (KafkaPublisher publisher = new KafkaPublisher(kafka.bootstrapServers(), "it", Map.of());
         Generator g = new Generator(GeneratorConfig.of("g-part", "local:test", kafka.bootstrapServers()), publisher)) {
      report = g.runLocal("it-" + UUID.randomUUID(), plan, Map.of(), Path.of("."), null,
          dev.loadtest.schemas.segment.ExecutionSegmentSequence.share("1/4:3/4", "0,1/4,3/4,1"));
    }
    assertEquals(Heartbeat.RunPhase.FINISHED, report.phase(), report.message());
    assertEquals(30, report.iterations());
    assertEquals(30, server.count("GET", "/segment") - before);
  }

  static String tagValue(String[] kv, String key) {
    for (int i = 0; i < kv.length; i += 2) {
      if (kv[i].equals(key)) {
        return kv[i + 1];
      }
    }
    return null;
  }
}
