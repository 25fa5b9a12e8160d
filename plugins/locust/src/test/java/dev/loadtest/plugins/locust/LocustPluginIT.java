package dev.loadtest.plugins.locust;

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
 * Real Locust (Debian's python3-locust) running {@code shop.py} headless against a server on 127.0.0.1 that
 * counts what it serves: two segments of one run, two Locust processes at once as two generators run them, stream
 * every request as it happens, and together they are exactly what the server served, per name.
 */
@Timeout(180)
class LocustPluginIT {
  static CountingServer server;

  @BeforeAll
  static void start() throws Exception {
    assertEquals(java.util.Optional.empty(), new LocustPlugin().unavailable(),
        "Locust must be installed for this test: apt-get install python3-locust (./run-tests installs it)");
    server = new CountingServer("/cart", 5, Map.of());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static TestPlan plan(String options) {
    return PlanParser.parse("""
        {"name": "locust shop", "tags": {"team": "perf"}, "env": {"BASE_URL": "http://127.0.0.1:%d"},
         "generator": {"plugin": "locust", "options": %s}}""".formatted(server.port(), options));
  }

  @Test
  void twoSegmentsOnTwoLocustProcessesStreamExactlyWhatTheServerServedPerName() throws Exception {
    Path dir = Path.of(LocustPluginIT.class.getResource("/shop.py").toURI()).getParent();
    TestPlan plan = plan("""
        {"locustfile": "shop.py", "users": 4, "spawnRate": 4, "duration": "4s", "userClasses": ["Shopper"]}""");
    assertEquals(List.of(), GeneratorPlugin.checkPlan(plan, dir));
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.split(2);
    FakePublisher recorder = new FakePublisher();
    List<BatchingSampleSink> sinks = new ArrayList<>();
    List<Future<Boolean>> done = new ArrayList<>();
    List<PluginRun> runs = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    long start = System.nanoTime() + 100_000_000L;
    for (int segment = 0; segment < 2; segment++) {
      BatchingSampleSink sink = new BatchingSampleSink("lc-run", "g" + segment, "local", recorder);
      sinks.add(sink);
      PluginRun run = new LocustPlugin().prepare(new PluginContext("lc-run", plan, Map.of(), seq, segment, sink, dir,
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
      assertEquals(List.of(), r.iterationErrors(), "Locust ran cleanly");
    }

    Map<String, Long> byName = new HashMap<>();
    Map<String, Long> failed = new HashMap<>();
    Map<String, Long> byGenerator = new HashMap<>();
    double maxVus = 0;
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
        assertEquals(t.get("name").equals("cart") ? "POST" : "GET", t.get("method"));
        if (b.requests().failed()[i]) {
          failed.merge(t.get("name"), 1L, Long::sum);
          assertEquals("503", t.get("status"));
        }
        assertTrue(b.requests().durationUs()[i] > 0, "Locust's response times, in fractions of a millisecond");
      }
      for (int i = 0; i < b.points().size(); i++) {
        if (b.strings().get(b.metrics().get(b.points().metric()[i]).name()).equals("vus")) {
          maxVus = Math.max(maxVus, b.points().value()[i]);
        }
      }
    }
    assertEquals(server.served("/products"), byName.get("products"));
    assertEquals(server.served("/cart"), byName.get("cart"));
    assertEquals(0, server.served("/idle"), "only the user classes named run");
    assertEquals(Map.of("cart", server.failures()), failed);
    assertTrue(server.served("/products") > 50, "4 users for 4 s, a request every 20 ms: " + server.served("/products"));
    assertEquals(2, byGenerator.size(), "both Locust processes made requests");
    assertEquals(2.0, maxVus, "each runs its 2 of the 4 users");
  }

  @Test
  void aBrokenLocustfileOrMissingOptionsAreReported(@TempDir Path dir) throws Exception {
    List<PlanError> missing = GeneratorPlugin.checkPlan(plan("{\"locustfile\": \"nope.py\", \"duration\": \"1s\"}"),
        dir);
    assertEquals(List.of("$.generator.options.users"), missing.stream().map(PlanError::path).toList(),
        missing.toString());
    List<PlanError> file = GeneratorPlugin.checkPlan(plan("{\"locustfile\": \"nope.py\", \"users\": 1,"
        + " \"duration\": \"1s\"}"), dir);
    assertEquals("$.generator.options.locustfile", file.get(0).path());

    Files.writeString(dir.resolve("broken.py"), "from locust import HttpUser\nclass Shopper(HttpUser:\n    pass\n");
    List<PlanError> syntax = GeneratorPlugin.checkPlan(plan("{\"locustfile\": \"broken.py\", \"users\": 1,"
        + " \"duration\": \"1s\"}"), dir);
    assertEquals("$.generator.options.locustfile", syntax.get(0).path());
    assertTrue(syntax.get(0).message().startsWith("not Python that compiles: SyntaxError: ")
        && syntax.get(0).message().endsWith("(line 2)"), syntax.get(0).message());

    // what compiles but fails when Locust loads it is reported by the run, with Locust's words
    Files.writeString(dir.resolve("fails.py"), "from locust import HttpUser\nraise RuntimeError('no database here')\n");
    PluginRun run = new LocustPlugin().prepare(new PluginContext("lc-bad", plan("""
        {"locustfile": "fails.py", "users": 1, "duration": "2s"}"""), Map.of(), ExecutionSegmentSequence.whole(), 0,
        new BatchingSampleSink("lc-bad", "g", "local", new FakePublisher()), dir, () -> null, 1));
    assertTrue(run.run(System.nanoTime()));
    assertEquals(1, run.failedIterations());
    assertTrue(run.iterationErrors().get(0).startsWith("Locust ended before it ran the locustfile")
        && run.iterationErrors().get(0).contains("RuntimeError: no database here"), run.iterationErrors().toString());

    Files.writeString(dir.resolve("empty.py"), "WAIT = 1\n");
    PluginRun empty = new LocustPlugin().prepare(new PluginContext("lc-empty", plan("""
        {"locustfile": "empty.py", "users": 1, "duration": "2s"}"""), Map.of(), ExecutionSegmentSequence.whole(), 0,
        new BatchingSampleSink("lc-empty", "g", "local", new FakePublisher()), dir, () -> null, 1));
    assertTrue(empty.run(System.nanoTime()));
    assertTrue(empty.iterationErrors().get(0).startsWith("Locust ended before its test started (exit code 1): ")
        && empty.iterationErrors().get(0).contains("No User class found"), empty.iterationErrors().toString());
  }

  @Test
  void aLoadTestShapesUsersAreSplitBetweenTheGenerators() throws Exception {
    Path dir = Path.of(LocustPluginIT.class.getResource("/shaped.py").toURI()).getParent();
    long before = server.served("/products");
    TestPlan plan = plan("""
        {"locustfile": "shaped.py", "users": 1, "duration": "6s"}""");
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.split(2);
    FakePublisher recorder = new FakePublisher();
    List<Future<Boolean>> done = new ArrayList<>();
    List<BatchingSampleSink> sinks = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    long start = System.nanoTime() + 100_000_000L;
    for (int segment = 0; segment < 2; segment++) {
      BatchingSampleSink sink = new BatchingSampleSink("lc-shape", "g" + segment, "local", recorder);
      sinks.add(sink);
      PluginRun run = new LocustPlugin().prepare(new PluginContext("lc-shape", plan, Map.of(), seq, segment, sink, dir,
          () -> null, 1));
      done.add(pool.submit(() -> run.run(start)));
    }
    for (Future<Boolean> f : done) {
      assertTrue(f.get());
    }
    for (BatchingSampleSink s : sinks) {
      s.close(10_000);
    }
    pool.shutdown();
    Map<String, Double> peak = new HashMap<>();
    long requests = 0;
    for (SampleBatch b : recorder.delivered) {
      requests += b.requests().size();
      for (int i = 0; i < b.points().size(); i++) {
        if (b.strings().get(b.metrics().get(b.points().metric()[i]).name()).equals("vus")) {
          peak.merge(b.generatorId(), b.points().value()[i], Math::max);
        }
      }
    }
    assertEquals(5.0, peak.values().stream().mapToDouble(Double::doubleValue).sum(),
        "the shape's 5 users, split: " + peak);
    assertEquals(2, peak.size());
    assertEquals(server.served("/products") - before, requests, "every request the server served, streamed");
  }
}
