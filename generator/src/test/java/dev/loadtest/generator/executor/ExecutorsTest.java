package dev.loadtest.generator.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.testing.CollectingSink;
import dev.loadtest.generator.testing.LocalServerTest;
import dev.loadtest.generator.testing.RecordingServer;
import dev.loadtest.generator.testing.Runs;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The six executors against a real HTTP server on 127.0.0.1, with k6's semantics. */
@Timeout(120)
class ExecutorsTest extends LocalServerTest {

  private static String plan(String scenarios, String flowSteps) {
    return """
        {"name": "executors", "env": {"BASE": "%s"}, "scenarios": %s, "flows": {"f": {"steps": %s}}}
        """.formatted(server.baseUrl(), scenarios, flowSteps);
  }

  private static final String GET = """
      [{"request": {"url": "${ENV.BASE}/products/1", "name": "p"}}]""";

  @Test
  void constantArrivalRateStartsOneHundredIterationsASecondForTenSeconds() throws Exception {
    CollectingSink sink = new CollectingSink();
    long t0 = System.nanoTime();
    RunExecution ex = Runs.runWhole(plan("""
        {"s": {"executor": "constant-arrival-rate", "rate": 100, "timeUnit": "1s", "duration": "10s",
               "preAllocatedVUs": 5, "maxVUs": 50, "exec": "f"}}""", GET), Map.of(), http, sink);
    long seen = server.count("GET", "/products/1");
    assertTrue(Math.abs(seen - 1000) <= 10, "1000 iterations within 1%, got " + seen);
    assertEquals(seen, ex.iterations());
    assertEquals(0, ex.droppedIterations());
    // On schedule: the last iteration is due at 9.99 s, so the server saw the last one within ~10 s.
    long lastAt = server.seen().stream().mapToLong(RecordingServer.Seen::atNanos).max().orElseThrow();
    assertTrue(lastAt - t0 < 10_500_000_000L && lastAt - t0 > 9_900_000_000L, "last at " + (lastAt - t0) / 1e9);
  }

  @Test
  void rampingVusFollowsItsStages() throws Exception {
    CollectingSink sink = new CollectingSink();
    RunExecution ex = new RunExecution(Runs.context(plan("""
        {"s": {"executor": "ramping-vus", "startVUs": 0, "gracefulRampDown": "0s",
               "stages": [{"duration": "2s", "target": 10}, {"duration": "1s", "target": 10},
                          {"duration": "1s", "target": 0}], "exec": "f"}}""", """
        [{"request": {"url": "${ENV.BASE}/products/1", "name": "p"}}, {"think": "50ms"}]"""), Map.of(), http, sink, 1),
        ExecutionSegmentSequence.whole(), 0);
    long startUs = System.currentTimeMillis() * 1000;
    ex.run(System.nanoTime());
    // Distinct VUs sending in a window is the level then: +1 every 200 ms up to 10 at 2 s, held, then down.
    assertEquals(10, vusIn(sink, startUs, 2_300, 2_900), "all 10 VUs during the hold");
    assertTrue(vusIn(sink, startUs, 450, 550) <= 3, "about 2 VUs at 0.5 s, got " + vusIn(sink, startUs, 450, 550));
    assertTrue(vusIn(sink, startUs, 1_050, 1_150) >= 4 && vusIn(sink, startUs, 1_050, 1_150) <= 7,
        "about 5 VUs at 1.1 s, got " + vusIn(sink, startUs, 1_050, 1_150));
    long down = vusIn(sink, startUs, 3_550, 3_650);
    assertTrue(down >= 3 && down <= 5, "4 VUs left at 3.6 s (one less every 100 ms), got " + down);
    assertEquals(10, sink.requests.stream().map(CollectingSink.Req::vu).distinct().count(), "10 VUs at most");
  }

  private static long vusIn(CollectingSink sink, long startUs, long fromMs, long toMs) {
    return sink.requests.stream().filter(r -> r.startUs() >= startUs + fromMs * 1000 && r.startUs() < startUs + toMs * 1000)
        .map(CollectingSink.Req::vu).distinct().count();
  }

