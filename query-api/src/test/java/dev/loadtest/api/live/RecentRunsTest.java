package dev.loadtest.api.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RecentRunsTest {
  static RunState state(String run, RunStatus status, long version, String plan) {
    return RunState.first(run, RunStatus.CREATED, 1_000, "created", List.of(), "h", plan, null).to(status, 2_000,
        status.name().toLowerCase()).withVersion(version);
  }

  @Test
  void anAcceptedStartIsKnownUntilTheCoordinatorSaysMore() {
    RecentRuns r = new RecentRuns();
    r.accepted("r1", "c-1", "{\"name\":\"p\"}", 5_000);
    RunState accepted = r.get("r1").orElseThrow();
    assertEquals(RunStatus.CREATED, accepted.status());
    assertTrue(accepted.history().get(0).reason().contains("c-1 accepted"));
    r.offer(state("r1", RunStatus.RUNNING, 3, "{\"name\":\"p\"}"));
    assertEquals(RunStatus.RUNNING, r.get("r1").orElseThrow().status());
    r.accepted("r1", "c-2", "{}", 6_000);
    assertEquals(RunStatus.RUNNING, r.get("r1").orElseThrow().status(), "a repeated start does not go back");
  }

  @Test
  void anOlderVersionNeverReplacesANewerOne() {
    RecentRuns r = new RecentRuns();
    r.offer(state("r1", RunStatus.FINISHED, 7, null));
    r.offer(state("r1", RunStatus.RUNNING, 5, null));
    assertEquals(RunStatus.FINISHED, r.get("r1").orElseThrow().status());
  }

  @Test
  void theNewerOfTheStoredAndTheRecentStateWins() {
    RecentRuns r = new RecentRuns();
    r.offer(state("r1", RunStatus.RUNNING, 4, "{}"));
    assertEquals(RunStatus.RUNNING, r.newest("r1", Optional.of(state("r1", RunStatus.ALLOCATED, 3, "{}")))
        .orElseThrow().status());
    assertEquals(RunStatus.FINISHED, r.newest("r1", Optional.of(state("r1", RunStatus.FINISHED, 9, "{}")))
        .orElseThrow().status());
    assertEquals(RunStatus.ALLOCATED, r.newest("r2", Optional.of(state("r2", RunStatus.ALLOCATED, 3, "{}")))
        .orElseThrow().status(), "a run only ClickHouse has");
    assertTrue(r.newest("r3", Optional.empty()).isEmpty());
  }

  @Test
  void aLargePlanIsNotKeptHereButReadFromTheStoredState() {
    RecentRuns r = new RecentRuns();
    String big = "{\"name\":\"" + "x".repeat(RecentRuns.PLAN_KEPT_CHARS) + "\"}";
    r.offer(state("r1", RunStatus.RUNNING, 4, big));
    assertNull(r.get("r1").orElseThrow().plan(), "not kept: memory is bounded by count and plan size");
    RunState merged = r.newest("r1", Optional.of(state("r1", RunStatus.ALLOCATED, 3, big))).orElseThrow();
    assertEquals(RunStatus.RUNNING, merged.status());
    assertEquals(big, merged.plan(), "the newer state, with the stored plan");
    r.accepted("r2", "c-1", big, 1_000);
    assertNull(r.get("r2").orElseThrow().plan());
    r.offer(state("r3", RunStatus.RUNNING, 4, "{\"name\":\"small\"}"));
    assertEquals("{\"name\":\"small\"}", r.get("r3").orElseThrow().plan(), "a usual plan is kept");
  }

  @Test
  void onlyTheMostRecentRunsAreKept() {
    RecentRuns r = new RecentRuns();
    for (int i = 0; i < 1_500; i++) {
      r.offer(state("r" + i, RunStatus.RUNNING, 1, null));
    }
    assertTrue(r.get("r0").isEmpty(), "the eldest went");
    assertTrue(r.get("r1499").isPresent());
    assertTrue(r.get("r500").isPresent(), "the newest 1,000 are kept");
    assertTrue(r.get("r499").isEmpty());
  }
}
