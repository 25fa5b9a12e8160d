package dev.loadtest.schemas.topics;

import java.util.List;
import java.util.Map;

/**
 * The Kafka topics of the system (DESIGN.md), with the settings they are created with. Names are a
 * contract; partitions are defaults a deployment may raise. Plain values: no Kafka client here.
 */
public final class Topics {
  public static final String COMMANDS = "loadtest.commands";
  public static final String RUNS = "loadtest.runs";
  public static final String GENERATORS = "loadtest.generators";
  public static final String ASSIGNMENTS = "loadtest.assignments";
  public static final String SAMPLES = "loadtest.samples";
  public static final String AGGREGATES = "loadtest.aggregates";
  /**
   * The header of an {@link #AGGREGATES} record that says what its buckets are: {@code totals} (the metrics'
   * totals, analysis id with the suffix {@code ~total}), {@code gauges} (gauges' series) or {@code series}
   * (every other series). Readers that need no tag skip {@code series} records without decoding them.
   */
  public static final String AGGREGATES_KIND_HEADER = "loadtest-kind";
  public static final String THRESHOLDS = "loadtest.thresholds";
  /** Performance insights raised while runs go (JSON {@code Insight}, key: test run id). */
  public static final String INSIGHTS = "loadtest.insights";
  /** Schedules as the coordinator keeps them (JSON, key: schedule id; compacted, a tombstone when deleted). */
  public static final String SCHEDULES = "loadtest.schedules";
  public static final String DLQ = "loadtest.dlq";
  /** The live aggregate job's consumer group on {@link #SAMPLES} (its committed offsets tell its lag). */
  public static final String AGGREGATE_JOB_GROUP = "loadtest-aggregate";
  /** The live threshold job's consumer group on {@link #AGGREGATES}. */
  public static final String THRESHOLD_JOB_GROUP = "loadtest-thresholds";

  /** Raw samples are kept 7 days by default so that a run can be replayed and re-analysed. */
  public static final long SAMPLES_RETENTION_MS = 7L * 24 * 3600 * 1000;

  /** A topic and how it is created. */
  public record Spec(String name, int partitions, Map<String, String> config) {}

  private Topics() {}

  /** Every topic with its default partitions and configuration. */
  public static List<Spec> all() {
    Map<String, String> compacted = Map.of("cleanup.policy", "compact");
    return List.of(
        new Spec(COMMANDS, 3, Map.of()),
        new Spec(RUNS, 3, compacted),
        new Spec(GENERATORS, 1, compacted),
        new Spec(ASSIGNMENTS, 3, Map.of()),
        new Spec(SAMPLES, 6, Map.of("retention.ms", Long.toString(SAMPLES_RETENTION_MS), "compression.type", "lz4",
            "max.message.bytes", Integer.toString(8 * 1024 * 1024))),
        new Spec(AGGREGATES, 3, Map.of("retention.ms", Long.toString(24L * 3600 * 1000))),
        new Spec(THRESHOLDS, 3, Map.of()),
        new Spec(INSIGHTS, 3, Map.of()),
        new Spec(SCHEDULES, 1, compacted),
        new Spec(DLQ, 1, Map.of("retention.ms", Long.toString(SAMPLES_RETENTION_MS))));
  }
}
