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
import org.apache.flink.configuration.RestartStrategyOptions;
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

  AggregateJobConfig config(ClickHouseServer server, String db, String topic) {
    return AggregateJobConfig.live(kafka.bootstrapServers(), server.httpUri(), server.user(), server.password(), db)
        .withTopics(topic, "", "failure-" + UUID.randomUUID())
        .withTimes(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofMillis(500));
  }

  @Test
  void restartFromCheckpointAfterATaskManagerIsKilledCountsEverySampleOnce() throws Exception {
    Configuration conf = FlinkMiniCluster.loopbackConfiguration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
    ClickHouseServer server = ClickHouseServer.shared();
    ClickHouseHttp ch = Fixtures.client(server);
    String db = Fixtures.database(ch, "failure_tm");
    String topic = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(topic, 3);
    String run = "tm-kill-" + UUID.randomUUID();
    List<SampleBatch> batches = batches(run);
    String counted = "SELECT sum(count) FROM metric_1s FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run)
        + " AND metric = 'http_reqs'";

    try (FlinkMiniCluster cluster = FlinkMiniCluster.start(conf, 4)) {
      StreamExecutionEnvironment env = cluster.environment(2);
      AggregateJob.build(env, config(server, db, topic));
      JobClient job = env.executeAsync("aggregate-failure-it");
      Fixtures.send(kafka, topic, batches.subList(0, BATCHES / 2));
      Fixtures.await(Duration.ofSeconds(60), "rows of the first half committed", () -> number(ch, db, counted) > 0);

      long before = number(ch, db, counted);
      cluster.cluster().terminateTaskManager(0).get();
      Fixtures.send(kafka, topic, batches.subList(BATCHES / 2, BATCHES));
      cluster.cluster().startTaskManager();

      long expected = requests(batches);
      String rolledUp = counted.replace("metric_1s", "metric_10s");
      Fixtures.await(Duration.ofSeconds(120), "all " + expected + " requests in ClickHouse (" + before
          + " before the kill)", () -> number(ch, db, counted) >= expected && number(ch, db, rolledUp) >= expected);
      job.cancel().get();
      assertEquals(expected, number(ch, db, counted), "every request exactly once after the restart");
      assertEquals(expected, number(ch, db, rolledUp), "and in the rollup");
      System.out.printf("task manager killed with %d of %d requests committed; after the restart: %d%n", before,
          expected, number(ch, db, counted));
    }
  }

  @Test
  void clickHouseDownFor20SecondsLosesNothingAndDoublesNothing() throws Exception {
    try (ClickHouseServer server = ClickHouseServer.startLocal()) {
      ClickHouseHttp ch = Fixtures.client(server);
      String db = Fixtures.database(ch, "failure_ch");
      String topic = "loadtest.samples." + UUID.randomUUID();
      kafka.createTopic(topic, 3);
      String run = "ch-down-" + UUID.randomUUID();
      List<SampleBatch> batches = batches(run);
      String counted = "SELECT sum(count) FROM metric_1s FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run)
          + " AND metric = 'http_reqs'";

      StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(2);
      AggregateJob.build(env, config(server, db, topic));
      JobClient job = env.executeAsync("aggregate-clickhouse-down-it");
      try {
        Fixtures.send(kafka, topic, batches.subList(0, BATCHES / 2));
        Fixtures.await(Duration.ofSeconds(60), "rows of the first half committed", () -> number(ch, db, counted) > 0);
        server.kill();
        long downAt = System.nanoTime();
        Fixtures.send(kafka, topic, batches.subList(BATCHES / 2, BATCHES));
        // The outage itself: ClickHouse stays away 20 s while the job keeps reading and retrying.
        Thread.sleep(Math.max(0, 20_000 - (System.nanoTime() - downAt) / 1_000_000));
        server.restart();

        long expected = requests(batches);
        Fixtures.await(Duration.ofSeconds(120), "all " + expected + " requests in ClickHouse after the outage",
            () -> number(ch, db, counted) >= expected
                && number(ch, db, counted.replace("metric_1s", "metric_10s")) >= expected);
        assertEquals(JobStatusView.RUNNING, JobStatusView.of(job), "the job rode out the outage");
      } finally {
        job.cancel().get();
      }
      long expected = requests(batches);
      assertEquals(expected, number(ch, db, counted), "every request exactly once after the outage");
      assertEquals(expected, number(ch, db, counted.replace("metric_1s", "metric_10s")), "and in the rollup");
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
