package dev.loadtest.plugins.jmeter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.generator.testing.CountingServer;
import dev.loadtest.generator.testing.FakePublisher;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real JMeter 5.6 engine running {@code shop.jmx} against a server on 127.0.0.1 that counts what it serves: two
 * segments of one run, on two engines at once as two generators run them, make together exactly the test plan's
 * requests, per name, with JMeter's verdicts, assertions, transactions and redirects mapped to k6's metrics.
 */
@Timeout(180)
class JMeterPluginIT {
  static CountingServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new CountingServer("/cart", 4, Map.of("/checkout", "/done"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Path shopJmx() throws URISyntaxException {
    return Path.of(JMeterPluginIT.class.getResource("/shop.jmx").toURI());
  }

  static TestPlan plan(String options) {
    return PlanParser.parse("""
        {"name": "jmeter shop", "tags": {"team": "perf"}, "env": {"port": "%d", "loops": "6"},
         "generator": {"plugin": "jmeter", "options": %s}}""".formatted(server.port(), options));
  }

  static Map<String, String> tags(SampleBatch b, int tagSet) {
    String[] kv = b.tags(tagSet);
    Map<String, String> m = new HashMap<>();
    for (int k = 0; k < kv.length; k += 2) {
      m.put(kv[k], kv[k + 1]);
    }
    return m;
  }

  @Test
  void twoSegmentsOnTwoEnginesMakeExactlyThePlansRequestsPerName() throws Exception {
    server.reset();
    TestPlan plan = plan("{\"testPlan\": \"shop.jmx\", \"properties\": {\"threads\": \"5\"}}");
    assertEquals(List.of(), GeneratorPlugin.checkPlan(plan, shopJmx().getParent()), "the plan checks clean");
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.split(2);
    FakePublisher recorder = new FakePublisher();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<PluginRun> runs = new CopyOnWriteArrayList<>();
    List<BatchingSampleSink> sinks = new CopyOnWriteArrayList<>();
    long start = System.nanoTime() + 200_000_000L;
    List<Future<Boolean>> done = new java.util.ArrayList<>();
    for (int segment = 0; segment < 2; segment++) {
      BatchingSampleSink sink = new BatchingSampleSink("jm-run", "g" + segment, "local", recorder);
      sinks.add(sink);
      PluginRun run = new JMeterPlugin().prepare(new PluginContext("jm-run", plan, Map.of(), seq, segment, sink,
          shopJmx().getParent(), () -> null, 1));
      runs.add(run);
      done.add(pool.submit(() -> run.run(start)));
    }
    for (Future<Boolean> f : done) {
      assertTrue(f.get(), "each engine ends on its own");
    }
    for (BatchingSampleSink s : sinks) {
      s.close(10_000);
    }
    pool.shutdown();

    // 5 threads x 6 loops, split 3 + 2 threads: each path served 30 times
    assertEquals(30, server.served("GET /products"));
    assertEquals(30, server.served("POST /cart"));
    assertEquals(30, server.served("GET /checkout"));
    assertEquals(30, server.served("GET /done"));
    assertEquals(30, runs.get(0).iterations() + runs.get(1).iterations(), "each thread's loops are iterations");

    Map<String, Long> requestsByName = new HashMap<>();
    Map<String, Long> failedByName = new HashMap<>();
    Map<String, Long> generators = new HashMap<>();
    long checksFailed = 0;
    long checksPassed = 0;
    long groupDurations = 0;
    long iterations = 0;
    long vusPoints = 0;
    for (SampleBatch b : recorder.delivered) {
      for (int i = 0; i < b.requests().size(); i++) {
        Map<String, String> t = tags(b, b.requests().tagSet()[i]);
        String name = t.get("name");
        requestsByName.merge(name, 1L, Long::sum);
        generators.merge(b.generatorId(), 1L, Long::sum);
        assertEquals("perf", t.get("team"), "the plan's tags are kept");
        assertEquals("Shoppers", t.get("scenario"), "the thread group is the scenario");
        assertEquals(name.equals("checkout") ? "::checkout flow" : "", t.get("group"), t.toString());
        assertEquals(name.equals("cart") ? "POST" : "GET", t.get("method"));
        if (b.requests().failed()[i]) {
          failedByName.merge(name, 1L, Long::sum);
          assertEquals("503", t.get("status"));
          assertEquals("false", t.get("expected_response"));
          assertEquals("1503", t.get("error_code"));
        }
        assertTrue(b.requests().durationUs()[i] >= 0 && b.requests().durationUs()[i] < 10_000_000L);
        assertTrue(b.requests().durationUs()[i] % 1000 == 0, "JMeter times in whole milliseconds");
      }
      for (int i = 0; i < b.points().size(); i++) {
        String metric = b.strings().get(b.metrics().get(b.points().metric()[i]).name());
        Map<String, String> t = tags(b, b.points().tagSet()[i]);
        switch (metric) {
          case "checks" -> {
            assertEquals("cart is 200", t.get("check"));
            if (b.points().value()[i] == 1) {
              checksPassed++;
            } else {
              checksFailed++;
            }
          }
          case "group_duration" -> {
            assertEquals("::checkout flow", t.get("group"));
            groupDurations++;
          }
          case "iterations" -> iterations += (long) b.points().value()[i];
          case "vus" -> {
            vusPoints++;
            assertTrue(b.points().value()[i] >= 0 && b.points().value()[i] <= 3, "a generator runs 3 threads at most");
          }
          default -> { }
        }
      }
    }
    assertEquals(Map.of("products", 30L, "cart", 30L, "checkout", 60L), requestsByName,
        "a request per request served; the redirect's two hops are both the sampler's");
    assertEquals(Map.of("cart", server.failures()), failedByName, "JMeter's verdicts are http_req_failed");
    assertTrue(server.failures() > 0);
    assertEquals(server.failures(), checksFailed, "a failed assertion is a failed check");
    assertEquals(30 - server.failures(), checksPassed);
    assertEquals(30, groupDurations, "a transaction sample per loop");
    assertEquals(30, iterations);
    assertTrue(vusPoints >= 2, "each generator reports its running threads as vus");
    assertEquals(2, generators.size(), "both generators made requests: " + generators);
    assertEquals(3 * 4 * 6, generators.get("g0") + 0, "3 of the 5 threads on the first segment, 4 requests a loop");
  }

  @Test
  void aBrokenTestPlanIsRefusedWithItsPathBeforeAnythingRuns(@TempDir Path dir) throws Exception {
    List<PlanError> missing = GeneratorPlugin.checkPlan(plan("{\"testPlan\": \"nowhere.jmx\"}"), dir);
    assertEquals(1, missing.size(), missing.toString());
    assertEquals("$.generator.options.testPlan", missing.get(0).path());
    assertTrue(missing.get(0).message().startsWith("no JMeter test plan at ") && missing.get(0).message()
        .endsWith("nowhere.jmx"), missing.get(0).message());

    Files.writeString(dir.resolve("bad.jmx"), "<jmeterTestPlan><hashTree><NoSuchElement/></hashTree>");
    List<PlanError> bad = GeneratorPlugin.checkPlan(plan("{\"testPlan\": \"bad.jmx\"}"), dir);
    assertEquals("$.generator.options.testPlan", bad.get(0).path());
    assertTrue(bad.get(0).message().startsWith("not a JMeter test plan that JMeter 5.6 reads: "), bad.get(0).message());

    List<PlanError> options = GeneratorPlugin.checkPlan(plan("{\"threads\": 5, \"properties\": [1],"
        + " \"maxDuration\": \"soon\"}"), dir);
    assertEquals(List.of("$.generator.options.threads", "$.generator.options.testPlan",
        "$.generator.options.properties", "$.generator.options.maxDuration"),
        options.stream().map(PlanError::path).toList(), options.toString());

    InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> new JMeterPlugin().prepare(
        new PluginContext("r", plan("{\"testPlan\": \"shop.jmx\", \"properties\": {\"threads\": \"many\"}}"),
            Map.of(), ExecutionSegmentSequence.whole(), 0, null, shopJmx().getParent(), () -> null, 1)));
    assertEquals("$.generator.options.testPlan", e.errors().get(0).path());
    assertTrue(e.errors().get(0).message().contains("thread group \"Shoppers\": its number of threads"),
        e.errors().get(0).message());
  }

  @Test
  void aThreadGroupWithFewerThreadsThanGeneratorsIsSplitByItsLoops() throws Exception {
    server.reset();
    TestPlan plan = plan("{\"testPlan\": \"shop.jmx\", \"properties\": {\"threads\": \"1\", \"loops\": \"7\"}}");
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.split(2);
    List<String> shares = new java.util.ArrayList<>();
    FakePublisher recorder = new FakePublisher();
    for (int segment = 0; segment < 2; segment++) {
      BatchingSampleSink sink = new BatchingSampleSink("jm-loops", "g" + segment, "local", recorder);
      org.apache.jorphan.collections.HashTree tree = JMeterPlugin.load(shopJmx());
      JMeterEngineHome.setProperties(Map.of("threads", "1", "loops", "7"));
      shares.add(JMeterPlugin.scaleThreadGroups(tree, seq, segment).get("Shoppers"));
      PluginRun run = new JMeterPlugin().prepare(new PluginContext("jm-loops", plan, Map.of(), seq, segment, sink,
          shopJmx().getParent(), () -> null, 1));
      assertTrue(run.run(System.nanoTime()));
      sink.close(10_000);
    }
    assertEquals(List.of("1 x 4", "1 x 3"), shares, "one thread on each generator, the 7 loops split 4 + 3");
    assertEquals(7, server.served("GET /products"), "1 thread x 7 loops, exactly, over two generators");
    assertEquals(2, recorder.delivered.stream().map(SampleBatch::generatorId).distinct().count());
  }
}
