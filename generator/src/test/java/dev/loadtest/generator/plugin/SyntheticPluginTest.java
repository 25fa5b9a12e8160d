package dev.loadtest.generator.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.generator.testing.FakePublisher;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The synthetic plug-in makes what it is configured to make: count, series, status mix, latencies. */
@Timeout(60)
class SyntheticPluginTest {
  static TestPlan plan(String options) {
    return PlanParser.parse("""
        {"name": "syn", "tags": {"team": "perf"}, "generator": {"plugin": "synthetic", "options": %s},
         "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "f"}},
         "flows": {"f": {"steps": [{"think": "1s"}]}}}""".formatted(options));
  }

  static List<SampleBatch> run(String options, String sequence, int segment) throws Exception {
    FakePublisher pub = new FakePublisher();
    BatchingSampleSink sink = new BatchingSampleSink("syn-run", "g", "z", pub);
    PluginRun run = new SyntheticPlugin().prepare(new PluginContext("syn-run", plan(options), Map.of(),
        ExecutionSegmentSequence.parse(sequence), segment, sink, Path.of("."), () -> null, 7));
    assertTrue(run.run(System.nanoTime()));
    sink.close(10_000);
    return pub.delivered;
  }

  @Test
  void makesTheConfiguredSamplesWithTheirMixCardinalityAndLatencies() throws Exception {
    List<SampleBatch> batches = run("""
        {"rate": 200000, "duration": "1s", "latency": {"median": "20ms", "p99": "200ms"},
         "statusMix": {"200": 0.9, "503": 0.1}, "names": 25}""", "0,1", 0);
    Map<String, Long> statuses = new HashMap<>();
    Set<String> series = new HashSet<>();
    List<Long> durations = new ArrayList<>();
    for (SampleBatch b : batches) {
      for (int i = 0; i < b.requests().size(); i++) {
        String[] kv = b.tags(b.requests().tagSet()[i]);
        Map<String, String> tags = new HashMap<>();
        for (int k = 0; k < kv.length; k += 2) {
          tags.put(kv[k], kv[k + 1]);
        }
        statuses.merge(tags.get("status"), 1L, Long::sum);
        series.add(tags.get("name") + "/" + tags.get("status"));
        assertEquals("perf", tags.get("team"));
        assertEquals(tags.get("status").equals("503"), b.requests().failed()[i]);
        durations.add(b.requests().durationUs()[i]);
      }
    }
    assertEquals(200_000, durations.size(), "rate x duration samples, exactly");
    assertEquals(50, series.size(), "25 names x 2 statuses");
    double share503 = statuses.get("503") / 200_000.0;
    assertTrue(Math.abs(share503 - 0.1) < 0.005, "10% 503s, got " + share503);
    long[] sorted = durations.stream().mapToLong(Long::longValue).sorted().toArray();
    long p50 = sorted[sorted.length / 2];
    long p99 = sorted[(int) (sorted.length * 0.99)];
    assertTrue(Math.abs(p50 - 20_000) < 2_000, "median ~20 ms: " + p50 + " us");
    assertTrue(Math.abs(p99 - 200_000) < 30_000, "p99 ~200 ms: " + p99 + " us, " + Arrays.toString(new long[] {p50}));
  }

  @Test
  void segmentsMakeTheirShareOfTheRate() throws Exception {
    String options = """
        {"rate": 30000, "duration": "1s"}""";
    long a = run(options, "0,1/3,1", 0).stream().mapToLong(b -> b.requests().size()).sum();
    long b = run(options, "0,1/3,1", 1).stream().mapToLong(x -> x.requests().size()).sum();
    assertEquals(10_000, a);
    assertEquals(20_000, b);
  }

