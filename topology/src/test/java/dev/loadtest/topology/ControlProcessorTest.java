package dev.loadtest.topology;

import static dev.loadtest.topology.CoordinatorDriver.plan;
import static dev.loadtest.topology.CoordinatorDriver.start;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.generator.Assignment;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The run lifecycle after validation: allocation, start, finish, stop, abort, queueing, lost generators. */
class ControlProcessorTest extends DriverTest {

  private List<RunStatus> statuses(String run) {
    return c.runStates().stream().filter(s -> s.testRunId().equals(run)).map(RunState::status).toList();
  }

  private RunState last(List<RunState> states, String run) {
    return states.stream().filter(s -> s.testRunId().equals(run)).reduce((a, b) -> b).orElseThrow();
  }

  /** Two generators, one per zone of the checkout plan's distribution (local:eu 60%, local:us 40%). */
  private void twoGenerators() {
    c.heartbeat("g-eu", "local:eu", 1000);
    c.heartbeat("g-us", "local:us", 1000);
  }

  @Test
  void aRunGoesToFreeGeneratorsWithSegmentsAddingUpAndOneStartTimeThenRunsAndFinishes() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    List<Assignment> sent = c.assignments();
    assertEquals(2, sent.size());
    Assignment.Start eu = assertInstanceOf(Assignment.Start.class, sent.get(0));
    Assignment.Start us = assertInstanceOf(Assignment.Start.class, sent.get(1));
    assertEquals(List.of("g-eu", "g-us"), List.of(eu.generatorId(), us.generatorId()));
    assertEquals(eu.startAtMs(), us.startAtMs(), "one start time for all generators");
    assertEquals(eu.sequence(), us.sequence());
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse(eu.sequence());
    assertEquals(600, seq.scale(eu.segmentIndex(), 1000), "the eu zone runs 60%");
    assertEquals(400, seq.scale(us.segmentIndex(), 1000));
    assertTrue(eu.planJson().contains("127.0.0.1:8080"), "generators get the env the stored plan hides");

