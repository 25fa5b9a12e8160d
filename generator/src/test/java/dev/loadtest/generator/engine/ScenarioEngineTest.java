package dev.loadtest.generator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.testing.CollectingSink;
import dev.loadtest.generator.testing.LocalServerTest;
import dev.loadtest.generator.testing.RecordingServer;
import dev.loadtest.generator.testing.Runs;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The scenario engine against a real HTTP server on 127.0.0.1. */
@Timeout(60)
class ScenarioEngineTest extends LocalServerTest {

  static String plan(int vus, int iterations, String steps, String extra) {
    return """
        {"name": "engine", "env": {"BASE": "%s", "TOKEN": "s3cret-token"}, "tags": {"team": "shop"},
         "scenarios": {"s": {"executor": "per-vu-iterations", "vus": %d, "iterations": %d, "exec": "f"}},
         "flows": {"f": {"steps": %s}} %s}
        """.formatted(server.baseUrl(), vus, iterations, steps, extra);
  }

  @Test
  void journeyExtractsIntoVariablesAndKeepsEachVusCookies() throws Exception {
    CollectingSink sink = new CollectingSink();
    String steps = """
        [{"request": {"url": "${ENV.BASE}/products", "name": "products",
            "extract": [{"var": "productId", "jsonPath": "$[1].id"}]}},
         {"request": {"method": "GET", "url": "${ENV.BASE}/products/${productId}", "name": "product",
            "checks": [{"jsonPath": "$.id", "equals": 18}]}},
         {"request": {"method": "POST", "url": "${ENV.BASE}/cart", "name": "cart", "body": "{\\"p\\":${productId}}",
            "headers": {"Authorization": "Bearer ${ENV.TOKEN}"}, "checks": [{"status": [201]}]}},
         {"request": {"method": "POST", "url": "${ENV.BASE}/checkout", "name": "checkout",
            "checks": [{"status": 200}, {"jsonPath": "$.orderId"}, {"header": "Content-Type", "contains": "json"},
                       {"bodyContains": "orderId"}],
            "extract": [{"var": "orderId", "regex": "\\"orderId\\":\\"([^\\"]+)\\""}]}},
         {"request": {"url": "${ENV.BASE}/whoami", "name": "whoami", "checks": [{"bodyContains": "session=s"}]}}]
        """;
    Runs.runWhole(plan(3, 2, steps, ""), Map.of(), http, sink);

    assertEquals(6, server.count("GET", "/products/18"), "every iteration used the extracted id");
    assertEquals(6, server.count("POST", "/checkout"));
    assertEquals(6 * 5, sink.requests.size(), "one sample per request");
    assertTrue(sink.requests.stream().noneMatch(CollectingSink.Req::failed), "no request failed");
    List<CollectingSink.Point> checks = sink.points("checks");
    assertEquals(6 * 7, checks.size(), "seven checks per iteration");
    assertTrue(checks.stream().allMatch(p -> p.value() == 1), "every check passed: " + checks.stream()
        .filter(p -> p.value() == 0).map(p -> p.tag("check")).collect(Collectors.toSet()));
    // Cookies are per VU: a VU's checkout carries the session its own cart set, and 3 VUs had 3 sessions.
    Set<String> sessions = server.seen().stream().filter(s -> s.path().equals("/checkout"))
        .map(s -> s.headers().get("cookie")).collect(Collectors.toSet());
    assertEquals(6, sessions.size(), "each iteration's cart set a fresh session that replaced the old one");
    assertEquals("Bearer s3cret-token", server.seen().stream().filter(s -> s.path().equals("/cart")).findFirst()
        .orElseThrow().headers().get("authorization"));
    assertEquals(6, sink.sum("iterations"));
  }

  @Test
  void iterationsThatFailForAReasonOfThePlanAreCountedWithTheirReasonNeverSilent() throws Exception {
    CollectingSink sink = new CollectingSink();
    String steps = """
        [{"request": {"url": "${ENV.BASE}/products", "name": "products",
            "extract": [{"var": "cart", "header": "X-No-Such-Header"}]}},
         {"request": {"url": "${ENV.BASE}/cart/${cart}", "name": "cart"}}]
        """;
    RunContext ctx = Runs.context(plan(2, 3, steps, ""), Map.of(), http, sink, 42);
    var ex = new dev.loadtest.generator.executor.RunExecution(ctx,
        dev.loadtest.schemas.segment.ExecutionSegmentSequence.whole(), 0);
    ex.run(System.nanoTime());
    assertEquals(6, sink.sum("iterations"), "failed iterations still count as iterations, as in k6");
    assertEquals(6, ex.iterations());
    assertEquals(6, ex.failedIterations(), "every iteration failed on the missing variable");
    assertEquals(List.of("scenario s: ${cart}: the VU has no variable cart (set it with an extraction or in setup)"),
        ctx.failures().reasons(), "one reason, said once, without any VU's data");
    assertEquals(6, server.count("GET", "/products"), "each made its first request");
    assertEquals(0, sink.requests.stream().filter(r -> r.tag("name").equals("cart")).count(), "and none its second");
  }

