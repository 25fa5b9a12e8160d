package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.cli.shop.DemoShop;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Other tools' scripts through the whole pipeline (`loadtest run` -> API -> coordinator -> two generators -> Kafka
 * -> Flink -> ClickHouse): the JMeter example test plan, run by JMeter's engine on both generators against the demo
 * shop, is stored request for request as the shop counted it, per name, and judged on the merged data.
 */
@Timeout(600)
class ToolPluginsIT {
  static EmbeddedStack stack;
  static DemoShop shop;
  static ApiClient api;

  @BeforeAll
  static void start() throws Exception {
    shop = DemoShop.start("127.0.0.1", 0, new DemoShop.Faults(Duration.ofMillis(5), 0.05, 256));
    stack = EmbeddedStack.start("tools_it", new PrintStream(System.out, true));
    stack.addGenerators(2, Path.of("."));
    api = new ApiClient(stack.apiUrl(), stack.apiToken());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
    if (shop != null) {
      shop.close();
    }
  }

  /** Requests stored per {@code name}: each name's whole-run count, one point per name. */
  static Map<String, Long> storedByName(String id) throws Exception {
    JsonNode byName = api.get("/runs/" + id + "/timeseries", Map.of("metric", "http_reqs", "stat", "count",
        "groupBy", "name", "maxPoints", "1"));
    Map<String, Long> out = new HashMap<>();
    for (JsonNode s : byName.path("series")) {
      long n = 0;
      for (JsonNode p : s.path("points")) {
        n += p.path(1).asLong();
      }
      out.put(s.path("tags").path("name").asText(), n);
    }
    return out;
  }

  @Test
  void theJMeterExampleOverTwoGeneratorsIsStoredAsTheShopServedItPerNameAndItsJtlImportsTheSame(@TempDir Path dir)
      throws Exception {
    Map<String, Long> before = shop.requestsByRoute();
    String id = "jmeter-it-1";
    Path jtl = dir.resolve("results.jtl");
    CliRun run = CliRun.of("run", Path.of("../examples/jmeter/checkout.json").toAbsolutePath().toString(), "--api",
        stack.apiUrl(), "--token", stack.apiToken(), "--run-id", id, "-e", "BASE_URL=" + shop.url(), "-e",
        "threads=5", "-e", "loops=8", "-e", "thinkMs=20", "-e", "rampUp=0", "-e", "jtl=" + jtl);
    // 5% injected errors: http_req_failed's threshold (rate<0.05) may go either way; checks' (rate>0.95) too
    assertTrue(run.code() == 0 || run.code() == 99, "a verdict, not an error:\n" + run.out() + run.err());
    assertTrue(run.out().contains("http_req_duration{name:checkout}") && run.out().contains("p(95)<1000"), run.out());

    JsonNode state = api.get("/runs/" + id, Map.of());
    assertEquals("FINISHED", state.path("status").asText(), state.toString());
    String allocated = "";
    for (JsonNode t : state.path("history")) {
      if (t.path("status").asText().equals("ALLOCATED")) {
        allocated = t.path("reason").asText();
      }
    }
    assertTrue(allocated.startsWith("2 generator(s): "), "the tool's threads split over both generators: " + allocated);

    Map<String, Long> served = new HashMap<>(shop.requestsByRoute());
    before.forEach((k, v) -> served.merge(k, -v, Long::sum));
    Map<String, Long> stored = storedByName(id);
    assertEquals(40L, served.get("GET /api/products"), "5 threads x 8 loops");
    assertEquals(served.get("GET /api/products"), stored.get("products"));
    assertEquals(served.get("POST /api/carts"), stored.get("create cart"));
    assertEquals(served.get("POST /api/carts/:id/items"), stored.get("add to cart"));
    assertEquals(served.get("POST /api/carts/:id/checkout"), stored.get("checkout"));
    long total = served.values().stream().mapToLong(Long::longValue).sum();
    JsonNode summary = api.get("/runs/" + id + "/summary", Map.of());
    assertEquals(total, RunFollower.samples(summary, "http_reqs"), "every request the shop served, stored once");
    assertEquals(total, state.path("totals").path("requests").asLong(), "the generators' own count agrees");

    // JMeter's own results file of the same run (both engines wrote it), imported, stores the same
    CliRun imported = CliRun.of("import", jtl.toString(), "--format", "jmeter-jtl", "--bootstrap",
        stack.kafkaBootstrap(), "--api", stack.apiUrl(), "--token", stack.apiToken(), "--run-id", "jtl-import-1",
        "--project", "imports");
    assertEquals(0, imported.code(), imported.out() + imported.err());
    assertTrue(imported.out().contains("Every imported request is stored."), imported.out());
    assertEquals(stored, storedByName("jtl-import-1"), "an import of the run's JTL stores what the live run stored");
    JsonNode importedState = api.get("/runs/jtl-import-1", Map.of());
    assertEquals("FINISHED", importedState.path("status").asText());
    assertEquals(total, importedState.path("totals").path("requests").asLong());
  }