    c.driver.advanceWallClockTime(Duration.ofSeconds(4)); // past the start time, then the first heartbeat
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "RUNNING");
    assertEquals(eu.startAtMs(), last(c.runStates(), "run-1").history().get(3).atMs(),
        "RUNNING since the generators began (their start time), not since their heartbeat came");
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "FINISHED");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "FINISHED");
    List<RunState> states = c.runStates();
    assertEquals(List.of(RunStatus.FINISHED), states.stream().map(RunState::status).toList());
    RunState done = last(states, "run-1");
    assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.ALLOCATED, RunStatus.RUNNING,
        RunStatus.FINISHED), done.history().stream().map(RunState.Transition::status).toList());
    assertTrue(done.history().get(2).reason().contains("g-eu (local:eu, 0:3/5)"), done.history().get(2).reason());
    assertEquals("all 2 generator(s) finished", done.history().get(4).reason());
    assertEquals(new RunState.Totals(20, 60, 0, 20, 0, 2, 0), done.totals(), "both generators' final counts");
  }

  @Test
  void iterationsFailingForAReasonOfOursBecomeWarningsWhileTheRunRunsAndCountsInItsTotals() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.assignments();
    c.driver.advanceWallClockTime(Duration.ofSeconds(4));
    c.heartbeat("g-us", "local:us", 1000, "run-1", "RUNNING");
    String missing = "scenario browse: ${token}: the VU has no variable token";
    c.heartbeatWithFailures("g-eu", "local:eu", "run-1", "RUNNING", 3, missing);
    RunState warned = last(c.runStates(), "run-1");
    assertEquals(RunStatus.RUNNING, warned.status(), "a warning does not end the run");
    assertEquals(List.of("iterations fail on generator g-eu (the plan's or the generator's fault, not the system"
        + " under test's): " + missing), warned.warnings());
    c.heartbeatWithFailures("g-eu", "local:eu", "run-1", "RUNNING", 7, missing);
    assertTrue(c.runStates().isEmpty(), "the same reason again is no new state");
    c.heartbeatWithFailures("g-eu", "local:eu", "run-1", "FINISHED", 10, missing,
        "scenario browse: an error of the generator: java.lang.IllegalStateException: x");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "FINISHED");
    RunState done = last(c.runStates(), "run-1");
    assertEquals(2, done.warnings().size(), done.warnings().toString());
    assertEquals(new RunState.Totals(20, 60, 0, 20, 0, 2, 0, 10, List.of(missing,
        "scenario browse: an error of the generator: java.lang.IllegalStateException: x")), done.totals());
    assertEquals(done, RunState.fromJson(done.toJson()), "warnings and failed iterations survive the topic");
  }

  @Test
  void withoutFreeGeneratorsARunIsQueuedAndStartsWhenTheyCome() {
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.QUEUED), statuses("run-1"));
    twoGenerators();
    c.driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertEquals(List.of(RunStatus.ALLOCATED), statuses("run-1"));
    assertEquals(2, c.assignments().size());
  }

  @Test
  void aGeneratorThatHasLeftGetsNoNewRunButOneAtWorkIsJudgedByItsSilence() {
    twoGenerators();
    c.generators.pipeInput("g-us", (String) null); // g-us leaves (its tombstone), idle
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.QUEUED), statuses("run-1"),
        "local:us has no generator left: the run waits, it does not go to one that has gone");
    assertTrue(c.assignments().isEmpty());
    c.heartbeat("g-us", "local:us", 1000); // back
    c.driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertEquals(List.of(RunStatus.ALLOCATED), statuses("run-1"));
    assertEquals(2, c.assignments().size());
    c.generators.pipeInput("g-us", (String) null); // leaves while it has a share of run-1
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    assertEquals(List.of(RunStatus.RUNNING), statuses("run-1"), "still its generator until its silence says more");
    for (int s = 0; s < 7; s++) {
      c.driver.advanceWallClockTime(Duration.ofSeconds(1));
      c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    }
    RunState degraded = last(c.runStates(), "run-1");
    assertTrue(degraded.history().get(degraded.history().size() - 1).reason().contains("g-us lost"), degraded.toString());
  }

  @Test
  void aGeneratorRunsOneTestAtATimeSoTheSecondWaitsForTheFirst() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.commands.pipeInput("run-2", start("c-2", "run-2", plan()));
    List<RunState> states = c.runStates();
    assertEquals(RunStatus.ALLOCATED, last(states, "run-1").status());
    RunState waiting = last(states, "run-2");
    assertEquals(RunStatus.QUEUED, waiting.status());
    assertTrue(waiting.history().get(2).reason().contains("zone local:eu needs 42 VUs, its free generators offer 0"),
        waiting.history().get(2).reason());
    c.assignments();
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "FINISHED");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "FINISHED");
    c.driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertEquals(RunStatus.ALLOCATED, last(c.runStates(), "run-2").status());
    assertTrue(c.assignments().stream().allMatch(a -> a.testRunId().equals("run-2")));
  }

  @Test
  void stopReachesTheGeneratorsAndTheRunFinishesWhenTheyDo() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.assignments();
    c.commands.pipeInput("run-1", "{\"type\":\"stop\",\"commandId\":\"c-2\",\"testRunId\":\"run-1\"}");
    List<Assignment> stops = c.assignments();
    assertEquals(2, stops.size());
    assertTrue(stops.stream().allMatch(a -> a instanceof Assignment.Stop));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "FINISHED");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "FINISHED");
    assertEquals(RunStatus.FINISHED, last(c.runStates(), "run-1").status());
  }

  @Test
  void abortReachesTheGeneratorsAndEndsTheRunAtOnce() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.assignments();
    c.commands.pipeInput("run-1", "{\"type\":\"abort\",\"commandId\":\"c-2\",\"testRunId\":\"run-1\","
        + "\"reason\":\"p(99) over 1.5 s\",\"source\":\"threshold\"}");
    List<Assignment> aborts = c.assignments();
    assertEquals(2, aborts.size());
    assertEquals("p(99) over 1.5 s", assertInstanceOf(Assignment.Abort.class, aborts.get(0)).reason());
    RunState aborted = last(c.runStates(), "run-1");
    assertEquals(RunStatus.ABORTED, aborted.status());
    assertEquals("threshold", aborted.abortSource());
    c.commands.pipeInput("run-1", "{\"type\":\"abort\",\"commandId\":\"c-3\",\"testRunId\":\"run-1\"}");
    assertTrue(c.rejections().get(0).get("reason").asText().contains("has ended already (ABORTED)"));
    assertNull(aborted.totals(), "the generators have not reported their ends yet");
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "ABORTED");
    assertTrue(c.runStates().isEmpty(), "one generator's report is not the totals");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "ABORTED");
    RunState counted = last(c.runStates(), "run-1");
    assertEquals(RunStatus.ABORTED, counted.status(), "the totals come after the end, the status stays");
    assertEquals(new RunState.Totals(20, 60, 0, 20, 0, 2, 0), counted.totals());
    c.heartbeat("g-us", "local:us", 1000, "run-1", "ABORTED");
    assertTrue(c.runStates().isEmpty(), "a repeated report changes nothing");
  }

  @Test
  void aLostGeneratorIsRecordedAndTheRunFailsWhenAllAreGone() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.driver.advanceWallClockTime(Duration.ofSeconds(3));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.driver.advanceWallClockTime(Duration.ofSeconds(3)); // g-us silent for 6 s: lost
    RunState degraded = last(c.runStates(), "run-1");
    assertEquals(RunStatus.RUNNING, degraded.status(), "the plan says onGeneratorLoss: continue");
    assertTrue(degraded.history().get(degraded.history().size() - 1).reason().contains("g-us lost"));
    for (int s = 0; s < 6; s++) { // ticks every second: the coordinator listens all along
      c.driver.advanceWallClockTime(Duration.ofSeconds(1));
    }
    assertTrue(c.runStates().isEmpty(), "the last generator silent for 6 s, and no heartbeat from anyone either (a"
        + " starved coordinator or a broker failing over looks the same): it is given its due, nothing changes");
    for (int s = 0; s < 19; s++) {
      c.driver.advanceWallClockTime(Duration.ofSeconds(1));
    }
    assertTrue(c.runStates().isEmpty(), "silent for 28 s: still given its due");
    for (int s = 0; s < 3; s++) {
      c.driver.advanceWallClockTime(Duration.ofSeconds(1)); // silent for 31 s, more than 6 x 5 s: lost
    }
    RunState failed = last(c.runStates(), "run-1");
    assertEquals(RunStatus.FAILED, failed.status());
    assertTrue(failed.history().get(failed.history().size() - 1).reason().startsWith("all generators lost"));
  }

  @Test
  void aCoordinatorHeldUpLongerThanTheLimitGivesTheHeartbeatsTimeToComeThrough() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "RUNNING");
    c.runStates();
    c.driver.advanceWallClockTime(Duration.ofSeconds(12)); // no tick for 12 s: this coordinator was held up
    assertTrue(c.runStates().isEmpty(), "nobody is lost for a silence the coordinator did not listen to");
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING"); // what waited in Kafka comes through
    c.heartbeat("g-us", "local:us", 1000, "run-1", "RUNNING");
    for (int s = 0; s < 4; s++) {
      c.driver.advanceWallClockTime(Duration.ofSeconds(1));
    }
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    for (int s = 0; s < 3; s++) {
      c.driver.advanceWallClockTime(Duration.ofSeconds(1));
    }
    RunState degraded = last(c.runStates(), "run-1");
    assertTrue(degraded.history().get(degraded.history().size() - 1).reason().contains("g-us lost"),
        "a generator silent while the other beats is still lost after the limit");
  }

  @Test
  void aRunWithALostGeneratorFinishesDegradedAndSaysWhichAndWhatItSent() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "RUNNING");
    c.driver.advanceWallClockTime(Duration.ofSeconds(3));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.driver.advanceWallClockTime(Duration.ofSeconds(3)); // g-us silent for 6 s: lost
    RunState degraded = last(c.runStates(), "run-1");
    String lost = degraded.history().get(degraded.history().size() - 1).reason();
    assertTrue(lost.contains("g-us lost (no heartbeat for 5 s; g-us had sent 10 requests)"), lost);
    assertTrue(degraded.warnings().stream().anyMatch(w -> w.startsWith("degraded: generator(s) g-us lost (no"
        + " heartbeat for 5 s; g-us had sent 10 requests) at ")), degraded.warnings().toString());
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "FINISHED");
    RunState finished = last(c.runStates(), "run-1");
    assertEquals(RunStatus.FINISHED, finished.status());
    assertEquals("1 of 2 generator(s) finished; degraded: g-us lost",
        finished.history().get(finished.history().size() - 1).reason());
    assertEquals(1, finished.totals().lost(), "the totals say one generator's count is missing");
    assertEquals(10, finished.totals().requests(), "what the generator that finished reported");
  }

  @Test
  void aPlanThatAbortsOnGeneratorLossIsAbortedBySystem() {
    twoGenerators();
    ObjectNode p = plan();
    p.put("onGeneratorLoss", "abort");
    c.commands.pipeInput("run-1", start("c-1", "run-1", p));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.driver.advanceWallClockTime(Duration.ofSeconds(3));
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
    c.assignments();
    c.driver.advanceWallClockTime(Duration.ofSeconds(3));
    RunState aborted = last(c.runStates(), "run-1");
    assertEquals(RunStatus.ABORTED, aborted.status());
    assertEquals("system", aborted.abortSource());
    List<Assignment> sent = c.assignments();
    assertEquals(1, sent.size(), "the generator that is left is told to abort");
    assertEquals("g-eu", sent.get(0).generatorId());
  }

  private void result(String run, String threshold, String state, boolean isFinal) {
    c.thresholds.pipeInput(run, new dev.loadtest.schemas.threshold.ThresholdResult(run, threshold,
        dev.loadtest.schemas.threshold.ThresholdResult.State.valueOf(state), 1.0, isFinal, 0).toJson());
  }

  @Test
  void theVerdictFollowsTheThresholdResultsAndIsCompleteWhenAllAreFinal() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    result("run-1", "http_req_duration{name:checkout}: p(95)<500", "PASSED", false);
    result("run-1", "http_req_failed: rate<0.01", "FAILED", false);
    RunState live = last(c.runStates(), "run-1");
    assertEquals(RunStatus.ALLOCATED, live.status(), "a verdict does not change the status");
    assertEquals(List.of("http_req_failed: rate<0.01"), live.verdict().failed());
    assertTrue(!live.verdict().complete());
    c.heartbeat("g-eu", "local:eu", 1000, "run-1", "FINISHED");
    c.heartbeat("g-us", "local:us", 1000, "run-1", "FINISHED");
    // The final results come after the run's end, once the aggregation has seen all of its data.
    List<String> all = List.of("http_req_duration{name:checkout}: p(95)<500", "http_req_duration{name:checkout}: p(99)<1500",
        "http_req_failed: rate<0.01", "checks: rate>0.99", "http_req_duration: p(95)<800 over 1m", "coupon_applied: count>0");
    for (String t : all) {
      result("run-1", t, t.startsWith("coupon") ? "NO_DATA" : "PASSED", true);
    }
    RunState done = last(c.runStates(), "run-1");
    assertEquals(RunStatus.FINISHED, done.status());
    assertTrue(done.verdict().complete(), done.verdict().toString());
    assertEquals(5, done.verdict().passed().size());
    assertEquals(List.of("coupon_applied: count>0"), done.verdict().noData());
    assertTrue(!done.verdict().ok(), "no data counts as failed in the final verdict");
    c.thresholds.pipeInput("run-1", "not a result");
    assertTrue(c.rejections().get(0).get("reason").asText().contains("not a threshold result"));
  }

  @Test
  void beyondTheConcurrentRunLimitRunsWait() {
    try (CoordinatorDriver d = new CoordinatorDriver(new CoordinatorConfig(CoordinatorConfig.DEFAULT_ALLOWED_HOSTS,
        CoordinatorConfig.DEFAULT_MAX_COMMAND_BYTES, Duration.ofSeconds(5), 1, Duration.ofMinutes(30)),
        stateDir.resolve("limit"))) {
      for (String g : List.of("a1", "a2")) {
        d.heartbeat(g, "local:eu", 1000);
      }
      for (String g : List.of("b1", "b2")) {
        d.heartbeat(g, "local:us", 1000);
      }
      d.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
      d.commands.pipeInput("run-2", start("c-2", "run-2", plan()));
      List<RunState> states = d.runStates();
      assertEquals(RunStatus.ALLOCATED, last(states, "run-1").status());
      RunState waiting = last(states, "run-2");
      assertEquals(RunStatus.QUEUED, waiting.status());
      assertEquals("1 runs are running, the limit is 1", waiting.history().get(2).reason());
    }
  }

  @Test
  void aRunQueuedTooLongFailsWithTheReasonItWaitedFor() {
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.driver.advanceWallClockTime(Duration.ofMinutes(31));
    RunState failed = last(c.runStates(), "run-1");
    assertEquals(RunStatus.FAILED, failed.status());
    assertTrue(failed.history().get(failed.history().size() - 1).reason()
        .contains("queued for longer than 30 min: zone local:eu needs 42 VUs"), failed.history().toString());
  }

  @Test
  void noRunStaysRunningForever() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    // The plan can take 30 s + 2 min + 15 s; its generators keep saying RUNNING for 5 minutes.
    for (int s = 0; s < 300; s += 3) {
      c.heartbeat("g-eu", "local:eu", 1000, "run-1", "RUNNING");
      c.heartbeat("g-us", "local:us", 1000, "run-1", "RUNNING");
      c.driver.advanceWallClockTime(Duration.ofSeconds(3));
    }
    RunState failed = last(c.runStates(), "run-1");
    assertEquals(RunStatus.FAILED, failed.status());
    assertTrue(failed.history().get(failed.history().size() - 1).reason().contains("past the plan's longest"));
    assertTrue(c.assignments().stream().anyMatch(a -> a instanceof Assignment.Abort));
  }

  @Test
  void theDeadlineKnowsAPlugInsOwnDuration() {
    dev.loadtest.schemas.plan.TestPlan synthetic = dev.loadtest.schemas.plan.PlanParser.parse("""
        {"name": "syn", "generator": {"plugin": "synthetic", "options": {"rate": 1000, "duration": "10m"}},
         "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "f"}},
         "flows": {"f": {"steps": [{"think": "1s"}]}}}""");
    assertEquals(Duration.ofMinutes(10).plusSeconds(30), ControlProcessor.longest(synthetic),
        "10 minutes of the plug-in's own timeline, not the scenario's 31 s");
    dev.loadtest.schemas.plan.TestPlan http = dev.loadtest.schemas.plan.PlanParser.parse("""
        {"name": "h", "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "f"}},
         "flows": {"f": {"steps": [{"think": "1s"}]}}}""");
    assertEquals(Duration.ofSeconds(31), ControlProcessor.longest(http));
  }

  @Test
  void aMalformedHeartbeatGoesToTheDlqAndTheRegistryGoesOn() {
    c.generators.pipeInput("g-x", "{\"generatorId\": 7}");
    c.generators.pipeInput("g-y", "not json");
    List<com.fasterxml.jackson.databind.JsonNode> r = c.rejections();
    assertEquals(2, r.size());
    assertEquals("loadtest.generators", r.get(0).get("topic").asText());
    assertTrue(r.get(1).get("reason").asText().contains("not a heartbeat"), r.get(1).toString());
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    assertEquals(RunStatus.ALLOCATED, last(c.runStates(), "run-1").status());
  }

  @Test
  void aGeneratorThatFailsTheRunEndsItFailedAndTheOthersAreToldToAbort() {
    twoGenerators();
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.assignments();
    c.generators.pipeInput("g-us", dev.loadtest.schemas.generator.GeneratorJson.heartbeat(
        new dev.loadtest.schemas.generator.Heartbeat("g-us", "local:us", 2, 1000, "test", 0, 0.2, 1, 2, 0.1,
            List.of(new dev.loadtest.schemas.generator.Heartbeat.RunProgress("run-1", "3/5:1",
                dev.loadtest.schemas.generator.Heartbeat.RunPhase.FAILED, 0, 0, 0, 0, 0, 0,
                "invalid plan: $.feeders: feeder users: cannot read users.csv")), List.of(), 0)));
    RunState failed = last(c.runStates(), "run-1");
    assertEquals(RunStatus.FAILED, failed.status());
    assertTrue(failed.history().get(failed.history().size() - 1).reason().contains("cannot read users.csv"));
    List<Assignment> sent = c.assignments();
    assertTrue(sent.stream().allMatch(a -> a instanceof Assignment.Abort), sent.toString());
  }
}
