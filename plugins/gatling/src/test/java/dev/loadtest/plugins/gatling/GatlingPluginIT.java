package dev.loadtest.plugins.gatling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.generator.testing.CountingServer;
import dev.loadtest.generator.testing.FakePublisher;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Gatling 3.10 running {@code ShopSimulation.java} (compiled by the plug-in) against a server on 127.0.0.1 that
 * counts what it serves: two segments of one run, two Gatling JVMs at once as two generators run them, split the
 * injection profile's users exactly and stream every request, named, grouped and judged as Gatling did.
 */
@Timeout(300)
class GatlingPluginIT {
  static CountingServer server;

  @BeforeAll
  static void start() throws Exception {
    assertEquals(java.util.Optional.empty(), new GatlingPlugin().unavailable());
    server = new CountingServer("/cart", 4, Map.of());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static TestPlan plan(String options) {
    return PlanParser.parse("""
        {"name": "gatling shop", "tags": {"team": "perf"}, "env": {"BASE_URL": "http://127.0.0.1:%d"},
         "generator": {"plugin": "gatling", "options": %s}}""".formatted(server.port(), options));
  }

  @Test
  void twoSegmentsOnTwoGatlingJvmsSplitTheUsersExactlyAndStreamEveryRequest() throws Exception {
    Path dir = Path.of(GatlingPluginIT.class.getResource("/ShopSimulation.java").toURI()).getParent();
    TestPlan plan = plan("{\"simulation\": \"ShopSimulation.java\", \"maxDuration\": \"2m\"}");
    assertEquals(List.of(), GeneratorPlugin.checkPlan(plan, dir), "it compiles");
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.split(2);
    FakePublisher recorder = new FakePublisher();
    List<BatchingSampleSink> sinks = new ArrayList<>();
    List<PluginRun> runs = new ArrayList<>();
    List<Future<Boolean>> done = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    long start = System.nanoTime() + 20_000_000_000L; // both JVMs ready, then together
    for (int segment = 0; segment < 2; segment++) {
      BatchingSampleSink sink = new BatchingSampleSink("gt-run", "g" + segment, "local", recorder);
      sinks.add(sink);
      PluginRun run = new GatlingPlugin().prepare(new PluginContext("gt-run", plan, Map.of(), seq, segment, sink, dir,
          () -> null, 1));
      runs.add(run);
      done.add(pool.submit(() -> run.run(start)));
    }
    for (Future<Boolean> f : done) {
      assertTrue(f.get());
    }
    for (BatchingSampleSink s : sinks) {
      s.close(10_000);
    }
    pool.shutdown();
    for (PluginRun r : runs) {
      assertEquals(List.of(), r.iterationErrors(), "Gatling ran cleanly");
    }
    Map<String, Long> byName = new HashMap<>();
    Map<String, Long> failed = new HashMap<>();
    Map<String, Long> byGenerator = new HashMap<>();
    long iterations = 0;
    for (SampleBatch b : recorder.delivered) {
      for (int i = 0; i < b.requests().size(); i++) {
        String[] kv = b.tags(b.requests().tagSet()[i]);
        Map<String, String> t = new HashMap<>();
        for (int k = 0; k < kv.length; k += 2) {
          t.put(kv[k], kv[k + 1]);
        }
        byName.merge(t.get("name"), 1L, Long::sum);
        byGenerator.merge(b.generatorId(), 1L, Long::sum);
        assertEquals("perf", t.get("team"));
        assertEquals(t.get("name").equals("products") ? "" : "::buy", t.get("group"), t.toString());
        assertEquals("Shoppers", t.get("scenario"));
        if (b.requests().failed()[i]) {
          failed.merge(t.get("name"), 1L, Long::sum);
        }
      }
      for (int i = 0; i < b.points().size(); i++) {
        if (b.strings().get(b.metrics().get(b.points().metric()[i]).name()).equals("iterations")) {
          iterations += (long) b.points().value()[i];
        }
      }
    }
    assertEquals(Map.of("products", 10L, "cart", 10L, "checkout", 10L), byName, "4 at once and 6 ramped users");
    assertEquals(10, server.served("/products"));
    assertEquals(10, server.served("/checkout"));
    assertEquals(Map.of("cart", server.failures()), failed, "Gatling's KO: its default status check");
    assertEquals(Map.of("g0", 15L, "g1", 15L), byGenerator, "5 users each: 2 at once and 3 ramped");
    assertEquals(10, iterations, "each user that ended");
  }

  @Test
  void aSimulationThatDoesNotCompileIsRefusedUpFrontWithItsLine(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Broken.java"), """
        import io.gatling.javaapi.core.Simulation;
        public class Broken extends Simulation {
          { setUp(nothing()); }
        }
        """);
    List<PlanError> errors = GeneratorPlugin.checkPlan(plan("{\"simulation\": \"Broken.java\"}"), dir);
    assertEquals("$.generator.options.simulation", errors.get(0).path());
    assertTrue(errors.get(0).message().startsWith("does not compile against Gatling 3.10's Java DSL: Broken.java:3: "),
        errors.get(0).message());
    Files.writeString(dir.resolve("NotOne.java"), "public class NotOne {}\n");
    assertTrue(GeneratorPlugin.checkPlan(plan("{\"simulation\": \"NotOne.java\"}"), dir).get(0).message()
        .startsWith("no \"public class NAME extends Simulation\""));
  }
}
