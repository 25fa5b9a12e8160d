package dev.loadtest.cli;

import dev.loadtest.topology.Coordinator;
import dev.loadtest.topology.CoordinatorConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code loadtest coordinator}: the Kafka Streams coordinator joining a cluster. */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
    header = "Run the coordinator: commands in, runs allocated to generators and tracked.",
    description = {"Run the coordinator: takes commands from loadtest.commands, validates plans, allocates",
        "generators (from their heartbeats) and tracks every run on loadtest.runs, until Ctrl-C.",
        "Several instances may run for fail-over; state lives in Kafka (exactly-once)."})
final class CoordinatorCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT", description = "Kafka bootstrap servers.")
  String bootstrap;

  @Option(names = "--allow-host", paramLabel = "HOST", description = {"A target host plans may load (repeatable;"
      + " *.domain for a domain). Default: loopback only (127.0.0.1, localhost, ::1)."})
  List<String> allowedHosts;

  @Option(names = "--state-dir", paramLabel = "DIR", description = "Local state (a cache of what Kafka holds). Default: .loadtest/coordinator")
  Path stateDir;

  @Option(names = "--lost-after", defaultValue = "5s", paramLabel = "DURATION",
      description = "A generator silent this long is lost (default: ${DEFAULT-VALUE}).")
  String lostAfter;

  @Option(names = "--max-runs", defaultValue = "20", paramLabel = "N",
      description = "Runs beyond this many at once wait in QUEUED (default: ${DEFAULT-VALUE}).")
  int maxRuns;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Duration lost = dev.loadtest.schemas.time.Durations.parse(lostAfter);
    CoordinatorConfig config = new CoordinatorConfig(
        allowedHosts == null || allowedHosts.isEmpty() ? CoordinatorConfig.DEFAULT_ALLOWED_HOSTS : allowedHosts,
        CoordinatorConfig.DEFAULT_MAX_COMMAND_BYTES, lost, maxRuns, CoordinatorConfig.DEFAULT_MAX_QUEUE_TIME);
    Path dir = stateDir != null ? stateDir : Path.of(".loadtest", "coordinator");
    Files.createDirectories(dir);
    Coordinator coordinator = Coordinator.start(bootstrap, dir, config);
    out.printf("Coordinator running on %s (allowed target hosts %s); Ctrl-C to stop.%n", bootstrap,
        config.allowedHosts());
    out.flush();
    LoadtestCli.awaitShutdown(coordinator::close);
    return 0;
  }
}
