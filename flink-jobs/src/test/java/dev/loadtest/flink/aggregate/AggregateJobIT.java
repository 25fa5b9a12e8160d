package dev.loadtest.flink.aggregate;

import static dev.loadtest.flink.testing.Fixtures.number;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.testing.Fixtures;
import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.topics.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The aggregate job on the real broker, MiniCluster and ClickHouse: samples of three generators of one run
 * are counted exactly once in every table, their percentiles come from the merged buckets, and samples
 * that come after their second was closed are still counted.
 */
@Timeout(300)
class AggregateJobIT {
  static final long BASE_US = 1_760_000_000_000_000L;
  final EmbeddedKafka kafka = EmbeddedKafka.shared();
  final ClickHouseServer server = ClickHouseServer.shared();
  final ClickHouseHttp ch = Fixtures.client(server);

  AggregateJobConfig config(String db, String samples, String aggregates) {
    return AggregateJobConfig.live(kafka.bootstrapServers(), server.httpUri(), server.user(), server.password(), db)
        .withTopics(samples, aggregates, "agg-" + UUID.randomUUID()).withBounded(true)
        .withTimes(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMillis(500));
  }

  @Test
  void samplesOfThreeGeneratorsAreCountedExactlyInEveryTableAndPercentilesComeFromMergedBuckets() throws Exception {
    String db = Fixtures.database(ch, "aggregate");
    String samples = "loadtest.samples." + UUID.randomUUID();
    String aggregates = "loadtest.aggregates." + UUID.randomUUID();
    kafka.createTopic(samples, 3);
    kafka.createTopic(aggregates, 3);
    String run = "agg-" + UUID.randomUUID();

    // Three generators, the third in a far zone (3x the latency), sending batches side by side over ~70 s.
    List<SampleBatch> batches = new ArrayList<>();
    List<List<Long>> values = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (int k = 0; k < 7; k++) {
      for (int g = 0; g < 3; g++) {
        SampleBatch b = Fixtures.batch(run, "gen-" + g, k, BASE_US + k * 10_000_000L, 3_000 + 500 * g,
            g == 2 ? 3.0 : 1.0, 31L * g + k);
        batches.add(b);
        Arrays.stream(b.requests().durationUs()).forEach(values.get(g)::add);
      }
    }
    List<long[]> perGenerator = values.stream()
        .map(v -> v.stream().mapToLong(Long::longValue).sorted().toArray()).toList();
    Fixtures.send(kafka, samples, batches);

    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(2);
    AggregateJob.build(env, config(db, samples, aggregates));
    org.apache.flink.api.common.JobExecutionResult result = env.execute("aggregate-it");
    long read = result.<Long>getAccumulatorResult(PreAggregateOperator.BATCHES);
    long shuffled = result.<Long>getAccumulatorResult(PreAggregateOperator.BUCKETS);
    long perBatch = batches.stream().mapToLong(b -> new BatchPreAggregator().aggregate(b).size()).sum();
    assertEquals(batches.size(), read);
    assertTrue(shuffled < perBatch, "the generators' batches of a second are combined before the shuffle: "
        + perBatch + " buckets batch by batch, " + shuffled + " shuffled");

    long requests = batches.stream().mapToLong(b -> b.requests().size()).sum();
    String q = " FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run) + " AND analysis_id = '' AND metric = 'http_reqs'";
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      assertEquals(requests, number(ch, db, "SELECT sum(count) FROM " + Fixtures.from(table, q)), "every request once in " + table);
      // the projections hold the same totals: the metric as one series, and one series per name
      for (String projection : List.of("~total", "~name")) {
        assertEquals(requests, number(ch, db, "SELECT sum(count) FROM " + table + q.replace("analysis_id = ''",
            "analysis_id = '" + projection + "'")), projection + " in " + table);
      }
    }
    assertEquals(2, number(ch, db, "SELECT uniqExact(series_id) FROM metric_1s" + q.replace("analysis_id = ''",
        "analysis_id = '~name'")), "one projected series per endpoint name");
    assertEquals(0, number(ch, db, "SELECT count() FROM metric_1s FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run)
        + " AND analysis_id != '' AND metric = 'vus'"), "gauges are not projected");
    java.util.Set<String> seconds = new java.util.HashSet<>();
    java.util.Set<String> minutes = new java.util.HashSet<>();
    for (SampleBatch b : batches) {
      for (int i = 0; i < b.requests().size(); i++) {
        long us = b.baseTimeUs() + b.requests().offsetUs()[i];
        seconds.add(b.requests().tagSet()[i] + "@" + Math.floorDiv(us, 1_000_000L));
        minutes.add(b.requests().tagSet()[i] + "@" + Math.floorDiv(us, 60_000_000L));
      }
    }
    // a complete row per series and second with samples; batches that reach a second after it closed
    // add correction rows (how many depends on timing), never replace one
    assertEquals(seconds.size(), number(ch, db, "SELECT uniqExact(series_id, ts) FROM " + Fixtures.from("metric_1s", q)),
        "a row per series and second");
    assertTrue(number(ch, db, "SELECT count() FROM " + Fixtures.from("metric_1s", q)) >= seconds.size());
    // a name with one series in a second is written once: its by-name row stands for the series' row (V017)
    long stoodFor = number(ch, db, "SELECT count() FROM metric_1s" + q.replace("analysis_id = ''",
        "analysis_id = '~name' AND raw_series != 0"));
    long ownRows = number(ch, db, "SELECT count() FROM metric_1s" + q);
    assertTrue(stoodFor > 0, "rows standing for a series: " + stoodFor + ", series' own: " + ownRows);
    assertEquals(number(ch, db, "SELECT count() FROM " + Fixtures.from("metric_1s", q)), stoodFor + ownRows);
    assertEquals(minutes.size(), number(ch, db, "SELECT count() FROM metric_1m" + q),
        "one row per series and minute: samples in time order need no corrections");
    // Series: http metrics x 2 endpoints, plus checks; each once however many seconds it has.
    long series = number(ch, db, "SELECT count() FROM series FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run)
        + " AND analysis_id = ''");
    assertEquals(number(ch, db, "SELECT uniqExact(series_id) FROM " + Fixtures.from("metric_1s", " WHERE test_run_id = "
        + ClickHouseHttp.quote(run) + " AND analysis_id = ''")), series);
    assertEquals(1, number(ch, db, "SELECT count() FROM series FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run)
        + " AND analysis_id = '' AND metric = 'http_req_duration' AND has(tag_values, 'checkout')"));

