package dev.loadtest.cli.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The demo shop over real HTTP: the journey, its counting, injected errors, capacity and bad input. */
@Timeout(60)
class DemoShopTest {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();
  DemoShop shop;

  @AfterEach
  void stop() {
    shop.close();
  }

  record Answer(int status, JsonNode body) {}

  Answer call(String method, String path, String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(shop.url() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), JSON.readTree(r.body()));
  }

  @Test
  void theCheckoutJourneyWorksAndEveryApiRequestIsCounted() throws Exception {
    shop = DemoShop.start("127.0.0.1", 0, new DemoShop.Faults(Duration.ZERO, 0, 16));
    Answer page = call("GET", "/api/products?page=2", null);
    assertEquals(200, page.status());
    assertEquals(20, page.body().path("items").size());
    String product = page.body().path("items").get(3).path("id").asText();
    assertEquals("p-024", product);
    assertEquals(200, call("GET", "/api/products/" + product, null).status());
    Answer cart = call("POST", "/api/carts", null);
    assertEquals(201, cart.status());
    String id = cart.body().path("id").asText();
    Answer added = call("POST", "/api/carts/" + id + "/items", "{\"productId\":\"" + product + "\",\"quantity\":2}");
    assertEquals(200, added.status());
    double full = added.body().path("total").asDouble();
    Answer coupon = call("POST", "/api/carts/" + id + "/coupon", "{\"code\":\"SAVE20\"}");
    assertEquals(200, coupon.status());
    assertEquals(Math.round(full * 80) / 100.0, coupon.body().path("total").asDouble(), 0.001, "20% off");
    Answer order = call("POST", "/api/carts/" + id + "/checkout", null);
    assertEquals(201, order.status());
    assertEquals("CONFIRMED", order.body().path("status").asText());
    assertEquals(404, call("POST", "/api/carts/" + id + "/checkout", null).status(), "a cart is gone once ordered");

    assertEquals(200, call("GET", "/health", null).status());
    Answer stats = call("GET", "/stats", null);
    assertEquals(7, shop.requests(), "the /api requests only; /health and /stats are not counted");
    assertEquals(7, stats.body().path("requests").asLong());
    assertEquals(2, shop.requestsByRoute().get("POST /api/carts/:id/checkout"));
  }

  @Test
  void badInputGetsAClearErrorAndTheShopGoesOn() throws Exception {
    shop = DemoShop.start("127.0.0.1", 0, new DemoShop.Faults(Duration.ZERO, 0, 16));
    String id = call("POST", "/api/carts", null).body().path("id").asText();
    Answer notJson = call("POST", "/api/carts/" + id + "/items", "{not json");
    assertEquals(400, notJson.status());
    Answer unknownProduct = call("POST", "/api/carts/" + id + "/items", "{\"productId\":\"p-999\"}");
    assertEquals(422, unknownProduct.status());
    assertTrue(unknownProduct.body().path("error").asText().contains("p-999"), unknownProduct.body().toString());
    assertEquals(422, call("POST", "/api/carts/" + id + "/coupon", "{\"code\":\"FREE\"}").status());
    assertEquals(409, call("POST", "/api/carts/" + id + "/checkout", null).status(), "an empty cart");
    assertEquals(404, call("GET", "/api/nothing", null).status());
    assertEquals(400, call("GET", "/api/products?page=x", null).status());
    Answer badFaults = call("PUT", "/admin/faults", "{\"errorRate\": 2}");
    assertEquals(400, badFaults.status());
    assertTrue(badFaults.body().path("error").asText().contains("errorRate"), badFaults.body().toString());
    assertEquals(400, call("PUT", "/admin/faults", "{\"latency\": 5}").status(), "unknown field");
    assertEquals(200, call("GET", "/api/products", null).status());
  }

  @Test
  void injectedErrorsAndLatencyCanBeChangedWhileItRuns() throws Exception {
    shop = DemoShop.start("127.0.0.1", 0, new DemoShop.Faults(Duration.ZERO, 0, 16));
    assertEquals(200, call("GET", "/api/products/p-001", null).status());
    Answer changed = call("PUT", "/admin/faults", "{\"errorRate\": 1, \"latencyMs\": 40}");
    assertEquals(200, changed.status());
    Answer failed = call("GET", "/api/products/p-001", null);
    assertEquals(503, failed.status());
    assertTrue(failed.body().path("error").asText().contains("injected"));
    assertEquals(40, shop.faults().latency().toMillis());
    assertEquals(2, shop.requests(), "injected errors are counted requests");
  }

  @Test
  void beyondItsWorkersRequestsQueueSoLatencyGrowsWithLoad() throws Exception {
    // One worker, 100 ms per request (log-normal, sigma 0.5): 8 requests at once are served one after another,
    // about 900 ms in all, below 400 ms with a chance under 1 in 1,000; served side by side they would take
    // the longest one's time, about 200 ms.
    shop = DemoShop.start("127.0.0.1", 0, new DemoShop.Faults(Duration.ofMillis(100), 0, 1));
    long t0 = System.nanoTime();
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      all.add(http.sendAsync(HttpRequest.newBuilder(URI.create(shop.url() + "/api/products")).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      assertEquals(200, f.get().statusCode());
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 400, "8 requests through 1 worker are served one after another, took " + ms + " ms");
  }
}
