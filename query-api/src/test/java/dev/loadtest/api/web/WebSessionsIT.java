package dev.loadtest.api.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.api.ApiConfig;
import dev.loadtest.api.ApiServer;
import dev.loadtest.api.Limits;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The web app's sessions and pages over HTTP on a real API server (real Kafka and ClickHouse behind it): a
 * token is exchanged for an HttpOnly, SameSite=Strict cookie; the cookie reads; a write with it needs the
 * session's CSRF header, this origin and a write token; signing out ends it; pages carry a strict CSP.
 */
@Timeout(120)
class WebSessionsIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String WRITE = "write-token-0123456789";
  static final String READ = "read-token-0123456789";
  static ApiServer api;
  static String db;
  static dev.loadtest.schemas.clickhouse.ClickHouseHttp clickHouse;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    ClickHouseServer ch = ClickHouseServer.shared();
    EmbeddedKafka.shared().createTopics(dev.loadtest.schemas.topics.Topics.all().stream()
        .map(t -> new org.apache.kafka.clients.admin.NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    db = ClickHouseServer.newDatabaseName("websessions");
    clickHouse = new dev.loadtest.schemas.clickhouse.ClickHouseHttp(ch.httpUri(), ch.user(), ch.password(),
        java.time.Duration.ofSeconds(60));
    dev.loadtest.schemas.clickhouse.Migrations.apply(clickHouse, db);
    api = ApiServer.start(new ApiConfig("127.0.0.1", 0, ch.httpUri(), ch.user(), ch.password(), db,
        EmbeddedKafka.shared().bootstrapServers(), Map.of(WRITE, ApiConfig.Scope.WRITE, READ, ApiConfig.Scope.READ),
        List.of(), Limits.DEFAULT));
  }

  @AfterAll
  static void stop() throws Exception {
    if (api != null) {
      api.close();
    }
  }

  static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(api.appUrl().replaceFirst("/$", "") + path));
  }

  /** Signs in with {@code token}; returns the cookie's name=value and the session body. */
  static Object[] signIn(String token) throws Exception {
    HttpResponse<String> r = send(req("/api/v1/session").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + token + "\"}")));
    assertEquals(200, r.statusCode(), r.body());
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    return new Object[] {setCookie.substring(0, setCookie.indexOf(';')), JSON.readTree(r.body()), setCookie};
  }

  @Test
  void aTokenBecomesAnHttpOnlyStrictCookieThatReads() throws Exception {
    Object[] s = signIn(READ);
    String setCookie = (String) s[2];
    assertTrue(setCookie.startsWith(WebSessions.COOKIE + "="), setCookie);
    assertTrue(setCookie.toLowerCase(java.util.Locale.ROOT).contains("; httponly"), setCookie);
    assertTrue(setCookie.contains("SameSite=Strict"), setCookie);
    assertTrue(setCookie.contains("Path=/api/v1"), setCookie);
    assertTrue(setCookie.contains("Max-Age=43200"), setCookie);
    assertFalse(setCookie.contains(READ), "the token itself is not the cookie");
    JsonNode body = (JsonNode) s[1];
    assertEquals("read", body.path("scope").asText());
    assertEquals(48, body.path("csrf").asText().length());
    assertFalse(body.toString().contains(READ), "the token is not echoed");

    HttpResponse<String> runs = send(req("/api/v1/runs").header("Cookie", (String) s[0]));
    assertEquals(200, runs.statusCode(), runs.body());
    assertTrue(JSON.readTree(runs.body()).has("runs"), runs.body());
    HttpResponse<String> who = send(req("/api/v1/session").header("Cookie", (String) s[0]));
    assertEquals(200, who.statusCode());
    assertEquals(body.path("csrf").asText(), JSON.readTree(who.body()).path("csrf").asText());
    assertEquals("no-store", who.headers().firstValue("Cache-Control").orElse(""));
  }

  @Test
  void wrongOrMalformedTokensAreRefusedWithTheReason() throws Exception {
    HttpResponse<String> wrong = send(req("/api/v1/session")
        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"not-a-token\"}")));
    assertEquals(401, wrong.statusCode());
    assertTrue(wrong.body().contains("not valid"), wrong.body());
    assertTrue(wrong.headers().firstValue("Set-Cookie").isEmpty());
    for (String bad : List.of("", "{", "{\"token\": 5}", "{\"token\": \"  \"}", "[]")) {
      HttpResponse<String> r = send(req("/api/v1/session").POST(HttpRequest.BodyPublishers.ofString(bad)));
      assertEquals(400, r.statusCode(), bad + " -> " + r.body());
      assertEquals("token", JSON.readTree(r.body()).path("parameter").asText(), bad + " -> " + r.body());
    }
    HttpResponse<String> huge = send(req("/api/v1/session")
        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + "x".repeat(5000) + "\"}")));
    assertTrue(huge.statusCode() == 400 || huge.statusCode() == 413, huge.statusCode() + " " + huge.body());

    HttpResponse<String> forged = send(req("/api/v1/runs").header("Cookie", WebSessions.COOKIE + "=" + "0".repeat(64)));
    assertEquals(401, forged.statusCode(), "an unknown session reads nothing");
    assertTrue(forged.body().contains("sign in again"), forged.body());
  }

  @Test
  void aCookieWriteNeedsTheCsrfHeaderThisOriginAndTheWriteScope() throws Exception {
    Object[] w = signIn(WRITE);
    String cookie = (String) w[0];
    String csrf = ((JsonNode) w[1]).path("csrf").asText();
    String stop = "/api/v1/runs/web-session-it/stop";

    HttpResponse<String> noCsrf = send(req(stop).header("Cookie", cookie).POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(403, noCsrf.statusCode(), noCsrf.body());
    assertTrue(noCsrf.body().contains(WebSessions.CSRF_HEADER), noCsrf.body());
    HttpResponse<String> wrongCsrf = send(req(stop).header("Cookie", cookie).header(WebSessions.CSRF_HEADER, "0".repeat(48))
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(403, wrongCsrf.statusCode(), wrongCsrf.body());
    HttpResponse<String> foreign = send(req(stop).header("Cookie", cookie).header(WebSessions.CSRF_HEADER, csrf)
        .header("Origin", "http://evil.example").POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(403, foreign.statusCode(), foreign.body());
    assertTrue(foreign.body().contains("origin"), foreign.body());

    String self = api.url().replaceFirst("/api/v1$", "");
    HttpResponse<String> ok = send(req(stop).header("Cookie", cookie).header(WebSessions.CSRF_HEADER, csrf)
        .header("Origin", URI.create(api.url()).getScheme() + "://" + URI.create(api.url()).getAuthority())
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(202, ok.statusCode(), self + " -> " + ok.body());

    Object[] r = signIn(READ);
    HttpResponse<String> readOnly = send(req(stop).header("Cookie", (String) r[0])
        .header(WebSessions.CSRF_HEADER, ((JsonNode) r[1]).path("csrf").asText()).POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(403, readOnly.statusCode(), readOnly.body());
    assertTrue(readOnly.body().contains("write scope"), readOnly.body());
  }

  @Test
  void signingOutEndsTheSession() throws Exception {
    Object[] w = signIn(WRITE);
    String cookie = (String) w[0];
    HttpResponse<String> noCsrf = send(req("/api/v1/session").header("Cookie", cookie).DELETE());
    assertEquals(403, noCsrf.statusCode(), "signing out is a write too: " + noCsrf.body());
    HttpResponse<String> out = send(req("/api/v1/session").header("Cookie", cookie)
        .header(WebSessions.CSRF_HEADER, ((JsonNode) w[1]).path("csrf").asText()).DELETE());
    assertEquals(204, out.statusCode(), out.body());
    assertTrue(out.headers().firstValue("Set-Cookie").orElse("").contains("Max-Age=0"), out.headers().map().toString());
    assertEquals(401, send(req("/api/v1/runs").header("Cookie", cookie)).statusCode());
    assertEquals(401, send(req("/api/v1/session").header("Cookie", cookie)).statusCode());
  }

  /** Statements this test's API sent to ClickHouse about {@code run} (the test suite logs every statement). */
  static long statementsAbout(String run) {
    clickHouse.execute(null, "SYSTEM FLUSH LOGS");
    return Long.parseLong(clickHouse.execute(null, "SELECT count() FROM system.query_log WHERE type = 2 AND"
        + " position(query_id, '" + db + dev.loadtest.schemas.clickhouse.ClickHouseHttp.QUERY_ID_SEPARATOR + "') = 1"
        + " AND position(query, '" + run + "') > 0 FORMAT TabSeparated").strip());
  }

  @Test
  void viewersOfARunShareItsReadsWhileBearerCallsReadAfresh() throws Exception {
    String run = "shared-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(Map.of(
        "bootstrap.servers", EmbeddedKafka.shared().bootstrapServers()),
        new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.StringSerializer())) {
      producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(dev.loadtest.schemas.topics.Topics.RUNS, run,
          dev.loadtest.schemas.run.RunState.first(run, dev.loadtest.schemas.run.RunStatus.RUNNING,
              System.currentTimeMillis() - 10_000, "running", List.of(), "h", "", null).toJson())).get();
    }
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (send(req("/api/v1/runs/" + run).header("Authorization", "Bearer " + READ)).statusCode() != 200) {
      assertTrue(System.nanoTime() < deadline, "the API learns the run from the runs topic");
      Thread.sleep(50);
    }
    String summary = "/api/v1/runs/" + run + "/summary";
    long t0 = statementsAbout(run);
    assertEquals(200, send(req(summary).header("Authorization", "Bearer " + READ)).statusCode());
    long one = statementsAbout(run) - t0;
    assertTrue(one > 0, "a summary reads ClickHouse");

    // twelve viewers open the page at once: one computation, one answer for all
    List<String> cookies = new java.util.ArrayList<>();
    for (int i = 0; i < 12; i++) {
      cookies.add((String) signIn(READ)[0]);
    }
    long t1 = statementsAbout(run);
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> answers = cookies.stream().map(c ->
        HTTP.sendAsync(req(summary).header("Cookie", c).build(), HttpResponse.BodyHandlers.ofString())).toList();
    java.util.Set<String> bodies = new java.util.HashSet<>();
    for (var a : answers) {
      HttpResponse<String> r = a.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      bodies.add(r.body());
    }
    long shared = statementsAbout(run) - t1;
    assertTrue(shared <= 2 * one, "12 viewers cost " + shared + " statements, one summary " + one);
    assertEquals(1, bodies.size(), "the same answer for all");

    // bearer callers (the CLI, CI gates) always read afresh: each call reads ClickHouse itself (how many statements
    // a read takes may vary with what the API has cached of the run, so each is counted, not compared to the first)
    for (int i = 0; i < 3; i++) {
      long before = statementsAbout(run);
      assertEquals(200, send(req(summary).header("Authorization", "Bearer " + READ)).statusCode());
      assertTrue(statementsAbout(run) > before, "bearer call " + (i + 1) + " read ClickHouse itself");
    }
  }

  @Test
  void pagesAreServedWithAStrictPolicyAndOnlyRead() throws Exception {
    HttpResponse<String> index = send(req("/"));
    assertEquals(200, index.statusCode());
    assertTrue(index.body().contains("src=\"/app.js\" type=\"module\""), index.body());
    String csp = index.headers().firstValue("Content-Security-Policy").orElse("");
    assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
    assertEquals("DENY", index.headers().firstValue("X-Frame-Options").orElse(""));
    assertEquals("nosniff", index.headers().firstValue("X-Content-Type-Options").orElse(""));

    HttpResponse<String> js = send(req("/app.js"));
    assertEquals(200, js.statusCode());
    assertTrue(js.headers().firstValue("Content-Type").orElse("").contains("javascript"), js.headers().map().toString());
    HttpResponse<String> uplot = send(req("/vendor/uplot/uPlot.iife.min.js"));
    assertEquals(200, uplot.statusCode(), "uPlot from its WebJar");
    assertTrue(uplot.body().contains("uPlot"));

    assertEquals(405, send(req("/").POST(HttpRequest.BodyPublishers.noBody())).statusCode());
    assertEquals(404, send(req("/no-such-page.js")).statusCode());
    assertEquals(404, send(req("/../../etc/passwd")).statusCode());
    HttpResponse<String> apiMiss = send(req("/api/v1/no-such-endpoint"));
    assertEquals(404, apiMiss.statusCode());
    assertFalse(apiMiss.body().contains("<html"), "the API never answers with the app's page");
  }
}
