package dev.loadtest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.cli.shop.DemoShop;
import dev.loadtest.schemas.time.Durations;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code loadtest demo}: everything embedded, the checkout journey against the demo shop, the summary. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    header = "Everything on this machine, a realistic test against a demo shop, the summary and the web app.",
    description = {"Start everything on this machine (Kafka broker, ClickHouse, Flink MiniCluster with the jobs,",
        "coordinator, two generators in load zones local:eu and local:us, query API, and the demo shop as the",
        "system under test), run the checkout journey (examples/checkout.json) against the shop with live",
        "progress, print the summary and compare its request count with the shop's own count.",
        "Then keeps the API up for exploring until Ctrl-C, or exits with the run's exit code (--exit)."})
final class DemoCommand implements Callable<Integer> {
  /**
   * The most VUs the demo plan (examples/checkout.json: 30 shoppers, at most 100 visitors) runs at once: at
   * most that many requests are in flight at an abort.
   */
  static final int MAX_VUS = 130;

  static final String PLAN = "/examples/checkout.json";

  @Spec
  CommandSpec spec;

  @Option(names = "--duration", defaultValue = "1m", paramLabel = "DURATION", description = "How long the load runs"
      + " (the plan's stages are scaled to it; default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--exit", description = "Exit with the run's exit code once it is done, instead of staying up.")
  boolean exit;

  @Option(names = "--latency", defaultValue = "20ms", paramLabel = "DURATION", description = "The shop's median latency"
      + " (default: ${DEFAULT-VALUE}).")
  String latency;

  @Option(names = "--error-rate", defaultValue = "0.002", paramLabel = "R", description = "Fraction of the shop's"
      + " answers that are injected 503s (default: ${DEFAULT-VALUE}).")
  double errorRate;

  @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write a report (*.json, *.xml, *.html; repeatable).")
  List<Path> out = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Duration total = Durations.parse(duration);
    if (total.compareTo(Duration.ofSeconds(5)) < 0 || total.compareTo(Duration.ofHours(24)) > 0) {
      err.println("loadtest demo: --duration must be within 5s..24h, got " + duration);
      return 2;
    }
    DemoShop.Faults faults = new DemoShop.Faults(Durations.parse(latency), errorRate, DemoShop.Faults.defaults().workers());
    for (Path p : out) {
      dev.loadtest.cli.report.Reports.checkName(p);
    }
    String text;
    try (InputStream in = DemoCommand.class.getResourceAsStream(PLAN)) {
      if (in == null) {
        throw new IllegalStateException(PLAN + " is missing from the jar");
      }
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    long t0 = System.nanoTime();
    o.println("loadtest demo: starting the embedded stack, two generators and the demo shop");
    o.flush();
    try (DemoShop shop = DemoShop.start("127.0.0.1", 0, faults);
         EmbeddedStack stack = EmbeddedStack.start("loadtest", new PrintStream(System.out, true))) {
      ObjectNode json = (ObjectNode) RunCommand.JSON.readTree(text);
      scaleTo(json, total);
      RunCommand.Loaded loaded = RunCommand.load(json.toString(), "examples/checkout.json (scaled to " + duration + ")",
          Map.of("BASE_URL", shop.url()), Path.of("."), err);
      if (loaded == null) {
        return 1; // our own plan: a bug
      }
      stack.addGenerators(2, Path.of("."));
      o.printf("Ready in %.1f s. Demo shop %s (latency %s, error rate %s); query API %s (Authorization: Bearer %s)%n"
              + "Web app: %s (sign in with that token)%n",
          (System.nanoTime() - t0) / 1e9, shop.url(), latency, errorRate, stack.apiUrl(), stack.apiToken(),
          stack.appUrl());
      o.flush();
      ApiClient client = new ApiClient(stack.apiUrl(), stack.apiToken());
      RunCommand.Result r = RunCommand.follow(client, loaded, new RunCommand.Options(null, "demo: checkout journey", out,
          Duration.ofSeconds(120), dev.loadtest.schemas.histogram.PercentileMethod.NEAREST_RANK), o, err);
      int code = r.exitCode();
      if (r.outcome() != null && r.outcome().summary() != null) {
        long stored = RunFollower.samples(r.outcome().summary(), "http_reqs");
        long counted = shop.requests();
        // An abort cancels the requests in flight: the shop saw them, the generators record none (as k6).
        long inFlight = counted - stored;
        boolean cutOff = "ABORTED".equals(r.outcome().status()) && inFlight > 0 && inFlight <= MAX_VUS;
        o.printf("The shop counted %d requests; the stored summary counts %d http_reqs: %s%n", counted, stored,
            counted == stored ? "equal" : cutOff ? inFlight + " fewer, the requests in flight when the run was"
                + " aborted (the shop saw them; cancelled, they have no response to record)" : "DIFFERENT");
        if (counted != stored && code == 0) {
          err.println("loadtest demo: the summary does not hold every request the shop served");
          code = 1;
        }
      }
      o.flush();
      if (exit) {
        return code;
      }
      o.printf("%nThe stack stays up for exploring; Ctrl-C stops it. Open %s in a browser (token %s), or try:%n"
              + "  curl -H 'Authorization: Bearer %s' %s/runs%n", stack.appUrl(), stack.apiToken(), stack.apiToken(),
          stack.apiUrl());
      o.flush();
      LoadtestCli.awaitShutdown(() -> { });
      return code;
    }
  }

  /**
   * Scales every scenario's timeline (startTime, duration, stages) by one factor so that the plan's load
   * lasts {@code total}; graceful stops and ramp-downs are kept.
   */
  static void scaleTo(ObjectNode plan, Duration total) {
    long longest = 0;
    for (JsonNode s : plan.path("scenarios")) {
      longest = Math.max(longest, length(s));
    }
    if (longest == 0) {
      return;
    }
    double factor = (double) total.toMillis() / longest;
    plan.path("scenarios").forEach(s -> {
      ObjectNode sc = (ObjectNode) s;
      for (String f : List.of("startTime", "duration", "maxDuration")) {
        if (sc.has(f)) {
          sc.put(f, scaled(sc.get(f), factor));
        }
      }
      if (sc.path("stages").isArray()) {
        for (JsonNode st : (ArrayNode) sc.get("stages")) {
          ((ObjectNode) st).put("duration", scaled(st.get("duration"), factor));
        }
      }
    });
  }

  private static long length(JsonNode s) {
    long start = s.has("startTime") ? millis(s.get("startTime")) : 0;
    long d = s.has("duration") ? millis(s.get("duration")) : 0;
    for (JsonNode st : s.path("stages")) {
      d += millis(st.get("duration"));
    }
    return start + d;
  }

  private static long millis(JsonNode d) {
    return d.isNumber() ? d.asLong() : Durations.parse(d.asText()).toMillis();
  }

  private static String scaled(JsonNode d, double factor) {
    return Math.max(100, Math.round(millis(d) * factor / 100.0) * 100) + "ms";
  }
}
