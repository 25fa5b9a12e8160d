package dev.loadtest.flink.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateJobConfig;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.flink.sink.ClickHouseTarget;
import dev.loadtest.flink.sink.ThresholdRowBinary;
import dev.loadtest.flink.threshold.RunThresholds;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.threshold.ThresholdResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The replay job: one run's raw samples (or a time range of them) read again from {@code loadtest.samples},
 * aggregated by the aggregate job's own operators under an analysis id (its rows sit beside the run's, in
 * the same tables, so the query API reads an analysis like a run with {@code ?analysis=ID}), and judged by
 * {@link RunThresholds}: the plan's thresholds, or other ones. Bounded: it reads the topic as it is when it
 * starts and ends when done; each threshold's final result is stored in the {@code thresholds} table under
 * the analysis id once the whole input has been read. Nothing goes to the live topics: a replay neither
 * changes the run's verdict nor aborts anything.
 */
public final class ReplayJob {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReplayJob() {}

  /**
   * What the replay judges: the stored run's state with {@code thresholdsJson} instead of the plan's
   * thresholds (null: the plan's own) and its time span cut to [fromMs, toMs).
   *
   * @param nowMs the end of a run that has not ended yet
   * @throws IllegalArgumentException saying why this run cannot be replayed so (an
   *     {@link dev.loadtest.schemas.plan.InvalidPlanException} with each bad threshold's path)
   */
  public static RunState replayState(RunState stored, String thresholdsJson, long fromMs, long toMs, long nowMs) {
    if (stored.plan() == null || stored.plan().isBlank() || stored.status() == RunStatus.REJECTED) {
      throw new IllegalArgumentException("run " + stored.testRunId() + " has no accepted plan (status "
          + stored.status() + "): there is nothing to replay");
    }
    long started = startedAtMs(stored).orElseThrow(() -> new IllegalArgumentException("run " + stored.testRunId() + " never ran (status "
            + stored.status() + "): there are no samples to replay"));
    long ended = stored.status().terminal() ? stored.history().get(stored.history().size() - 1).atMs() : nowMs;
    long start = Math.max(started, fromMs);
    long end = Math.min(ended, toMs);
    if (start >= end) {
      throw new IllegalArgumentException("the range [" + text(fromMs) + ", " + text(toMs) + ") does not overlap run "
          + stored.testRunId() + ", which ran from " + Instant.ofEpochMilli(started) + " to " + Instant.ofEpochMilli(ended));
    }
    String plan = thresholdsJson == null ? stored.plan() : PlanParser.withThresholds(stored.plan(), thresholdsJson);
    String reason = "replay of " + Instant.ofEpochMilli(start) + " to " + Instant.ofEpochMilli(end);
    return new RunState(stored.testRunId(), RunStatus.FINISHED, List.of(new RunState.Transition(RunStatus.RUNNING,
        start, reason), new RunState.Transition(RunStatus.FINISHED, end, reason)), List.of(), stored.planHash(), plan,
        stored.metadata(), null, 1, null, null);
  }

  /** When {@code run} started running, if it did. */
  public static java.util.OptionalLong startedAtMs(RunState run) {
    return run.history().stream().filter(t -> t.status() == RunStatus.RUNNING).mapToLong(RunState.Transition::atMs)
        .findFirst();
  }

  private static String text(long ms) {
    return ms == Long.MIN_VALUE ? "-inf" : ms == Long.MAX_VALUE ? "+inf" : Instant.ofEpochMilli(ms).toString();
  }

  /** The newest stored state of {@code testRunId} from the {@code runs} table. */
  public static RunState storedRun(ClickHouseTarget target, String testRunId) {
    ClickHouseHttp ch = new ClickHouseHttp(target.uri(), target.user(), target.password(), Duration.ofSeconds(30));
    String body = ch.execute(target.database(), "SELECT state_json FROM runs FINAL WHERE test_run_id = "
        + ClickHouseHttp.quote(testRunId) + " ORDER BY version DESC LIMIT 1 FORMAT JSONEachRow").strip();
    if (body.isEmpty()) {
      throw new IllegalArgumentException("no run " + testRunId + " in database " + target.database() + " of "
          + target.uri());
    }
    try {
      JsonNode row = JSON.readTree(body);
      return RunState.fromJson(row.path("state_json").asText());
    } catch (IOException e) {
      throw new UncheckedIOException("the stored state of run " + testRunId + " is not readable", e);
    }
  }

  /**
   * Adds the replay to {@code env}: the aggregate job with {@code replay} (a config made by
   * {@link AggregateJobConfig#replay}) and the judging of {@code state}'s thresholds, stored in
   * {@code target}.
   */
  public static void build(StreamExecutionEnvironment env, AggregateJobConfig replay, RunState state,
      ClickHouseTarget target) {
    if (replay.analysisId().isEmpty() || !replay.bounded() || !replay.runFilter().equals(state.testRunId())) {
      throw new IllegalArgumentException("a replay reads one run, bounded, under an analysis id");
    }
    DataStream<SeriesBucket> seconds = AggregateJob.build(env, replay);
    DataStream<Tuple2<String, String>> run = env.fromData(Types.TUPLE(Types.STRING, Types.STRING),
        Tuple2.of(state.testRunId(), state.toJson())).name("replayed run");
    run.connect(seconds)
        .keyBy(r -> r.f0, b -> b.testRunId, Types.STRING)
        .process(RunThresholds.forBuckets(Duration.ZERO, replay.analysisId(), true), Types.TUPLE(Types.STRING, Types.STRING))
        .name("judge the replay's thresholds")
        .filter(r -> ThresholdRowBinary.readable(r.f1) && ThresholdResult.fromJson(r.f1).finalResult())
        .name("final results")
        .sinkTo(target.sink(new ThresholdRowBinary(replay.analysisId()))).name("clickhouse thresholds");
  }
}
