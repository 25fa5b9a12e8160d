package dev.loadtest.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.FlinkMiniCluster;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The shared MiniCluster runs a real keyed job, submitted as jobs are to a standalone cluster. */
class FlinkMiniClusterIT {
  @Test
  @Timeout(180)
  void aKeyedJobRunsOnTheMiniClusterAndCountsEveryElement() throws Exception {
    FlinkMiniCluster flink = FlinkMiniCluster.shared();
    assertTrue(flink.restAddress().getHost().equals("127.0.0.1"), "REST endpoint on loopback: " + flink.restAddress());
    StreamExecutionEnvironment env = flink.environment(2);
    Map<Long, Long> counts = new HashMap<>();
    try (CloseableIterator<Tuple2<Long, Long>> it = env.fromSequence(1, 20_000)
        .map(v -> Tuple2.of(v % 7, 1L)).returns(Types.TUPLE(Types.LONG, Types.LONG))
        .keyBy(t -> t.f0)
        .sum(1)
        .executeAndCollect("minicluster-smoke")) {
      it.forEachRemaining(t -> counts.merge(t.f0, t.f1, Math::max));
    }
    assertEquals(7, counts.size());
    assertEquals(20_000L, counts.values().stream().mapToLong(Long::longValue).sum());
    System.out.println("Flink under test: " + FlinkMiniCluster.version() + " MiniCluster at " + flink.restAddress());
  }
}
