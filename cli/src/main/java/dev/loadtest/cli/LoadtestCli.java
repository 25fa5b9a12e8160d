package dev.loadtest.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The {@code loadtest} command. */
@Command(name = "loadtest", mixinStandardHelpOptions = true, versionProvider = LoadtestCli.Version.class,
    description = "Distributed load testing: generators, coordinator, Flink aggregation, ClickHouse, query API.",
    subcommands = {DemoCommand.class, LoadtestCli.Up.class, RunCommand.class, ReplayCommand.class, ShopCommand.class, GeneratorCommand.class, ServiceCommands.Init.class, ServiceCommands.Api.class, CoordinatorCommand.class, SubmitCommand.class, ImportCommand.class,
        CommandLine.HelpCommand.class})
public final class LoadtestCli implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line with its handler of failures: a command that fails says why in one line (the cause's
   * chain of messages) and exits 1; the stack trace only with {@code LOADTEST_DEBUG=1}.
   */
  static CommandLine commandLine() {
    return new CommandLine(new LoadtestCli()).setExecutionExceptionHandler((ex, cl, parsed) -> {
      cl.getErr().println("loadtest " + cl.getCommandName() + ": " + reason(ex));
      if ("1".equals(System.getenv("LOADTEST_DEBUG"))) {
        ex.printStackTrace(cl.getErr());
      } else {
        cl.getErr().println("(LOADTEST_DEBUG=1 shows where it failed)");
      }
      cl.getErr().flush();
      return 1;
    });
  }

  /** The messages of {@code t} and its causes, each once: "what failed: why". */
  static String reason(Throwable t) {
    List<String> parts = new java.util.ArrayList<>();
    for (Throwable c = t; c != null && parts.size() < 5; c = c.getCause() == c ? null : c.getCause()) {
      boolean bare = c.getMessage() == null || c.getMessage().isBlank() || c.getMessage().equals(
          String.valueOf(c.getCause())); // a wrapper that only names its cause
      if (bare && !parts.isEmpty()) {
        continue; // a cause without words of its own adds nothing to what was said
      }
      String m = bare ? c.getClass().getSimpleName() : c.getMessage().lines().findFirst().orElse("").strip();
      if (parts.stream().noneMatch(p -> p.contains(m))) {
        parts.add(m);
      }
    }
    return String.join(": ", parts);
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  /** Blocks until the JVM is asked to stop (Ctrl-C, SIGTERM), running {@code close} on the way out. */
  static void awaitShutdown(Runnable close) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      close.run();
      stopped.countDown();
    }, "loadtest-stop"));
    stopped.await();
  }

  /** Starts the embedded stack and reports its health. */
  @Command(name = "up", mixinStandardHelpOptions = true,
      header = "Start the whole stack on this machine (no test) and print its addresses.",
      description = {"Start the whole infrastructure on this machine: a Kafka broker with the system's topics,",
          "ClickHouse with the schema migrated, a Flink MiniCluster with the aggregate and threshold jobs, the",
          "coordinator, the query API and --generators generator agents. Prints each component's version,",
          "address and health, and the environment for `loadtest run --api` and `loadtest replay` from other",
          "shells, then keeps running until Ctrl-C (or exits with --exit)."})
  static final class Up implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--exit", description = "Report health and stop, exiting 0 when every component is healthy.")
    boolean exit;

    @Option(names = "--database", defaultValue = "loadtest", description = "ClickHouse database (default: ${DEFAULT-VALUE}).")
    String database;

    @Option(names = "--clickhouse-url", description = "Use this ClickHouse server (http://HOST:8123/) instead of starting one.")
    String clickHouseUrl;

    @Option(names = "--generators", defaultValue = "2", paramLabel = "N", description = "Generator agents in this"
        + " process, in load zones local:eu and local:us by turns, as the examples distribute (default: ${DEFAULT-VALUE}).")
    int generators;

    @Option(names = "--token", paramLabel = "SCOPE:TOKEN", description = "An API token, read:TOKEN or write:TOKEN"
        + " (16 or more characters; repeatable; default: $LOADTEST_API_TOKENS, comma-separated; with neither, the API"
        + " makes a write token and prints it).")
    List<String> tokens = new java.util.ArrayList<>();

    @Option(names = "--kafka-only", description = "Start only the Kafka broker with the system's topics (for generators and benchmarks).")
    boolean kafkaOnly;

    @Override
    public Integer call() throws InterruptedException {
      PrintWriter out = spec.commandLine().getOut();
      if (kafkaOnly) {
        dev.loadtest.embedded.EmbeddedKafka kafka = dev.loadtest.embedded.EmbeddedKafka.start(java.util.Map.of());
        kafka.createTopics(SystemTopics.all((short) 1));
        out.printf("Kafka bootstrap: %s (Kafka %s)%n", kafka.bootstrapServers(), dev.loadtest.embedded.EmbeddedKafka.version());
        out.flush();
        if (exit) {
          kafka.close();
          return 0;
        }
        awaitShutdown(kafka::close);
        return 0;
      }
      if (generators < 0) {
        spec.commandLine().getErr().println("loadtest: --generators must be 0 or more, got " + generators);
        return 2;
      }
      java.util.Map<String, dev.loadtest.api.ApiConfig.Scope> apiTokens;
      try {
        apiTokens = dev.loadtest.api.ApiConfig.tokens(tokens, System.getenv());
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("loadtest: --token: " + e.getMessage());
        return 2;
      }
      if (clickHouseUrl != null) {
        System.setProperty("loadtest.clickhouse.url", clickHouseUrl);
      }
      long t0 = System.nanoTime();
      out.println("loadtest: starting the embedded stack");
      out.flush();
      EmbeddedStack stack;
      try {
        stack = EmbeddedStack.start(database, new java.io.PrintStream(System.out, true),
            dev.loadtest.topology.CoordinatorConfig.defaults(), apiTokens);
      } catch (RuntimeException e) {
        spec.commandLine().getErr().println("loadtest: the embedded stack did not start: " + e.getMessage());
        return 1;
      }
      try {
        stack.addGenerators(generators, java.nio.file.Path.of("."));
      } catch (RuntimeException e) {
        stack.close();
        spec.commandLine().getErr().println("loadtest: a generator did not join: " + e.getMessage());
        return 1;
      }
      List<EmbeddedStack.Health> health = stack.health();
      out.printf("%nReady in %.1f s:%n", (System.nanoTime() - t0) / 1e9);
      for (EmbeddedStack.Health h : health) {
        out.printf("  %-10s %-8s %-28s %s %s%n", h.component(), h.version(), h.address(), h.ok() ? "OK  " : "FAIL", h.detail());
      }
      boolean ok = health.stream().allMatch(EmbeddedStack.Health::ok);
      // With tokens of the user's own, name none of them here: they know them, and terminals get recorded.
      String token = stack.apiToken() != null ? stack.apiToken() : "YOUR_WRITE_TOKEN";
      String shownToken = stack.apiToken() != null ? stack.apiToken() : "one of your --token tokens";
      out.printf("%nKafka bootstrap: %s%nClickHouse:      %s (database %s)%nFlink REST:      %s%n"
              + "Query API:       %s (Authorization: Bearer %s)%nWeb app:         %s (sign in with %s)%n",
          stack.kafkaBootstrap(), stack.clickHouseUri(), database, stack.flinkRest(), stack.apiUrl(), shownToken,
          stack.appUrl(), stack.apiToken() != null ? "that token" : "one of your tokens");
      out.printf("Generators:      %s%n%nFrom another shell:%n  export LOADTEST_API=%s"
              + " LOADTEST_API_TOKEN=%s \\%n    LOADTEST_KAFKA_BOOTSTRAP=%s LOADTEST_CLICKHOUSE_URL=%s \\%n"
              + "    LOADTEST_CLICKHOUSE_USER=%s LOADTEST_CLICKHOUSE_PASSWORD='%s' LOADTEST_DATABASE=%s%n"
              + "  ./loadtest run examples/checkout.json      # submits to this stack%n"
              + "  ./loadtest replay RUN_ID --thresholds FILE  # re-analyses a run of it%n",
          generatorLine(generators), stack.apiUrl(), token, stack.kafkaBootstrap(), stack.clickHouseUri(),
          stack.clickHouseUser(), stack.clickHousePassword(), database);
      if (exit || !ok) {
        stack.close();
        out.println(ok ? "All components healthy; stopped (--exit)." : "Some components are unhealthy; stopped.");
        out.flush();
        return ok ? 0 : 1;
      }
      out.println("Press Ctrl-C to stop.");
      out.flush();
      awaitShutdown(stack::close);
      return 0;
    }

  }

  /** What {@code up} says of its {@code n} generators (zones local:eu and local:us by turns). */
  static String generatorLine(int n) {
    if (n == 0) {
      return "none in this process (a run waits QUEUED until generators join: ./loadtest generator --help)";
    }
    return n + " (zone" + (n == 1 ? " local:eu" : "s local:eu, local:us") + ")";
  }

  /** Version from the jar manifest, or the development version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = LoadtestCli.class.getPackage().getImplementationVersion();
      return new String[] {"loadtest " + (v == null ? "development build" : v)};
    }
  }
}
