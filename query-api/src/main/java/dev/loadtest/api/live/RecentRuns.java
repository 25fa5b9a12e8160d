package dev.loadtest.api.live;

import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The newest state of recent runs as this API saw it, ahead of ClickHouse: each state the coordinator
 * publishes on {@code loadtest.runs} (the live hub hands them over as they come) and, before the coordinator
 * has answered, a start command this API accepted (version 0, so any published state replaces it). So a run
 * is known from the moment its command is accepted, and its transitions show as soon as they happen, not
 * when the threshold job has written them to ClickHouse. Bounded: the 1,000 runs seen most recently (ClickHouse
 * has them seconds later), each with its plan only when the plan is at most 64 KB; a larger one is read from
 * the stored state (a run's page shows it once ClickHouse has it): at most about 64 MB for any plans sent.
 */
public final class RecentRuns {
  private static final int KEPT = 1_000;
  static final int PLAN_KEPT_CHARS = 64 * 1024;
  private final Map<String, RunState> states = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, RunState> eldest) {
      return size() > KEPT;
    }
  };

  /** Keeps {@code s} unless a newer version of its run is kept already. */
  public synchronized void offer(RunState s) {
    RunState known = states.get(s.testRunId());
    if (known == null || s.version() >= known.version()) {
      states.put(s.testRunId(), withPlan(s, s.plan() != null && s.plan().length() > PLAN_KEPT_CHARS ? null : s.plan()));
    }
  }

  private static RunState withPlan(RunState s, String plan) {
    return java.util.Objects.equals(plan, s.plan()) ? s : new RunState(s.testRunId(), s.status(), s.history(), s.errors(),
        s.planHash(), plan, s.metadata(), s.abortSource(), s.version(), s.verdict(), s.totals(), s.warnings());
  }

  /** A start command this API sent: the run is CREATED until the coordinator says more. */
  public synchronized void accepted(String runId, String commandId, String plan, long atMs) {
    if (!states.containsKey(runId)) {
      states.put(runId, new RunState(runId, RunStatus.CREATED, List.of(new RunState.Transition(RunStatus.CREATED, atMs,
          "start command " + commandId + " accepted; waiting for the coordinator")), List.of(), null,
          plan != null && plan.length() > PLAN_KEPT_CHARS ? null : plan, null, null, 0, null, null));
    }
  }

  public synchronized Optional<RunState> get(String runId) {
    return Optional.ofNullable(states.get(runId));
  }

  /** The newer of {@code stored} (ClickHouse's) and the state kept here. */
  public Optional<RunState> newest(String runId, Optional<RunState> stored) {
    Optional<RunState> recent = get(runId);
    if (recent.isEmpty()) {
      return stored;
    }
    if (stored.isEmpty()) {
      return recent;
    }
    if (recent.get().version() <= stored.get().version()) {
      return stored;
    }
    // newer here, but its plan may have been too large to keep: the stored state has it
    return recent.get().plan() == null ? Optional.of(withPlan(recent.get(), stored.get().plan())) : recent;
  }
}
