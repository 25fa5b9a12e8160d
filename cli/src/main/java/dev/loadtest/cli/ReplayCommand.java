package dev.loadtest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.api.ApiConfig;
import dev.loadtest.api.ApiServer;
import dev.loadtest.api.Limits;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.cli.follow.SummaryText;
import dev.loadtest.cli.report.Reports;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.flink.FlinkJobs;
import dev.loadtest.flink.replay.ReplayJob;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.time.Durations;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code loadtest replay RUN_ID}: re-analysis of a run's raw samples by the replay job, with its verdict. */
@Command(name = "replay", mixinStandardHelpOptions = true,
    header = "Re-analyse a run from its raw samples, by its own or other thresholds.",
    description = {"Re-analyse a run from its raw samples (kept 7 days in loadtest.samples): the replay job",
        "aggregates them again under an analysis id and judges them by the plan's thresholds, or by those of",
        "--thresholds FILE; all of the run, or --from/--to. The job runs on a Flink MiniCluster in this process",
        "against the stack's Kafka and ClickHouse (the addresses `loadtest up` prints, or $LOADTEST_KAFKA_BOOTSTRAP,",
        "$LOADTEST_CLICKHOUSE_URL, ...). The analysis is stored beside the run and read like it (?analysis=ID).",
        "Prints the k6-style summary and writes the --out reports of the analysis.",
        "Exit codes: 0 every threshold passed, 99 one failed or had no samples, 104 invalid thresholds,",
        "1 an error (no such run, unreachable stack), printed."})
