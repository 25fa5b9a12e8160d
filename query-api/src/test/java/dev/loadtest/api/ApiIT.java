package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.command.CommandParser;
import dev.loadtest.schemas.threshold.ThresholdResult;
import dev.loadtest.schemas.topics.Topics;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every read endpoint on a real ClickHouse filled by the sinks' encoders, the commands on a real broker,
 * and the API's safety: tokens and scopes, parameter checks, SQL injection through every filter.
 */
@Timeout(300)
class ApiIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String READ = "read-token-0123456789";
  static final String WRITE = "write-token-0123456789";
  static final long START = 1_780_000_000L; // a minute boundary + 40 s below
  static ApiServer api;
  static ClickHouseHttp ch;
  static String db;
  static RunData run;
  static RunData slower;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    ClickHouseServer server = ClickHouseServer.shared();
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
    db = ClickHouseServer.newDatabaseName("api");
    Migrations.apply(ch, db);
    String id = UUID.randomUUID().toString().substring(0, 8);
    run = new RunData("api-" + id, START + 20, 150, 1.0, 7);
    // slow requests that came late, in seconds that already have their complete rows
    run.addLate((START + 25) * 1000 + 300, "home", "gen-a", 900_000, "gen-a/17");
    run.addLate((START + 25) * 1000 + 700, "home", "gen-b", 950_000, "gen-b/18");
    run.addLate((START + 90) * 1000 + 10, "cart", "gen-a", 2_000_000, "gen-a/40");
    run.write(ch, db, Long.MAX_VALUE);
    run.writeThreshold(ch, db, "http_req_duration: p(95)<500", ThresholdResult.State.PASSED, 210, false, START * 1000);
    run.writeThreshold(ch, db, "http_req_duration: p(95)<500", ThresholdResult.State.PASSED, 230, true,
        (START + 200) * 1000);
    run.writeThreshold(ch, db, "http_req_duration{name:checkout}: p(95)<50", ThresholdResult.State.FAILED, 260, true,
        (START + 200) * 1000);
    slower = new RunData("api-slow-" + id, START + 1000, 90, 2.0, 8);
    slower.write(ch, db, Long.MAX_VALUE);
    api = ApiServer.start(new ApiConfig("127.0.0.1", 0, server.httpUri(), server.user(), server.password(), db,
        kafka.bootstrapServers(), Map.of(READ, ApiConfig.Scope.READ, WRITE, ApiConfig.Scope.WRITE),
        List.of("https://dash.example"), Limits.DEFAULT));
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  static HttpResponse<String> get(String pathAndQuery, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.url() + pathAndQuery)).timeout(Duration.ofSeconds(60));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(String path, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.url() + path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode ok(String pathAndQuery) throws Exception {
    HttpResponse<String> r = get(pathAndQuery, READ);
    assertEquals(200, r.statusCode(), pathAndQuery + " -> " + r.body());
    return JSON.readTree(r.body());
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static JsonNode metric(JsonNode summary, String name) {
    for (JsonNode m : summary.path("metrics")) {
      if (m.path("metric").asText().equals(name)) {
        return m;
      }
    }
    throw new AssertionError("no metric " + name + " in " + summary);
  }

  static void within1Percent(double exact, double actual, String what) {
    assertTrue(Math.abs(actual - exact) <= exact * 0.01, what + ": exact " + exact + ", API " + actual);
  }

  @Test
  void tokensAndScopes() throws Exception {
    assertEquals(200, get("/openapi.json", null).statusCode());
    assertEquals(401, get("/runs", null).statusCode());
    HttpResponse<String> wrong = get("/runs", "not-a-token-at-all");
    assertEquals(401, wrong.statusCode());
    assertTrue(wrong.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
    assertEquals(200, get("/runs", READ).statusCode());
    HttpResponse<String> forbidden = post("/runs/" + run.run + "/abort", "", READ);
    assertEquals(403, forbidden.statusCode(), forbidden.body());
    assertTrue(forbidden.body().contains("write scope"), forbidden.body());
  }

  @Test
  void healthCountsTheRecordsRejectedToTheDlq() throws Exception {
    long before = ok("/health").path("deadLetters").asLong();
    assertTrue(before >= 0, "the broker answered: " + before);
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(Map.of(
        org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedKafka.shared().bootstrapServers()),
        new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.StringSerializer())) {
      for (int i = 0; i < 3; i++) {
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.DLQ, Topics.SAMPLES,
            "{\"reason\":\"health test " + i + "\"}")).get();
      }
    }
    long after = ok("/health").path("deadLetters").asLong();
    assertTrue(after >= before + 3, "3 more rejections counted: " + before + " -> " + after);
  }

  @Test
  void healthSaysHowFarIngestionIsBehindAndWarns() throws Exception {
    String bootstrap = EmbeddedKafka.shared().bootstrapServers();
    org.apache.kafka.common.TopicPartition p0 = new org.apache.kafka.common.TopicPartition(Topics.SAMPLES, 0);
    long minuteAgo = System.currentTimeMillis() - 60_000;
    long first;
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(Map.of(
        org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
        new org.apache.kafka.common.serialization.ByteArraySerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      first = producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.SAMPLES, 0, minuteAgo,
          new byte[0], new byte[] {1})).get().offset();
      for (int i = 0; i < 4; i++) {
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.SAMPLES, 0, minuteAgo, new byte[0],
            new byte[] {1})).get();
      }
    }
    // The aggregate job's group has committed up to the first of them: five records, a minute old, behind.
    commit(bootstrap, p0, first);
    JsonNode behind = awaitHealth(h -> h.path("ingestion").path("samples").path("recordsBehind").asLong() >= 5);
    JsonNode samples = behind.path("ingestion").path("samples");
    assertTrue(samples.path("secondsBehind").asDouble() >= 59, samples.toString());
    assertTrue(samples.path("warning").asBoolean(), samples.toString());
    assertTrue(behind.path("warnings").toString().contains("ingestion of samples is"), behind.toString());
    commit(bootstrap, p0, first + 5);
    JsonNode caughtUp = awaitHealth(h -> h.path("ingestion").path("samples").path("recordsBehind").asLong() == 0);
    assertEquals(0, caughtUp.path("ingestion").path("samples").path("secondsBehind").asDouble());
    assertEquals("[]", caughtUp.path("warnings").toString());
  }

  static void commit(String bootstrap, org.apache.kafka.common.TopicPartition tp, long offset) {
    try (var c = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(Map.of(
        org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        org.apache.kafka.clients.consumer.ConsumerConfig.GROUP_ID_CONFIG, Topics.AGGREGATE_JOB_GROUP),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      c.assign(List.of(tp));
      c.commitSync(Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(offset)));
    }
  }

  static JsonNode awaitHealth(java.util.function.Predicate<JsonNode> p) throws Exception {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (true) {
      JsonNode h = ok("/health");
      if (p.test(h)) {
        return h;
      }
      assertTrue(System.nanoTime() < deadline, "health did not get there: " + h);
      Thread.sleep(200); // polling interval: the answer is kept for a second
    }
  }

  @Test
  void summaryIsExactAndMergedOverGenerators() throws Exception {
    JsonNode s = ok("/runs/" + run.run + "/summary");
    assertEquals(run.requests.size(), metric(s, "http_reqs").path("stats").path("count").asLong());
    assertEquals(run.requests.size(), metric(s, "http_reqs").path("stats").path("rate").asDouble() * 150, 1e-6);
    JsonNode d = metric(s, "http_req_duration").path("stats");
    for (String p : List.of("90", "95", "99")) {
      within1Percent(run.percentileMs(r -> true, Double.parseDouble(p)), d.path("p(" + p + ")").asDouble(), "p(" + p + ")");
    }
    within1Percent(run.percentileMs(r -> true, 50), d.path("med").asDouble(), "med");
    double avg = run.requests.stream().mapToLong(RunData.Request::durationUs).average().orElseThrow() / 1000;
    assertEquals(avg, d.path("avg").asDouble(), 1e-9 * avg);
    JsonNode failed = metric(s, "http_req_failed").path("stats");
    assertEquals(run.count(RunData.Request::failed), failed.path("passes").asLong());
    assertEquals((double) run.count(RunData.Request::failed) / run.requests.size(), failed.path("rate").asDouble(), 1e-12);
    // vus: two generators' gauges add up per second (5..7 each)
    JsonNode vus = metric(s, "vus").path("stats");
    assertEquals(10, vus.path("min").asDouble());
    assertEquals(14, vus.path("max").asDouble());
    // the thresholds' sub-metric is summarised on its own
    JsonNode checkout = metric(s, "http_req_duration").path("submetrics").get(0);
    assertEquals("http_req_duration{name:checkout}", checkout.path("metric").asText());
    assertEquals(run.count(r -> r.name().equals("checkout")), checkout.path("samples").asLong());
    within1Percent(run.percentileMs(r -> r.name().equals("checkout"), 95), checkout.path("stats").path("p(95)").asDouble(),
        "checkout p(95)");
    long[] checks = run.checks.get("status is 200");
    assertEquals(checks[0], s.path("checks").path("passed").asLong());
    assertEquals(checks[1], s.path("checks").path("failed").asLong());
    JsonNode t = s.path("thresholds");
    assertEquals(1, t.path("passed").asInt());
    assertEquals(1, t.path("failed").asInt());
    assertEquals(1, t.path("pending").asInt(), "http_req_failed has no result yet");
    assertEquals(230, t.path("results").get(0).path("value").asDouble(), "the final result wins over the earlier one");

    // k6's percentile method: within 1/128 of k6's interpolation over the raw durations, min and max exact.
    JsonNode k6 = ok("/runs/" + run.run + "/summary?percentiles=k6&trendStats=min,med,p(90),p(95),p(99),max");
    assertEquals("k6", k6.path("percentileMethod").asText());
    assertEquals("nearest-rank", s.path("percentileMethod").asText());
    double[] sorted = run.requests.stream().mapToDouble(r -> r.durationUs() / 1000.0).sorted().toArray();
    JsonNode k6d = metric(k6, "http_req_duration").path("stats");
    for (String stat : List.of("min", "med", "p(90)", "p(95)", "p(99)", "max")) {
      double p = switch (stat) {
        case "min" -> 0;
        case "max" -> 100;
        case "med" -> 50;
        default -> Double.parseDouble(stat.substring(2, stat.length() - 1));
      };
      double rank = p / 100 * (sorted.length - 1);
      int lo = (int) Math.floor(rank);
      double exact = sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (rank - lo);
      assertEquals(exact, k6d.path(stat).asDouble(), exact / 128 + 1e-9, "k6 " + stat);
    }

    // A range that cuts minutes and ten-second rollups at both ends is still exact (1 s rows at the edges).
    long from = (START + 47) * 1000 + 300;
    long to = (START + 133) * 1000;
    JsonNode ranged = ok("/runs/" + run.run + "/summary?from=" + from + "&to=" + to + "&trendStats=p(95),max");
    long fromSec = (START + 47);
    assertEquals(run.count(r -> r.timeMs() >= fromSec * 1000 && r.timeMs() < to),
        metric(ranged, "http_reqs").path("stats").path("count").asLong());
    assertEquals(List.of("p(95)", "max"), iterableNames(metric(ranged, "http_req_duration").path("stats")));
  }

  /**
   * User Trend metrics may go negative (k6 keeps them as they are): min, max, avg and sum stay exact, and
   * the percentiles of either method fall within the layout's bound (1/128) on each side of zero.
   */
  @Test
  void aGeneratorsShareOfItsCpuIsTheBusiestGeneratorsNotTheirSum() throws Exception {
    RunData gens = new RunData("api-gens-" + UUID.randomUUID().toString().substring(0, 8), START + 4000, 5, 1.0, 13);
    long t0 = (START + 4000) * 1000;
    for (int s = 0; s < 5; s++) {
      gens.addGauge("generator_cpu", "g1", t0 + 1000L * s, 0.7);
      gens.addGauge("generator_cpu", "g2", t0 + 1000L * s, 0.5 + 0.05 * s);
    }
    gens.write(ch, db, Long.MAX_VALUE);
    JsonNode cpu = metric(ok("/runs/" + gens.run + "/summary"), "generator_cpu").path("stats");
    assertEquals(0.7, cpu.path("min").asDouble(), 1e-9, "two generators at 70% and 50-70% are at 70%, not 120%");
    assertEquals(0.7, cpu.path("max").asDouble(), 1e-9);
    // the same through a time series of the gauge alone (the web app's generator table reads it so)
    JsonNode ts = ok("/runs/" + gens.run + "/timeseries?metric=generator_cpu&stat=max");
    for (JsonNode p : ts.path("series").get(0).path("points")) {
      assertEquals(0.7, p.get(1).asDouble(), 1e-9, ts.toString());
    }
    JsonNode vus = metric(ok("/runs/" + gens.run + "/summary"), "vus").path("stats");
    assertTrue(vus.path("min").asDouble() >= 10, "VUs still add up over generators: " + vus);
  }

  @Test
  void userTrendsBelowZeroReadExactlyAndTheirPercentilesWithinTheBound() throws Exception {
    RunData neg = new RunData("api-neg-" + UUID.randomUUID().toString().substring(0, 8), START + 3000, 12, 1.0, 12);
    long t0 = (START + 3000) * 1000;
    neg.addUserTrend("balance_change", t0 + 100, -10);
    neg.addUserTrend("balance_change", t0 + 1100, -20);
    double[] across = {-50, -40, -30, -20, -10, 0, 10, 20, 30, 40, 50.5};
    for (int i = 0; i < across.length; i++) {
      neg.addUserTrend("temperature_delta", t0 + 1000L * i + 500, across[i]);
    }
    neg.write(ch, db, Long.MAX_VALUE);
    String stats = "&trendStats=" + enc("min,max,avg,med,p(95)");

    JsonNode balance = metric(ok("/runs/" + neg.run + "/summary?percentiles=k6" + stats), "balance_change");
    assertEquals("trend", balance.path("type").asText());
    assertEquals(2, balance.path("samples").asLong());
    assertEquals(-20.0, balance.path("stats").path("min").asDouble(), "as k6: min of -10, -20");
    assertEquals(-10.0, balance.path("stats").path("max").asDouble());
    assertEquals(-15.0, balance.path("stats").path("avg").asDouble());
    assertEquals(-15.0, balance.path("stats").path("med").asDouble(), 15.0 / 128, "k6's med of -10, -20");
    assertEquals(-10.5, balance.path("stats").path("p(95)").asDouble(), 10.5 / 128, "k6's p(95) of -10, -20");

    for (String method : List.of("k6", "nearest-rank")) {
      JsonNode delta = metric(ok("/runs/" + neg.run + "/summary?percentiles=" + method + stats), "temperature_delta")
          .path("stats");
      assertEquals(-50.0, delta.path("min").asDouble(), method);
      assertEquals(50.5, delta.path("max").asDouble(), method);
      assertEquals(Arrays.stream(across).sum() / across.length, delta.path("avg").asDouble(), 1e-9, method);
      double p95 = method.equals("k6") ? 40 + 0.5 * 10.5 : 50.5; // k6: rank 9.5; nearest rank: the 11th of 11
      assertEquals(p95, delta.path("p(95)").asDouble(), p95 / 128, method + " p(95)");
      assertEquals(0.0, delta.path("med").asDouble(), 1e-9, method + ": the median is the sample 0");
    }
  }

  static List<String> iterableNames(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  @Test
  void liveRunWithoutItsRollupsYetIsStillExact() throws Exception {
    RunData live = new RunData("api-live-" + UUID.randomUUID().toString().substring(0, 8), START + 5000, 100, 1.0, 9);
    live.write(ch, db, START + 5000 + 30); // rollups only for the first 30 s or so, as while the run goes on
    JsonNode s = ok("/runs/" + live.run + "/summary");
    assertEquals(live.requests.size(), metric(s, "http_reqs").path("stats").path("count").asLong());
    JsonNode ts = ok("/runs/" + live.run + "/timeseries?metric=http_reqs&stat=count");
    long total = 0;
    for (JsonNode p : ts.path("series").get(0).path("points")) {
      total += p.get(1).asLong();
    }
    assertEquals(live.requests.size(), total);
  }

  @Test
  void aRankedByNamePanelShowsTheTopNamesAndTheRestAsOneOtherSeries() throws Exception {
    JsonNode ts = ok("/runs/" + run.run + "/timeseries?metric=http_req_duration&stat=count,p(95)&groupBy=name&top=1"
        + "&rankBy=p(95)");
    assertEquals(3, ts.path("groups").path("total").asInt());
    assertEquals(3, ts.path("groups").path("pages").asInt());
    assertEquals(2, ts.path("series").size(), "the slowest name and the other two as one series");
    JsonNode top = ts.path("series").get(0);
    String slowest = top.path("tags").path("name").asText();
    for (String other : List.of("home", "cart", "checkout")) {
      if (!other.equals(slowest) && run.count(r -> r.name().equals(other)) > 0) {
        assertTrue(run.percentileMs(r -> r.name().equals(other), 95) <= top.path("rankValue").asDouble() * 1.01,
            other + " is not slower than " + slowest);
      }
    }
    JsonNode rest = ts.path("series").get(1);
    assertTrue(rest.path("other").asBoolean());
    assertEquals(2, rest.path("groups").asInt());
    long counted = 0;
    for (JsonNode p : rest.path("points")) {
      counted += p.get(1).asLong();
      long t = p.get(0).asLong();
      long step = ts.path("stepSeconds").asLong() * 1000;
      // the other series' p(95): the whole minus the top name, histograms subtracted, against the raw requests
      within1Percent(run.percentileMs(r -> !r.name().equals(slowest) && r.timeMs() >= t && r.timeMs() < t + step, 95),
          p.get(2).asDouble(), "p(95) of the others at " + t);
    }
    assertEquals(run.count(r -> !r.name().equals(slowest)), counted);
    JsonNode last = ok("/runs/" + run.run + "/timeseries?metric=http_req_duration&stat=count&groupBy=name&top=1"
        + "&order=asc&page=2");
    assertEquals(3, last.path("series").get(0).path("rank").asInt());
    assertEquals(400, get("/runs/" + run.run + "/timeseries?metric=http_reqs&stat=count&groupBy=name&top=1&page=3",
        READ).statusCode());
  }

  /**
   * 40 names in 12 latency profiles (so that many rank close together): every page of a ranked panel, in
   * both orders, by p(95) and by p(99), names the groups and values a full ranking of every name's merged
   * histogram gives, although the API merges the histograms of only the names that can reach the page.
   */
  @Test
  void aRankedPanelOfManyNamesGivesEveryPageOfAFullRankingInBothOrders() throws Exception {
    List<String> names = java.util.stream.IntStream.range(0, 40).mapToObj(i -> String.format("n%02d", i)).toList();
    RunData many = new RunData("api-many-" + UUID.randomUUID().toString().substring(0, 8), START + 7000, 130, 1.0, 13,
        names);
    many.write(ch, db, Long.MAX_VALUE);
    checkEveryPage(many, false);
    // Then with the whole-run rows the aggregate job writes: the same pages, ranked from them (the names in two
    // parts with their histograms merged from the run's rows).
    many.writeRunRows(ch, db, 7);
    checkEveryPage(many, true);
  }

  /** Every page of the 40 names in both orders by p(95) and p(99), ranked from metric_run or not. */
  private void checkEveryPage(RunData many, boolean fromRunRows) throws Exception {
    for (double pct : new double[] {95, 99}) {
      Map<String, Double> expected = many.storedPercentileByNameMs(pct);
      assertEquals(40, expected.size());
      for (boolean asc : new boolean[] {false, true}) {
        List<String> order = new ArrayList<>(expected.keySet());
        order.sort((a, b) -> {
          int c = asc ? Double.compare(expected.get(a), expected.get(b)) : Double.compare(expected.get(b),
              expected.get(a));
          return c != 0 ? c : ("[" + a + "]").compareTo("[" + b + "]");
        });
        for (int page = 0; page < 8; page++) {
          String stat = URLEncoder.encode("p(" + (int) pct + ")", StandardCharsets.UTF_8);
          JsonNode ts = ok("/runs/" + many.run + "/timeseries?metric=http_req_duration&stat=" + stat
              + "&groupBy=name&top=5&page=" + page + (asc ? "&order=asc" : ""));
          assertEquals(40, ts.path("groups").path("total").asInt());
          assertEquals(fromRunRows, ts.path("groups").path("rankedFrom").path(0).asText().equals("metric_run"),
              ts.path("groups").toString());
          for (int i = 0; i < 5; i++) {
            JsonNode entry = ts.path("series").get(i);
            String name = order.get(page * 5 + i);
            String where = "p(" + pct + ") " + (asc ? "asc" : "desc") + " page " + page + " rank " + (i + 1);
            assertEquals(name, entry.path("tags").path("name").asText(), where + ": " + order);
            assertEquals(page * 5 + i + 1, entry.path("rank").asInt(), where);
            assertEquals(expected.get(name), entry.path("rankValue").asDouble(), 1e-9, where);
          }
          assertTrue(ts.path("series").get(5).path("other").asBoolean());
        }
      }
    }
  }

  /** Rows as comparable text: groups, series, step, count, sum, min, max and p(95) (what answers read). */
  static List<String> rowsText(List<dev.loadtest.api.store.MetricReader.Row> rows) {
    return rows.stream().map(r -> r.groups() + " " + r.seriesId() + " " + r.tsSec() + " " + r.agg().count() + " "
        + r.agg().sum() + " " + r.agg().min() + " " + r.agg().max() + " " + r.agg().stat(
            dev.loadtest.schemas.metrics.MetricType.TREND, "p(95)", 1)).sorted().toList();
  }

  /**
   * Reads that would name more series than a query may list read every row and leave the others out
   * here: a reader allowed to name one series answers as one that names them all, for a ranking's
   * candidates and for the series with late corrections read again whole.
   */
  @Test
  void readsOfMoreSeriesThanAQueryMayNameAnswerAlike() {
    var listing = new dev.loadtest.api.store.MetricReader(ch, db);
    var notListing = new dev.loadtest.api.store.MetricReader(ch, db, 1);
    Map<Long, List<String>> byName = new java.util.HashMap<>();
    for (String line : ch.execute(db, "SELECT series_id, tag_values[indexOf(tag_keys, 'name')] FROM series"
        + " WHERE test_run_id = " + ClickHouseHttp.quote(run.run) + " AND analysis_id = '~name'"
        + " AND metric = 'http_req_duration' FORMAT TabSeparated").strip().split("\n")) {
      String[] f = line.split("\t");
      byName.put(Long.parseUnsignedLong(f[0]), List.of(f[1]));
    }
    assertEquals(3, byName.size());
    List<dev.loadtest.api.store.Slices.Slice> seconds = dev.loadtest.api.store.Slices.plan(run.startSec,
        run.startSec + run.seconds + 1, 10, dev.loadtest.api.store.Slices.Coverage.NONE);
    var byNameQuery = new dev.loadtest.api.store.MetricReader.Query(run.run, "~name", java.util.Set.of(
        "http_req_duration"), List.of(), List.of("name"), false, false, 10, seconds);
    List<String> listed = rowsText(listing.aggregateOfSeries(byNameQuery, byName, List.of(95.0)));
    assertEquals(run.requests.stream().map(r -> r.name() + "@" + Math.floorDiv(r.timeMs(), 10_000)).distinct().count(),
        listed.size(), "a point per name and 10 s with requests");
    assertEquals(listed, rowsText(notListing.aggregateOfSeries(byNameQuery, byName, List.of(95.0))));
    // Raw series, one point per row: those with late corrections (home and cart, two generators) are read again.
    List<dev.loadtest.api.store.Slices.Slice> oneSecond = dev.loadtest.api.store.Slices.plan(run.startSec,
        run.startSec + run.seconds + 1, 1, dev.loadtest.api.store.Slices.Coverage.NONE);
    var perSeries = new dev.loadtest.api.store.MetricReader.Query(run.run, "", java.util.Set.of("http_req_duration"),
        List.of(), List.of(), false, true, 1, oneSecond);
    List<String> whole = rowsText(listing.aggregateHere(perSeries, List.of(95.0),
        dev.loadtest.api.store.Agg.Needs.ALL, 100));
    assertEquals(whole, rowsText(notListing.aggregateHere(perSeries, List.of(95.0),
        dev.loadtest.api.store.Agg.Needs.ALL, 100)));
    assertEquals(run.requests.size(), whole.stream().mapToLong(t -> Long.parseLong(t.split(" ")[3])).sum());
  }

  @Test
  void aRankedPageFarPastTheGroupsIsRefusedBeforeAnyRanking() throws Exception {
    HttpResponse<String> far = get("/runs/" + run.run + "/timeseries?metric=http_req_duration&stat=p(95)"
        + "&groupBy=name&top=1&page=1000000", READ);
    assertEquals(400, far.statusCode(), far.body());
    assertTrue(far.body().contains("page 1000000 is past the last one (2): 3 groups, 1 per page"), far.body());
  }

  @Test
  void timeSeriesByNameWithTheStepFromTheRange() throws Exception {
    JsonNode ts = ok("/runs/" + run.run + "/timeseries?metric=http_req_duration&stat=p(95),count&groupBy=name");
    assertEquals(1, ts.path("stepSeconds").asInt(), "150 s fit in 1,000 points at 1 s");
    assertEquals("name", ts.path("projection").asText(), "read from the by-name projection, not every series");
    assertEquals(3, ts.path("series").size());
    for (JsonNode g : ts.path("series")) {
      String name = g.path("tags").path("name").asText();
      long total = 0;
      for (JsonNode p : g.path("points")) {
        total += p.get(2).asLong();
        long t = p.get(0).asLong();
        // every point, those with late requests' correction rows included
        within1Percent(run.percentileMs(r -> r.name().equals(name) && r.timeMs() >= t && r.timeMs() < t + 1000, 95),
            p.get(1).asDouble(), "p(95) of " + name + " at " + t);
      }
      assertEquals(run.count(r -> r.name().equals(name)), total, name);
    }
    boolean seen = false;
    for (JsonNode g : ts.path("series")) {
      for (JsonNode p : g.path("points")) {
        seen |= g.path("tags").path("name").asText().equals("cart") && p.get(0).asLong() == (START + 90) * 1000
            && p.get(1).asDouble() >= 2000 * 0.99;
      }
    }
    assertTrue(seen, "the late 2 s cart request is the p(95) of its second");
    JsonNode coarse = ok("/runs/" + run.run + "/timeseries?metric=http_req_duration&stat=p(95),count&maxPoints=4");
    assertEquals(60, coarse.path("stepSeconds").asInt());
    assertTrue(coarse.path("series").get(0).path("points").size() <= 4);
    assertTrue(coarse.path("tables").toString().contains("metric_1m"), coarse.path("tables").toString());
    // one 60 s step, checked against the raw requests
    JsonNode point = coarse.path("series").get(0).path("points").get(1);
    long t0 = point.get(0).asLong();
    within1Percent(run.percentileMs(r -> r.timeMs() >= t0 && r.timeMs() < t0 + 60_000, 95), point.get(1).asDouble(),
        "p(95) of the minute at " + t0);
    JsonNode filtered = ok("/runs/" + run.run + "/timeseries?metric=http_reqs&stat=count&tag=name:cart&tag=status:500");
    assertTrue(filtered.path("projection").isNull(), "a status filter needs the full series");
    long total = 0;
    for (JsonNode p : filtered.path("series").get(0).path("points")) {
      total += p.get(1).asLong();
    }
    assertEquals(run.count(r -> r.name().equals("cart") && r.failed()), total);

    JsonNode heat = ok("/runs/" + run.run + "/heatmap?metric=http_req_duration&maxPoints=20");
    long counted = 0;
    for (JsonNode step : heat.path("steps")) {
      for (JsonNode b : step.path("buckets")) {
        counted += b.get(2).asLong();
        assertTrue(b.get(0).asDouble() <= b.get(1).asDouble());
      }
    }
    assertEquals(run.requests.size(), counted);
  }

  @Test
  void aSeriesWhoseNameRowStandsForItReadsAsItsOwnRows() throws Exception {
    // One generator: most seconds a name has one series (status 200), whose by-name row then stands for it
    RunData one = new RunData("api-one-" + UUID.randomUUID().toString().substring(0, 8), START + 3000, 40, 1.0, 9,
        RunData.NAMES, List.of("gen-a"));
    one.addLate((START + 3010) * 1000 + 500, "home", "gen-a", 700_000, "gen-a/9");
    one.write(ch, db, Long.MAX_VALUE);
    String where = " WHERE test_run_id = " + ClickHouseHttp.quote(one.run) + " AND metric = 'http_reqs'";
    long stoodFor = Long.parseLong(ch.execute(db, "SELECT count() FROM metric_1s" + where
        + " AND analysis_id = '~name' AND raw_series != 0 FORMAT TabSeparated").strip());
    long own = Long.parseLong(ch.execute(db, "SELECT count() FROM metric_1s" + where
        + " AND analysis_id = '' FORMAT TabSeparated").strip());
    assertTrue(stoodFor > 40 && own > 0, "rows standing for a series: " + stoodFor + ", series' own rows: " + own);

    // The series' reads (a status filter, a group-by no projection keeps) find every request, once
    for (String status : List.of("200", "500")) {
      JsonNode filtered = ok("/runs/" + one.run + "/timeseries?metric=http_reqs&stat=count&tag=status:" + status);
      assertTrue(filtered.path("projection").isNull(), "a status filter reads the series");
      long total = 0;
      for (JsonNode p : filtered.path("series").get(0).path("points")) {
        total += p.get(1).asLong();
      }
      assertEquals(one.count(r -> r.status().equals(status)), total, "status " + status);
    }
    JsonNode byNameAndStatus = ok("/runs/" + one.run + "/timeseries?metric=http_req_duration&stat=p(95),count"
        + "&groupBy=name&groupBy=status");
    assertEquals(2 * RunData.NAMES.size(), byNameAndStatus.path("series").size(), byNameAndStatus.toString());
    for (JsonNode g : byNameAndStatus.path("series")) {
      String name = g.path("tags").path("name").asText();
      String status = g.path("tags").path("status").asText();
      long total = 0;
      for (JsonNode p : g.path("points")) {
        total += p.get(2).asLong();
        long t = p.get(0).asLong();
        within1Percent(one.percentileMs(r -> r.name().equals(name) && r.status().equals(status) && r.timeMs() >= t
            && r.timeMs() < t + 1000, 95), p.get(1).asDouble(), "p(95) of " + name + " " + status + " at " + t);
      }
      assertEquals(one.count(r -> r.name().equals(name) && r.status().equals(status)), total, name + " " + status);
    }
    // and the by-name reads are as before
    JsonNode byName = ok("/runs/" + one.run + "/timeseries?metric=http_reqs&stat=count&groupBy=name");
    assertEquals("name", byName.path("projection").asText());
    for (JsonNode g : byName.path("series")) {
      String name = g.path("tags").path("name").asText();
      long total = 0;
      for (JsonNode p : g.path("points")) {
        total += p.get(1).asLong();
      }
      assertEquals(one.count(r -> r.name().equals(name)), total, name);
    }
  }

  @Test
  void anAnalysisHasTheThresholdsItWasJudgedByNotThePlans() throws Exception {
    run.writeThreshold(ch, db, "stricter", "http_req_duration{name:home}: p(99)<5", ThresholdResult.State.FAILED, 42,
        true, (START + 200) * 1000);
    JsonNode t = ok("/runs/" + run.run + "/thresholds?analysis=stricter");
    assertEquals(1, t.path("results").size(), "only the analysis's own threshold, none of the plan's: " + t);
    assertEquals("http_req_duration{name:home}: p(99)<5", t.path("results").get(0).path("threshold").asText());
    assertEquals("FAILED", t.path("results").get(0).path("state").asText());
    assertEquals(1, t.path("failed").asInt());
    assertTrue(t.path("complete").asBoolean(), "every result of the analysis is final");
    JsonNode s = ok("/runs/" + run.run + "/summary?analysis=stricter");
    assertEquals("stricter", s.path("analysisId").asText());
    assertEquals(t.path("results"), s.path("thresholds").path("results"));
    JsonNode own = ok("/runs/" + run.run + "/thresholds");
    assertEquals(3, own.path("results").size(), "the run's own thresholds are unchanged: " + own);
  }

  @Test
  void seriesAndTopK() throws Exception {
    JsonNode page = ok("/runs/" + run.run + "/series?metric=http_req_duration&limit=5");
    assertEquals(12, page.path("total").asInt(), "3 names x 2 generators x 2 statuses");
    assertEquals(5, page.path("series").size());
    JsonNode top = ok("/runs/" + run.run + "/series/top?metric=http_req_duration&by=" + enc("p(95)") + "&k=3&minCount=20");
    assertEquals(3, top.path("series").size());
    for (JsonNode s : top.path("series")) {
      assertEquals("checkout", s.path("tags").path("name").asText(), "the slowest series are checkout's: " + top);
    }
    JsonNode byRate = ok("/runs/" + run.run + "/series/top?metric=http_req_failed&by=rate&k=2");
    assertEquals("500", byRate.path("series").get(0).path("tags").path("status").asText());
    JsonNode byCount = ok("/runs/" + run.run + "/series/top?metric=http_reqs&k=1");
    assertTrue(byCount.path("series").get(0).path("count").asLong() > 0);
  }

  @Test
  void runsListRunAndCompare() throws Exception {
    JsonNode list = ok("/runs?project=shop&status=finished&limit=1");
    assertTrue(list.path("total").asInt() >= 2);
    assertEquals(1, list.path("runs").size());
    JsonNode named = ok("/runs?name=" + enc(run.run.toUpperCase()) + "&tag=team:perf");
    assertEquals(1, named.path("total").asInt(), named.toString());
    assertEquals(run.run, named.path("runs").get(0).path("testRunId").asText());
    JsonNode one = ok("/runs/" + run.run);
    assertEquals("FINISHED", one.path("status").asText());
    assertEquals(3, one.path("history").size());
    assertEquals("constant-vus", one.path("plan").path("scenarios").path("s").path("executor").asText());
    assertEquals(404, get("/runs/nope-" + UUID.randomUUID(), READ).statusCode());

    JsonNode cmp = ok("/compare?a=" + run.run + "&b=" + slower.run);
    for (JsonNode m : cmp.path("metrics")) {
      if (m.path("metric").asText().equals("http_req_duration")) {
        assertTrue(m.path("stats").path("p(95)").path("change").asDouble() > 0.5, "twice as slow: " + m);
        return;
      }
    }
    throw new AssertionError("no http_req_duration in " + cmp);
  }

  @Test
  void commandsGoToTheCommandsTopic() throws Exception {
    String runId = "api-start-" + UUID.randomUUID().toString().substring(0, 8);
    HttpResponse<String> bad = post("/runs", "{\"plan\": {\"scenarios\": {}}, \"extra\": 1}", WRITE);
    assertEquals(400, bad.statusCode(), bad.body());
    assertTrue(bad.body().contains("$.extra"), bad.body());
    HttpResponse<String> invalid = post("/runs", "{\"plan\": {\"scenarios\": {\"s\": {\"executor\": \"nope\"}}}}", WRITE);
    assertEquals(400, invalid.statusCode());
    assertTrue(JSON.readTree(invalid.body()).path("errors").get(0).path("path").asText().startsWith("$.plan"),
        invalid.body());
    HttpResponse<String> started = post("/runs", "{\"testRunId\": \"" + runId + "\", \"plan\": " + run.plan
        + ", \"metadata\": {\"name\": \"from the API\"}}", WRITE);
    assertEquals(202, started.statusCode(), started.body());
    assertEquals(202, post("/runs/" + runId + "/stop?reason=enough", "", WRITE).statusCode());
    HttpResponse<String> badReason = post("/runs/" + runId + "/abort", "{\"reason\": 5}", WRITE);
    assertEquals(400, badReason.statusCode(), badReason.body());
    assertEquals("reason", JSON.readTree(badReason.body()).path("parameter").asText(), badReason.body());
    assertEquals(202, post("/runs/" + runId + "/abort", "{\"reason\": \"the shop fell over\"}", WRITE).statusCode());
    List<String> types = new ArrayList<>();
    List<String> reasons = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        EmbeddedKafka.shared().bootstrapServers(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.GROUP_ID_CONFIG, "api-it-" + UUID.randomUUID()), new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(Topics.COMMANDS));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (types.size() < 3 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          if (runId.equals(r.key())) {
            var command = CommandParser.parse(r.value());
            types.add(command.getClass().getSimpleName());
            if (command instanceof dev.loadtest.schemas.command.Command.Stop st) {
              reasons.add(st.reason());
            } else if (command instanceof dev.loadtest.schemas.command.Command.Abort ab) {
              reasons.add(ab.reason());
            }
          }
        }
      }
    }
    assertEquals(List.of("Start", "Stop", "Abort"), types);
    assertEquals(List.of("enough", "the shop fell over"), reasons, "a reason given as a parameter or in a JSON body");
  }

  @Test
  void unknownRunsAndOversizedRequestsAreAnsweredInJson() throws Exception {
    HttpResponse<String> samples = get("/runs/no-such-run-" + UUID.randomUUID().toString().substring(0, 8) + "/samples",
        READ);
    assertEquals(404, samples.statusCode(), "no empty 200 for a run nobody knows: " + samples.body());
    assertTrue(JSON.readTree(samples.body()).path("error").asText().contains("no run"), samples.body());
    // HTTP/1.1 as browsers and curl speak it (Java's client otherwise offers an h2c upgrade, which Vert.x
    // refuses for an oversized line with an empty 431 before any handler of ours sees it)
    HttpResponse<String> longLine = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
        HttpRequest.newBuilder(URI.create(api.url() + "/runs/" + run.run + "/summary?name=" + "x".repeat(10_000)))
            .header("Authorization", "Bearer " + READ).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(414, longLine.statusCode(), longLine.body());
    assertTrue(JSON.readTree(longLine.body()).path("error").asText().contains("request line"), longLine.body());
    assertEquals(414, JSON.readTree(longLine.body()).path("status").asInt(), longLine.body());
  }

  @Test
  void everyParameterIsCheckedWithAMessageThatNamesIt() throws Exception {
    Map<String, String> cases = Map.ofEntries(
        Map.entry("/runs/" + run.run + "/summary?from=-1", "from"),
        Map.entry("/runs/" + run.run + "/summary?from=0&to=-1", "to"),
        Map.entry("/runs/" + run.run + "/summary?bogus=1", "bogus"),
        Map.entry("/runs/" + run.run + "/summary?trendStats=p(101)", "trendStats"),
        Map.entry("/runs/" + run.run + "/summary?from=yesterday", "from"),
        Map.entry("/runs/" + run.run + "/timeseries?metric=http_reqs", "stat"),
        Map.entry("/runs/" + run.run + "/timeseries?metric=http_reqs&stat=p(95)", "stat"),
        Map.entry("/runs/" + run.run + "/timeseries?metric=http_reqs&stat=count&groupBy=a,b,c,d", "groupBy"),
        Map.entry("/runs/" + run.run + "/series?limit=100000", "limit"),
        Map.entry("/runs/" + run.run + "/series/top?metric=http_reqs&by=p(95)", "by"),
        Map.entry("/runs?status=sleeping", "status"),
        Map.entry("/runs?stats=maybe", "stats"),
        Map.entry("/runs/" + run.run + "/samples?format=xml", "format"));
    for (Map.Entry<String, String> c : cases.entrySet()) {
      HttpResponse<String> r = get(c.getKey(), READ);
      assertEquals(400, r.statusCode(), c.getKey() + " -> " + r.body());
      assertEquals(c.getValue(), JSON.readTree(r.body()).path("parameter").asText(), c.getKey() + " -> " + r.body());
      assertFalse(JSON.readTree(r.body()).path("error").asText().isEmpty());
    }
    HttpResponse<String> range = get("/runs/" + run.run + "/summary?from=0&to=" + (400L * 24 * 3600 * 1000), READ);
    assertEquals(400, range.statusCode(), "a range over the limit");
    HttpResponse<String> method = get("/runs/" + run.run + "/summary?percentiles=linear", READ);
    assertEquals(400, method.statusCode(), method.body());
    assertEquals("percentiles", JSON.readTree(method.body()).path("parameter").asText(), method.body());
    assertTrue(JSON.readTree(method.body()).path("error").asText().contains("use k6"), method.body());
  }

  @Test
  void injectionThroughEveryFilterAndGroupByFindsNothingAndBreaksNothing() throws Exception {
    List<String> nasty = List.of("' OR 1=1 --", "x') OR ('1'='1", "\\' OR 1=1 --", "checkout'; DROP TABLE runs; --",
        "name\\", "a\nb", "%' UNION ALL SELECT * FROM system.tables --");
    long before = Long.parseLong(ch.execute(db, "SELECT count() FROM metric_1s FORMAT TabSeparated").strip());
    String base = "/runs/" + run.run;
    for (String v : nasty) {
      String e = enc(v);
      List<String> reads = List.of(
          "/runs?name=" + e, "/runs?project=" + e, "/runs?tag=" + enc("team:" + v), "/runs?tag=" + enc(v + ":x"),
          base + "/summary?submetric=" + enc("http_req_duration{name:" + v + "}"),
          base + "/series?tag=" + enc("name:" + v), base + "/series?metric=" + e,
          base + "/series/top?metric=http_reqs&tag=" + enc("name:" + v),
          base + "/timeseries?metric=http_reqs&stat=count&tag=" + enc("name:" + v),
          base + "/timeseries?metric=http_reqs&stat=count&groupBy=" + e,
          base + "/timeseries?metric=" + e + "&stat=count", base + "/summary?analysis=" + e,
          "/runs/" + e + "/summary", "/compare?a=" + run.run + "&b=" + e);
      for (String path : reads) {
        HttpResponse<String> r = get(path, READ);
        assertTrue(r.statusCode() == 200 || r.statusCode() == 400 || r.statusCode() == 404, path + " -> "
            + r.statusCode() + " " + r.body());
        if (r.statusCode() == 200 && path.startsWith("/runs?")) {
          assertEquals(0, JSON.readTree(r.body()).path("total").asInt(), path + " matched runs: " + r.body());
        }
        if (r.statusCode() == 200 && path.contains("tag=")) {
          JsonNode b = JSON.readTree(r.body());
          assertTrue(b.path("series").isEmpty() || b.path("series").get(0).path("points").isEmpty(),
              path + " matched series: " + r.body());
        }
      }
    }
    assertEquals(before, Long.parseLong(ch.execute(db, "SELECT count() FROM metric_1s FORMAT TabSeparated").strip()));
    assertTrue(ch.execute(db, "EXISTS TABLE runs FORMAT TabSeparated").strip().equals("1"));
  }

  @Test
  void corsOnlyForConfiguredOrigins() throws Exception {
    HttpResponse<String> allowed = HTTP.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs"))
        .header("Origin", "https://dash.example").header("Authorization", "Bearer " + READ).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals("https://dash.example", allowed.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
    HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(URI.create(api.url() + "/runs"))
        .header("Origin", "https://evil.example").header("Authorization", "Bearer " + READ).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertNotEquals("https://evil.example", other.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
    assertEquals(403, other.statusCode(), other.body());
  }
}
