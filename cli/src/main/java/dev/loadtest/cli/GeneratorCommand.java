package dev.loadtest.cli;

import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.generator.agent.Generator;
import dev.loadtest.generator.agent.GeneratorAgent;
import dev.loadtest.generator.agent.GeneratorConfig;
import dev.loadtest.generator.agent.RunReport;
import dev.loadtest.generator.agent.Warmup;
import dev.loadtest.generator.http.HttpOptions;
import dev.loadtest.generator.sink.KafkaPublisher;
import dev.loadtest.generator.sink.LocalStats;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import dev.loadtest.schemas.time.Durations;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code loadtest generator}: a generator agent joining a cluster, or one running a plan on its own. */
@Command(name = "generator", mixinStandardHelpOptions = true,
    description = {"Run a load generator.",
        "With --bootstrap and no --plan: an agent that joins the cluster (heartbeats on loadtest.generators,",
        "assignments from loadtest.assignments) until Ctrl-C.",
        "With --plan: run the whole plan here (segment 0:1, no coordinator), publish every sample to Kafka",
        "(an embedded broker when --bootstrap is not given) and print a closing line.",
        "Exit codes of a plan run: 0 finished, 104 invalid plan, 105 aborted, 1 error."})
final class GeneratorCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--bootstrap", paramLabel = "HOST:PORT", description = "Kafka bootstrap servers.")
  String bootstrap;

  @Option(names = "--zone", defaultValue = "local", description = "Load zone of this generator (default: ${DEFAULT-VALUE}).")
  String zone;

  @Option(names = "--id", description = "Generator id (default: host name and a random suffix).")
  String id;

  @Option(names = "--plan", paramLabel = "PLAN.json", description = "Run this plan here instead of joining a cluster.")
  Path plan;

  @Option(names = "--run-id", description = "Test run id of a --plan run (default: a random one).")
  String runId;

  @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Env values over the plan's (repeatable).")
  Map<String, String> env = new LinkedHashMap<>();

  @Option(names = "--execution-segment", paramLabel = "SEGMENT", description = {"With --plan: run only this part of it,"
      + " as k6's option (\"1/3:2/3\", \"25%\", \"0:0.5\"); the rest is other generators' (default: all of it).",
      "VUs and iterations are dealt as k6 deals them, so k6 instances and generators given the same segments and"
      + " sequence do the same work."})
  String executionSegment;

  @Option(names = "--execution-segment-sequence", paramLabel = "SEQUENCE", description = "With --execution-segment:"
      + " the whole partition it belongs to, as k6's option (\"0,1/3,2/3,1\"; default: the segment and the rest).")
  String executionSegmentSequence;

  @Option(names = "--trust-ca", paramLabel = "CA.pem", description = "Also trust the CA certificates of this PEM file.")
  Path trustCa;

  @Option(names = "--shared-connections", paramLabel = "N", description = {"VUs share at most N connections per host"
      + " (as Gatling's shareConnections) instead of each VU having its own (k6's default).",
      "For very many VUs or scarce file descriptors."})
  int sharedConnections;

  @Option(names = "--no-http2", description = "Speak HTTP/1.1 only (default: HTTP/2 when the server offers it over TLS).")
  boolean noHttp2;

  @Option(names = "--warm-up", defaultValue = "20s", paramLabel = "DURATION", description = {"Before the plan (or"
      + " joining the cluster), warm the request path up against a responder of its own on 127.0.0.1 until its"
      + " rate levels off, at most this long; 0 to skip (default: ${DEFAULT-VALUE}).",
      "A cold JVM sends a fraction of its requests, timed by slow code, for the first seconds.",
      "HTTP plans and agents only."})
  String warmUp;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Duration warmUpMax;
    try {
      warmUpMax = Durations.parseNonNegative(warmUp, true);
      if (!warmUpMax.isZero() && warmUpMax.compareTo(Warmup.SHORTEST) < 0) {
        throw new IllegalArgumentException("must be 0 (none) or at least " + Durations.format(Warmup.SHORTEST)
            + ", got \"" + warmUp + "\"");
      }
    } catch (IllegalArgumentException e) {
      err.println("loadtest generator: --warm-up: " + e.getMessage());
      return 2;
    }
    ExecutionSegmentSequence.Share share;
    try {
      share = ExecutionSegmentSequence.share(executionSegment, executionSegmentSequence);
    } catch (IllegalArgumentException e) {
      err.println("loadtest generator: --execution-segment / --execution-segment-sequence: " + e.getMessage());
      return 2;
    }
    this.share = share;
    String generatorId = id != null ? id : hostName() + "-" + UUID.randomUUID().toString().substring(0, 8);
    HttpOptions http = HttpOptions.defaults();
    if (trustCa != null) {
      http = http.withTrustedCa(trustCa);
    }
    if (noHttp2) {
      http = http.withHttp2(false);
    }
    if (sharedConnections > 0) {
      http = http.withSharedConnections(sharedConnections);
    }
    if (plan == null && bootstrap == null) {
      err.println("loadtest generator: give --bootstrap HOST:PORT to join a cluster, or --plan PLAN.json to run a plan");
      return 2;
    }
    String planJson = null;
    boolean httpPlan = true; // an agent may be given HTTP plans
    if (plan != null) {
      try {
        planJson = dev.loadtest.schemas.plan.PlanText.decode(Files.readAllBytes(plan));
        // Checked with the -e values applied, as the run will see them.
        dev.loadtest.schemas.plan.TestPlan parsed = PlanParser.parse(Generator.withEnv(planJson, env));
        var errors = dev.loadtest.generator.plugin.GeneratorPlugin.checkPlan(parsed, plan.toAbsolutePath().getParent());
        if (!errors.isEmpty()) {
          throw new InvalidPlanException(errors);
        }
        httpPlan = "http".equals(parsed.generator().plugin());
      } catch (IOException e) {
        err.println("loadtest generator: cannot read " + plan + ": " + e.getMessage());
        return 1;
      } catch (InvalidPlanException e) {
        printPlanErrors(err, e);
        return 104;
      }
    }
    EmbeddedKafka embedded = null;
    String servers = bootstrap;
    if (servers == null) {
      out.println("Starting an embedded Kafka broker for the samples...");
      out.flush();
      embedded = EmbeddedKafka.start(Map.of());
      embedded.createTopics(SystemTopics.all((short) 1));
      servers = embedded.bootstrapServers();
    }
    GeneratorConfig config = new GeneratorConfig(generatorId, zone, servers, GeneratorConfig.of(generatorId, zone,
        servers).capacityVus(), GeneratorConfig.DEFAULT_HEARTBEAT, http, Map.of());
    try (KafkaPublisher publisher = new KafkaPublisher(servers, generatorId, Map.of());
         Generator generator = new Generator(config, publisher)) {
      if (!warmUpMax.isZero() && httpPlan) { // only HTTP has a request path to warm up
        out.printf("Warming up (at most %s)...%n", Durations.format(warmUpMax));
        out.flush();
        out.println("Warm-up: " + generator.warmUp(warmUpMax).describe());
        out.flush();
      }
      return plan != null ? runPlan(generator, planJson, out, err) : runAgent(generator, out);
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  private void printPlanErrors(PrintWriter err, InvalidPlanException e) {
    err.println("loadtest generator: " + plan + " is not a valid plan (" + e.errors().size() + " errors):");
    for (PlanError pe : e.errors()) {
      err.println("  " + pe.path() + ": " + pe.message());
    }
    err.flush();
  }

  /** This generator's part of a --plan run. */
  private ExecutionSegmentSequence.Share share;

  private int runPlan(Generator generator, String json, PrintWriter out, PrintWriter err) throws InterruptedException {
    String run = runId != null ? runId : "local-" + UUID.randomUUID().toString().substring(0, 8);
    LocalStats stats = new LocalStats();
    RunReport report;
    long t0 = System.nanoTime();
    Thread progress = Thread.ofVirtual().start(() -> {
      try {
        while (true) {
          Thread.sleep(5_000);
          out.println("  ... " + stats.snapshot());
          out.flush();
        }
      } catch (InterruptedException e) {
        // done
      }
    });
    try {
      out.printf("Run %s of %s on generator %s (%s)%s%n", run, plan, generator.config().generatorId(),
          generator.config().loadZone(), executionSegment == null ? "" : ", segment "
              + share.sequence().segmentAt(share.segment()) + " of " + share.sequence());
      out.flush();
      report = generator.runLocal(run, json, env, plan.toAbsolutePath().getParent(), stats, share);
    } catch (InvalidPlanException e) {
      printPlanErrors(err, e); // the plug-in's own options, checked when the run is prepared
      return 104;
    } finally {
      progress.interrupt();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    out.printf("%s in %.1f s: %d iterations, %d dropped; %s%n", report.phase(), seconds, report.iterations(),
        report.droppedIterations(), stats.snapshot());
    out.printf("samples: %d recorded (%d requests), %d delivered to Kafka (%.0f/s), %d undelivered;"
        + " back-pressure waits %d (%d ms)%n", report.samples().recorded(), report.samples().requests(),
        report.samples().delivered(), report.samples().delivered() / seconds, report.samples().undelivered(),
        report.samples().backpressureWaits(), report.samples().backpressureNanos() / 1_000_000);
    if (!report.message().isEmpty()) {
      out.println("note: " + report.message());
    }
    if (report.failedIterations() > 0) {
      out.printf("WARNING: %d of %d iterations failed for a reason of the plan or the generator, not of the system"
          + " under test:%n", report.failedIterations(), report.iterations());
      report.iterationErrors().forEach(e -> out.println("  " + e));
    }
    out.flush();
    return switch (report.phase()) {
      case FINISHED -> report.samples().undelivered() > 0 ? 1 : 0;
      case ABORTED -> 105;
      default -> 1;
    };
  }

  private int runAgent(Generator generator, PrintWriter out) throws Exception {
    GeneratorAgent agent = new GeneratorAgent(generator, Path.of(".")).start();
    out.printf("Generator %s (zone %s, %d cores, capacity %d VUs, plug-ins %s) joined %s; Ctrl-C to leave.%n",
        generator.config().generatorId(), generator.config().loadZone(), Runtime.getRuntime().availableProcessors(),
        generator.config().capacityVus(), generator.plugins(), generator.config().bootstrapServers());
    out.flush();
    LoadtestCli.awaitShutdown(() -> {
      try {
        agent.close();
      } catch (Exception e) {
        // leaving anyway
      }
    });
    return 0;
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "-");
    } catch (IOException e) {
      return "generator";
    }
  }
}