  @Test
  void aK6JsonResultOfYesterdayIsImportedAtItsOwnTimesAndABrokenOneIsRefusedWithItsLine(@TempDir Path dir)
      throws Exception {
    Path k6 = Path.of("../plugins/importers/src/test/resources/k6.json").toAbsolutePath();
    CliRun run = CliRun.of("import", k6.toString(), "--format", "k6-json", "--bootstrap", stack.kafkaBootstrap(),
        "--api", stack.apiUrl(), "--token", stack.apiToken(), "--run-id", "k6-import-1", "--name", "k6 shop");
    assertEquals(0, run.code(), run.out() + run.err());
    JsonNode summary = api.get("/runs/k6-import-1/summary", Map.of());
    assertEquals(3, RunFollower.samples(summary, "http_reqs"));
    assertEquals(Map.of("/api/products", 2L, "checkout", 1L), storedByName("k6-import-1"));
    JsonNode state = api.get("/runs/k6-import-1", Map.of());
    assertEquals(1_709_283_600_000L, state.path("history").path(0).path("atMs").asLong(),
        "the run starts at the file's first sample (2024-03-01T10:00:00+01:00), not at the import");
    assertTrue(run.out().contains("http_reqs") && run.out().contains("checks"), run.out());

    Path broken = dir.resolve("broken.json");
    java.nio.file.Files.writeString(broken, java.nio.file.Files.readString(k6).replaceFirst("\"value\": 1,", "\"value\": \"x\","));
    CliRun refused = CliRun.of("import", broken.toString(), "--format", "k6-json", "--bootstrap",
        stack.kafkaBootstrap(), "--run-id", "k6-import-2");
    assertEquals(104, refused.code(), refused.out() + refused.err());
    assertTrue(refused.err().contains(broken + ": line 13: a point without a numeric value"), refused.err());
    assertTrue(!refused.out().contains("Imported"), "nothing sent: " + refused.out());
    ApiClient.ApiError none = org.junit.jupiter.api.Assertions.assertThrows(ApiClient.ApiError.class,
        () -> api.get("/runs/k6-import-2", Map.of()));
    assertEquals(404, none.status());

    // what the coordinator would refuse (a plan over its limits) is refused here, before a sample is sent
    CliRun tooLarge = CliRun.of("import", k6.toString(), "--format", "k6-json", "--bootstrap", stack.kafkaBootstrap(),
        "--run-id", "k6-import-3", "--tag", "note=" + "x".repeat(300_000));
    assertEquals(104, tooLarge.code(), tooLarge.out() + tooLarge.err());
    assertTrue(tooLarge.err().contains("the import of " + k6 + " is not a valid plan") && tooLarge.err().contains(
        "$.plan"), tooLarge.err());
    assertTrue(!tooLarge.out().contains("Imported"), "nothing sent: " + tooLarge.out());
  }

