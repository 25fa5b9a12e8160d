package dev.loadtest.benchmarks;

import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateJobConfig;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * End-to-end figures of the aggregate job on this machine, on the real broker, MiniCluster and ClickHouse
 * (all in this JVM or started by it):
 *
 * <ul>
 *   <li>{@code throughput [REQUESTS] [RUNS]}: synthetic sample batches of 4 generators (10,000 requests per
 *       batch, 200 tag sets, 11 metric values per request) are put in Kafka first; then the job reads them
 *       all (bounded) and writes ClickHouse. Prints request samples/s and metric values/s over the job's net
 *       run time, checks the stored count, median of RUNS.</li>
 *   <li>{@code lag [SECONDS] [REQUESTS_PER_SECOND]}: the live job while 4 generators send a batch every
 *       100 ms stamped with the wall clock; a reader polls ClickHouse every 100 ms and notes when each
 *       second of {@code http_reqs} becomes readable. Prints the lag from the second's first sample to
 *       readable (p50, p99, max).</li>
 * </ul>
 */
public final class AggregateJobBenchmark {
  static final int GENERATORS = 4;
  static final int TAG_SETS = 200;

  private AggregateJobBenchmark() {}

  public static void main(String[] args) throws Exception {
    String what = args.length > 0 ? args[0] : "throughput";
    try (EmbeddedKafka kafka = EmbeddedKafka.start(Map.of());
        ClickHouseServer ch = ClickHouseServer.resolve();
        FlinkMiniCluster flink = FlinkMiniCluster.start(FlinkMiniCluster.loopbackConfiguration(), 4)) {
      ClickHouseHttp client = new ClickHouseHttp(ch.httpUri(), ch.user(), ch.password(), Duration.ofSeconds(60));
      switch (what) {
        case "throughput" -> throughput(kafka, ch, client, flink, args.length > 1 ? Integer.parseInt(args[1]) : 10_000_000,
            args.length > 2 ? Integer.parseInt(args[2]) : 3);
        case "lag" -> lag(kafka, ch, client, flink, args.length > 1 ? Integer.parseInt(args[1]) : 60,
            args.length > 2 ? Integer.parseInt(args[2]) : 100_000);
        default -> throw new IllegalArgumentException("usage: throughput [REQUESTS] [RUNS] | lag [SECONDS] [RPS]");
      }
    }
    System.exit(0); // the Kafka producer's and Flink's non-daemon threads would keep the JVM alive
  }

  /** A batch of {@code requests} requests over [startUs, startUs + spanUs), round-robin over the tag sets. */
  static SampleBatch batch(String run, int generator, long sequence, long startUs, long spanUs, int requests) {
    SplittableRandom r = new SplittableRandom(sequence * 31 + generator);
    SampleBatchBuilder b = new SampleBatchBuilder(run, "gen-" + generator, "zone-" + generator % 2, sequence, startUs);
    int[] tags = new int[TAG_SETS];
    for (int i = 0; i < TAG_SETS; i++) {
      tags[i] = b.tagSet("name", "endpoint-" + i / 2, "method", "GET", "status", i % 2 == 0 ? "200" : "503",
          "scenario", "bench");
    }
    for (int i = 0; i < requests; i++) {
      long t = startUs + spanUs * i / requests;
      long waiting = 1_000 + r.nextInt(200_000);
      b.addRequest(t, tags[i % TAG_SETS], waiting + 200, 0, 0, 0, 40, waiting, 160, 180, 2_000 + r.nextInt(20_000),
          i % TAG_SETS % 2 == 1, 1 + i % 100);
    }
    return b.build();
  }

