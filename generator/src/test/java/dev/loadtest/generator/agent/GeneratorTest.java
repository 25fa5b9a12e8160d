package dev.loadtest.generator.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.testing.FakePublisher;
import dev.loadtest.generator.testing.RecordingServer;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.sample.SampleBatch;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A generator on its own: plug-in choice, self-monitoring metrics in the run, heartbeat contents. */
@Timeout(60)
class GeneratorTest {
  @Test
  void aRunCarriesTheGeneratorsOwnCpuHeapAndSchedulingDelay() throws Exception {
    FakePublisher pub = new FakePublisher();
    try (RecordingServer server = new RecordingServer();
         Generator g = new Generator(GeneratorConfig.of("g-self", "local", "127.0.0.1:1"), pub)) {
      String plan = """
          {"name": "self", "scenarios": {"s": {"executor": "constant-vus", "vus": 2, "duration": "2500ms", "exec": "f"}},
           "flows": {"f": {"steps": [{"request": {"url": "%s/products", "name": "p"}}, {"think": "50ms"}]}}}
          """.formatted(server.baseUrl());
      RunReport report = g.runLocal("self-run", plan, Map.of(), Path.of("."));
      assertEquals(Heartbeat.RunPhase.FINISHED, report.phase());
      Map<String, Integer> points = new HashMap<>();
      for (SampleBatch b : pub.delivered) {
        for (int i = 0; i < b.points().size(); i++) {
          points.merge(b.strings().get(b.metrics().get(b.points().metric()[i]).name()), 1, Integer::sum);
        }
      }
      assertTrue(points.getOrDefault("generator_cpu", 0) >= 2, points.toString());
      assertTrue(points.getOrDefault("generator_heap_bytes", 0) >= 2, points.toString());
      assertTrue(points.getOrDefault("generator_memory", 0) >= 2, points.toString());
      assertTrue(points.getOrDefault("generator_host_cpu", 0) >= 2, points.toString());
      assertTrue(points.getOrDefault("generator_scheduling_delay", 0) >= 2, points.toString());
      assertTrue(points.getOrDefault("vus", 0) >= 2 && points.getOrDefault("vus_max", 0) >= 2, points.toString());
      Heartbeat h = g.heartbeat();
      assertEquals("g-self", h.generatorId());
      assertTrue(h.heapUsedBytes() > 0 && h.heapMaxBytes() >= h.heapUsedBytes());
      assertTrue(h.cpu() >= 0 && h.cpu() <= 1);
      assertEquals("self-run", h.runs().get(0).testRunId(), "a finished run is reported in the next heartbeat");
      assertEquals(Heartbeat.RunPhase.FINISHED, h.runs().get(0).phase());
      assertTrue(g.heartbeat().runs().isEmpty(), "and only once");
    }
  }

  @Test
  void anUnknownPluginIsAPlanErrorNamingTheOnesThereAre() throws Exception {
    try (Generator g = new Generator(GeneratorConfig.of("g", "local", "127.0.0.1:1"), new FakePublisher())) {
      InvalidPlanException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidPlanException.class,
          () -> g.runLocal("r", """
              {"name": "x", "generator": {"plugin": "grpc"},
               "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "f"}},
               "flows": {"f": {"steps": [{"think": "1s"}]}}}""", Map.of(), Path.of(".")));
      assertEquals("$.generator.plugin", e.errors().get(0).path());
      assertTrue(e.errors().get(0).message().contains("[http, synthetic]"), e.getMessage());
    }
  }

  @Test
  void overloadWarningAboveEightyPercentCpu() {
    SelfMonitor.Reading busy = new SelfMonitor.Reading(0.93, 1, 2, 0.5, 0.95);
    assertTrue(busy.overloaded());
    assertTrue(busy.warning().contains("93%"), busy.warning());
    assertTrue(!new SelfMonitor.Reading(0.5, 1, 2, 0.5, 0.95).overloaded());
  }
}
