package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.topics.Topics;
import java.io.Serializable;
import java.net.URI;
import java.time.Duration;

/**
 * Where the aggregate job reads and writes, and its event-time tolerances; checked when built. The same
 * job re-analyses a run (the replay job) with {@code runFilter}, a time range and an analysis id.
 *
 * @param bounded read to the end of the topic as it is at start, then finish (replays, tests)
 * @param outOfOrderness how late a sample may come and still be in its bucket (the watermark's delay);
 *     later samples are still counted, as correction rows
 * @param idleness a partition silent this long does not hold the watermark back
 * @param checkpointInterval how often rows are committed to ClickHouse (their visibility delay)
 * @param aggregatesTopic where 1 s buckets are published for live readers; empty: not published
 * @param analysisId empty for a live run; the id a re-analysis is stored under
 * @param runFilter empty: every run; else only samples of this test run
 * @param fromMs samples before this time (epoch ms) are left out
 * @param toMs samples at or after this time (epoch ms) are left out
 * @param stagingDir empty: the ClickHouse sinks keep each checkpoint's rows in the checkpoint; else a directory
 *     (a Flink file system URI every TaskManager reaches, such as the checkpoint directory's volume) where they
 *     stage them as files, the checkpoint holding only their paths ({@link
 *     dev.loadtest.flink.sink.ClickHouseSink.Builder#staging})
 */
public record AggregateJobConfig(String bootstrapServers, String samplesTopic, String groupId, URI clickHouseUri,
    String clickHouseUser, String clickHousePassword, String database, boolean bounded, Duration outOfOrderness,
    Duration idleness, Duration checkpointInterval, String aggregatesTopic, String analysisId, String runFilter,
    long fromMs, long toMs, String stagingDir) implements Serializable {
  public static final Duration DEFAULT_OUT_OF_ORDERNESS = Duration.ofSeconds(1);
  /** Short: at a run's end, its last seconds close this long after its last sample (a late sample is merged as a correction). */
  public static final Duration DEFAULT_IDLENESS = Duration.ofSeconds(2);
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(1);

  public AggregateJobConfig {
    require(bootstrapServers, "bootstrapServers");
    require(samplesTopic, "samplesTopic");
    require(groupId, "groupId");
    require(database, "database");
    if (clickHouseUri == null) {
      throw new IllegalArgumentException("clickHouseUri is required");
    }
    if (outOfOrderness.isNegative() || !idleness.isPositive() || !checkpointInterval.isPositive()) {
      throw new IllegalArgumentException("outOfOrderness must not be negative, idleness and checkpointInterval"
          + " must be positive");
    }
    if (fromMs >= toMs) {
      throw new IllegalArgumentException("the time range is empty: from " + fromMs + " to " + toMs);
    }
    aggregatesTopic = aggregatesTopic == null ? "" : aggregatesTopic;
    analysisId = analysisId == null ? "" : analysisId;
    runFilter = runFilter == null ? "" : runFilter;
    stagingDir = stagingDir == null ? "" : stagingDir;
    clickHouseUser = clickHouseUser == null ? "default" : clickHouseUser;
    clickHousePassword = clickHousePassword == null ? "" : clickHousePassword;
  }

  private static void require(String value, String name) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " is required");
    }
  }

  /** The job's name in what it reports (the DLQ): {@code aggregate}, or {@code replay} for a re-analysis. */
  public String jobName() {
    return analysisId.isEmpty() ? "aggregate" : "replay";
  }

  /**
   * The run states' topic, read beside the samples when publishing ({@link RunPlans}): subscribed to by
   * pattern, so that a broker without it (a test's) only means every series is published.
   */
  public String runsTopic() {
    return Topics.RUNS;
  }

  /** The live job's defaults: every run, from the samples topic, published to the aggregates topic. */
  public static AggregateJobConfig live(String bootstrapServers, URI clickHouseUri, String user, String password,
      String database) {
    return new AggregateJobConfig(bootstrapServers, Topics.SAMPLES, Topics.AGGREGATE_JOB_GROUP, clickHouseUri, user,
        password, database, false, DEFAULT_OUT_OF_ORDERNESS, DEFAULT_IDLENESS, DEFAULT_CHECKPOINT_INTERVAL,
        Topics.AGGREGATES, "", "", Long.MIN_VALUE, Long.MAX_VALUE, "");
  }

  public AggregateJobConfig withTopics(String samples, String aggregates, String group) {
    return new AggregateJobConfig(bootstrapServers, samples, group, clickHouseUri, clickHouseUser, clickHousePassword,
        database, bounded, outOfOrderness, idleness, checkpointInterval, aggregates, analysisId, runFilter, fromMs, toMs, stagingDir);
  }

  public AggregateJobConfig withBounded(boolean bounded) {
    return new AggregateJobConfig(bootstrapServers, samplesTopic, groupId, clickHouseUri, clickHouseUser,
        clickHousePassword, database, bounded, outOfOrderness, idleness, checkpointInterval, aggregatesTopic,
        analysisId, runFilter, fromMs, toMs, stagingDir);
  }

  public AggregateJobConfig withTimes(Duration outOfOrderness, Duration idleness, Duration checkpointInterval) {
    return new AggregateJobConfig(bootstrapServers, samplesTopic, groupId, clickHouseUri, clickHouseUser,
        clickHousePassword, database, bounded, outOfOrderness, idleness, checkpointInterval, aggregatesTopic,
        analysisId, runFilter, fromMs, toMs, stagingDir);
  }

  /** With the ClickHouse sinks' rows staged as files in {@code dir} (see the class comment); empty: not. */
  public AggregateJobConfig withStaging(String dir) {
    return new AggregateJobConfig(bootstrapServers, samplesTopic, groupId, clickHouseUri, clickHouseUser,
        clickHousePassword, database, bounded, outOfOrderness, idleness, checkpointInterval, aggregatesTopic,
        analysisId, runFilter, fromMs, toMs, dir);
  }

  /** A re-analysis of one run's samples in [fromMs, toMs) under {@code analysisId}: bounded, not published live. */
  public AggregateJobConfig replay(String testRunId, String analysisId, long fromMs, long toMs) {
    if (analysisId == null || analysisId.isBlank()) {
      throw new IllegalArgumentException("a replay needs an analysis id");
    }
    return new AggregateJobConfig(bootstrapServers, samplesTopic, "loadtest-replay-" + analysisId, clickHouseUri,
        clickHouseUser, clickHousePassword, database, true, outOfOrderness, idleness, checkpointInterval, "",
        analysisId, testRunId, fromMs, toMs, stagingDir);
  }
}
