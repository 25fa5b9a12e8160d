package dev.loadtest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.cli.follow.ApiClient;
import dev.loadtest.cli.follow.LoadTestTrend;
import dev.loadtest.cli.follow.RegressionGate;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.cli.follow.RunInsights;
import dev.loadtest.cli.follow.SummaryText;
import dev.loadtest.cli.report.Reports;
import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.schemas.histogram.PercentileMethod;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.PlanText;
import dev.loadtest.schemas.plan.TestPlan;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code loadtest run PLAN.json}: submit, follow live, print the summary, write reports, exit with the verdict. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run a test plan and wait for its verdict.",
        "Without --api, starts the embedded stack for this run (Kafka, ClickHouse, Flink, coordinator, query API)",
        "with one generator per load zone of the plan (or --generators N), and stops it afterwards.",
        "With --api, submits to that running stack (see `loadtest up`).",
        "Shows a progress line while the run goes, a k6-style summary at the end, and writes the --out reports.",
        "Exit codes: 0 thresholds passed, 99 a threshold failed, 104 invalid plan, 105 aborted (user, system),",
        "108 aborted by a threshold (abortOnFail), 1 an error of ours (printed).",
        "With --regression (and --baseline), a run that passed its thresholds but exceeds a regression limit against",
        "its load test's baseline exits 99 too."})