  @Test
  void segmentsOfAThreeWayPartitionAddUpToTheWholeExactly() throws Exception {
    String plan = plan("""
        {"shared": {"executor": "shared-iterations", "vus": 5, "iterations": 100, "exec": "f"},
         "pervu": {"executor": "per-vu-iterations", "vus": 7, "iterations": 3, "exec": "f"},
         "rate": {"executor": "constant-arrival-rate", "rate": 30, "timeUnit": "1s", "duration": "2s",
                  "preAllocatedVUs": 3, "maxVUs": 30, "exec": "f"}}""", GET);
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse("0,1/3,2/3,1");
    List<RunExecution> parts = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime() + 200_000_000L;
    CollectingSink sink = new CollectingSink();
    for (int seg = 0; seg < 3; seg++) {
      RunExecution ex = new RunExecution(Runs.context(plan, Map.of(), http, sink, seg), seq, seg);
      parts.add(ex);
      threads.add(Thread.ofPlatform().start(() -> {
        try {
          ex.run(start);
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(List.of(100L, 21L, 60L), List.of("shared", "pervu", "rate").stream()
        .map(s -> parts.stream().mapToLong(p -> p.iterationsByScenario().get(s)).sum()).toList(),
        "dropped: " + parts.stream().map(RunExecution::droppedIterations).toList());
    assertEquals(100 + 21 + 60, server.count("GET", "/products/1"), "every iteration of the whole test, once");
    // As in k6, shared iterations follow each segment's share of the VUs: 5 VUs striped over thirds are
    // 2/2/1, so the iterations are 40/40/20.
    long[] shared = parts.stream().mapToLong(p -> p.iterationsByScenario().get("shared")).toArray();
    assertEquals("[40, 40, 20]", Arrays.toString(shared), "each segment did its share of the VUs' iterations");
    // VU numbers are unique across the three generators.
    Set<Integer> vus = sink.requests.stream().map(CollectingSink.Req::vu).collect(Collectors.toSet());
    long perVuTotal = sink.requests.stream().map(CollectingSink.Req::vu).count();
    assertTrue(vus.size() <= 5 + 7 + 30 && perVuTotal == 181, vus + " / " + perVuTotal);
  }

  @Test
  void aStallOfTwoSecondsShowsInThePercentilesOfAnOpenModelTest() throws Exception {
    CollectingSink sink = new CollectingSink();
    Thread staller = Thread.ofPlatform().start(() -> {
      try {
        Thread.sleep(2_000); // the system under test stalls 2 s into the test (part of the scenario, not a wait)
        server.stallFor(2_000_000_000L);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    RunExecution ex = Runs.runWhole(plan("""
        {"s": {"executor": "constant-arrival-rate", "rate": 50, "timeUnit": "1s", "duration": "6s",
               "preAllocatedVUs": 10, "maxVUs": 200, "exec": "f"}}""", """
        [{"request": {"url": "${ENV.BASE}/slow", "name": "slow"}}]"""), Map.of(), http, sink);
    staller.join();
    long[] durations = sink.requests.stream().mapToLong(r -> r.timings().durationUs()).sorted().toArray();
    assertEquals(300, durations.length, "every scheduled request was sent and recorded, stall or not");
    assertEquals(0, ex.droppedIterations());
    long p75 = durations[(int) Math.ceil(0.75 * durations.length) - 1];
    long p90 = durations[(int) Math.ceil(0.90 * durations.length) - 1];
    // 100 of the 300 requests arrive during the stall and wait 0..2 s: a quarter of the test is slow.
    assertTrue(p90 > 800_000, "p(90) shows the stall: " + p90 + " us");
    assertTrue(p75 > 100_000, "p(75) shows the stall: " + p75 + " us");
    assertTrue(durations[durations.length - 1] > 1_800_000, "max ~2 s: " + durations[durations.length - 1]);
  }

  @Test
  void arrivalsBeyondMaxVusAreDroppedAndCounted() throws Exception {
    CollectingSink sink = new CollectingSink();
    server.stallFor(3_000_000_000L);
    RunExecution ex = Runs.runWhole(plan("""
        {"s": {"executor": "constant-arrival-rate", "rate": 20, "timeUnit": "1s", "duration": "2s",
               "preAllocatedVUs": 2, "maxVUs": 4, "gracefulStop": "5s", "exec": "f"}}""", """
        [{"request": {"url": "${ENV.BASE}/slow", "name": "slow"}}]"""), Map.of(), http, sink);
    assertEquals(4, ex.iterations(), "only maxVUs iterations could start while the server stalled");
    assertEquals(36, ex.droppedIterations());
    assertEquals(36, sink.sum("dropped_iterations"), "every dropped iteration is a sample");
  }

  @Test
  void scenariosRunTogetherWithTheirOwnStartTimeEnvAndTags() throws Exception {
    CollectingSink sink = new CollectingSink();
    Runs.runWhole("""
        {"name": "two", "env": {"BASE": "%s", "ID": "1"},
         "scenarios": {
           "early": {"executor": "per-vu-iterations", "vus": 1, "iterations": 3, "exec": "f"},
           "late": {"executor": "per-vu-iterations", "vus": 1, "iterations": 3, "exec": "f", "startTime": "1s",
                    "env": {"ID": "2"}, "tags": {"kind": "late"}}},
         "flows": {"f": {"steps": [{"request": {"url": "${ENV.BASE}/products/${ENV.ID}", "name": "p"}}]}}}
        """.formatted(server.baseUrl()), Map.of(), http, sink);
    assertEquals(3, server.count("GET", "/products/1"), "the plan's env");
    assertEquals(3, server.count("GET", "/products/2"), "the scenario's env over the plan's");
    List<CollectingSink.Req> late = sink.requests(r -> "late".equals(r.tag("scenario")));
    List<CollectingSink.Req> early = sink.requests(r -> "early".equals(r.tag("scenario")));
    assertTrue(late.stream().allMatch(r -> "late".equals(r.tag("kind"))), "the scenario's tags");
    assertTrue(early.stream().noneMatch(r -> r.tag("kind") != null));
    long firstEarly = early.stream().mapToLong(CollectingSink.Req::startUs).min().orElseThrow();
    long firstLate = late.stream().mapToLong(CollectingSink.Req::startUs).min().orElseThrow();
    assertTrue(firstLate - firstEarly >= 950_000, "startTime 1s: " + (firstLate - firstEarly) + " us later");
  }

  @Test
  void rampedDownVusFinishTheirIterationOnlyWithinGracefulRampDown() throws Exception {
    // Four VUs, then one from 1 s on. Each iteration: A, think 1.5 s, B. The three ramped-down VUs are
    // thinking at 1 s and would send B at 1.5 s: with 300 ms of grace they are cut off first, with 1 s not.
    String steps = """
        [{"request": {"url": "${ENV.BASE}/products/1", "name": "a"}}, {"think": "1500ms"},
         {"request": {"url": "${ENV.BASE}/products/2", "name": "b"}}]""";
    for (String grace : List.of("300ms", "1s")) {
      server.clear();
      Runs.runWhole(plan("""
          {"s": {"executor": "ramping-vus", "startVUs": 4, "gracefulRampDown": "%s", "gracefulStop": "0s", "exec": "f",
                 "stages": [{"duration": "1s", "target": 4}, {"duration": "0s", "target": 1}, {"duration": "3s", "target": 1}]}}
          """.formatted(grace), steps), Map.of(), http, new CollectingSink());
      long b = server.count("GET", "/products/2");
      if (grace.equals("300ms")) {
        assertEquals(2, b, "only the VU that stayed sent B (at 1.5 s and 3 s)");
      } else {
        assertEquals(2 + 3, b, "the three ramped-down VUs finished their iteration within 1 s of grace");
      }
    }
  }

  @Test
  void gracefulStopInterruptsIterationsThatRunTooLong() throws Exception {
    CollectingSink sink = new CollectingSink();
    long t0 = System.nanoTime();
    RunExecution ex = Runs.runWhole(plan("""
        {"s": {"executor": "constant-vus", "vus": 3, "duration": "1s", "gracefulStop": "500ms", "exec": "f"}}""",
        """
        [{"request": {"url": "${ENV.BASE}/products/1", "name": "p"}}, {"think": "10s"}]"""), Map.of(), http, sink);
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(tookMs < 3_000, "1 s + 500 ms gracefulStop, then interrupted; took " + tookMs + " ms");
    assertEquals(3, server.count("GET", "/products/1"));
    assertEquals(0, ex.iterations(), "interrupted iterations are not counted as iterations");
  }
}
