package dev.loadtest.flink.testing;

import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Shared pieces of the flink-jobs integration tests: a migrated database, sample batches, reading back. */
public final class Fixtures {
  private Fixtures() {}

  /** A fresh database on the shared ClickHouse server, migrated. */
  public static String database(ClickHouseHttp ch, String prefix) {
    String db = ClickHouseServer.newDatabaseName(prefix);
    Migrations.apply(ch, db);
    return db;
  }

  public static ClickHouseHttp client(ClickHouseServer server) {
    return new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
  }

  /**
   * A batch of {@code requests} requests of one generator, one every 0-2 ms from {@code startUs}, with
   * log-normal latencies scaled by {@code latencyFactor} (a far load zone is slower), over two endpoints.
   */
  public static SampleBatch batch(String run, String generator, long sequence, long startUs, int requests,
      double latencyFactor, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    // one load zone for all: their series (tagged with it) combine across generators
    SampleBatchBuilder b = new SampleBatchBuilder(run, generator, "local", sequence, startUs);
    int[] tags = {b.tagSet("name", "home", "method", "GET", "status", "200"),
        b.tagSet("name", "checkout", "method", "POST", "status", "200")};
    int checks = b.metric("checks", dev.loadtest.schemas.metrics.MetricType.RATE);
    int checkTags = b.tagSet("check", "status is 200");
    long t = startUs;
    for (int i = 0; i < requests; i++) {
      t += r.nextInt(2_000);
      double gaussian = r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5;
      long duration = Math.max(100, (long) (latencyFactor * 20_000 * Math.exp(0.8 * gaussian)));
      boolean failed = r.nextInt(50) == 0;
      b.addRequest(t, tags[i % 2], duration, 0, 0, 0, 30, duration - 60, 30, 200, 1_000, failed, 1 + i % 50);
      b.addPoint(checks, t, checkTags, failed ? 0 : 1);
    }
    return b.build();
  }

  public static void send(EmbeddedKafka kafka, String topic, List<SampleBatch> batches) throws Exception {
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(),
        new ByteArraySerializer())) {
      for (SampleBatch b : batches) {
        producer.send(new ProducerRecord<>(topic, b.testRunId(), SampleBatchCodec.encode(b))).get();
      }
    }
  }

  /** A consumer of {@code topic} from its beginning, with a group of its own, keys and values as strings. */
  public static org.apache.kafka.clients.consumer.KafkaConsumer<String, String> stringConsumer(EmbeddedKafka kafka,
      String topic) {
    var c = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(Map.of(
        org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        org.apache.kafka.clients.consumer.ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG, "check-" + java.util.UUID.randomUUID()),
        new org.apache.kafka.common.serialization.StringDeserializer(),
        new org.apache.kafka.common.serialization.StringDeserializer());
    c.subscribe(List.of(topic));
    return c;
  }

  /** The DLQ records (JSON) whose key is {@code sourceTopic}, as they are now. */
  public static List<com.fasterxml.jackson.databind.JsonNode> dlqRecords(EmbeddedKafka kafka, String sourceTopic) {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<com.fasterxml.jackson.databind.JsonNode> out = new java.util.ArrayList<>();
    try (var c = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(Map.of(
        org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      List<org.apache.kafka.common.TopicPartition> parts = c.partitionsFor(dev.loadtest.schemas.topics.Topics.DLQ).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<org.apache.kafka.common.TopicPartition, Long> end = c.endOffsets(parts);
      while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
        for (var rec : c.poll(Duration.ofMillis(500))) {
          if (rec.key() != null && new String(rec.key(), java.nio.charset.StandardCharsets.UTF_8).equals(sourceTopic)) {
            try {
              out.add(json.readTree(rec.value()));
            } catch (java.io.IOException e) {
              throw new AssertionError("a DLQ record that is not JSON: " + e);
            }
          }
        }
      }
    }
    return out;
  }

  /** One number from a query. */
  public static long number(ClickHouseHttp ch, String db, String sql) {
    String s = ch.execute(db, sql + " FORMAT TabSeparated").strip();
    return s.isEmpty() || s.equals("\\N") ? 0 : Long.parseLong(s);
  }

  /**
   * {@code table} followed by {@code rest} (" FINAL WHERE ...", " WHERE ..."), {@code metric_1s} as its readers
   * see it: with the by-name rows that stand for a series' row read as that series' too
   * ({@link dev.loadtest.schemas.clickhouse.SecondsAsRead}), FINAL inside when {@code rest} asks for it.
   */
  public static String from(String table, String rest) {
    if (!table.equals("metric_1s")) {
      return table + rest;
    }
    boolean deduplicated = rest.startsWith(" FINAL");
    return dev.loadtest.schemas.clickhouse.SecondsAsRead.metric1s(deduplicated)
        + (deduplicated ? rest.substring(" FINAL".length()) : rest);
  }

  /** The merged histogram of a metric of a run in {@code table}, read with sumMap as readers do. */
  public static SparseHistogram histogram(ClickHouseHttp ch, String db, String table, String run, String metric) {
    String[] row = ch.execute(db, "SELECT sumMap(hist_idx, hist_cnt), toInt64(sum(sum)), toInt64(min(min)),"
        + " toInt64(max(max)) FROM " + from(table, " FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run) + " AND analysis_id = ''"
        + " AND metric = " + ClickHouseHttp.quote(metric)) + " FORMAT TabSeparated").strip().split("\t");
    String[] arrays = row[0].substring(2, row[0].length() - 2).split("\\],\\[");
    return SparseHistogram.of(Arrays.stream(arrays[0].split(",")).mapToInt(Integer::parseInt).toArray(),
        Arrays.stream(arrays[1].split(",")).mapToLong(Long::parseLong).toArray(), Long.parseLong(row[1]),
        Long.parseLong(row[2]), Long.parseLong(row[3]));
  }

  /** The exact nearest-rank percentile of sorted values. */
  public static double exactPercentile(long[] sorted, double p) {
    return sorted[Math.max(0, (int) Math.ceil(p / 100 * sorted.length) - 1)];
  }

  /** Waits until {@code condition} holds, failing with {@code what} after {@code timeout}. */
  public static void await(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
      }
      Thread.sleep(100); // polling interval of the condition, not a wait for something to happen
    }
  }
}
