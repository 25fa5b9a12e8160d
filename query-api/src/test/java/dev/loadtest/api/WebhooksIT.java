package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.command.Command;
import dev.loadtest.schemas.insight.Insight;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.topics.Topics;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Webhooks through the real API, Kafka and ClickHouse to a real HTTP receiver on 127.0.0.1: run events and
 * insights from the topics, signed, retried after a failure, recorded, each sent once.
 */
@Timeout(120)
class WebhooksIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String READ = "read-token-wh-0123456789";
  static final String WRITE = "write-token-wh-0123456789";
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static ApiServer api;
  static HttpServer receiver;
  static KafkaProducer<String, String> producer;
  static ClickHouseHttp ch;
  static String db;
  /** What the receiver got: path, event header, signature header, body. */
  static final List<String[]> received = new CopyOnWriteArrayList<>();
  /** The receiver answers 500 to this many requests first. */
  static final AtomicInteger failFirst = new AtomicInteger(1);

  @BeforeAll
  static void start() throws Exception {
    ClickHouseServer server = ClickHouseServer.shared();
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
    db = ClickHouseServer.newDatabaseName("webhooks");
    Migrations.apply(ch, db);
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/", ex -> {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      received.add(new String[] {ex.getRequestURI().getPath(), ex.getRequestHeaders().getFirst("X-Loadtest-Event"),
          ex.getRequestHeaders().getFirst("X-Loadtest-Signature"), body});
      int status = failFirst.getAndDecrement() > 0 ? 500 : 204;
      ex.sendResponseHeaders(status, -1);
      ex.close();
    });
    receiver.start();
    api = ApiServer.start(new ApiConfig("127.0.0.1", 0, server.httpUri(), server.user(), server.password(), db,
        kafka.bootstrapServers(), Map.of(READ, ApiConfig.Scope.READ, WRITE, ApiConfig.Scope.WRITE), List.of(),
        Limits.DEFAULT));
    assertTrue(api.notifier().awaitAssigned(Duration.ofSeconds(60)), "the notifier reads its topics");
    producer = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(),
        new StringSerializer());
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
    if (receiver != null) {
      receiver.stop(0);
    }
    if (producer != null) {
      producer.close();
    }
  }

  static HttpResponse<String> call(String method, String path, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.url() + path)).timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String hook(String path) {
    return "http://127.0.0.1:" + receiver.getAddress().getPort() + path;
  }

  static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!condition.get()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what + "; received " + received.stream()
          .map(r -> r[0] + " " + r[1]).toList());
      Thread.sleep(50);
    }
  }

  static List<String[]> at(String path) {
    return received.stream().filter(r -> r[0].equals(path)).toList();
  }

  static RunState finishedWithFailedThreshold(String run, String project) {
    return RunState.first(run, RunStatus.CREATED, 1_000, "created", List.of(), "h", "{}",
            new Command.Metadata("checkout", project, Map.of(), "", "ci"))
        .to(RunStatus.RUNNING, 2_000, "running").to(RunStatus.FINISHED, 62_000, "finished")
        .withVerdict(new RunState.Verdict(List.of("http_req_duration: p(95)<500"),
            List.of("http_req_failed: rate<0.01"), List.of(), true));
  }

  @Test
  void aProjectsRunEventsAndInsightsReachItsWebhookSignedRetriedAndOnce() throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    String project = "shop-" + id;
    String path = "/json-" + id;
    HttpResponse<String> created = call("POST", "/webhooks", """
        {"project": "%s", "url": "%s", "events": ["finished", "thresholds-failed", "insight"], "secret": "s3cret"}"""
        .formatted(project, hook(path)), WRITE);
    assertEquals(201, created.statusCode(), created.body());
    String webhook = JSON.readTree(created.body()).path("id").asText();
    JsonNode listed = JSON.readTree(call("GET", "/webhooks?project=" + project, null, READ).body());
    assertEquals(webhook, listed.path("webhooks").get(0).path("id").asText());
    assertTrue(listed.path("webhooks").get(0).path("signed").asBoolean());
    assertFalse(listed.toString().contains("s3cret"), "the secret is never shown: " + listed);

    String run = "wh-run-" + id;
    failFirst.set(1);
    String state = finishedWithFailedThreshold(run, project).toJson();
    producer.send(new ProducerRecord<>(Topics.RUNS, run, state)).get();
    await("finished and thresholds-failed, the first after a retry", () -> at(path).size() >= 3);
    // the same state again (a restart's replay, a later version) sends nothing new
    producer.send(new ProducerRecord<>(Topics.RUNS, run, state)).get();
    // another project's run is not this webhook's
    producer.send(new ProducerRecord<>(Topics.RUNS, "other-" + id, finishedWithFailedThreshold("other-" + id,
        "other-" + id).toJson())).get();
    Insight insight = new Insight(run, Insight.INCREASED_FAILURE_RATE, "", "warning", "Increased failure rate",
        "21.3% of requests failed", 20_000, 40_000, Map.of("failureRate", 0.213), 41_000);
    producer.send(new ProducerRecord<>(Topics.INSIGHTS, run, insight.toJson())).get();
    producer.send(new ProducerRecord<>(Topics.INSIGHTS, run, new Insight(run, Insight.JUDGED, "", "info", "done",
        "every rule has judged the run", 0, 62_000, Map.of(), 63_000).toJson())).get();
    await("the insight", () -> at(path).stream().anyMatch(r -> "insight".equals(r[1])));

    List<String[]> got = at(path);
    // finished and thresholds-failed go out together: whichever came first was refused once and sent again
    List<String> events = got.stream().map(r -> r[1]).sorted().toList();
    String retried = events.stream().filter(e -> java.util.Collections.frequency(events, e) == 2).findFirst()
        .orElseThrow(() -> new AssertionError("no event was sent again: " + events));
    assertEquals(java.util.Set.of("finished", "thresholds-failed", "insight"), java.util.Set.copyOf(events));
    assertEquals(4, events.size(), events.toString());
    for (String[] r : got) {
      assertEquals("sha256=" + hmac("s3cret", r[3]), r[2], "each delivery is signed with the secret");
      JsonNode body = JSON.readTree(r[3]);
      assertEquals(run, body.path("testRunId").asText());
      assertEquals(project, body.path("project").asText());
    }
    JsonNode failed = got.stream().filter(r -> "thresholds-failed".equals(r[1])).map(r -> tree(r[3])).findFirst()
        .orElseThrow();
    assertEquals("http_req_failed: rate<0.01", failed.path("verdict").path("failed").get(0).asText());
    JsonNode ins = got.stream().filter(r -> "insight".equals(r[1])).map(r -> tree(r[3])).findFirst().orElseThrow();
    assertEquals("increased-failure-rate", ins.path("insight").path("rule").asText());
    assertEquals(0.213, ins.path("insight").path("values").path("failureRate").asDouble(), 1e-12);

    JsonNode deliveries = JSON.readTree(call("GET", "/webhooks/" + webhook + "/deliveries", null, READ).body());
    List<String> attempts = new java.util.ArrayList<>();
    deliveries.path("deliveries").forEach(d -> attempts.add(d.path("event").asText() + "#" + d.path("attempt").asInt()
        + ":" + d.path("statusCode").asInt() + ":" + d.path("delivered").asBoolean()));
    String other = retried.equals("finished") ? "thresholds-failed" : "finished";
    assertTrue(attempts.contains(retried + "#1:500:false") && attempts.contains(retried + "#2:204:true")
        && attempts.contains(other + "#1:204:true") && attempts.contains("insight#1:204:true"), attempts.toString());
    assertEquals(4, attempts.size(), "nothing sent twice, nothing of the other project: " + attempts);

    assertEquals(200, call("DELETE", "/webhooks/" + webhook, null, WRITE).statusCode());
    assertEquals(0, JSON.readTree(call("GET", "/webhooks?project=" + project, null, READ).body()).path("webhooks")
        .size());
  }

  @Test
  void anEventOneApiProcessDeliveredIsNotSentAgainByARestartedOne() throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    String project = "restart-" + id;
    String path = "/restart-" + id;
    failFirst.set(0);
    assertEquals(201, call("POST", "/webhooks", """
        {"project": "%s", "url": "%s", "events": ["regression"]}""".formatted(project, hook(path)), WRITE).statusCode());
    List<Map<String, Object>> checks = List.of(Map.of("state", "EXCEEDED", "message", "p(95) went from 60 to 120"));
    dev.loadtest.api.notify.WebhookStore store = new dev.loadtest.api.notify.WebhookStore(ch, db);
    String unused = "notifier-unused-" + id; // these notifiers are told of regressions only
    try (var first = new dev.loadtest.api.notify.Notifier(EmbeddedKafka.shared().bootstrapServers(), unused, unused,
        store, "", Duration.ofMillis(100))) {
      first.regression("run-" + id, project, "checkout", "base-" + id, checks);
      await("the regression", () -> at(path).size() == 1);
    }
    String eventId = JSON.readTree(at(path).get(0)[3]).path("eventId").asText();
    assertTrue(eventId.startsWith("ev-"), at(path).get(0)[3]);
    // The same event from a process that does not remember it (an API restarted, or another one): not sent again.
    try (var second = new dev.loadtest.api.notify.Notifier(EmbeddedKafka.shared().bootstrapServers(), unused, unused,
        store, "", Duration.ofMillis(100))) {
      second.regression("run-" + id, project, "checkout", "base-" + id, checks);
      await("the repeat found delivered", () -> second.skippedAsDelivered() == 1);
      second.regression("other-run-" + id, project, "checkout", "base-" + id, checks); // a new event is sent
      await("the other run's regression", () -> at(path).size() == 2);
    }
    assertEquals(List.of("run-" + id, "other-run-" + id), at(path).stream()
        .map(r -> tree(r[3]).path("testRunId").asText()).toList(), "each event once");
    assertFalse(tree(at(path).get(1)[3]).path("eventId").asText().equals(eventId), "another event, another id");
  }

  @Test
  void aSlackWebhookGetsTextAndAbortsSayWhoAborted() throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    String project = "slack-" + id;
    String path = "/slack-" + id;
    failFirst.set(0);
    assertEquals(201, call("POST", "/webhooks", """
        {"project": "%s", "url": "%s", "format": "slack"}""".formatted(project, hook(path)), WRITE).statusCode());
    String run = "wh-abort-" + id;
    RunState aborted = RunState.first(run, RunStatus.CREATED, 1_000, "created", List.of(), "h", "{}",
            new Command.Metadata("nightly", project, Map.of(), "", "ci"))
        .to(RunStatus.RUNNING, 2_000, "running")
        .aborted(30_000, "threshold http_req_failed: rate<0.05 failed (0.2) and aborts on fail", Command.Source.THRESHOLD);
    producer.send(new ProducerRecord<>(Topics.RUNS, run, aborted.toJson())).get();
    await("the abort", () -> !at(path).isEmpty());
    JsonNode body = tree(at(path).get(0)[3]);
    assertEquals("aborted-by-threshold", at(path).get(0)[1]);
    assertTrue(body.path("text").asText().startsWith("*loadtest* run \"nightly\" (" + run + ") was aborted (threshold):"),
        body.toString());
    assertEquals(null, at(path).get(0)[2], "no secret, no signature");
  }

  @Test
  void aWebhookIsCheckedBeforeItIsStored() throws Exception {
    for (String[] bad : new String[][] {
        {"{\"project\": \"p\", \"url\": \"ftp://127.0.0.1/x\"}", "url"},
        {"{\"project\": \"p\", \"url\": \"/relative\"}", "url"},
        {"{\"url\": \"http://127.0.0.1/x\"}", "project"},
        {"{\"project\": \"p\", \"url\": \"http://127.0.0.1/x\", \"events\": [\"exploded\"]}", "events"},
        {"{\"project\": \"p\", \"url\": \"http://127.0.0.1/x\", \"format\": \"xml\"}", "format"},
        {"{\"project\": \"p\", \"url\": \"http://127.0.0.1/x\", \"retries\": 3}", "retries"},
        {"not json", "body"}}) {
      HttpResponse<String> r = call("POST", "/webhooks", bad[0], WRITE);
      assertEquals(400, r.statusCode(), bad[0] + " -> " + r.body());
      assertEquals(bad[1], JSON.readTree(r.body()).path("parameter").asText(), r.body());
    }
    assertEquals(403, call("POST", "/webhooks", "{\"project\": \"p\", \"url\": \"http://127.0.0.1/x\"}", READ)
        .statusCode());
    assertEquals(404, call("DELETE", "/webhooks/wh-0000000000000000", null, WRITE).statusCode());
  }

  static JsonNode tree(String s) {
    try {
      return JSON.readTree(s);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  static String hmac(String secret, String body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return java.util.HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
  }
}
