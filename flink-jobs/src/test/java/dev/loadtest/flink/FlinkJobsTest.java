package dev.loadtest.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.flink.aggregate.AggregateJobConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FlinkJobsTest {
  @Test
  void optionsComeFromArgumentsThenEnvironmentThenEmbeddedDefaults() {
    FlinkJobs.Invocation inv = FlinkJobs.parse(List.of("aggregate", "--database", "perf"),
        Map.of("LOADTEST_KAFKA_BOOTSTRAP", "kafka:9092", "LOADTEST_DATABASE", "ignored"));
    AggregateJobConfig c = inv.aggregateConfig();
    assertEquals("kafka:9092", c.bootstrapServers());
    assertEquals("perf", c.database());
    assertEquals("http://127.0.0.1:8123/", c.clickHouseUri().toString());
    assertEquals("loadtest.aggregates", c.aggregatesTopic());
    assertEquals("", c.runFilter());
  }

  @Test
  void aReplayReadsOneRunBoundedUnderItsAnalysisId() {
    AggregateJobConfig c = FlinkJobs.parse(List.of("replay", "run-7", "--analysis", "a1", "--from", "1000",
        "--to", "5000"), Map.of()).aggregateConfig();
    assertTrue(c.bounded());
    assertEquals("run-7", c.runFilter());
    assertEquals("a1", c.analysisId());
    assertEquals(1000, c.fromMs());
    assertEquals(5000, c.toMs());
    assertEquals("", c.aggregatesTopic(), "a replay is not published to live readers");
  }

  @Test
  void badArgumentsSayWhatIsWrong() {
    assertEquals("the first argument is the job: aggregate, thresholds or replay",
        assertThrows(IllegalArgumentException.class, () -> FlinkJobs.parse(List.of("aggregat"), Map.of())).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> FlinkJobs.parse(List.of("aggregate", "--db", "x"),
        Map.of())).getMessage().startsWith("unknown option --db"));
    assertEquals("replay needs the run id and --analysis ID", assertThrows(IllegalArgumentException.class,
        () -> FlinkJobs.parse(List.of("replay", "run-1"), Map.of())).getMessage());
    assertEquals("--from must be a whole number, got \"yesterday\"", assertThrows(IllegalArgumentException.class,
        () -> FlinkJobs.parse(List.of("replay", "r", "--analysis", "a", "--from", "yesterday"), Map.of())).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> FlinkJobs.parse(List.of("replay", "r", "--analysis",
        "a", "--from", "10", "--to", "5"), Map.of())).getMessage().contains("time range is empty"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> FlinkJobs.parse(List.of("replay", "r", "--analysis",
        "a b'"), Map.of())).getMessage().startsWith("--analysis must be letters, digits and . _ : -"));
  }
}
