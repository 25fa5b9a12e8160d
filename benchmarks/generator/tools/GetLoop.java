import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/** The throughput benchmark's shape for the gatling plug-in: USERS users requesting URL in a loop for SECONDS. */
public class GetLoop extends Simulation {
  {
    setUp(scenario("loop").during(Duration.ofSeconds(Integer.getInteger("SECONDS", 20))).on(
            http("get").get(System.getProperty("URL", "http://127.0.0.1:18080/")))
        .injectOpen(atOnceUsers(Integer.getInteger("USERS", 50))))
        .protocols(http.shareConnections());
  }
}