    // p50/p95/p99 from the stored buckets against the exact values of the raw samples, and against what
    // averaging each generator's own percentiles would say.
    long[] raw = perGenerator.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    StringBuilder report = new StringBuilder();
    for (String table : List.of("metric_1s", "metric_1m")) {
      SparseHistogram stored = Fixtures.histogram(ch, db, table, run, "http_req_duration");
      assertEquals(raw.length, stored.count());
      for (double p : new double[] {50, 95, 99}) {
        double exact = Fixtures.exactPercentile(raw, p);
        double fromBuckets = stored.percentile(p);
        double averaged = perGenerator.stream().mapToDouble(v -> Fixtures.exactPercentile(v, p)).average().orElseThrow();
        report.append(String.format("%s p(%.0f): exact %.0f us, from merged buckets %.0f us (%+.2f%%),"
            + " average of per-generator p(%.0f) %.0f us (%+.1f%%)%n", table, p, exact, fromBuckets,
            100 * (fromBuckets - exact) / exact, p, averaged, 100 * (averaged - exact) / exact));
        assertTrue(Math.abs(fromBuckets - exact) <= 0.01 * exact, report.toString());
      }
    }
    System.out.print(report);

    // The same 1 s buckets, published for live readers, the series and the totals each in records of their
    // kind: each adds up to the same count.
    assertEquals(requests, publishedCount(aggregates, run, "http_reqs", AggregateRecords.Kind.SERIES));
    assertEquals(requests, publishedCount(aggregates, run, "http_reqs", AggregateRecords.Kind.TOTALS));
  }

  @Test
  void gaugesOfThreeGeneratorsAreSummedPerSecondAndRolledUp() throws Exception {
    String db = Fixtures.database(ch, "gauges");
    String samples = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(samples, 3);
    String run = "gauges-" + UUID.randomUUID();
    // Three generators each run 2 VUs (vus_max 2) for 12 s, reporting every 250 ms; generator 2 drops to 1 VU
    // in its last 2 s. Each second's batches of the three generators come in any order, over three partitions
    // and two tasks.
    List<SampleBatch> batches = new ArrayList<>();
    for (int s = 0; s < 12; s++) {
      List<SampleBatch> second = new ArrayList<>();
      for (int g = 0; g < 3; g++) {
        dev.loadtest.schemas.sample.SampleBatchBuilder b = new dev.loadtest.schemas.sample.SampleBatchBuilder(run,
            "gen-" + g, "zone", 100 + s, BASE_US + s * 1_000_000L);
        int vus = b.metric("vus", dev.loadtest.schemas.metrics.MetricType.GAUGE);
        int max = b.metric("vus_max", dev.loadtest.schemas.metrics.MetricType.GAUGE);
        int none = b.tagSet();
        for (int q = 0; q < 4; q++) {
          long t = BASE_US + s * 1_000_000L + q * 250_000L + g * 1_000L;
          b.addPoint(vus, t, none, g == 2 && s >= 10 ? 1 : 2).addPoint(max, t, none, 2);
        }
        second.add(b.build());
      }
      java.util.Collections.shuffle(second, new java.util.Random(s));
      batches.addAll(second);
    }
    Fixtures.send(kafka, samples, batches);
    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(2);
    AggregateJob.build(env, config(db, samples, ""));
    env.execute("aggregate-gauges-it");

    String q = " FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run) + " AND analysis_id = '' AND metric = ";
    String perSecond = ch.execute(db, "SELECT groupArray(toInt64(last)) FROM (SELECT ts, last FROM metric_1s"
        + q + "'vus' ORDER BY ts) FORMAT TabSeparated").strip();
    assertEquals("[6,6,6,6,6,6,6,6,6,6,5,5]", perSecond, "vus: each generator's last value, summed per second");
    assertEquals(12, number(ch, db, "SELECT count() FROM metric_1s" + q + "'vus_max' AND last = 6"),
        "vus_max 6 in every second, one row each");
    assertEquals(6, number(ch, db, "SELECT toInt64(max(max)) FROM metric_10s" + q + "'vus'"), "the rollup's max of the sums");
    assertEquals(5, number(ch, db, "SELECT toInt64(min(min)) FROM metric_10s" + q + "'vus'"), "and its min");
    assertEquals(5, number(ch, db, "SELECT toInt64(argMax(last, ts)) FROM metric_1m" + q + "'vus'"),
        "the minute's value is its last second's sum");
  }

  @Test
  void samplesLaterThanTheWatermarkAreCountedAsCorrectionsAndAnUnreadableRecordGoesToTheDlq() throws Exception {
    String db = Fixtures.database(ch, "late");
    String samples = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(samples, 1);
    kafka.createTopic(Topics.DLQ, 1); // as the embedded stack and compose create it; a no-op when it exists
    String run = "late-" + UUID.randomUUID();
    // In one partition: 20 s of samples, then a batch from the first seconds (a generator that lagged).
    List<SampleBatch> batches = new ArrayList<>();
    for (int k = 0; k < 10; k++) {
      batches.add(Fixtures.batch(run, "gen-a", k, BASE_US + k * 2_000_000L, 1_000, 1.0, k));
    }
    batches.add(Fixtures.batch(run, "gen-b", 0, BASE_US, 800, 1.0, 99));
    for (int g = 0; g < 4; g++) { // four more lagging generators over the same seconds
      batches.add(Fixtures.batch(run, "gen-lag-" + g, 0, BASE_US, 400, 1.0, 200 + g));
    }
    // and a lagging generator whose endpoints no other batch had: series first seen after their seconds
    // closed, whose parts of the projections must not replace each other
    dev.loadtest.schemas.sample.SampleBatchBuilder lagging = new dev.loadtest.schemas.sample.SampleBatchBuilder(run,
        "gen-c", "zone", 0, BASE_US);
    for (int i = 0; i < 300; i++) {
      lagging.addRequest(BASE_US + i * 6_000L, lagging.tagSet("name", "late-" + (i % 3), "method", "GET", "status", "200"),
          5_000 + i, 0, 0, 0, 10, 4_980, 10, 100, 1_000, false, 1);
    }
    batches.add(lagging.build());
    Fixtures.send(kafka, samples, batches.subList(0, 5));
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(),
        new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(samples, run, "not a sample batch".getBytes(StandardCharsets.UTF_8))).get();
    }
    Fixtures.send(kafka, samples, batches.subList(5, batches.size()));

    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(1);
    AggregateJob.build(env, config(db, samples, ""));
    env.execute("aggregate-late-it");

    long requests = batches.stream().mapToLong(b -> b.requests().size()).sum();
    String q = " FINAL WHERE test_run_id = " + ClickHouseHttp.quote(run) + " AND analysis_id = '' AND metric = 'http_reqs'";
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      assertEquals(requests, number(ch, db, "SELECT sum(count) FROM " + Fixtures.from(table, q)), "late samples counted in " + table);
      assertEquals(requests, number(ch, db, "SELECT sum(count) FROM " + table + q.replace("analysis_id = ''",
          "analysis_id = '~name'")), "late samples counted in the by-name projection of " + table);
    }
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      assertEquals(requests, number(ch, db, "SELECT sum(count) FROM " + table + q.replace("analysis_id = ''",
          "analysis_id = '~total'")), "every late sample in the total projection of " + table);
    }
    assertTrue(number(ch, db, "SELECT count() FROM " + Fixtures.from("metric_1s", q) + " AND writer_id LIKE 'merged:%@%'") > 0,
        "the lagging batches arrived as correction rows");
    // Six lagging batches over the same seconds, yet few correction rows per series and second: merged per
    // checkpoint (one task here; the batches may straddle a checkpoint), not one per batch.
    long most = number(ch, db, "SELECT max(c) FROM (SELECT series_id, ts, count() AS c FROM " + Fixtures.from("metric_1s", q)
        + " AND writer_id != '' GROUP BY series_id, ts)");
    assertTrue(most >= 1 && most <= 2, "correction rows of one series and second: " + most);
    // Without FINAL: two rows with one key would be one row to every reader (ReplacingMergeTree).
    assertEquals(0, number(ch, db, "SELECT count() FROM (SELECT series_id, ts, writer_id FROM "
        + Fixtures.from("metric_1s", q.replace(" FINAL", "")) + " AND writer_id != '' GROUP BY series_id, ts, writer_id HAVING count() > 1)"),
        "each correction row has a key of its own");
    JsonNode rejected = dlqRecordOf(samples);
    assertEquals(5, rejected.path("offset").asLong(), rejected.toString());
    assertTrue(rejected.path("reason").asText().startsWith("not a sample batch the aggregate job can read: "),
        rejected.toString());
    assertEquals("not a sample batch", new String(Base64.getDecoder().decode(rejected.path("valueBase64").asText()),
        StandardCharsets.UTF_8));
  }

  JsonNode dlqRecordOf(String samplesTopic) throws Exception {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.GROUP_ID_CONFIG, "dlq-" + UUID.randomUUID()), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(Topics.DLQ));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          JsonNode n = new ObjectMapper().readTree(r.value());
          if (new String(r.key(), StandardCharsets.UTF_8).equals(samplesTopic) && n.path("topic").asText().equals(samplesTopic)) {
            return n;
          }
        }
      }
    }
    throw new AssertionError("no DLQ record for " + samplesTopic);
  }

  @Test
  void aReplayReAggregatesOneRunsTimeRangeUnderItsAnalysisId() throws Exception {
    String db = Fixtures.database(ch, "replay");
    String samples = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(samples, 2);
    String run = "replayed-" + UUID.randomUUID();
    String other = "other-" + UUID.randomUUID();
    List<SampleBatch> batches = new ArrayList<>();
    for (int k = 0; k < 6; k++) {
      batches.add(Fixtures.batch(run, "gen-a", k, BASE_US + k * 5_000_000L, 1_000, 1.0, k));
      batches.add(Fixtures.batch(other, "gen-a", 100 + k, BASE_US + k * 5_000_000L, 700, 1.0, 50 + k));
    }
    Fixtures.send(kafka, samples, batches);
    StreamExecutionEnvironment live = FlinkMiniCluster.shared().environment(1);
    AggregateJob.build(live, config(db, samples, ""));
    live.execute("aggregate-before-replay-it");

    long fromMs = BASE_US / 1000 + 10_000;
    long toMs = BASE_US / 1000 + 20_000;
    StreamExecutionEnvironment env = FlinkMiniCluster.shared().environment(1);
    AggregateJob.build(env, config(db, samples, "").replay(run, "second-look", fromMs, toMs));
    env.execute("replay-it");

    long inRange = 0;
    for (SampleBatch b : batches) {
      for (int i = 0; b.testRunId().equals(run) && i < b.requests().size(); i++) {
        long second = Math.floorDiv(b.baseTimeUs() + b.requests().offsetUs()[i], 1_000_000L) * 1000;
        inRange += second >= fromMs && second < toMs ? 1 : 0;
      }
    }
    String q = " FINAL WHERE metric = 'http_reqs' AND analysis_id = ";
    assertTrue(inRange > 0 && inRange < 6_000);
    assertEquals(inRange, number(ch, db, "SELECT sum(count) FROM " + Fixtures.from("metric_1s", q) + "'second-look' AND test_run_id = "
        + ClickHouseHttp.quote(run)), "the replay holds the run's samples of the range");
    assertEquals(0, number(ch, db, "SELECT count() FROM " + Fixtures.from("metric_1s", q) + "'second-look' AND test_run_id = "
        + ClickHouseHttp.quote(other)), "and nothing of other runs");
    assertEquals(6_000, number(ch, db, "SELECT sum(count) FROM " + Fixtures.from("metric_1s", q) + "'' AND test_run_id = "
        + ClickHouseHttp.quote(run)), "the live aggregates are untouched");
    assertTrue(number(ch, db, "SELECT count() FROM series FINAL WHERE analysis_id = 'second-look'") > 0,
        "the replay's series are listed like a run's");
  }

  /** The count of {@code metric}'s buckets of {@code run} in the records of {@code kind} (their header). */
  long publishedCount(String topic, String run, String metric, AggregateRecords.Kind kind) {
    long total = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.GROUP_ID_CONFIG, "check-" + UUID.randomUUID()), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      // Every partition from its start to its end now (committed records only): no group to join, no guess
      // from empty polls.
      List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(i -> new org.apache.kafka.common.TopicPartition(topic, i.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<org.apache.kafka.common.TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("could not read " + topic + " to its end " + end + " within 60 s");
        }
        var records = consumer.poll(Duration.ofMillis(500));
        for (ConsumerRecord<byte[], byte[]> r : records) {
          var header = r.headers().lastHeader(AggregateRecords.KIND_HEADER);
          if (header == null || AggregateRecords.Kind.ofHeader(header.value()) != kind) {
            continue;
          }
          try {
            AggregateBatch batch = AggregateBatch.fromByteBuffer(ByteBuffer.wrap(r.value()));
            for (SeriesBucket b : AggregateRecords.fromAvro(batch)) {
              if (b.testRunId.equals(run) && b.metric.equals(metric)) {
                total += b.count;
              }
            }
          } catch (java.io.IOException e) {
            throw new AssertionError("an aggregates record that is not an AggregateBatch", e);
          }
        }
      }
    }
    return total;
  }
}