public final class ReplayCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID", description = "The run to re-analyse.")
  String runId;

  @Option(names = "--thresholds", paramLabel = "FILE", description = {"Judge by these thresholds instead of the"
      + " plan's:", "{\"http_req_duration\": [\"p(95)<300\"]}, or any JSON with a \"thresholds\" object (a plan)."})
  Path thresholds;

  @Option(names = "--analysis", paramLabel = "ID", description = "The analysis id (default: replay-UTC time).")
  String analysis;

  @Option(names = "--from", paramLabel = "TIME", description = {"Only samples from this time: an offset from the"
      + " run's start (90s, 5m),", "an ISO-8601 instant or epoch milliseconds."})
  String from;

  @Option(names = "--to", paramLabel = "TIME", description = "Only samples before this time (as --from).")
  String to;

  @Option(names = "--bootstrap", paramLabel = "HOST:PORT", description = "Kafka of the stack (default:"
      + " $LOADTEST_KAFKA_BOOTSTRAP, else 127.0.0.1:9092).")
  String bootstrap;

  @Option(names = "--clickhouse-url", paramLabel = "URL", description = "ClickHouse of the stack (default:"
      + " $LOADTEST_CLICKHOUSE_URL, else http://127.0.0.1:8123/).")
  String clickHouseUrl;

  @Option(names = "--clickhouse-user", description = "(default: $LOADTEST_CLICKHOUSE_USER, else default)")
  String clickHouseUser;

  @Option(names = "--clickhouse-password", description = "(default: $LOADTEST_CLICKHOUSE_PASSWORD, else empty)")
  String clickHousePassword;

  @Option(names = "--database", description = "(default: $LOADTEST_DATABASE, else loadtest)")
  String database;

  @Option(names = "--api", paramLabel = "URL", description = "Read the result through this query API (default:"
      + " $LOADTEST_API, else one started in this process on the same ClickHouse).")
  String api;

  @Option(names = "--token", paramLabel = "TOKEN", description = "Bearer token for --api (default: $LOADTEST_API_TOKEN).")
  String token;

  @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write a report (repeatable): *.json, *.xml, *.html.")
  List<Path> out = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (Path p : out) {
      Reports.checkName(p);
    }
    String id = analysis != null ? analysis : "replay-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
        .withZone(ZoneOffset.UTC).format(Instant.now());
    if (thresholds != null && !Files.isReadable(thresholds)) {
      err.println("loadtest: cannot read the thresholds file " + thresholds);
      return 104;
    }
    Map<String, String> env = System.getenv();
    String apiUrl = api != null ? api : env.get("LOADTEST_API");
    String apiToken = token != null ? token : env.get("LOADTEST_API_TOKEN");
    List<String> args = new ArrayList<>(List.of("replay", runId, "--analysis", id));
    add(args, "bootstrap", bootstrap);
    add(args, "clickhouse-url", clickHouseUrl);
    add(args, "clickhouse-user", clickHouseUser);
    add(args, "clickhouse-password", clickHousePassword);
    add(args, "database", database);
    add(args, "thresholds", thresholds == null ? null : thresholds.toString());
    FlinkJobs.Invocation inv;
    try {
      inv = FlinkJobs.parse(args, env);
    } catch (IllegalArgumentException e) {
      err.println("loadtest: " + e.getMessage());
      return 1;
    }
    RunState stored;
    try {
      stored = ReplayJob.storedRun(inv.clickHouse(), runId);
      if (from != null || to != null) {
        long runStartMs = ReplayJob.startedAtMs(stored).orElse(0);
        add(args, "from", from == null ? null : Long.toString(time("--from", from, runStartMs)));
        add(args, "to", to == null ? null : Long.toString(time("--to", to, runStartMs)));
        inv = FlinkJobs.parse(args, env);
      }
    } catch (IllegalArgumentException e) {
      err.println("loadtest: " + e.getMessage());
      return 1;
    }
    o.printf("Replaying run %s as analysis %s (%s) from %s into %s%n", runId, id, thresholds == null
        ? "the plan's thresholds" : "thresholds of " + thresholds, inv.option("bootstrap"), inv.option("clickhouse-url"));
    o.flush();
    long t0 = System.nanoTime();
    try (FlinkMiniCluster flink = FlinkMiniCluster.start(FlinkMiniCluster.loopbackConfiguration(), 2)) {
      var flinkEnv = flink.environment(1);
      try {
        ReplayJob.build(flinkEnv, inv.aggregateConfig(), inv.replayState(stored), inv.clickHouse());
      } catch (InvalidPlanException e) {
        RunCommand.printErrors(err, String.valueOf(thresholds), e.errors());
        return 104;
      } catch (IllegalArgumentException e) {
        err.println("loadtest: " + e.getMessage());
        return 1;
      }
      flinkEnv.execute("loadtest-replay-" + runId + "-" + id);
    }
    o.printf("The replay job read the run's samples in %.1f s.%n", (System.nanoTime() - t0) / 1e9);
    o.flush();
    if (apiUrl != null) {
      return report(new ApiClient(apiUrl, apiToken), id, inv, o);
    }
    try (ApiServer local = ApiServer.start(new ApiConfig("127.0.0.1", 0, URI.create(inv.option("clickhouse-url")),
        inv.option("clickhouse-user"), inv.option("clickhouse-password"), inv.option("database"),
        inv.option("bootstrap"), Map.of(), List.of(), Limits.DEFAULT))) {
      return report(new ApiClient(local.url(), local.generatedToken()), id, inv, o);
    }
  }

  private int report(ApiClient client, String id, FlinkJobs.Invocation inv, PrintWriter o) throws Exception {
    String path = "/runs/" + ApiClient.enc(runId);
    JsonNode run = client.get(path, Map.of());
    Map<String, String> query = new java.util.HashMap<>(Map.of("analysis", id));
    if (Long.parseLong(inv.option("from")) != Long.MIN_VALUE) {
      query.put("from", inv.option("from"));
    }
    if (Long.parseLong(inv.option("to")) != Long.MAX_VALUE) {
      query.put("to", inv.option("to"));
    }
    JsonNode summary = client.get(path + "/summary", query);
    ObjectNode verdict = JSON.createObjectNode();
    ArrayNode passed = verdict.putArray("passed");
    ArrayNode failed = verdict.putArray("failed");
    ArrayNode noData = verdict.putArray("noData");
    JsonNode results = summary.path("thresholds");
    for (JsonNode t : results.path("results")) {
      switch (t.path("state").asText()) {
        case "PASSED" -> passed.add(t.path("threshold").asText());
        case "FAILED" -> failed.add(t.path("threshold").asText());
        default -> noData.add(t.path("threshold").asText());
      }
    }
    boolean complete = results.path("complete").asBoolean();
    verdict.put("complete", complete);
    RunFollower.Outcome outcome = new RunFollower.Outcome("FINISHED", "", "analysis " + id + " of run " + runId,
        verdict, JSON.nullNode(), complete, complete ? "" : "some threshold results are not final", summary, run);
    int code = outcome.exitCode();
    o.print(SummaryText.render(summary, outcome));
    for (Path p : out) {
      o.printf("  report: %s (%s)%n", p, Reports.write(p, outcome, code, client));
    }
    o.printf("%nAnalysis %s of run %s: read it with ?analysis=%s on %s%n", id, runId, id, client.base());
    o.printf("%s (exit code %d)%n", code == 0 ? "All thresholds passed."
        : code == RunFollower.INCOMPLETE ? "The results are incomplete, so the analysis is not judged: "
            + outcome.incompleteWhy()
        : "Some thresholds failed: " + String.join(", ", RunCommand.names(failed, noData)), code);
    o.flush();
    return code;
  }

  private static void add(List<String> args, String option, String value) {
    if (value != null) {
      args.add("--" + option);
      args.add(value);
    }
  }

  /** A time option: an offset from the run's start ("90s"), an ISO-8601 instant or epoch milliseconds. */
  static long time(String option, String value, long runStartMs) {
    if (value.matches("\\d{10,}")) {
      return Long.parseLong(value);
    }
    if (value.matches("\\d.*[a-z]+")) {
      try {
        return runStartMs + Durations.parse(value).toMillis();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(option + " " + value + ": " + e.getMessage());
      }
    }
    try {
      return Instant.parse(value).toEpochMilli();
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(option + " must be an offset from the run's start (90s, 5m), an ISO-8601"
          + " instant (2026-11-23T10:00:00Z) or epoch milliseconds, got \"" + value + "\"");
    }
  }
}
