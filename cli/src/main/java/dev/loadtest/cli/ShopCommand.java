package dev.loadtest.cli;

import dev.loadtest.cli.shop.DemoShop;
import dev.loadtest.schemas.time.Durations;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code loadtest shop}: the demo system under test on its own, for the examples. */
@Command(name = "shop", mixinStandardHelpOptions = true,
    description = {"Run the demo shop (the system under test of the demo and the examples) until Ctrl-C.",
        "API: GET /api/products?page=N, GET /api/products/{id}, POST /api/carts, GET /api/carts/{id},",
        "POST /api/carts/{id}/items {productId, quantity}, POST /api/carts/{id}/coupon {code: SAVE10|SAVE20|WELCOME5},",
        "POST /api/carts/{id}/checkout. GET /stats counts requests; PUT /admin/faults {latencyMs, errorRate, workers}",
        "changes its behaviour while it runs."})
final class ShopCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--port", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE};"
      + " 0.0.0.0 in a container).")
  String host;

  @Option(names = "--latency", defaultValue = "20ms", description = "Median latency (default: ${DEFAULT-VALUE}).")
  String latency;

  @Option(names = "--error-rate", defaultValue = "0.002", description = "Fraction of injected 503s (default: ${DEFAULT-VALUE}).")
  double errorRate;

  @Option(names = "--workers", defaultValue = "256", description = "Requests served at once; more queue (default: ${DEFAULT-VALUE}).")
  int workers;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    DemoShop.Faults faults;
    try {
      faults = new DemoShop.Faults(Durations.parse(latency), errorRate, workers);
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("loadtest shop: " + e.getMessage());
      return 2;
    }
    DemoShop shop = DemoShop.start(host, port, faults);
    out.printf("Demo shop on %s (latency %s, error rate %s, %d workers); Ctrl-C to stop.%n", shop.url(), latency,
        errorRate, workers);
    out.flush();
    LoadtestCli.awaitShutdown(shop::close);
    return 0;
  }
}
