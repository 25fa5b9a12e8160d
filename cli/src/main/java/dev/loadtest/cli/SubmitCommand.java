package dev.loadtest.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.schemas.run.RunStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code loadtest submit}: a start command straight to Kafka, then the run's states as they come. */
@Command(name = "submit", mixinStandardHelpOptions = true,
    header = "Send a plan to the coordinator and follow its run (no query API needed).",
    description = {"Send a plan to the coordinator as a start command on loadtest.commands and follow the run on",
        "loadtest.runs until it ends, printing each transition, then (when the plan has thresholds) until",
        "its final verdict. Exit codes: 0 finished and every threshold passed, 97 the final verdict did not",
        "come within --verdict-timeout, 99 a threshold failed, 104 rejected, 105 aborted, 108 aborted by a",
        "threshold, 1 failed. `loadtest run` does the same through the query API, with live numbers, the",
        "summary, reports and a check that every request was stored."})
final class SubmitCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PLAN.json")
  Path plan;

  @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT", description = "Kafka bootstrap servers.")
  String bootstrap;

  @Option(names = "--run-id", description = "Test run id (default: a random one).")
  String runId;

  @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Env values over the plan's (repeatable).")
  Map<String, String> env = new LinkedHashMap<>();

  @Option(names = "--name", description = "The run's name in its metadata (default: the plan's name).")
  String name;

  @Option(names = "--verdict-timeout", defaultValue = "120s",
      description = "How long to wait after the run's end for its final verdict (default: ${DEFAULT-VALUE}).")
  String verdictTimeoutText;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Duration verdictTimeout = dev.loadtest.schemas.time.Durations.parse(verdictTimeoutText);
    // Checked here as `run` checks it (env applied, plug-in and its options), so that a plan that cannot run is
    // refused with its JSON paths before it reaches the cluster. Feeder files are the generators' to read.
    String text;
    try {
      text = dev.loadtest.schemas.plan.PlanText.decode(Files.readAllBytes(plan));
    } catch (dev.loadtest.schemas.plan.InvalidPlanException e) {
      RunCommand.printErrors(spec.commandLine().getErr(), plan.toString(), e.errors());
      return 104;
    }
    RunCommand.Loaded loaded = RunCommand.load(text, plan.toString(), env, null, spec.commandLine().getErr());
    if (loaded == null) {
      return 104;
    }
    ObjectNode planNode = loaded.json();
    String run = runId != null ? runId : "run-" + UUID.randomUUID().toString().substring(0, 8);
    ObjectNode command = JSON.createObjectNode().put("type", "start").put("commandId", UUID.randomUUID().toString())
        .put("testRunId", run);
    command.set("plan", planNode);
    command.putObject("metadata").put("name", name != null ? name : planNode.path("name").asText(run))
        .put("who", System.getProperty("user.name", "cli"));
    try (KafkaConsumer<String, String> runs = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap, ConsumerConfig.GROUP_ID_CONFIG, "submit-" + run, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest"),
            new StringDeserializer(), new StringDeserializer());
         KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap), new StringSerializer(), new StringSerializer())) {
      runs.subscribe(List.of(Topics.RUNS));
      while (runs.assignment().isEmpty()) {
        runs.poll(Duration.ofMillis(100)); // join the group before sending, so no state is missed
      }
      producer.send(new ProducerRecord<>(Topics.COMMANDS, run, command.toString())).get();
      out.printf("Submitted run %s; following it on %s (Ctrl-C stops following, not the run)%n", run, Topics.RUNS);
      out.flush();
      int shown = 0;
      boolean hasThresholds = planNode.path("thresholds").isObject() && !planNode.path("thresholds").isEmpty();
      long verdictDeadline = Long.MAX_VALUE;
      RunState ended = null;
      while (true) {
        if (ended != null && System.nanoTime() > verdictDeadline) {
          out.printf("  the final verdict did not come within %d s of the run's end: the results are incomplete,"
              + " so the run is not judged%n", verdictTimeout.toSeconds());
          out.flush();
          return RunFollower.INCOMPLETE;
        }
        for (ConsumerRecord<String, String> r : runs.poll(Duration.ofMillis(500))) {
          if (!run.equals(r.key())) {
            continue;
          }
          RunState s = RunState.fromJson(r.value());
          for (; shown < s.history().size(); shown++) {
            RunState.Transition t = s.history().get(shown);
            out.printf("  %s  %-9s %s%n", Instant.ofEpochMilli(t.atMs()), t.status(), t.reason());
          }
          for (PlanError e : s.errors()) {
            out.printf("    %s: %s%n", e.path(), e.message());
          }
          out.flush();
          if (s.status().terminal()) {
            if (ended == null) {
              ended = s;
              verdictDeadline = System.nanoTime() + verdictTimeout.toNanos();
            }
            boolean judged = !hasThresholds || s.status() != RunStatus.FINISHED
                || (s.verdict() != null && (s.verdict().complete() || s.verdict().partial()));
            if (!judged) {
              continue; // a FINISHED run is judged by its final verdict, which follows the end
            }
            if (s.verdict() != null) {
              out.printf("  thresholds: %d passed, %d failed, %d without data%s%n", s.verdict().passed().size(),
                  s.verdict().failed().size(), s.verdict().noData().size(), s.verdict().complete() ? "" : " (not final)");
            }
            return exitCode(s);
          }
        }
      }
    }
  }

  /**
   * As {@code loadtest run}: 0 passed, 97 the verdict was judged without all of the run's data, 99 a
   * threshold failed or had no data, 104, 105, 108, 1.
   */
  static int exitCode(RunState s) {
    return switch (s.status()) {
      case FINISHED -> s.verdict() != null && s.verdict().partial() ? RunFollower.INCOMPLETE
          : s.verdict() != null && (!s.verdict().failed().isEmpty() || !s.verdict().noData().isEmpty()) ? 99 : 0;
      case REJECTED -> 104;
      case ABORTED -> "threshold".equalsIgnoreCase(s.abortSource()) ? 108 : 105;
      default -> 1;
    };
  }
}
