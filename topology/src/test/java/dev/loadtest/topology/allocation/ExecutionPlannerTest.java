package dev.loadtest.topology.allocation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ExecutionPlannerTest {
  static TestPlan plan(int vus, String distribution) {
    return PlanParser.parse("""
        {"name": "p", "scenarios": {"s": {"executor": "constant-vus", "vus": %d, "duration": "1m", "exec": "f"}},
         "flows": {"f": {"steps": [{"think": "1s"}]}} %s}""".formatted(vus, distribution));
  }

  static Heartbeat beat(String id, String zone, long capacity) {
    return new Heartbeat(id, zone, 2, capacity, "test", 0, 0.1, 1, 2, 0.1, List.of(), List.of(), 0);
  }

  static GeneratorRegistry registry(Heartbeat... beats) {
    GeneratorRegistry r = new GeneratorRegistry(Duration.ofSeconds(5));
    for (Heartbeat h : beats) {
      r.heartbeat(h, 1_000);
    }
    return r;
  }

  @Test
  void theFewestGeneratorsWithTheMostFreeCapacitySplitTheRunEvenly() {
    var d = ExecutionPlanner.plan(plan(30, ""), registry(beat("g1", "a", 20), beat("g2", "b", 20),
        beat("g3", "a", 5)), Set.of());
    var a = assertInstanceOf(ExecutionPlanner.Allocation.class, d);
    assertEquals("0,1/2,1", a.sequence());
    assertEquals(List.of("g1", "g2"), a.assignments().stream().map(ExecutionPlanner.Assigned::generatorId).toList());
    assertEquals(List.of("0:1/2", "1/2:1"), a.assignments().stream().map(ExecutionPlanner.Assigned::segment).toList());
  }

  @Test
  void zonesTakeTheirPercentageAndTheSegmentsAddUpToTheWholeRun() {
    TestPlan p = plan(100, """
        , "distribution": {"eu": {"loadZone": "local:eu", "percent": 60}, "us": {"loadZone": "local:us", "percent": 40}}""");
    var d = ExecutionPlanner.plan(p, registry(beat("e1", "local:eu", 50), beat("e2", "local:eu", 50),
        beat("u1", "local:us", 100), beat("u2", "local:us", 100)), Set.of());
    var a = assertInstanceOf(ExecutionPlanner.Allocation.class, d);
    assertEquals(List.of("e1", "e2", "u1", "u2"), a.assignments().stream().map(ExecutionPlanner.Assigned::generatorId)
        .toList(), "each zone's share spread over its free generators");
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse(a.sequence());
    assertEquals(4, seq.segmentCount());
    long total = 0;
    for (int i = 0; i < 4; i++) {
      total += seq.scale(i, 1000);
    }
    assertEquals(1000, total, "shares of 1000 iterations add up");
    assertEquals(400, seq.scale(2, 1000) + seq.scale(3, 1000), "the us zone does 40%");
    assertEquals(200, seq.scale(3, 1000));
    assertEquals(300, seq.scale(0, 1000));
  }

  @Test
  void aRunIsSpreadOverTheFreeGeneratorsAtMostOnePerVuAndWithinThePlansCap() {
    GeneratorRegistry three = registry(beat("g1", "a", 100), beat("g2", "a", 100), beat("g3", "a", 100));
    var all = assertInstanceOf(ExecutionPlanner.Allocation.class, ExecutionPlanner.plan(plan(30, ""), three, Set.of()));
    assertEquals(List.of("g1", "g2", "g3"), all.assignments().stream().map(ExecutionPlanner.Assigned::generatorId).toList());
    assertEquals(List.of("0:1/3", "1/3:2/3", "2/3:1"), all.assignments().stream().map(ExecutionPlanner.Assigned::segment)
        .toList());
    assertEquals(List.of(10L, 10L, 10L), all.assignments().stream().map(ExecutionPlanner.Assigned::vus).toList());

    var two = assertInstanceOf(ExecutionPlanner.Allocation.class, ExecutionPlanner.plan(plan(2, ""), three, Set.of()));
    assertEquals(2, two.assignments().size(), "no generator gets a share without a VU");
    var one = assertInstanceOf(ExecutionPlanner.Allocation.class, ExecutionPlanner.plan(plan(1, ""), three, Set.of()));
    assertEquals(List.of("g1"), one.assignments().stream().map(ExecutionPlanner.Assigned::generatorId).toList());

    TestPlan capped = PlanParser.parse("""
        {"name": "p", "scenarios": {"s": {"executor": "constant-vus", "vus": 30, "duration": "1m", "exec": "f"}},
         "flows": {"f": {"steps": [{"think": "1s"}]}}, "generator": {"plugin": "http", "maxGenerators": 2}}""");
    var c = assertInstanceOf(ExecutionPlanner.Allocation.class, ExecutionPlanner.plan(capped, three, Set.of()));
    assertEquals(List.of("g1", "g2"), c.assignments().stream().map(ExecutionPlanner.Assigned::generatorId).toList());

    TestPlan tooFew = PlanParser.parse("""
        {"name": "p", "scenarios": {"s": {"executor": "constant-vus", "vus": 250, "duration": "1m", "exec": "f"}},
         "flows": {"f": {"steps": [{"think": "1s"}]}}, "generator": {"plugin": "http", "maxGenerators": 2}}""");
    var w = assertInstanceOf(ExecutionPlanner.Wait.class, ExecutionPlanner.plan(tooFew, three, Set.of()));
    assertEquals("any zone needs 250 VUs, its free generators offer 200 (the plan allows 2 generator(s) per zone)",
        w.reason());
  }

  @Test
  void aGeneratorWithLittleRoomIsLeftOutRatherThanOverloaded() {
    var d = ExecutionPlanner.plan(plan(30, ""), registry(beat("big", "a", 100), beat("small", "a", 5)), Set.of());
    var a = assertInstanceOf(ExecutionPlanner.Allocation.class, d);
    assertEquals(List.of("big"), a.assignments().stream().map(ExecutionPlanner.Assigned::generatorId).toList(),
        "15 VUs each would overload the small one");
  }

  @Test
  void withoutEnoughFreeCapacityTheRunWaitsAndSaysWhere() {
    TestPlan p = plan(100, """
        , "distribution": {"eu": {"loadZone": "local:eu", "percent": 50}, "us": {"loadZone": "local:us", "percent": 50}}""");
    var d = ExecutionPlanner.plan(p, registry(beat("e1", "local:eu", 20), beat("u1", "local:us", 100)), Set.of());
    var w = assertInstanceOf(ExecutionPlanner.Wait.class, d);
    assertEquals("zone local:eu needs 50 VUs, its free generators offer 20", w.reason());
  }

  @Test
  void busyAndLostGeneratorsAreNotUsed() {
    GeneratorRegistry r = registry(beat("g1", "a", 100), beat("g2", "a", 100));
    r.heartbeat(beat("g3", "a", 100), 9_000);
    assertEquals(List.of("g1", "g2"), r.expire(7_000));
    assertInstanceOf(ExecutionPlanner.Wait.class, ExecutionPlanner.plan(plan(10, ""), r, Set.of("g3")));
    var a = assertInstanceOf(ExecutionPlanner.Allocation.class, ExecutionPlanner.plan(plan(10, ""), r, Set.of()));
    assertEquals("g3", a.assignments().get(0).generatorId());
    r.heartbeat(beat("g1", "a", 100), 9_500);
    assertTrue(r.live(null).stream().anyMatch(g -> g.generatorId().equals("g1")), "a lost generator that beats is back");
  }

  @Test
  void vusNeededAddsUpEveryScenariosMost() {
    TestPlan checkout = PlanParser.parse(new String(readFixture("/plans/checkout.json")));
    assertEquals(20 + 50, ExecutionPlanner.vusNeeded(checkout), "ramping-vus to 20 and maxVUs 50");
  }

  private static byte[] readFixture(String path) {
    try (var in = ExecutionPlannerTest.class.getResourceAsStream(path)) {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Heartbeat beat(String id, String zone, long capacity, List<String> plugins) {
    return new Heartbeat(id, zone, 2, capacity, "test", 0, 0.1, 1, 2, 0.1, List.of(), List.of(), 0, plugins);
  }

  @Test
  void aPlugInPlanRunsOnlyOnGeneratorsWhoseHeartbeatListsThePlugInSpreadOverAllOfThem() {
    TestPlan jmeter = PlanParser.parse("""
        {"name": "j", "generator": {"plugin": "jmeter", "options": {"testPlan": "shop.jmx"}}}""");
    GeneratorRegistry r = registry(beat("old", "z", 100), beat("j1", "z", 10, List.of("http", "jmeter")),
        beat("j2", "z", 5, List.of("http", "jmeter", "synthetic")), beat("l1", "z", 50, List.of("http", "locust")));
    var a = assertInstanceOf(ExecutionPlanner.Allocation.class, ExecutionPlanner.plan(jmeter, r, Set.of()));
    assertEquals(List.of("j1", "j2"), a.assignments().stream().map(ExecutionPlanner.Assigned::generatorId).toList(),
        "the tool sizes its own load: every free generator with the plug-in takes an even share");
    assertEquals("0,1/2,1", a.sequence());

    var wait = assertInstanceOf(ExecutionPlanner.Wait.class, ExecutionPlanner.plan(jmeter, r, Set.of("j1", "j2")));
    assertEquals("any zone has no free generator with the plug-in \"jmeter\" (its free generators have [http, locust,"
        + " synthetic])", wait.reason());

    // a generator that does not list its plug-ins (older) still runs the built-in ones
    var http = assertInstanceOf(ExecutionPlanner.Allocation.class, ExecutionPlanner.plan(plan(1, ""),
        registry(beat("old", "z", 100)), Set.of()));
    assertEquals("old", http.assignments().get(0).generatorId());
  }
}