  @Test
  void phasesChangeTheStatusMixAndVusRiseAsConfigured() throws Exception {
    SyntheticPlugin.Options o = SyntheticPlugin.parse("""
        {"rate": 10, "duration": "10s", "statusMix": {"200": 1},
         "phases": [{"after": "4s", "statusMix": {"200": 0.5, "500": 0.5}}, {"after": "8s", "statusMix": {"503": 1}}],
         "vus": {"from": 10, "to": 30}}""");
    assertEquals(List.of(200, 500, 503), Arrays.stream(o.statuses()).boxed().toList(), "every phase's statuses");
    assertTrue(Arrays.equals(new double[] {1, 1, 1}, o.weightsAt(3_999_000_000L)), "all 200 before the first phase");
    assertTrue(Arrays.equals(new double[] {0.5, 1, 1}, o.weightsAt(4_000_000_000L)), "half 500 from 4 s");
    assertTrue(Arrays.equals(new double[] {0, 0, 1}, o.weightsAt(9_000_000_000L)), "all 503 from 8 s");
    assertEquals(10, o.vusFrom());
    assertEquals(30, o.vusTo());
  }

  @Test
  void malformedPhasesAndVusAreRefusedWithTheirPath() {
    String[][] bad = {
        {"{\"rate\": 10, \"duration\": \"1s\", \"phases\": {}}", "$.generator.options.phases"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"phases\": [{\"after\": \"2s\"}]}", "$.generator.options.phases[0]"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"phases\": [{\"after\": \"soon\", \"statusMix\": {\"200\": 1}}]}",
            "$.generator.options.phases[0].after"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"phases\": [{\"after\": \"2s\", \"statusMix\": {\"200\": 1}},"
            + " {\"after\": \"1s\", \"statusMix\": {\"200\": 1}}]}", "$.generator.options.phases[1].after"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"phases\": [{\"after\": \"2s\", \"statusMix\": {\"999\": 1}}]}",
            "$.generator.options.phases[0].statusMix.999"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"phases\": [{\"after\": \"2s\", \"statusMix\": {\"200\": 0}}]}",
            "$.generator.options.phases[0].statusMix"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"vus\": {\"from\": -1, \"to\": 5}}", "$.generator.options.vus"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"vus\": 5}", "$.generator.options.vus"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"load\": 0.9}", "$.generator.options.load"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"load\": {}}", "$.generator.options.load"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"load\": {\"cpu\": 1.5}}", "$.generator.options.load.cpu"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"load\": {\"heap\": 0.99}}", "$.generator.options.load.heap"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"load\": {\"heap\": \"80%\"}}", "$.generator.options.load.heap"},
        {"{\"rate\": 10, \"duration\": \"1s\", \"load\": {\"disk\": 1}}", "$.generator.options.load.disk"}};
    for (String[] b : bad) {
      dev.loadtest.schemas.plan.InvalidPlanException e = org.junit.jupiter.api.Assertions.assertThrows(
          dev.loadtest.schemas.plan.InvalidPlanException.class, () -> SyntheticPlugin.parse(b[0]), b[0]);
      assertTrue(e.errors().stream().anyMatch(x -> x.path().equals(b[1])), b[0] + " -> " + e.errors());
    }
  }

  @Test
  void aHeapLoadHoldsItsShareOfTheHeapWhileTheRunGoesAndReleasesItAfter() throws Exception {
    SyntheticPlugin.Options o = SyntheticPlugin.parse("""
        {"rate": 10, "duration": "10s", "load": {"cpu": 0.5, "heap": 0.3}}""");
    assertEquals(0.5, o.cpuLoad());
    assertEquals(0.3, o.heapLoad());
    java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
    long max = memory.getHeapMemoryUsage().getMax();
    GeneratorLoad load = GeneratorLoad.start(0, 0.3, () -> false);
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (memory.getHeapMemoryUsage().getUsed() < 0.25 * max && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(memory.getHeapMemoryUsage().getUsed() >= 0.25 * max, "heap use reached its share");
    memory.gc();
    assertTrue(memory.getHeapMemoryUsage().getUsed() <= 0.3 * max + 16 * 1024 * 1024,
        "never much above its share, even what is live: " + memory.getHeapMemoryUsage());
    load.close();
    memory.gc();
    assertTrue(memory.getHeapMemoryUsage().getUsed() < 0.2 * max, "released: " + memory.getHeapMemoryUsage());
  }
}
