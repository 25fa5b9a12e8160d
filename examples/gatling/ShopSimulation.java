import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;

/**
 * The checkout journey of examples/checkout.json as a Gatling 3.10 simulation (Java DSL), against the demo shop: a
 * page of products, then, in group "buy", a cart, an item and the checkout (a user whose products or cart failed
 * leaves, as a Gatling user would write it: its later requests would have no ids). Runs as it is under Gatling
 * (-DBASE_URL=http://127.0.0.1:8080) and under loadtest (examples/gatling/checkout.json).
 */
public class ShopSimulation extends Simulation {
  HttpProtocolBuilder httpProtocol = http.baseUrl(System.getProperty("BASE_URL", "http://127.0.0.1:8080"))
      .acceptHeader("application/json");

  ScenarioBuilder shoppers = scenario("Shoppers")
      .exec(http("products").get("/api/products?page=1").check(jsonPath("$.items[3].id").saveAs("productId")))
      .exitHereIfFailed()
      .pause(Duration.ofMillis(100), Duration.ofMillis(300))
      .group("buy").on(
          exec(http("create cart").post("/api/carts").check(status().is(201), jsonPath("$.id").saveAs("cartId")))
              .exitHereIfFailed()
              .exec(http("add to cart").post("/api/carts/#{cartId}/items")
                  .body(StringBody("{\"productId\": \"#{productId}\", \"quantity\": 1}")).asJson())
              .exec(http("checkout").post("/api/carts/#{cartId}/checkout").check(status().is(201))));

  {
    setUp(shoppers.injectOpen(atOnceUsers(Integer.getInteger("atOnce", 4)),
        rampUsers(Integer.getInteger("ramped", 36)).during(Duration.ofSeconds(Integer.getInteger("rampSeconds", 20)))))
        .protocols(httpProtocol);
  }
}
