package dev.loadtest.flink.threshold;

import dev.loadtest.flink.sink.ClickHouseTarget;
import dev.loadtest.schemas.topics.Topics;
import java.io.Serializable;
import java.time.Duration;

/**
 * Where the threshold job reads and writes.
 *
 * @param outOfOrderness how late a 1 s bucket may come and still count before its second is judged
 * @param idleness quiet input after which event time moves on with the clock
 * @param finalGrace how long after a run has ended (by the wall clock) its final verdict waits for every
 *     sample the generators reported, before it is given with what has arrived, marked partial
 * @param clickHouse where run states and threshold results are also stored for the query API (null: not
 *     stored)
 */
public record ThresholdJobConfig(String bootstrapServers, String aggregatesTopic, String runsTopic,
    String thresholdsTopic, String commandsTopic, String groupId, Duration outOfOrderness, Duration idleness,
    Duration finalGrace, ClickHouseTarget clickHouse, String insightsTopic) implements Serializable {
  /** The live job's wait for a run's last samples (an aggregate job under load may be this far behind). */
  public static final Duration DEFAULT_FINAL_GRACE = Duration.ofSeconds(60);

  /** Without performance insights. */
  public ThresholdJobConfig(String bootstrapServers, String aggregatesTopic, String runsTopic, String thresholdsTopic,
      String commandsTopic, String groupId, Duration outOfOrderness, Duration idleness, Duration finalGrace,
      ClickHouseTarget clickHouse) {
    this(bootstrapServers, aggregatesTopic, runsTopic, thresholdsTopic, commandsTopic, groupId, outOfOrderness, idleness,
        finalGrace, clickHouse, null);
  }

  public ThresholdJobConfig {
    for (String s : new String[] {bootstrapServers, aggregatesTopic, runsTopic, thresholdsTopic, commandsTopic,
        groupId}) {
      if (s == null || s.isBlank()) {
        throw new IllegalArgumentException("bootstrap servers, topics and group id are required");
      }
    }
    if (outOfOrderness.isNegative() || !idleness.isPositive() || finalGrace.isNegative()) {
      throw new IllegalArgumentException("outOfOrderness and finalGrace must not be negative, idleness positive");
    }
  }

  public static ThresholdJobConfig live(String bootstrapServers) {
    return new ThresholdJobConfig(bootstrapServers, Topics.AGGREGATES, Topics.RUNS, Topics.THRESHOLDS,
        Topics.COMMANDS, Topics.THRESHOLD_JOB_GROUP, Duration.ofSeconds(1), Duration.ofSeconds(3), DEFAULT_FINAL_GRACE, null,
        Topics.INSIGHTS);
  }

  /** Other topics, and no insights (until {@link #withInsights}). */
  public ThresholdJobConfig withTopics(String aggregates, String runs, String thresholds, String commands,
      String group) {
    return new ThresholdJobConfig(bootstrapServers, aggregates, runs, thresholds, commands, group, outOfOrderness,
        idleness, finalGrace, clickHouse);
  }

  /** This configuration with another wait for a run's last samples. */
  public ThresholdJobConfig withFinalGrace(Duration grace) {
    return new ThresholdJobConfig(bootstrapServers, aggregatesTopic, runsTopic, thresholdsTopic, commandsTopic,
        groupId, outOfOrderness, idleness, grace, clickHouse, insightsTopic);
  }

  /** This configuration, also storing run states and threshold results in {@code target}. */
  public ThresholdJobConfig withClickHouse(ClickHouseTarget target) {
    return new ThresholdJobConfig(bootstrapServers, aggregatesTopic, runsTopic, thresholdsTopic, commandsTopic,
        groupId, outOfOrderness, idleness, finalGrace, target, insightsTopic);
  }

  /** This configuration, raising performance insights to {@code topic} (null: none). */
  public ThresholdJobConfig withInsights(String topic) {
    return new ThresholdJobConfig(bootstrapServers, aggregatesTopic, runsTopic, thresholdsTopic, commandsTopic,
        groupId, outOfOrderness, idleness, finalGrace, clickHouse, topic);
  }
}
