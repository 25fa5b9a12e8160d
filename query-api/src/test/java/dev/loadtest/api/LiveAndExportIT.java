package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.flink.aggregate.AggregateRecords;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import dev.loadtest.schemas.threshold.ThresholdResult;
import dev.loadtest.schemas.topics.Topics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Live Server-Sent Events from the live topics, and the raw export of a run's samples from the samples topic. */
@Timeout(180)
class LiveAndExportIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "read-token-0123456789";

  @Test
  void liveEventsAndRawExport() throws Exception {
    ClickHouseServer server = ClickHouseServer.shared();
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    ClickHouseHttp ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
    String db = ClickHouseServer.newDatabaseName("live");
    Migrations.apply(ch, db);
    String run = "live-" + UUID.randomUUID().toString().substring(0, 8);
    try (ApiServer api = ApiServer.start(new ApiConfig("127.0.0.1", 0, server.httpUri(), server.user(),
        server.password(), db, kafka.bootstrapServers(), Map.of(TOKEN, ApiConfig.Scope.READ), List.of(),
        Limits.DEFAULT));
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
      assertTrue(api.live().awaitAssigned(Duration.ofSeconds(60)), "the live hub reads its topics");
      HttpClient http = HttpClient.newHttpClient();
      BlockingQueue<String> lines = new LinkedBlockingQueue<>();
      HttpResponse<java.io.InputStream> stream = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs/"
          + run + "/live?access_token=" + TOKEN)).build(), HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, stream.statusCode());
      assertTrue(stream.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
      Thread reader = Thread.ofVirtual().start(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = in.readLine()) != null) {
            lines.add(line);
          }
        } catch (java.io.IOException e) {
          // closed at the end of the test
        }
      });
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (api.live().listenerCount() == 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertEquals(1, api.live().listenerCount());

      // Two generators' buckets of one second of http_req_duration, and a threshold change.
      long second = 1_780_000_000_000L;
      for (int g = 0; g < 2; g++) {
        SeriesBucket b = new SeriesBucket();
        b.testRunId = run;
        b.metric = "http_req_duration";
        b.type = MetricType.TREND.name();
        b.tagKeys = new String[] {"generator"};
        b.tagValues = new String[] {"gen-" + g};
        b.seriesId = g + 1;
        b.startMs = second;
        b.widthMs = 1000;
        b.count = 2;
        b.sum = 30_000 + g * 20_000;
        b.min = 10_000;
        b.max = 20_000 + g * 20_000;
        b.histIndexes = new int[] {dev.loadtest.schemas.histogram.HistogramLayout.bucketIndex(10_000L),
            dev.loadtest.schemas.histogram.HistogramLayout.bucketIndex(20_000L + g * 20_000)};
        b.histCounts = new long[] {1, 1};
        ByteBuffer v = AggregateRecords.toAvro(b).toByteBuffer();
        byte[] bytes = new byte[v.remaining()];
        v.get(bytes);
        producer.send(new ProducerRecord<>(Topics.AGGREGATES, run.getBytes(StandardCharsets.UTF_8), bytes)).get();
      }
      producer.send(new ProducerRecord<>(Topics.THRESHOLDS, run.getBytes(StandardCharsets.UTF_8),
          new ThresholdResult(run, "http_req_duration: p(95)<30", ThresholdResult.State.FAILED, 40, false, second)
              .toJson().getBytes(StandardCharsets.UTF_8))).get();
      JsonNode metrics = null;
      JsonNode threshold = null;
      JsonNode ingestion = null;
      String event = null;
      while ((metrics == null || threshold == null || ingestion == null)
          && System.nanoTime() < deadline + Duration.ofSeconds(20).toNanos()) {
        String line = lines.poll(500, TimeUnit.MILLISECONDS);
        if (line == null) {
          continue;
        }
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ") && "metrics".equals(event)) {
          metrics = JSON.readTree(line.substring(6));
        } else if (line.startsWith("data: ") && "threshold".equals(event)) {
          threshold = JSON.readTree(line.substring(6));
        } else if (line.startsWith("data: ") && "ingestion".equals(event)) {
          ingestion = JSON.readTree(line.substring(6));
        }
      }
      assertTrue(ingestion != null, "an ingestion event every 2 s while someone watches");
      assertTrue(ingestion.path("samples").isObject() && ingestion.path("aggregates").isObject(), ingestion.toString());
      assertTrue(metrics != null, "a metrics event");
      assertEquals(second, metrics.path("t").asLong());
      assertEquals(4, metrics.path("metrics").path("http_req_duration").path("count").asLong(), "both generators merged");
      assertEquals(40, metrics.path("metrics").path("http_req_duration").path("max").asDouble(), 0.5);
      assertTrue(threshold != null, "a threshold event");
      assertEquals("FAILED", threshold.path("state").asText());
      reader.interrupt();

      // Raw export: two batches of the run (and one of another run on the same topic). The API knows the run
      // from its state on the runs topic (a run nobody knows has nothing to export: 404).
      HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs/" + run
          + "/samples")).header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(404, unknown.statusCode(), unknown.body());
      producer.send(new ProducerRecord<>(Topics.RUNS, run.getBytes(StandardCharsets.UTF_8),
          dev.loadtest.schemas.run.RunState.first(run, dev.loadtest.schemas.run.RunStatus.RUNNING, second, "running",
              List.of(), "h", "", null).toJson().getBytes(StandardCharsets.UTF_8))).get();
      long known = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (http.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs/" + run)).header("Authorization",
          "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
        assertTrue(System.nanoTime() < known, "the API learns the run from the runs topic");
        Thread.sleep(50);
      }
      SampleBatch mine = batch(run, 0, 5);
      SampleBatch mine2 = batch(run, 1, 3);
      SampleBatch other = batch("other-" + run, 0, 7);
      for (SampleBatch b : List.of(mine, other, mine2)) {
        producer.send(new ProducerRecord<>(Topics.SAMPLES, b.testRunId().getBytes(StandardCharsets.UTF_8),
            SampleBatchCodec.encode(b))).get();
      }
      HttpResponse<String> nd = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs/" + run + "/samples"))
          .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, nd.statusCode(), nd.body());
      List<String> ndLines = nd.body().lines().toList();
      assertEquals(8 * 11, ndLines.size(), "eight requests, eleven k6 metrics each");
      JsonNode first = JSON.readTree(ndLines.get(0));
      assertEquals("http_reqs", first.path("metric").asText());
      assertEquals("home", first.path("data").path("tags").path("name").asText());
      HttpResponse<String> csv = http.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs/" + run
          + "/samples?format=csv&metric=http_req_duration")).header("Authorization", "Bearer " + TOKEN).build(),
          HttpResponse.BodyHandlers.ofString());
      List<String> csvLines = csv.body().lines().toList();
      assertEquals("metric_name,timestamp,metric_value,check,error_code,expected_response,group,method,name,proto,"
          + "scenario,status,url,extra_tags", csvLines.get(0));
      assertEquals(1 + 8, csvLines.size());
      assertTrue(csvLines.get(1).startsWith("http_req_duration,1780000000.000000,12.5,"), csvLines.get(1));
    }
  }

  static SampleBatch batch(String run, long seq, int requests) {
    SampleBatchBuilder b = new SampleBatchBuilder(run, "gen-a", "zone-1", seq, 1_780_000_000_000_000L);
    int tags = b.tagSet("method", "GET", "name", "home", "status", "200");
    for (int i = 0; i < requests; i++) {
      b.addRequest(1_780_000_000_000_000L + seq * 10_000_000L + i * 1000L, tags, 12_500, 0, 0, 0, 10, 12_000, 490, 100, 2000, false, 1);
    }
    return b.build();
  }
}
