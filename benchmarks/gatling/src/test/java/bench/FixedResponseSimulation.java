package bench;

import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;

/**
 * The same closed-model load as the other tools of the benchmark: CONNECTIONS users, each on its own
 * connection, looping GET TARGET with no pause for SECONDS.
 */
public class FixedResponseSimulation extends Simulation {
  private static final String TARGET = System.getProperty("target", "http://127.0.0.1:18080/");
  private static final int USERS = Integer.getInteger("connections", 50);
  private static final int SECONDS = Integer.getInteger("seconds", 20);

  HttpProtocolBuilder protocol = http.shareConnections().maxConnectionsPerHost(USERS);

  ScenarioBuilder loop = scenario("fixed").forever().on(http("get").get(TARGET));

  {
    setUp(loop.injectClosed(constantConcurrentUsers(USERS).during(Duration.ofSeconds(SECONDS))))
        .protocols(protocol).maxDuration(Duration.ofSeconds(SECONDS));
  }
}
