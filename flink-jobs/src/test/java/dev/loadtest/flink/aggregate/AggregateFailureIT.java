package dev.loadtest.flink.aggregate;

import static dev.loadtest.flink.testing.Fixtures.number;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.testing.Fixtures;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.sample.SampleBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The aggregate job through failures, on the real broker, a MiniCluster and ClickHouse: a task manager
 * killed mid-stream (the job restarts from its last checkpoint), and ClickHouse killed for 20 s and
 * restarted. Either way the totals in ClickHouse are exactly the samples sent: nothing lost, nothing
 * counted twice.
 */
@Timeout(300)
class AggregateFailureIT {
  static final long BASE_US = 1_770_000_000_000_000L;
  static final int BATCHES = 40;
  final EmbeddedKafka kafka = EmbeddedKafka.shared();

  /** Batches of three generators, one second of event time apart. */
  static List<SampleBatch> batches(String run) {
    List<SampleBatch> out = new ArrayList<>();
    for (int k = 0; k < BATCHES / 2; k++) {
      for (int g = 0; g < 2; g++) {
        out.add(Fixtures.batch(run, "gen-" + g, k, BASE_US + k * 1_000_000L, 400, 1.0, 7L * k + g));
      }
    }
    return out;
  }

  static long requests(List<SampleBatch> batches) {
    return batches.stream().mapToLong(b -> b.requests().size()).sum();
  }

  /** A migrated database, a samples topic and one run's batches, with where its requests are counted. */
  record Setup(ClickHouseHttp ch, String db, String topic, List<SampleBatch> batches, String where) {
    long stored() {
      return storedIn("metric_1s");
    }

    long storedIn(String table) {
      return number(ch, db, "SELECT sum(count) FROM " + Fixtures.from(table, where));
    }
  }

  Setup setUp(ClickHouseServer server, String prefix) {
    ClickHouseHttp ch = Fixtures.client(server);
    String topic = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(topic, 3);
    String run = prefix + "-" + UUID.randomUUID();
    return new Setup(ch, Fixtures.database(ch, prefix), topic, batches(run), " FINAL WHERE test_run_id = "
        + ClickHouseHttp.quote(run) + " AND analysis_id = '' AND metric = 'http_reqs'");
  }

  AggregateJobConfig config(ClickHouseServer server, String db, String topic) {
    return AggregateJobConfig.live(kafka.bootstrapServers(), server.httpUri(), server.user(), server.password(), db)
        .withTopics(topic, "", "failure-" + UUID.randomUUID())
        .withTimes(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofMillis(500));
  }

  @Test
  void restartFromCheckpointAfterATaskManagerIsKilledCountsEverySampleOnce() throws Exception {
    // The embedded cluster's own configuration (no restarts): the job restarts by the strategy it brings
    // itself, as the live jobs do wherever they run.
    Configuration conf = FlinkMiniCluster.loopbackConfiguration();
    ClickHouseServer server = ClickHouseServer.shared();
    Setup t = setUp(server, "tm_kill");

    try (FlinkMiniCluster cluster = FlinkMiniCluster.start(conf, 4)) {
      StreamExecutionEnvironment env = cluster.environment(2);
      env.configure(dev.loadtest.flink.FlinkJobs.restartStrategy());
      // Rows staged as files beside the checkpoints, as the embedded stack runs it.
      AggregateJob.build(env, config(server, t.db(), t.topic()).withStaging(cluster.sinkStagingDirectory()));
      JobClient job = env.executeAsync("aggregate-failure-it");
      Fixtures.send(kafka, t.topic(), t.batches().subList(0, BATCHES / 2));
      Fixtures.await(Duration.ofSeconds(60), "rows of the first half committed", () -> t.stored() > 0);

      long before = t.stored();
      cluster.cluster().terminateTaskManager(0).get();
      Fixtures.send(kafka, t.topic(), t.batches().subList(BATCHES / 2, BATCHES));
      cluster.cluster().startTaskManager();

      long expected = requests(t.batches());
      Fixtures.await(Duration.ofSeconds(120), "all " + expected + " requests in ClickHouse (" + before
          + " before the kill)", () -> t.stored() >= expected && t.storedIn("metric_10s") >= expected);
      // Copies of batches counted before the kill are still known for what they are after the restore.
      kafka.createTopic(dev.loadtest.schemas.topics.Topics.DLQ, 1);
      Fixtures.send(kafka, t.topic(), t.batches().subList(0, 4));
      Fixtures.await(Duration.ofSeconds(60), "4 copies rejected as duplicates", () -> Fixtures.dlqRecords(kafka,
          t.topic()).stream().filter(d -> d.path("reason").asText().startsWith("duplicate")).count() == 4);
      job.cancel().get();
      assertEquals(expected, t.stored(), "every request exactly once after the restart");
      assertEquals(expected, t.storedIn("metric_10s"), "and in the rollup");
      System.out.printf("task manager killed with %d of %d requests committed; after the restart: %d%n", before,
          expected, t.stored());
    }
  }

  @Test
  void clickHouseDownFor20SecondsLosesNothingAndDoublesNothing() throws Exception {
    try (ClickHouseServer server = ClickHouseServer.startLocal()) {
      Setup t = setUp(server, "ch_down");
      StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(2);
      java.nio.file.Path staging = java.nio.file.Files.createTempDirectory("sink-staging-");
      AggregateJob.build(env, config(server, t.db(), t.topic()).withStaging(staging.toUri().toString()));
      JobClient job = env.executeAsync("aggregate-clickhouse-down-it");
      long expected = requests(t.batches());
      try {
        Fixtures.send(kafka, t.topic(), t.batches().subList(0, BATCHES / 2));
        Fixtures.await(Duration.ofSeconds(60), "rows of the first half committed", () -> t.stored() > 0);
        server.kill();
        long downAt = System.nanoTime();
        Fixtures.send(kafka, t.topic(), t.batches().subList(BATCHES / 2, BATCHES));
        // Rows computed meanwhile wait as files (the checkpoints hold their paths), not in the checkpoints.
        Fixtures.await(Duration.ofSeconds(20), "rows staged as files while ClickHouse is away",
            () -> stagedFiles(staging) > 0);
        // The outage itself: ClickHouse stays away 20 s while the job keeps reading and retrying.
        Thread.sleep(Math.max(0, 20_000 - (System.nanoTime() - downAt) / 1_000_000));
        server.restart();

        Fixtures.await(Duration.ofSeconds(120), "all " + expected + " requests in ClickHouse after the outage",
            () -> t.stored() >= expected && t.storedIn("metric_10s") >= expected);
        assertEquals(JobStatusView.RUNNING, JobStatusView.of(job), "the job rode out the outage");
        Fixtures.await(Duration.ofSeconds(30), "every staged file deleted once inserted", () -> stagedFiles(staging) == 0);
      } finally {
        job.cancel().get();
      }
      assertEquals(expected, t.stored(), "every request exactly once after the outage");
      assertEquals(expected, t.storedIn("metric_10s"), "and in the rollup");
    }
  }

  /** Files in the sinks' staging directory. */
  static long stagedFiles(java.nio.file.Path dir) {
    try (var files = java.nio.file.Files.list(dir)) {
      return files.count();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The job's status, in the words the assertion needs. */
  enum JobStatusView {
    RUNNING, OTHER;

    static JobStatusView of(JobClient job) throws Exception {
      return job.getJobStatus().get() == org.apache.flink.api.common.JobStatus.RUNNING ? RUNNING : OTHER;
    }
  }
}