  @Test
  void samplesCarryK6TagsAndNeverTheEnvValues() throws Exception {
    CollectingSink sink = new CollectingSink();
    String steps = """
        [{"group": {"name": "browse", "steps": [
            {"request": {"url": "${ENV.BASE}/products?token=${ENV.TOKEN}", "name": "products", "tags": {"kind": "list"}}}]}},
         {"request": {"url": "${ENV.BASE}/status/503", "name": "broken"}}]
        """;
    Runs.runWhole(plan(1, 1, steps, ""), Map.of(), http, sink);
    CollectingSink.Req ok = sink.requests.get(0);
    assertEquals(Map.of("name", "products", "method", "GET", "status", "200", "expected_response", "true",
        "group", "::browse", "scenario", "s", "team", "shop", "kind", "list"), ok.tags().toMap());
    CollectingSink.Req bad = sink.requests.get(1);
    assertEquals("503", bad.tag("status"));
    assertEquals("1503", bad.tag("error_code"));
    assertTrue(bad.failed());
    assertEquals(1, sink.points("group_duration").size());
    String everything = sink.requests.toString() + sink.points;
    assertFalse(everything.contains("s3cret"), "a secret from env leaked into samples: " + everything);
  }

  @Test
  void failuresAreLoggedWithoutTheSecretsTheRequestCarried() throws Exception {
    CollectingSink sink = new CollectingSink();
    int closed;
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    String steps = """
        [{"request": {"url": "http://127.0.0.1:%d/login?token=${ENV.TOKEN}", "name": "login",
            "headers": {"Authorization": "Bearer ${ENV.TOKEN}"}}},
         {"request": {"url": "${ENV.BASE}/products/${ENV.TOKEN}/${missing}", "name": "later"}}]
        """.formatted(closed);
    String logs;
    try (var log = new dev.loadtest.generator.testing.CapturedLog()) {
      Runs.runWhole(plan(1, 1, steps, ""), Map.of(), http, sink);
      logs = log.text();
    }
    assertTrue(logs.contains("login") && logs.contains("1212"), "the failure is logged: " + logs);
    assertTrue(logs.contains("${missing}"), "the missing variable is named: " + logs);
    assertFalse(logs.contains("s3cret"), "no secret in the logs: " + logs);
    assertEquals("1212", sink.requests.get(0).tag("error_code"));
  }

  @Test
  void anIterationBrokenByAnErrorOfOursIsCountedAndLoggedAndTheVuGoesOn() throws Exception {
    // A sink that fails on every request stands for a bug of the generator's own (not the system under test).
    CollectingSink points = new CollectingSink();
    dev.loadtest.generator.sink.SampleSink broken = new dev.loadtest.generator.sink.SampleSink() {
      @Override
      public void request(long startUs, dev.loadtest.schemas.sample.TagSet tags,
          dev.loadtest.generator.sink.SampleSink.RequestTimings timings, boolean failed, int vu) {
        throw new IllegalStateException("sink broken");
      }

      @Override
      public void point(String metric, dev.loadtest.schemas.metrics.MetricType type, long timeUs,
          dev.loadtest.schemas.sample.TagSet tags, double value) throws InterruptedException {
        points.point(metric, type, timeUs, tags, value);
      }
    };
    String logs;
    dev.loadtest.generator.executor.RunExecution ex;
    try (var log = new dev.loadtest.generator.testing.CapturedLog()) {
      ex = Runs.runWhole(plan(1, 3, """
          [{"request": {"url": "${ENV.BASE}/products/1", "name": "p"}}]""", ""), Map.of(), http, broken);
      logs = log.text();
    }
    assertEquals(3L, ex.iterationsByScenario().get("s"), "every iteration ran and was counted, none silently lost");
    assertEquals(3, points.points("iterations").size(), "each one is in the iterations metric");
    assertTrue(logs.contains("an iteration failed on an error of the generator, not of the system under test")
        && logs.contains("sink broken"), "the log says what broke: " + logs);
  }

  @Test
  void redirectsAreFollowedWithOneSamplePerHop() throws Exception {
    CollectingSink sink = new CollectingSink();
    Runs.runWhole(plan(1, 1, """
        [{"request": {"url": "${ENV.BASE}/redirect", "name": "r", "checks": [{"status": 200}]}}]""", ""),
        Map.of(), http, sink);
    assertEquals(List.of("302", "200"), sink.requests.stream().map(r -> r.tag("status")).toList());
    assertEquals(1, sink.sum("checks"), "the check saw the final response");
  }