  static KafkaProducer<String, byte[]> producer(EmbeddedKafka kafka) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4", ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024, ProducerConfig.BATCH_SIZE_CONFIG, 1024 * 1024),
        new StringSerializer(), new ByteArraySerializer());
  }

  static String database(ClickHouseHttp client, String prefix) {
    String db = ClickHouseServer.newDatabaseName(prefix);
    Migrations.apply(client, db);
    return db;
  }

  static void throughput(EmbeddedKafka kafka, ClickHouseServer ch, ClickHouseHttp client, FlinkMiniCluster flink,
      int requests, int runs) throws Exception {
    String topic = "bench.samples." + UUID.randomUUID();
    kafka.createTopic(topic, 2);
    String run = "bench-" + UUID.randomUUID();
    int perBatch = 10_000;
    int batches = Math.max(GENERATORS, requests / perBatch);
    long t0Us = System.currentTimeMillis() * 1000 - 3_600_000_000L;
    long produceStart = System.nanoTime();
    try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
      for (int k = 0; k < batches; k++) {
        int g = k % GENERATORS;
        long seq = k / GENERATORS;
        // Each generator sends 10,000 requests per 100 ms: 100,000 requests/s per generator.
        SampleBatch b = batch(run, g, seq, t0Us + seq * 100_000L, 100_000L, perBatch);
        producer.send(new ProducerRecord<>(topic, run, SampleBatchCodec.encode(b)));
      }
      producer.flush();
    }
    long total = (long) batches * perBatch;
    System.out.printf("put %,d request samples (%,d batches, %d generators, %d tag sets, %.0f s of event time)"
        + " in Kafka in %.1f s%n", total, batches, GENERATORS, TAG_SETS, batches / (double) GENERATORS / 10,
        (System.nanoTime() - produceStart) / 1e9);
    double[] rates = new double[runs];
    for (int i = -1; i < runs; i++) { // run -1 warms the JIT up and is not counted
      String db = database(client, "bench_agg");
      StreamExecutionEnvironment env = flink.environment(2);
      AggregateJob.build(env, AggregateJobConfig.live(kafka.bootstrapServers(), ch.httpUri(), ch.user(), ch.password(),
          db).withTopics(topic, "", "bench-" + UUID.randomUUID()).withBounded(true));
      JobExecutionResult result = env.execute("aggregate-throughput");
      double seconds = result.getNetRuntime() / 1000.0;
      long stored = Long.parseLong(client.execute(db, "SELECT sum(count) FROM " + dev.loadtest.schemas.clickhouse.SecondsAsRead.metric1s(true)
          + " WHERE analysis_id = '' AND metric = 'http_reqs'"
          + " FORMAT TabSeparated").strip());
      double rate = total / seconds;
      if (i >= 0) {
        rates[i] = rate;
      }
      long combinedIn = result.<Long>getAccumulatorResult(dev.loadtest.flink.aggregate.PreAggregateOperator.BATCHES);
      long combinedOut = result.<Long>getAccumulatorResult(dev.loadtest.flink.aggregate.PreAggregateOperator.BUCKETS);
      System.out.printf("%s: %,d request samples in %.2f s = %,.0f request samples/s (%,.0f metric values/s);"
          + " stored http_reqs %,d (%s); %,d batches -> %,d buckets through the shuffle%n",
          i < 0 ? "warm-up" : "run " + (i + 1), total, seconds, rate, rate * 11, stored, stored == total ? "exact" : "MISMATCH", combinedIn, combinedOut);
    }
    Arrays.sort(rates);
    System.out.printf("median: %,.0f request samples/s, %,.0f metric values/s (parallelism 2, %d cores)%n",
        rates[runs / 2], rates[runs / 2] * 11, Runtime.getRuntime().availableProcessors());
  }

  static void lag(EmbeddedKafka kafka, ClickHouseServer ch, ClickHouseHttp client, FlinkMiniCluster flink, int seconds,
      int requestsPerSecond) throws Exception {
    String topic = "bench.samples." + UUID.randomUUID();
    kafka.createTopic(topic, 2);
    String run = "lag-" + UUID.randomUUID();
    String db = database(client, "bench_lag");
    StreamExecutionEnvironment env = flink.environment(2);
    AggregateJob.build(env, AggregateJobConfig.live(kafka.bootstrapServers(), ch.httpUri(), ch.user(), ch.password(), db)
        .withTopics(topic, "", "lag-" + UUID.randomUUID()));
    JobClient job = env.executeAsync("aggregate-lag");
    AtomicBoolean sending = new AtomicBoolean(true);
    int perBatch = requestsPerSecond / GENERATORS / 10;
    Thread sender = Thread.ofPlatform().name("bench-generators").start(() -> {
      try (KafkaProducer<String, byte[]> producer = producer(kafka)) {
        long next = System.currentTimeMillis() / 100 * 100 + 100;
        for (long seq = 0; sending.get(); seq++) {
          long now = System.currentTimeMillis();
          if (next > now) {
            Thread.sleep(next - now); // the generators' 100 ms batching interval
          }
          for (int g = 0; g < GENERATORS; g++) {
            producer.send(new ProducerRecord<>(topic, run,
                SampleBatchCodec.encode(batch(run, g, seq, (next - 100) * 1000, 100_000, perBatch))));
          }
          next += 100;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    List<Long> lags = new ArrayList<>();
    long seen = 0;
    long end = System.currentTimeMillis() + seconds * 1000L;
    String query = "SELECT toUInt32(max(ts)) FROM metric_1s WHERE analysis_id = '~total' AND test_run_id = " + ClickHouseHttp.quote(run)
        + " AND metric = 'http_reqs' AND writer_id = 'main' FORMAT TabSeparated";
    while (System.currentTimeMillis() < end) {
      long readableSecond = Long.parseLong(client.execute(db, query).strip());
      long now = System.currentTimeMillis();
      if (readableSecond > 0 && seen == 0) {
        seen = readableSecond; // the first second may have started before the job; not measured
      } else if (readableSecond > seen) {
        for (long s = seen + 1; s <= readableSecond; s++) {
          lags.add(now - s * 1000);
        }
        seen = readableSecond;
      }
      Thread.sleep(100); // the reader's polling interval, as a dashboard would poll
    }
    sending.set(false);
    sender.join();
    job.cancel().get();
    long[] sorted = lags.stream().mapToLong(Long::longValue).sorted().toArray();
    if (sorted.length == 0) {
      throw new IllegalStateException("no second became readable in " + seconds + " s");
    }
    System.out.printf("lag from a second's first sample to its bucket readable in ClickHouse, %d seconds measured at"
        + " %,d requests/s: p50 %d ms, p99 %d ms, max %d ms (checkpoint 1 s, out-of-orderness 1 s)%n", sorted.length,
        requestsPerSecond, sorted[sorted.length / 2], sorted[(int) Math.ceil(sorted.length * 0.99) - 1],
        sorted[sorted.length - 1]);
  }
}
