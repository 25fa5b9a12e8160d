package dev.loadtest.flink.sink;

import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * A run state of {@code loadtest.runs} (key, JSON) as its row of the {@code runs} table (migrations V001,
 * V006, V013): the searchable columns plus the whole state. ReplacingMergeTree(version) keeps the newest state of
 * each run however often a restarted job writes one again. Stateless; the JSON must be a readable run state
 * (filter with {@link #readable} first).
 */
public final class RunRowBinary implements RowBinaryRows<Tuple2<String, String>> {
  public static final String INSERT = "INSERT INTO runs (test_run_id, version, status, name, project, tag_keys,"
      + " tag_values, plan_hash, plan_json, created_at, started_at, ended_at, reason, verdict, updated_at,"
      + " state_json, load_test) FORMAT RowBinary";
  private static final long serialVersionUID = 1L;

  /** Whether {@code json} is a run state this encoder can write. */
  public static boolean readable(String json) {
    return RowBinaryRows.parses(json, RunState::fromJson);
  }

  @Override
  public List<String> inserts() {
    return List.of(INSERT);
  }

  @Override
  public void write(Tuple2<String, String> record, RowBinaryOutput out) {
    RunState s = RunState.fromJson(record.f1);
    Map<String, String> tags = s.metadata() == null ? Map.of() : new java.util.TreeMap<>(s.metadata().tags());
    List<RunState.Transition> h = s.history();
    long created = h.isEmpty() ? 0 : h.get(0).atMs();
    long started = h.stream().filter(t -> t.status() == RunStatus.RUNNING).mapToLong(RunState.Transition::atMs)
        .findFirst().orElse(0);
    long ended = s.status().terminal() && !h.isEmpty() ? h.get(h.size() - 1).atMs() : 0;
    long updated = h.isEmpty() ? 0 : h.get(h.size() - 1).atMs();
    out.string(s.testRunId());
    out.int64(s.version());
    out.string(s.status().name());
    out.string(s.metadata() == null || s.metadata().name() == null ? "" : s.metadata().name());
    out.string(s.metadata() == null || s.metadata().project() == null ? "" : s.metadata().project());
    out.strings(tags.keySet().toArray(String[]::new));
    out.strings(tags.values().toArray(String[]::new));
    out.string(s.planHash() == null ? "" : s.planHash());
    out.string(s.plan() == null ? "" : s.plan());
    out.uint32(created / 1000);
    out.uint32(started / 1000);
    out.uint32(ended / 1000);
    out.string(s.lastReason());
    out.string(s.verdict() == null ? "" : s.verdict().ok() ? "passed" : "failed");
    out.uint32(updated / 1000);
    out.string(record.f1);
    out.string(s.metadata() == null ? "" : s.metadata().loadTest());
  }
}
