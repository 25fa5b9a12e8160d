package dev.loadtest.flink.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayJobTest {
  static final String PLAN = """
      {"scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "30s", "exec": "f"}},
       "thresholds": {"http_req_duration": ["p(95)<500"]},
       "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}""";

  static RunState ran(long startMs, long endMs) {
    return RunState.first("r1", RunStatus.VALIDATED, startMs - 100, "ok", List.of(), "h", PLAN, null)
        .to(RunStatus.RUNNING, startMs, "started").to(RunStatus.FINISHED, endMs, "done");
  }

  @Test
  void theReplayedRunSpansTheRangeWithinTheRunAndCarriesTheOtherThresholds() {
    RunState s = ReplayJob.replayState(ran(10_000, 40_000), "{\"http_reqs\": [\"count>10\"]}", 20_000,
        Long.MAX_VALUE, 99_000);
    assertEquals(RunStatus.FINISHED, s.status());
    assertEquals(List.of(20_000L, 40_000L), s.history().stream().map(RunState.Transition::atMs).toList());
    assertEquals("http_reqs", PlanParser.parse(s.plan()).thresholds().get(0).selector().metric());
    assertEquals(1, PlanParser.parse(s.plan()).thresholds().size());

    RunState own = ReplayJob.replayState(ran(10_000, 40_000), null, Long.MIN_VALUE, 25_000, 99_000);
    assertEquals(List.of(10_000L, 25_000L), own.history().stream().map(RunState.Transition::atMs).toList());
    assertEquals("p(95)<500", PlanParser.parse(own.plan()).thresholds().get(0).expression().source(),
        "without a file, the plan's own thresholds");

    RunState running = RunState.first("r2", RunStatus.VALIDATED, 0, "ok", List.of(), "h", PLAN, null)
        .to(RunStatus.RUNNING, 1_000, "started");
    assertEquals(5_000L, ReplayJob.replayState(running, null, Long.MIN_VALUE, Long.MAX_VALUE, 5_000).history().get(1)
        .atMs(), "a run still going is replayed up to now");
  }

  @Test
  void whatCannotBeReplayedIsSaid() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ReplayJob.replayState(ran(10_000, 40_000), null,
        50_000, 60_000, 99_000)).getMessage().startsWith("the range [1970-01-01T00:00:50Z, 1970-01-01T00:01:00Z)"
        + " does not overlap run r1"));
    RunState queued = RunState.first("r3", RunStatus.QUEUED, 0, "waiting", List.of(), "h", PLAN, null);
    assertEquals("run r3 never ran (status QUEUED): there are no samples to replay", assertThrows(
        IllegalArgumentException.class, () -> ReplayJob.replayState(queued, null, 0, 10, 5)).getMessage());
    RunState rejected = RunState.first("r4", RunStatus.REJECTED, 0, "bad plan", List.of(), "", "", null);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ReplayJob.replayState(rejected, null, 0, 10, 5))
        .getMessage().contains("has no accepted plan"));
    InvalidPlanException bad = assertThrows(InvalidPlanException.class, () -> ReplayJob.replayState(ran(0, 9_000),
        "{\"http_req_duration\": [\"p(95)<\"]}", Long.MIN_VALUE, Long.MAX_VALUE, 9_000));
    assertEquals("$.thresholds.http_req_duration[0]", bad.errors().get(0).path());
  }
}
