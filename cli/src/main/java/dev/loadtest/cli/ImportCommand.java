package dev.loadtest.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.cli.follow.SummaryText;
import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.generator.sink.KafkaPublisher;
import dev.loadtest.importers.ImportException;
import dev.loadtest.importers.Importer;
import dev.loadtest.importers.ResultFormat;
import dev.loadtest.schemas.command.CommandParser;
import dev.loadtest.schemas.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code loadtest import}: another tool's results as a stored run. The file is read whole first (an error anywhere
 * refuses it before anything is sent), then its samples go to {@code loadtest.samples} as a generator's would, then
 * an import command makes the run; with {@code --api}, the command waits until every request is stored and prints
 * the summary, as {@code run} does.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
    header = "Store another tool's results as a run: k6 JSON or CSV, JMeter JTL, Gatling's log, Locust's CSV.",
    description = {"Reads FILE (gzipped too) whole, refusing it with the line and the reason when anything in it",
        "is wrong; sends its samples to loadtest.samples and an import command to the coordinator, which records",
        "a finished run at the file's own times. The run is then compared, trended and gated like any other.",
        "Exit codes: 0 imported (and, with --api, every request stored), 97 stored data still short of the file",
        "after --settle-timeout, 104 the file cannot be imported, 1 an error of ours or of the cluster."})
