package dev.loadtest.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateJobConfig;
import dev.loadtest.flink.sink.ClickHouseTarget;
import dev.loadtest.flink.threshold.ThresholdJob;
import dev.loadtest.flink.threshold.ThresholdJobConfig;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

/**
 * Every operator of the long-running jobs has a uid of its own: a savepoint taken by one build maps onto the
 * next build's job by these names (what {@code loadtest cluster down}/{@code up} does), while Flink's generated
 * ids change with any operator added or moved anywhere in the graph.
 */
class JobUidsTest {
  private static final URI CLICKHOUSE = URI.create("http://127.0.0.1:8123");

  @Test
  void everyOperatorOfTheAggregateJobHasAUid() {
    AggregateJobConfig live = AggregateJobConfig.live("127.0.0.1:9092", CLICKHOUSE, "default", "", "loadtest");
    Map<String, String> one = uids(1, env -> AggregateJob.build(env, live));
    Map<String, String> two = uids(2, env -> AggregateJob.build(env, live));
    assertTrue(one.values().containsAll(List.of("samples", "batch-gate", "pre-aggregate", "ladder",
        "clickhouse-metrics", "clickhouse-series", "published", "run-states")), one.toString());
    assertTrue(two.values().containsAll(List.of("ladder", "totals-ladder", "clickhouse-totals")), two.toString());
    // The ladder keeps its uid when the run states join it: a savepoint of a job without them (a bounded
    // one's shape) restores into one with them.
    Map<String, String> bounded = uids(1, env -> AggregateJob.build(env, live.withBounded(true)));
    assertTrue(bounded.containsValue("ladder"), bounded.toString());
  }

  @Test
  void everyOperatorOfTheThresholdJobHasAUid() {
    ThresholdJobConfig c = ThresholdJobConfig.live("127.0.0.1:9092")
        .withClickHouse(new ClickHouseTarget(CLICKHOUSE, "default", "", "loadtest"));
    Map<String, String> uids = uids(2, env -> ThresholdJob.build(env, c));
    assertTrue(uids.values().containsAll(List.of("run-states", "aggregates", "judge", "insights", "clickhouse-runs",
        "clickhouse-thresholds")), uids.toString());
  }

  /** The uid of every node of the graph {@code job} builds (by node name), failing on a node without one. */
  private static Map<String, String> uids(int parallelism, Consumer<StreamExecutionEnvironment> job) {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(parallelism);
    job.accept(env);
    StreamGraph graph = env.getStreamGraph();
    Map<String, String> uids = new TreeMap<>();
    for (StreamNode node : graph.getStreamNodes()) {
      if (node.getOperatorName().endsWith(": to the inserts")) {
        continue; // the ClickHouse sinks' hand-over to their committers: a map without state, made by Flink's expansion
      }
      String uid = node.getTransformationUID();
      assertTrue(uid != null && !uid.isBlank(), "operator '" + node.getOperatorName() + "' has no uid");
      String before = uids.put(node.getOperatorName() + "#" + node.getId(), uid);
      assertEquals(null, before);
    }
    assertEquals(uids.size(), uids.values().stream().distinct().count(), "uids are unique: " + uids);
    return uids;
  }
}