public final class RunCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PLAN.json", description = "The test plan (see examples/).")
  Path plan;

  @Option(names = "--api", paramLabel = "URL", description = "Query API of a running stack, e.g."
      + " http://127.0.0.1:8080/api/v1 (default: $LOADTEST_API, else an embedded stack for this run).")
  String api;

  @Option(names = "--token", paramLabel = "TOKEN", description = "Bearer token with write scope for --api"
      + " (default: $LOADTEST_API_TOKEN).")
  String token;

  @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Env values over the plan's (repeatable).")
  Map<String, String> env = new LinkedHashMap<>();

  @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = {"Write a report (repeatable); the name says"
      + " which:", "  *.json  summary (machine-readable)", "  *.xml   JUnit, one test case per threshold",
      "  *.html  self-contained report with charts"})
  List<Path> out = new ArrayList<>();

  @Option(names = "--name", description = "The run's name (default: the plan's name).")
  String name;

  @Option(names = "--project", description = "The run's project: runs of one plan name in one project are one load"
      + " test (trends, baselines, regression gates).")
  String project;

  @Option(names = "--load-test", paramLabel = "ID", description = {"Make the run one of load test ID (letters, digits"
      + " and . _ : -), whatever its name and project: for a test whose plan is renamed or kept in several files.",
      "Default: the load test of the plan's name in its project."})
  String loadTest;

  @Option(names = "--baseline", paramLabel = "auto|RUN", description = {"Compare the finished run with this run, or"
      + " with auto: its load test's baseline (POST /runs/{id}/baseline), else its newest earlier run that passed.",
      "Without --regression, the differences are shown, not judged. Default with --regression: auto."})
  String baseline;

  @Option(names = "--regression", paramLabel = "LIMIT", description = {"A regression limit (repeatable), judged on both"
      + " runs' merged data: METRIC[{tag:value}]: STAT (+|-)AMOUNT[%%|pp|ms|s], e.g.",
      "  'http_req_duration{name:checkout}: p(95) +10%%'  'http_req_failed: rate +0.5pp'  'http_reqs: rate -5%%'",
      "Exceeded: exit code 99, and a failed JUnit case in an --out *.xml report."})
  List<String> regressions = new ArrayList<>();

  @Option(names = "--run-id", description = "Test run id (default: a random one).")
  String runId;

  @Option(names = "--generators", paramLabel = "N", description = "Embedded generators (default: one per load zone of"
      + " the plan's distribution, else 1).")
  Integer generators;

  @Option(names = "--settle-timeout", defaultValue = "120s", paramLabel = "DURATION", description = "How long to wait"
      + " after the end for complete results (default: ${DEFAULT-VALUE}).")
  String settleTimeout;

  @Option(names = "--percentiles", defaultValue = "nearest-rank", paramLabel = "METHOD", description = "How the"
      + " summary reads trend percentiles: nearest-rank (the sample at rank ceil(p*n), what thresholds judge) or k6"
      + " (k6's interpolation between samples); both within 1/128 (default: ${DEFAULT-VALUE}).")
  String percentiles;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Loaded loaded = load(plan, env, err);
    if (loaded == null) {
      return 104;
    }
    for (Path p : out) {
      Reports.checkName(p);
    }
    PercentileMethod method;
    try {
      method = PercentileMethod.parse(percentiles);
    } catch (IllegalArgumentException e) {
      err.println("loadtest: --percentiles: " + e.getMessage());
      return 2;
    }
    for (String r : regressions) {
      try {
        dev.loadtest.api.Regression.parse(r);
      } catch (IllegalArgumentException e) {
        err.println("loadtest: --regression: " + e.getMessage());
        return 2;
      }
    }
    if (baseline != null && !baseline.equals("auto") && !dev.loadtest.schemas.command.CommandParser.ID.matcher(baseline)
        .matches()) {
      err.println("loadtest: --baseline must be auto or a run id, got \"" + baseline + "\"");
      return 2;
    }
    String loadTestProblem = loadTest == null ? null
        : dev.loadtest.schemas.command.Command.Metadata.loadTestIdProblem(loadTest);
    if (loadTestProblem != null) {
      err.println("loadtest: --load-test: " + loadTestProblem);
      return 2;
    }
    Options opts = new Options(runId, name, project, loadTest, out,
        dev.loadtest.schemas.time.Durations.parse(settleTimeout), method,
        baseline != null ? baseline : regressions.isEmpty() ? null : "auto", List.copyOf(regressions));
    if (api == null && System.getenv("LOADTEST_API") != null && !System.getenv("LOADTEST_API").isBlank()) {
      api = System.getenv("LOADTEST_API");
    }
    if (api != null) {
      String t = token != null ? token : System.getenv("LOADTEST_API_TOKEN");
      return follow(new ApiClient(api, t), loaded, opts, o, err).exitCode();
    }
    o.println("loadtest: starting the embedded stack for this run");
    o.flush();
    try (EmbeddedStack stack = EmbeddedStack.start("loadtest", new PrintStream(System.out, true))) {
      List<String> zones = zones(loaded.parsed(), generators);
      for (int i = 0; i < zones.size(); i++) {
        stack.addGenerator("generator-" + (i + 1), zones.get(i), plan.toAbsolutePath().getParent());
      }
      o.printf("Stack ready: %d generator(s) in %s; query API %s%n", zones.size(), new LinkedHashSet<>(zones),
          stack.apiUrl());
      o.flush();
      return follow(new ApiClient(stack.apiUrl(), stack.apiToken()), loaded, opts, o, err).exitCode();
    }
  }

  /**
   * The web app's page of run {@code id}, served by the query API at {@code apiBase} (its {@code /api/v1}
   * address): the same origin, path {@code /}.
   */
  static String appUrl(String apiBase, String id) {
    String origin = apiBase.replaceFirst("/api/v1/?$", "");
    return origin + "/#/runs/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A plan read, with env applied, and its parsed form. */
  record Loaded(ObjectNode json, TestPlan parsed, String source) {}

  /**
   * What a run is submitted with.
   *
   * @param baseline what the finished run is compared with ({@code auto} or a run id; null: not compared)
   * @param regressions the limits of that comparison (none: differences shown, not judged)
   */
  record Options(String runId, String name, String project, String loadTest, List<Path> reports,
      Duration settleTimeout, PercentileMethod percentiles, String baseline, List<String> regressions) {

    Options(String runId, String name, List<Path> reports, Duration settleTimeout, PercentileMethod percentiles) {
      this(runId, name, null, null, reports, settleTimeout, percentiles, null, List.of());
    }
  }

  /** Reads and checks {@code file}; null (after printing every error) when it is not a valid plan. */
  static Loaded load(Path file, Map<String, String> env, PrintWriter err) {
    String text;
    try {
      text = PlanText.decode(Files.readAllBytes(file));
    } catch (IOException e) {
      err.println("loadtest: cannot read the plan " + file + ": " + e.getMessage());
      err.flush();
      return null;
    } catch (InvalidPlanException e) {
      printErrors(err, file.toString(), e.errors());
      return null;
    }
    return load(text, file.toString(), env, file.toAbsolutePath().getParent(), err);
  }

  /**
   * Parses {@code text} with {@code env} over the plan's, then checks what the generators would refuse (the
   * plug-in's name and options, feeder files under {@code baseDir}), so that every plan error is found here,
   * before any generator starts; null (after printing every error) when the plan cannot run.
   */
  static Loaded load(String text, String source, Map<String, String> env, Path baseDir, PrintWriter err) {
    ObjectNode json;
    try {
      JsonNode n = JSON.readTree(text);
      if (n == null || !n.isObject()) {
        throw new IOException("the plan must be a JSON object");
      }
      json = (ObjectNode) n;
    } catch (IOException e) {
      printErrors(err, source, List.of(new PlanError("$", "not JSON: " + e.getMessage().lines().findFirst().orElse(""))));
      return null;
    }
    if (!env.isEmpty() && json.has("env") && !json.get("env").isObject()) {
      printErrors(err, source, List.of(new PlanError("$.env", "\"env\" must be an object of names to strings, got "
          + json.get("env").getNodeType().name().toLowerCase(java.util.Locale.ROOT))));
      return null;
    }
    env.forEach((k, v) -> json.with("env").put(k, v));
    try {
      TestPlan parsed = PlanParser.parse(json.toString());
      List<PlanError> errors = GeneratorPlugin.checkPlan(parsed, baseDir);
      if (!errors.isEmpty()) {
        throw new InvalidPlanException(errors);
      }
      // The plug-in's script travels in the plan: generators need not share this machine's files.
      GeneratorPlugin plugin = GeneratorPlugin.find(parsed.generator().plugin()).orElseThrow();
      String options = parsed.generator().optionsJson();
      String embedded = plugin.embedFiles(options, baseDir);
      if (!embedded.equals(options)) {
        ((ObjectNode) json.get("generator")).set("options", JSON.readTree(embedded));
        parsed = PlanParser.parse(json.toString());
      }
      return new Loaded(json, parsed, source);
    } catch (InvalidPlanException e) {
      printErrors(err, source, e.errors());
      return null;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("a plug-in embedded its files as JSON that does not read back", e);
    }
  }

  static void printErrors(PrintWriter err, String source, List<PlanError> errors) {
    err.println("loadtest: " + source + " is not a valid plan (" + errors.size() + " error" + (errors.size() == 1 ? "" : "s")
        + "):");
    for (PlanError e : errors) {
      err.println("  " + e.path() + ": " + e.message());
    }
    err.flush();
  }

  /** One generator per load zone the plan distributes to (or {@code n} in zone "local"). */
  static List<String> zones(TestPlan plan, Integer n) {
    Set<String> zones = new LinkedHashSet<>();
    plan.distribution().values().forEach(z -> zones.add(z.loadZone()));
    List<String> out = new ArrayList<>();
    if (n != null) {
      List<String> pool = zones.isEmpty() ? List.of("local") : List.copyOf(zones);
      for (int i = 0; i < n; i++) {
        out.add(pool.get(i % pool.size()));
      }
      return out;
    }
    return zones.isEmpty() ? List.of("local") : List.copyOf(zones);
  }

  /** The end of a run as the command saw it. */
  record Result(int exitCode, RunFollower.Outcome outcome) {}

  /** Submits, follows, prints the summary and writes the reports. */
  static Result follow(ApiClient client, Loaded loaded, Options opts, PrintWriter o, PrintWriter err)
      throws IOException, InterruptedException {
    String id = opts.runId() != null ? opts.runId() : "run-" + UUID.randomUUID().toString().substring(0, 8);
    ObjectNode body = JSON.createObjectNode();
    body.put("testRunId", id);
    body.set("plan", loaded.json());
    ObjectNode metadata = body.putObject("metadata").put("name", opts.name() != null ? opts.name()
        : loaded.json().path("name").asText(loaded.source())).put("who", System.getProperty("user.name", "cli"));
    if (opts.project() != null) {
      metadata.put("project", opts.project());
    }
    if (opts.loadTest() != null) {
      metadata.put("loadTest", opts.loadTest());
    }
    boolean tty = System.console() != null && System.getenv("CI") == null;
    RunFollower follower = new RunFollower(client, o, tty, tty ? Duration.ofSeconds(1) : Duration.ofSeconds(5),
        opts.settleTimeout()).percentiles(opts.percentiles());
    RunFollower.Outcome outcome;
    try {
      outcome = follower.follow(id, !loaded.parsed().thresholds().isEmpty(), () -> {
        client.post("/runs", body.toString());
        o.printf("Run %s of %s submitted to %s%nWatch it live: %s%n", id, loaded.source(), client.base(),
            appUrl(client.base(), id));
        o.flush();
      });
    } catch (ApiClient.ApiError e) {
      if (e.status() == 400 && e.body().has("errors")) {
        List<PlanError> errors = new ArrayList<>();
        e.body().path("errors").forEach(x -> errors.add(new PlanError(x.path("path").asText("$"), x.path("message")
            .asText(x.toString()))));
        printErrors(err, loaded.source(), errors);
        return new Result(104, null);
      }
      throw e;
    }
    int code = outcome.exitCode();
    JsonNode insights = null;
    if (outcome.summary() != null) {
      o.print(SummaryText.render(outcome.summary(), outcome));
      insights = RunInsights.await(client, id, Duration.ofSeconds(15));
      o.print(RunInsights.render(insights, outcome.summary().path("from").asLong()));
    }
    if (!outcome.complete()) {
      o.println("  warning: the results are incomplete: " + outcome.incompleteWhy());
    }
    if (outcome.degraded() != null) {
      o.println("  DEGRADED: " + outcome.degraded());
    }
    long failedIterations = outcome.totals().path("failedIterations").asLong();
    if (failedIterations > 0) {
      o.printf("  warning: %d of %d iterations failed for a reason of the plan or a generator, not of the system"
          + " under test (they made no request):%n", failedIterations, outcome.totals().path("iterations").asLong());
      outcome.totals().path("iterationErrors").forEach(e -> o.println("    " + e.asText()));
    }
    RegressionGate gate = null;
    if (opts.baseline() != null) {
      if (outcome.status().equals("FINISHED") && outcome.complete()) {
        try {
          gate = RegressionGate.check(client, id, opts.baseline(), opts.regressions());
          o.print(gate.render());
        } catch (IOException e) {
          err.println("loadtest: " + e.getMessage());
          err.flush();
          code = code == 0 ? 1 : code;
        }
      } else {
        o.printf("%n  regression gate: not checked: the run %s%n", outcome.complete() ? "ended " + outcome.status()
            : "has incomplete results");
      }
    }
    if (outcome.summary() != null && outcome.status().equals("FINISHED")) {
      String project = opts.project() != null ? opts.project() : "";
      String runName = metadata.path("name").asText();
      String testId = opts.loadTest() != null ? opts.loadTest()
          : dev.loadtest.api.store.LoadTestStore.loadTestId(project, runName);
      try {
        o.print(LoadTestTrend.read(client, testId, runName, id, outcome.summary()).render(
            client.base().replaceFirst("/api/v1/?$", "") + "/#/load-tests/" + ApiClient.enc(testId)));
      } catch (IOException e) {
        o.println("  load test trend: not shown: " + e.getMessage()); // the run's own results stand
      }
    }
    boolean regressed = gate != null && gate.regressed();
    if (regressed && code == 0) {
      code = 99;
    }
    for (Path p : opts.reports()) {
      String what = Reports.write(p, outcome, code, client, gate, insights);
      o.printf("  report: %s (%s)%n", p, what);
    }
    o.printf("%n%s (exit code %d)%n", switch (code) {
      case 0 -> "All thresholds passed.";
      case RunFollower.INCOMPLETE -> "The results are incomplete, so the run is not judged: " + outcome.incompleteWhy();
      case 99 -> outcome.exitCode() == 99 ? "Some thresholds failed: " + String.join(", ",
          names(outcome.verdict().path("failed"), outcome.verdict().path("noData"))) + (regressed
          ? "; and a regression limit was exceeded: " + exceeded(gate) : "")
          : "A regression limit was exceeded against run " + gate.baseline() + ": " + exceeded(gate);
      case 105 -> "The run was aborted: " + outcome.reason();
      case 108 -> "The run was aborted by a threshold: " + outcome.reason();
      default -> "The run ended " + outcome.status() + ": " + outcome.reason();
    }, code);
    o.flush();
    return new Result(code, outcome);
  }

  static String exceeded(RegressionGate gate) {
    List<String> out = new ArrayList<>();
    gate.checks().forEach(c -> {
      if (c.path("state").asText().equals("EXCEEDED")) {
        out.add(c.path("regression").asText());
      }
    });
    return String.join(", ", out);
  }

  static List<String> names(JsonNode... lists) {
    List<String> out = new ArrayList<>();
    for (JsonNode l : lists) {
      l.forEach(x -> out.add(x.asText()));
    }
    return out;
  }
}
