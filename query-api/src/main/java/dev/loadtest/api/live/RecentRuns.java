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
 * when the threshold job has written them to ClickHouse. Bounded: the 10,000 runs seen most recently.
 */
public final class RecentRuns {
  private static final int KEPT = 10_000;
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
      states.put(s.testRunId(), s);
    }
  }

  /** A start command this API sent: the run is CREATED until the coordinator says more. */
  public synchronized void accepted(String runId, String commandId, String plan, long atMs) {
    if (!states.containsKey(runId)) {
      states.put(runId, new RunState(runId, RunStatus.CREATED, List.of(new RunState.Transition(RunStatus.CREATED, atMs,
          "start command " + commandId + " accepted; waiting for the coordinator")), List.of(), null, plan, null, null,
          0, null, null));
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
    return recent.get().version() > stored.get().version() ? recent : stored;
  }
}
