package shop;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;

/** A Gatling 3.10 simulation as a Gatling user writes one: products, then a cart and a checkout in group "buy". */
public class ShopSimulation extends Simulation {
  HttpProtocolBuilder httpProtocol = http.baseUrl(System.getProperty("BASE_URL", "http://127.0.0.1:8080"));

  ScenarioBuilder shoppers = scenario("Shoppers")
      .exec(http("products").get("/products"))
      .pause(Duration.ofMillis(20))
      .group("buy").on(
          exec(http("cart").post("/cart").body(StringBody("{\"sku\":\"p-1\"}")).asJson())
              .exec(http("checkout").post("/checkout")));

  {
    setUp(shoppers.injectOpen(atOnceUsers(4), rampUsers(6).during(Duration.ofSeconds(2)))).protocols(httpProtocol);
  }
}