final class ImportCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE")
  Path file;

  @Option(names = "--format", required = true, paramLabel = "FORMAT",
      description = "k6-json, k6-csv, jmeter-jtl (CSV or XML), gatling-log (text, Gatling 3.0 to 3.10) or"
          + " locust-csv (_stats_history.csv: aggregates, rebuilt as requests).")
  String format;

  @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers of the cluster (`loadtest up` prints them).")
  String bootstrap;

  @Option(names = "--api", paramLabel = "URL",
      description = "Query API: wait until every request is stored and print the run's summary.")
  String api;

  @Option(names = "--token", paramLabel = "TOKEN", description = "Bearer token for --api (or LOADTEST_API_TOKEN).")
  String token;

  @Option(names = "--run-id", description = "Test run id (default: a random one).")
  String runId;

  @Option(names = "--name", description = "The run's name (default: the file's name).")
  String name;

  @Option(names = "--project", description = "The run's project: with its name, the load test the run belongs to.")
  String project;

  @Option(names = "--load-test", paramLabel = "ID", description = "Make the run one of load test ID, whatever its"
      + " name and project (default: the load test of its name in its project).")
  String loadTest;

  @Option(names = "--tag", paramLabel = "K=V", description = "A tag on every imported sample (repeatable).")
  Map<String, String> tags = new LinkedHashMap<>();

  @Option(names = "--settle-timeout", defaultValue = "120s", paramLabel = "DURATION",
      description = "How long --api waits for every request to be stored (default: ${DEFAULT-VALUE}).")
  String settleTimeoutText;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ResultFormat f = ResultFormat.of(format).orElse(null);
    if (f == null) {
      err.printf("loadtest: --format %s is not one of %s%n", format, ResultFormat.names());
      err.flush();
      return 2;
    }
    if (!Files.isRegularFile(file)) {
      err.printf("loadtest: cannot import %s: there is no such file%n", file);
      err.flush();
      return 104;
    }
    String id = runId != null ? runId : "import-" + UUID.randomUUID().toString().substring(0, 8);
    if (!CommandParser.ID.matcher(id).matches()) {
      err.printf("loadtest: --run-id %s is not a run id (letters, digits and . _ : -, at most 128)%n", id);
      err.flush();
      return 2;
    }
    String loadTestProblem = loadTest == null ? null
        : dev.loadtest.schemas.command.Command.Metadata.loadTestIdProblem(loadTest);
    if (loadTestProblem != null) {
      err.println("loadtest: --load-test: " + loadTestProblem);
      err.flush();
      return 2;
    }
    Importer.Summary checked;
    try {
      checked = Importer.check(file, f);
    } catch (ImportException e) {
      err.println("loadtest: cannot import " + e.getMessage());
      err.flush();
      return 104;
    }
    String runName = name != null ? name : file.getFileName().toString();
    ObjectNode plan = JSON.createObjectNode().put("name", runName)
        .put("description", "imported from " + f.flag() + " " + file.getFileName());
    ObjectNode planTags = plan.putObject("tags");
    tags.forEach(planTags::put);
    plan.putObject("generator").put("plugin", "import").putObject("options").put("format", f.flag())
        .put("file", file.getFileName().toString());
    // the command is checked as the coordinator will check it (name, tags, project) before anything is sent
    try {
      CommandParser.parse(command(id, f, plan, runName, checked).toString());
    } catch (dev.loadtest.schemas.plan.InvalidPlanException e) {
      RunCommand.printErrors(err, "the import of " + file, e.errors());
      return 104;
    }

    // the samples first, then the command that makes them a run
    Importer.Summary sent;
    try (KafkaPublisher publisher = new KafkaPublisher(bootstrap, "loadtest-import-" + id, Map.of())) {
      BatchingSampleSink sink = new BatchingSampleSink(id, "import", "import", publisher);
      sent = Importer.read(file, f, tags, sink);
      BatchingSampleSink.Stats stats = sink.close(Duration.ofMinutes(2).toMillis());
      if (stats.undelivered() > 0 || stats.pending() > 0) {
        err.printf("loadtest: %d of %d samples could not be delivered to Kafka at %s; the run was not recorded%n",
            stats.undelivered() + stats.pending(), stats.recorded(), bootstrap);
        err.flush();
        return 1;
      }
    }
    ObjectNode command = command(id, f, plan, runName, sent);
    Runnable send = () -> {
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
          bootstrap), new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>(Topics.COMMANDS, id, command.toString())).get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while sending the import command", e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("the import command could not be sent to " + bootstrap + ": "
            + e.getCause().getMessage(), e);
      }
    };
    out.printf("Imported %s (%s): %d requests, %d samples from %s to %s as run %s%n", file, f.flag(), sent.requests(),
        sent.samples(), Instant.ofEpochMilli(sent.firstMs()), Instant.ofEpochMilli(sent.lastMs()), id);
    for (String note : checked.notes()) {
      out.println("  not imported or changed: " + note);
    }
    out.flush();
    if (api == null) {
      send.run();
      out.printf("Sent the import command for run %s; its data is stored as the cluster ingests it.%n", id);
      out.flush();
      return 0;
    }
    ApiClient client = new ApiClient(api, token != null ? token : System.getenv("LOADTEST_API_TOKEN"));
    RunFollower follower = new RunFollower(client, out, false, Duration.ofSeconds(5),
        dev.loadtest.schemas.time.Durations.parse(settleTimeoutText));
    RunFollower.Outcome outcome = follower.follow(id, false, () -> {
      send.run();
      out.printf("Watch it: %s%n", RunCommand.appUrl(client.base(), id));
      out.flush();
    });
    if (outcome.summary() != null) {
      out.print(SummaryText.render(outcome.summary(), outcome));
    }
    if (!outcome.complete()) {
      out.printf("%nThe stored data is still short of the file: %s (exit code %d)%n", outcome.incompleteWhy(),
          RunFollower.INCOMPLETE);
      out.flush();
      return RunFollower.INCOMPLETE;
    }
    out.printf("%nEvery imported request is stored. (exit code 0)%n");
    out.flush();
    return 0;
  }

  /** The import command of {@code s}'s counts and times. */
  private ObjectNode command(String id, ResultFormat f, ObjectNode plan, String runName, Importer.Summary s) {
    ObjectNode command = JSON.createObjectNode().put("type", "import").put("commandId", UUID.randomUUID().toString())
        .put("testRunId", id).put("source", f.flag() + " " + file.getFileName()).put("startedAtMs", s.firstMs())
        .put("endedAtMs", s.lastMs()).put("requests", s.requests()).put("samples", s.samples())
        .put("iterations", s.iterations());
    command.set("plan", plan);
    ObjectNode meta = command.putObject("metadata").put("name", runName).put("who",
        System.getProperty("user.name", "cli")).put("notes", "imported from " + file);
    if (project != null) {
      meta.put("project", project);
    }
    if (loadTest != null) {
      meta.put("loadTest", loadTest);
    }
    return command;
  }
}