  @Test
  void theLocustExampleOverTwoGeneratorsIsStoredAsTheShopServedItPerName() throws Exception {
    Map<String, Long> before = shop.requestsByRoute();
    String id = "locust-it-1";
    CliRun run = CliRun.of("run", Path.of("../examples/locust/checkout.json").toAbsolutePath().toString(), "--api",
        stack.apiUrl(), "--token", stack.apiToken(), "--run-id", id, "-e", "BASE_URL=" + shop.url());
    assertTrue(run.code() == 0 || run.code() == 99, "a verdict, not an error:\n" + run.out() + run.err());
    JsonNode state = api.get("/runs/" + id, Map.of());
    assertEquals("FINISHED", state.path("status").asText(), state.toString());
    assertTrue(state.path("warnings").isMissingNode() || state.path("warnings").isEmpty(), "Locust ran cleanly: "
        + state.path("warnings"));

    Map<String, Long> served = new HashMap<>(shop.requestsByRoute());
    before.forEach((k, v) -> served.merge(k, -v, Long::sum));
    Map<String, Long> stored = storedByName(id);
    assertTrue(served.get("GET /api/products") > 100, "10 users for 30 s: " + served);
    assertEquals(served.get("GET /api/products"), stored.get("products"));
    assertEquals(served.get("POST /api/carts"), stored.get("create cart"));
    assertEquals(served.get("POST /api/carts/:id/items"), stored.get("add to cart"));
    assertEquals(served.get("POST /api/carts/:id/checkout"), stored.get("checkout"));
    long total = served.values().stream().mapToLong(Long::longValue).sum();
    assertEquals(total, RunFollower.samples(api.get("/runs/" + id + "/summary", Map.of()), "http_reqs"));
    JsonNode vus = api.get("/runs/" + id + "/timeseries", Map.of("metric", "vus", "stat", "max"));
    double peak = 0;
    for (JsonNode p : vus.path("series").path(0).path("points")) {
      peak = Math.max(peak, p.path(1).asDouble());
    }
    assertEquals(10.0, peak, "the two Locust processes' users add up to the plan's");
  }

  @Test
  void theGatlingExampleOverTwoGeneratorsIsStoredAsTheShopServedItPerName() throws Exception {
    Map<String, Long> before = shop.requestsByRoute();
    String id = "gatling-it-1";
    CliRun run = CliRun.of("run", Path.of("../examples/gatling/checkout.json").toAbsolutePath().toString(), "--api",
        stack.apiUrl(), "--token", stack.apiToken(), "--run-id", id, "-e", "BASE_URL=" + shop.url(), "-e", "atOnce=2",
        "-e", "ramped=8", "-e", "rampSeconds=3");
    assertTrue(run.code() == 0 || run.code() == 99, "a verdict, not an error:\n" + run.out() + run.err());
    JsonNode state = api.get("/runs/" + id, Map.of());
    assertEquals("FINISHED", state.path("status").asText(), state.toString());
    assertTrue(state.path("warnings").isMissingNode() || state.path("warnings").isEmpty(), "Gatling ran cleanly: "
        + state.path("warnings"));
    Map<String, Long> served = new HashMap<>(shop.requestsByRoute());
    before.forEach((k, v) -> served.merge(k, -v, Long::sum));
    Map<String, Long> stored = storedByName(id);
    assertEquals(10L, served.get("GET /api/products"), "2 at once and 8 ramped users, split over two generators");
    assertEquals(served.get("GET /api/products"), stored.get("products"));
    assertEquals(served.get("POST /api/carts"), stored.get("create cart"));
    assertEquals(served.getOrDefault("POST /api/carts/:id/items", 0L), stored.getOrDefault("add to cart", 0L));
    assertEquals(served.getOrDefault("POST /api/carts/:id/checkout", 0L), stored.getOrDefault("checkout", 0L));
    long total = served.values().stream().mapToLong(Long::longValue).sum();
    assertEquals(total, RunFollower.samples(api.get("/runs/" + id + "/summary", Map.of()), "http_reqs"));
  }
}
