package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import dev.loadtest.schemas.sample.SampleBatches;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The aggregate job on the real broker, MiniCluster and ClickHouse: samples of three generators of one run
 * are counted exactly once and their percentiles come from the merged buckets.
 */
@Timeout(300)
class AggregateJobIT {
  @Test
  void samplesOfThreeGeneratorsAreCountedExactlyAndPercentilesComeFromMergedBuckets() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    ClickHouseServer server = ClickHouseServer.shared();
    ClickHouseHttp ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
    String db = ClickHouseServer.newDatabaseName("aggregate");
    Migrations.apply(ch, db);
    String topic = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(topic, 3);
    String run = "agg-" + UUID.randomUUID();

    // Three generators, each with two batches, their latencies drawn differently (log-normal, other seeds).
    List<SampleBatch> batches = new ArrayList<>();
    long base = 1_760_000_000_000_000L;
    for (int g = 0; g < 3; g++) {
      for (int k = 0; k < 2; k++) {
        SampleBatch b = SampleBatches.checkout(4_000 + 1_000 * g, 100 * g + k);
        batches.add(new SampleBatch(run, "gen-" + g, "zone-" + g, k, base + k * 2_000_000L, b.strings(), b.tagSets(),
            b.metrics(), b.requests(), b.points()));
      }
    }
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
      for (SampleBatch b : batches) {
        producer.send(new ProducerRecord<>(topic, run, SampleBatchCodec.encode(b))).get();
      }
    }

    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(2);
    AggregateJob.build(env, new AggregateJobConfig(kafka.bootstrapServers(), topic, "agg-" + UUID.randomUUID(),
        server.httpUri(), server.user(), server.password(), db, true, Duration.ofSeconds(5), Duration.ofSeconds(10)));
    env.execute("aggregate-it");

    long requests = batches.stream().mapToLong(b -> b.requests().size()).sum();
    String q = " FROM metric_1s FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run);
    assertEquals(Long.toString(requests), ch.execute(db, "SELECT sum(count)" + q + " AND metric = 'http_reqs'"
        + " FORMAT TabSeparated").strip(), "every request counted exactly once");

    // p50/p95/p99 from the stored buckets against the exact values of the raw samples.
    long[] raw = batches.stream().flatMapToLong(b -> Arrays.stream(b.requests().durationUs())).sorted().toArray();
    String[] row = ch.execute(db, "SELECT sumMap(hist_idx, hist_cnt), toInt64(sum(sum)), toInt64(min(min)),"
        + " toInt64(max(max))" + q + " AND metric = 'http_req_duration' FORMAT TabSeparated").strip().split("\t");
    String[] arrays = row[0].substring(2, row[0].length() - 2).split("\\],\\[");
    SparseHistogram stored = SparseHistogram.of(Arrays.stream(arrays[0].split(",")).mapToInt(Integer::parseInt).toArray(),
        Arrays.stream(arrays[1].split(",")).mapToLong(Long::parseLong).toArray(), Long.parseLong(row[1]),
        Long.parseLong(row[2]), Long.parseLong(row[3]));
    StringBuilder report = new StringBuilder();
    for (double p : new double[] {50, 95, 99}) {
      double exact = raw[(int) Math.ceil(p / 100 * raw.length) - 1];
      double fromBuckets = stored.percentile(p);
      report.append(String.format("p(%.0f): exact %.0f us, from buckets %.0f us (%+.2f%%)%n", p, exact, fromBuckets,
          100 * (fromBuckets - exact) / exact));
      assertTrue(Math.abs(fromBuckets - exact) <= 0.01 * exact, report.toString());
    }
    System.out.print(report);
  }
}