  @Test
  void probabilityAndWeightsFollowTheirOddsOverManyIterations() throws Exception {
    CollectingSink sink = new CollectingSink();
    String plan = """
        {"name": "odds", "env": {"BASE": "%s"},
         "scenarios": {"s": {"executor": "shared-iterations", "vus": 4, "iterations": 2000,
            "exec": {"a": 7, "b": 3}}},
         "flows": {"a": {"steps": [{"request": {"url": "${ENV.BASE}/products/1", "name": "a"}},
                                   {"probability": 0.3, "request": {"method": "POST", "url": "${ENV.BASE}/cart/coupon", "name": "coupon"}}]},
                   "b": {"steps": [{"request": {"url": "${ENV.BASE}/products/2", "name": "b"}}]}}}
        """.formatted(server.baseUrl());
    Runs.runWhole(plan, Map.of(), http, sink);
    long a = server.count("GET", "/products/1");
    long b = server.count("GET", "/products/2");
    long coupons = server.count("POST", "/cart/coupon");
    assertEquals(2000, a + b);
    // Binomial bounds at about 4.5 standard deviations: fails by chance less than once in 100,000 runs.
    assertTrue(Math.abs(a - 1400) < 4.5 * Math.sqrt(2000 * 0.7 * 0.3), "flow a ran " + a + " of 2000 (70%)");
    assertTrue(Math.abs(coupons - 0.3 * a) < 4.5 * Math.sqrt(a * 0.3 * 0.7), "coupon in " + coupons + " of " + a);
  }

  @Test
  void feedersAndSetupDataReachTheVus() throws Exception {
    CollectingSink sink = new CollectingSink();
    String plan = """
        {"name": "data", "env": {"BASE": "%s"},
         "feeders": {"users": {"data": [{"id": "u1"}, {"id": "u2"}, {"id": "u3"}], "pick": "unique"},
                     "items": {"data": [{"sku": "a"}, {"sku": "b"}], "pick": "sequential"}},
         "setup": [{"request": {"url": "${ENV.BASE}/products", "name": "setup",
                    "extract": [{"var": "firstId", "jsonPath": "$[0].id"}]}}],
         "scenarios": {"s": {"executor": "per-vu-iterations", "vus": 3, "iterations": 2, "exec": "f"}},
         "flows": {"f": {"steps": [{"request": {"url": "${ENV.BASE}/products/${firstId}", "name": "p",
             "headers": {"X-User": "${users.id}", "X-Item": "${items.sku}"}}}]}}}
        """.formatted(server.baseUrl());
    Runs.runWhole(plan, Map.of(), http, sink);
    assertEquals(1, server.count("GET", "/products"), "setup ran once");
    List<RecordingServer.Seen> got = server.seen().stream().filter(s -> s.path().equals("/products/17")).toList();
    assertEquals(6, got.size(), "every VU used setup's variable");
    assertEquals(Map.of("u1", 2L, "u2", 2L, "u3", 2L), got.stream()
        .collect(Collectors.groupingBy(s -> s.headers().get("x-user"), Collectors.counting())), "one user per VU");
    assertEquals(Map.of("a", 3L, "b", 3L), got.stream()
        .collect(Collectors.groupingBy(s -> s.headers().get("x-item"), Collectors.counting())), "rows in turn");
  }

  @Test
  void metricStepsAddToTheirDeclaredUserMetrics() throws Exception {
    CollectingSink sink = new CollectingSink();
    String plan = """
        {"name": "custom", "env": {"BASE": "%s"},
         "metrics": {"coupons_applied": "counter", "cart_value": "trend", "in_stock": "rate", "queue_depth": "gauge"},
         "scenarios": {"s": {"executor": "per-vu-iterations", "vus": 2, "iterations": 3, "exec": "f"}},
         "flows": {"f": {"steps": [
           {"request": {"url": "${ENV.BASE}/products/42", "name": "p", "extract": [{"var": "id", "jsonPath": "$.id"}]}},
           {"metric": {"name": "cart_value", "value": "${id}", "tags": {"currency": "EUR"}}},
           {"group": {"name": "buy", "steps": [{"metric": {"name": "coupons_applied"}}]}},
           {"metric": {"name": "in_stock", "value": true}},
           {"metric": {"name": "queue_depth", "value": 7.5}}]}}}
        """.formatted(server.baseUrl());
    Runs.runWhole(plan, Map.of(), http, sink);
    assertEquals(6, sink.sum("coupons_applied"));
    assertEquals(List.of(42.0), sink.points("cart_value").stream().map(CollectingSink.Point::value).distinct().toList());
    assertEquals("EUR", sink.points("cart_value").get(0).tag("currency"));
    assertEquals("::buy", sink.points("coupons_applied").get(0).tag("group"));
    assertEquals(dev.loadtest.schemas.metrics.MetricType.TREND, sink.points("cart_value").get(0).type());
    assertEquals(6, sink.sum("in_stock"));
    assertEquals(7.5, sink.points("queue_depth").get(0).value());
  }

  @Test
  void aMissingVariableEndsTheIterationWithoutARequest() throws Exception {
    CollectingSink sink = new CollectingSink();
    Runs.runWhole(plan(1, 2, """
        [{"request": {"url": "${ENV.BASE}/products/${neverSet}", "name": "p"}}]""", ""), Map.of(), http, sink);
    assertEquals(0, server.seen().size());
    assertEquals(2, sink.sum("iterations"), "the iterations still ended and were counted");
  }
}
