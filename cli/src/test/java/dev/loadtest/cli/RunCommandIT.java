package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.cli.shop.DemoShop;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * `loadtest run PLAN --api URL` against one running embedded stack (as `loadtest up` starts it) with a
 * generator and the demo shop: the exit codes of DESIGN.md from real verdicts (99 failed threshold, 104
 * invalid plan with every error, 108 aborted by a threshold) and the JUnit report of a failure.
 */
@Timeout(600)
class RunCommandIT {
  static EmbeddedStack stack;
  static DemoShop shop;

  @BeforeAll
  static void start() throws Exception {
    shop = DemoShop.start("127.0.0.1", 0, new DemoShop.Faults(Duration.ofMillis(5), 0, 256));
    // Loopback's 127.0.0.1-12 as target hosts: a plan that spreads over many hosts (third-party-hosts insight).
    java.util.List<String> hosts = new java.util.ArrayList<>(dev.loadtest.topology.CoordinatorConfig.DEFAULT_ALLOWED_HOSTS);
    for (int i = 2; i <= 12; i++) {
      hosts.add("127.0.0." + i);
    }
    stack = EmbeddedStack.start("run_it", new PrintStream(System.out, true), new dev.loadtest.topology.CoordinatorConfig(
        hosts, dev.loadtest.topology.CoordinatorConfig.DEFAULT_MAX_COMMAND_BYTES));
    stack.addGenerator("run-it-generator", "local", Path.of("."));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
    if (shop != null) {
      shop.close();
    }
  }

  static CliRun run(Path plan, String... more) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("run", plan.toString(), "--api",
        stack.apiUrl(), "--token", stack.apiToken()));
    args.addAll(java.util.List.of(more));
    return CliRun.of(args.toArray(String[]::new));
  }

  static Path plan(Path dir, String thresholds, String duration) throws Exception {
    Path p = dir.resolve("plan.json");
    Files.writeString(p, """
        {"name": "products probe", "env": {"BASE_URL": "%s"},
         "scenarios": {"probe": {"executor": "constant-arrival-rate", "rate": 40, "timeUnit": "1s",
           "duration": "%s", "preAllocatedVUs": 5, "maxVUs": 40, "exec": "products"}},
         "thresholds": %s,
         "flows": {"products": {"steps": [{"request": {"url": "${ENV.BASE_URL}/api/products", "name": "products",
           "checks": [{"status": 200}]}}]}}}
        """.formatted(shop.url(), duration, thresholds));
    return p;
  }

  @Test
  void aFailingThresholdExits99AndTheJUnitReportSaysWhich(@TempDir Path dir) throws Exception {
    // the shop answers in about 5 ms: no p(95) is under 1 ms
    CliRun r = run(plan(dir, "{\"http_req_duration\": [\"p(95)<1\", \"p(99)<5000\"]}", "6s"), "-o",
        dir.resolve("junit.xml").toString());
    assertEquals(99, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("✗ 'p(95)<1'") && r.out().contains("✓ 'p(99)<5000'"), r.out());
    assertTrue(r.out().contains("Some thresholds failed: http_req_duration: p(95)<1 (exit code 99)"), r.out());
    // the generator reports the distinct hosts it requested (the insight third-party-hosts reads them)
    assertTrue(r.out().matches("(?s).*generator_hosts\\.+: 1\\s+min=1 max=1.*"), r.out());
    Document junit = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("junit.xml").toFile());
    assertEquals("3", junit.getDocumentElement().getAttribute("tests"), "2 thresholds and the run's end");
    assertEquals("1", junit.getDocumentElement().getAttribute("failures"));
    String failure = junit.getElementsByTagName("failure").item(0).getAttributes().getNamedItem("message").getNodeValue();
    assertTrue(failure.startsWith("threshold p(95)<1 failed on http_req_duration: value "), failure);
  }

  static Path syntheticPlan(Path dir, String file, int medianMs) throws Exception {
    Path p = dir.resolve(file);
    Files.writeString(p, """
        {"name": "gated journey",
         "generator": {"plugin": "synthetic", "options": {"rate": 1000, "duration": "3s", "names": 2,
           "latency": {"median": "%dms", "p99": "%dms"}, "statusMix": {"200": 1}}},
         "scenarios": {"unused": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "none"}},
         "thresholds": {"http_req_failed": ["rate<0.5"]},
         "flows": {"none": {"steps": [{"think": "1s"}]}}}
        """.formatted(medianMs, medianMs * 4));
    return p;
  }

  static String runIdOf(CliRun r) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("Run (\\S+) of ").matcher(r.out());
    assertTrue(m.find(), r.out());
    return m.group(1);
  }

  @Test
  void aRunThatExceedsARegressionLimitAgainstItsBaselineExits99AndTheJUnitReportSaysWhich(@TempDir Path dir)
      throws Exception {
    String project = "gate-" + java.util.UUID.randomUUID().toString().substring(0, 6);
    CliRun typo = run(syntheticPlan(dir, "a.json", 20), "--project", project, "--regression", "http_req_duration p(95) 10%");
    assertEquals(2, typo.code(), typo.out() + typo.err());
    assertTrue(typo.err().contains("--regression: ") && !typo.out().contains("submitted"), typo.out() + typo.err());

    CliRun first = run(syntheticPlan(dir, "a.json", 20), "--project", project, "--regression",
        "http_req_duration: p(95) +10%");
    assertEquals(0, first.code(), first.out() + first.err());
    assertTrue(first.out().contains("regression gate: not checked") && first.out().contains("nothing to compare with yet"),
        first.out());
    String baseline = runIdOf(first);
    HttpResponse<String> marked = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.apiUrl()
        + "/runs/" + baseline + "/baseline")).header("Authorization", "Bearer " + stack.apiToken())
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, marked.statusCode(), marked.body());

    CliRun similar = run(syntheticPlan(dir, "b.json", 21), "--project", project, "--regression",
        "http_req_duration: p(95) +50%");
    assertEquals(0, similar.code(), similar.out() + similar.err());
    assertTrue(similar.out().contains("compared with run " + baseline + " (the load test's baseline)")
        && similar.out().contains("✓ http_req_duration: p(95) +50%"), similar.out());

    CliRun slower = run(syntheticPlan(dir, "c.json", 60), "--project", project, "--regression",
        "http_req_duration: p(95) +10%", "--regression", "http_req_failed: rate +1pp", "-o",
        dir.resolve("junit.xml").toString());
    assertEquals(99, slower.code(), slower.out() + slower.err());
    assertTrue(slower.out().contains("✗ http_req_duration: p(95) +10%") && slower.out().contains("✓ http_req_failed:"
        + " rate +1pp"), slower.out());
    assertTrue(slower.out().contains("A regression limit was exceeded against run " + baseline
        + ": http_req_duration: p(95) +10% (exit code 99)"), slower.out());
    Document junit = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("junit.xml").toFile());
    assertEquals("4", junit.getDocumentElement().getAttribute("tests"), "a threshold, two limits and the run's end");
    assertEquals("1", junit.getDocumentElement().getAttribute("failures"));
    org.w3c.dom.Element failure = (org.w3c.dom.Element) junit.getElementsByTagName("failure").item(0);
    assertEquals("regression", failure.getAttribute("type"));
    assertTrue(failure.getAttribute("message").startsWith("http_req_duration p(95) went from "), failure.getAttribute(
        "message"));
  }

  @Test
  void runsOfTwoPlanNamesAreOneLoadTestByAnExplicitIdAndAreGatedAgainstEachOther(@TempDir Path dir) throws Exception {
    String loadTest = "renamed-" + java.util.UUID.randomUUID().toString().substring(0, 6);
    CliRun bad = run(syntheticPlan(dir, "a.json", 20), "--load-test", "lt-0123456789abcdef");
    assertEquals(2, bad.code(), bad.out() + bad.err());
    assertTrue(bad.err().contains("--load-test: ") && !bad.out().contains("submitted"), bad.out() + bad.err());
    CliRun first = run(syntheticPlan(dir, "a.json", 20), "--load-test", loadTest, "--name", "checkout (old name)");
    assertEquals(0, first.code(), first.out() + first.err());
    CliRun second = run(syntheticPlan(dir, "b.json", 20), "--load-test", loadTest, "--name", "checkout",
        "--regression", "http_req_duration: p(95) +50%");
    assertEquals(0, second.code(), second.out() + second.err());
    assertTrue(second.out().contains("compared with run " + runIdOf(first)), second.out());
    // it closes with the load test's trend: the earlier run's numbers, then its own
    assertTrue(second.out().contains("█ LOAD TEST checkout (" + loadTest + ")")
        && second.out().matches("(?s).*p\\(95\\)\\s+\\d+\\.\\d+ms → \\d+\\.\\d+ms\n.*")
        && second.out().contains("#/load-tests/" + loadTest), second.out());
    com.fasterxml.jackson.databind.JsonNode test = apiGet("/load-tests/" + loadTest);
    assertEquals(2, test.path("runs").size(), test.toString());
    assertEquals("checkout", test.path("name").asText(), "the newest run's name");
    assertEquals(runIdOf(second), test.path("runs").get(0).path("testRunId").asText());
  }

  static com.fasterxml.jackson.databind.JsonNode apiGet(String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.apiUrl() + path))
        .header("Authorization", "Bearer " + stack.apiToken()).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() == 200 ? new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()) : null;
  }

  static Path syntheticPlan(Path dir, String file, String options, String more) throws Exception {
    Path p = dir.resolve(file);
    Files.writeString(p, """
        {"name": "%s", "generator": {"plugin": "synthetic", "options": %s},
         "scenarios": {"unused": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "none"}},
         %s "flows": {"none": {"steps": [{"think": "1s"}]}}}
        """.formatted(file, options, more));
    return p;
  }

  @Test
  void insightsAreRaisedWhileTheRunGoesAndShownInItsSummary(@TempDir Path dir) throws Exception {
    // A system that degrades: 600 names, VUs rising over a flat rate, failures from 1% to 30% after 25 s.
    Path plan = syntheticPlan(dir, "degrading.json", """
        {"rate": 400, "duration": "45s", "names": 600, "statusMix": {"200": 0.99, "500": 0.01},
         "phases": [{"after": "25s", "statusMix": {"200": 0.7, "500": 0.3}}], "vus": {"from": 10, "to": 60}}""",
        // this machine runs the whole stack beside the generator: its CPU may be high for 10 s, which is not this test's
        "\"insights\": {\"disabled\": [\"high-generator-cpu\"]},");
    String id = "insights-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    // each readable while the run went, within seconds of the end of the data that triggered it
    CliRun r = runWatched(plan, id, java.util.Set.of("too-many-urls", "throughput-limit", "increased-failure-rate"),
        "-o", dir.resolve("summary.json").toString());
    assertEquals(0, r.code(), r.out() + r.err());
    com.fasterxml.jackson.databind.JsonNode answer = apiGet("/runs/" + id + "/insights");
    assertTrue(answer.path("complete").asBoolean(), answer.toString());
    java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> byRule = new java.util.TreeMap<>();
    answer.path("insights").forEach(i -> byRule.put(i.path("rule").asText(), i));
    assertEquals(java.util.Set.of("too-many-urls", "throughput-limit", "increased-failure-rate"), byRule.keySet(),
        answer.toString());
    com.fasterxml.jackson.databind.JsonNode increased = byRule.get("increased-failure-rate");
    assertTrue(increased.path("values").path("failureRate").asDouble() > 0.15
        && increased.path("values").path("beginningFailureRate").asDouble() < 0.05, increased.toString());
    assertTrue(byRule.get("too-many-urls").path("values").path("names").asDouble() > 500);
    assertTrue(byRule.get("throughput-limit").path("values").path("vusTo").asDouble()
        > byRule.get("throughput-limit").path("values").path("vusFrom").asDouble());
    assertTrue(r.out().contains("PERFORMANCE INSIGHTS") && r.out().contains("Increased failure rate ("
        + "increased-failure-rate, "), r.out());
    com.fasterxml.jackson.databind.JsonNode summary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        dir.resolve("summary.json").toFile());
    assertEquals(3, summary.path("insights").size(), summary.path("insights").toString());
  }

  /**
   * {@code plan} run as {@code id} while its insights are watched: each of {@code rules} must be raised and
   * readable in the API within 15 s of the end of the data that triggered it (printed: the README's figures).
   */
  static CliRun runWatched(Path plan, String id, java.util.Set<String> rules, String... more) throws Exception {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--run-id", id));
    args.addAll(java.util.List.of(more));
    CliRun r;
    java.util.Map<String, Long> seenAt;
    try (InsightWatch watch = new InsightWatch(id)) {
      r = run(plan, args.toArray(String[]::new));
      seenAt = watch.seenAt;
    }
    com.fasterxml.jackson.databind.JsonNode answer = apiGet("/runs/" + id + "/insights");
    for (String rule : rules) {
      com.fasterxml.jackson.databind.JsonNode i = null;
      for (com.fasterxml.jackson.databind.JsonNode x : answer.path("insights")) {
        i = x.path("rule").asText().equals(rule) ? x : i;
      }
      assertTrue(i != null, rule + " raised: " + answer);
      long latency = seenAt.getOrDefault(rule, Long.MAX_VALUE) - i.path("to").asLong();
      System.out.printf("insight %s: readable %d ms after its trigger (raised by the job %d ms after it)%n", rule,
          latency, i.path("raisedAt").asLong() - i.path("to").asLong());
      assertTrue(latency < 15_000, rule + " appeared " + latency + " ms after its trigger");
    }
    return r;
  }

  /** Polls a run's insights while it goes, noting when each rule was first readable in the API. */
  static final class InsightWatch implements AutoCloseable {
    final java.util.Map<String, Long> seenAt = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean(true);
    private final Thread poller;

    private final String run;

    InsightWatch(String run) {
      this.run = run;
      poller = Thread.ofVirtual().start(() -> {
        while (watching.get()) {
          try {
            com.fasterxml.jackson.databind.JsonNode n = apiGet("/runs/" + run + "/insights");
            long now = System.currentTimeMillis();
            if (n != null) {
              n.path("insights").forEach(i -> seenAt.putIfAbsent(i.path("rule").asText(), now));
            }
            Thread.sleep(250); // a reader's polling interval: the latency is measured to within it
          } catch (Exception e) {
            return;
          }
        }
      });
    }

    @Override
    public void close() throws Exception {
      watching.set(false);
      poller.join();
      // once more: what came after the last poll is readable now at the latest
      com.fasterxml.jackson.databind.JsonNode n = apiGet("/runs/" + run + "/insights");
      long now = System.currentTimeMillis();
      if (n != null) {
        n.path("insights").forEach(i -> seenAt.putIfAbsent(i.path("rule").asText(), now));
      }
    }
  }

  @Test
  void aGeneratorProcessAtFullCpuAndHeapIsNamedByBothGeneratorInsights(@TempDir Path dir) throws Exception {
    // A generator of its own (a JVM with a 192 MB heap, zone local:heavy) whose synthetic run keeps its cores
    // busy and holds 88% of its heap, as a costly script would: its own gauges must raise both insights.
    String javaCommand = ProcessHandle.current().info().command().orElseThrow();
    Path log = dir.resolve("heavy-generator.log");
    Process generator = new ProcessBuilder(javaCommand, "-Xmx192m", "-Djava.net.preferIPv4Stack=true",
        "-cp", System.getProperty("java.class.path"), "dev.loadtest.cli.LoadtestCli", "generator", "--bootstrap",
        stack.kafkaBootstrap(), "--zone", "local:heavy", "--id", "heavy-generator", "--warm-up", "0")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Path plan = syntheticPlan(dir, "heavy.json", """
          {"rate": 200, "duration": "30s", "names": 3, "load": {"cpu": 1, "heap": 0.88}}""",
          "\"distribution\": {\"heavy\": {\"loadZone\": \"local:heavy\", \"percent\": 100}},");
      String id = "heavy-" + java.util.UUID.randomUUID().toString().substring(0, 8);
      CliRun r = runWatched(plan, id, java.util.Set.of("high-generator-cpu", "high-generator-memory"));
      assertEquals(0, r.code(), r.out() + r.err() + Files.readString(log));
      com.fasterxml.jackson.databind.JsonNode answer = apiGet("/runs/" + id + "/insights");
      java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> byRule = new java.util.TreeMap<>();
      answer.path("insights").forEach(i -> byRule.put(i.path("rule").asText(), i));
      assertEquals(java.util.Set.of("high-generator-cpu", "high-generator-memory"), byRule.keySet(), answer.toString());
      for (var e : byRule.entrySet()) {
        assertEquals("heavy-generator", e.getValue().path("subject").asText(), e.getValue().toString());
        assertTrue(e.getValue().path("to").asLong() - e.getValue().path("from").asLong() >= 10_000,
            "10 s in a row above 80%: " + e.getValue());
      }
      assertTrue(r.out().contains("(high-generator-cpu, ") && r.out().contains("(high-generator-memory, ")
          && r.out().contains("heavy-generator"), r.out());
    } finally {
      generator.destroy(); // as Ctrl-C: it leaves (a tombstone on loadtest.generators), so no later run goes to it
      if (!generator.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        generator.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void aRunOfFewNamesButManySeriesHasTooManyTimeSeries(@TempDir Path dir) throws Exception {
    // 400 names (under the names rule's 500) x 10 statuses x 11 metrics: about 44,000 series, past 80% of 50,000.
    StringBuilder mix = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      mix.append(i == 0 ? "" : ", ").append("\"").append(200 + i).append("\": 0.1");
    }
    Path plan = syntheticPlan(dir, "series.json", """
        {"rate": 3000, "duration": "12s", "names": 400, "statusMix": {%s}}""".formatted(mix),
        "\"insights\": {\"disabled\": [\"high-generator-cpu\"]},");
    String id = "series-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    CliRun r = runWatched(plan, id, java.util.Set.of("too-many-urls"));
    assertEquals(0, r.code(), r.out() + r.err());
    com.fasterxml.jackson.databind.JsonNode i = apiGet("/runs/" + id + "/insights").path("insights").get(0);
    assertEquals("series", i.path("subject").asText(), i.toString());
    assertTrue(i.path("values").path("series").asDouble() >= 40_000, i.toString());
    assertTrue(r.out().contains("Too many time series (too-many-urls, "), r.out());
  }

  @Test
  void requestsToTwelveHostsAreThirdPartyContent(@TempDir Path dir) throws Exception {
    // The shop on 127.0.0.1 and eleven more loopback addresses where nothing listens (refused at once).
    StringBuilder steps = new StringBuilder();
    int port = URI.create(shop.url()).getPort();
    for (int i = 1; i <= 12; i++) {
      steps.append(i == 1 ? "" : ", ").append("{\"request\": {\"url\": \"http://127.0.0.").append(i).append(":")
          .append(port).append("/api/products\", \"name\": \"host-").append(i).append("\"}}");
    }
    Path plan = dir.resolve("hosts.json");
    Files.writeString(plan, """
        {"name": "many hosts",
         "scenarios": {"s": {"executor": "constant-arrival-rate", "rate": 5, "timeUnit": "1s", "duration": "3s",
           "preAllocatedVUs": 5, "maxVUs": 10, "exec": "f"}},
         "flows": {"f": {"steps": [%s]}}}""".formatted(steps));
    CliRun r = runWatched(plan, "hosts-" + java.util.UUID.randomUUID().toString().substring(0, 8),
        java.util.Set.of("third-party-hosts"));
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("Third-party content (third-party-hosts, ") && r.out().contains(
        "requests went to 12 distinct hosts"), r.out());
  }

  @Test
  void aRunBrokenFromTheStartOrTooShortIsToldSoAndAPlanCanSilenceARule(@TempDir Path dir) throws Exception {
    CliRun broken = runWatched(syntheticPlan(dir, "broken.json", """
        {"rate": 100, "duration": "8s", "names": 3, "statusMix": {"200": 0.6, "503": 0.4}}""", ""),
        "broken-" + java.util.UUID.randomUUID().toString().substring(0, 8), java.util.Set.of("high-failure-rate-early"));
    assertEquals(0, broken.code(), broken.out() + broken.err());
    assertTrue(broken.out().contains("High failure rate early in the run (high-failure-rate-early, "), broken.out());
    CliRun tiny = runWatched(syntheticPlan(dir, "tiny.json", """
        {"rate": 20, "duration": "2s", "names": 3}""", ""), "tiny-" + java.util.UUID.randomUUID().toString()
        .substring(0, 8), java.util.Set.of("not-enough-data"));
    assertTrue(tiny.out().contains("Not enough data (not-enough-data, ") && tiny.out().contains("the run made 40 requests"),
        tiny.out());
    CliRun quiet = run(syntheticPlan(dir, "quiet.json", """
        {"rate": 20, "duration": "2s", "names": 3}""", "\"insights\": {\"disabled\": [\"not-enough-data\"]},"));
    assertTrue(quiet.out().contains("none: no rule found anything to say")
        && quiet.out().contains("(disabled by the plan: not-enough-data)"), quiet.out());
    CliRun typo = run(syntheticPlan(dir, "typo.json", """
        {"rate": 20, "duration": "2s", "names": 3}""", "\"insights\": {\"disabled\": [\"not-enough-dta\"]},"));
    assertEquals(104, typo.code());
    assertTrue(typo.err().contains("$.insights.disabled[0]: unknown insight \"not-enough-dta\""), typo.err());
  }

  @Test
  void aScheduleStartsItsRunsThroughTheCoordinatorAndIsDeletedThroughTheApi() throws Exception {
    String id = "sched-" + java.util.UUID.randomUUID().toString().substring(0, 6);
    String startsAt = java.time.Instant.now().plusSeconds(3).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
        .toString();
    String body = """
        {"scheduleId": "%s", "recurrence": {"frequency": "hourly", "interval": 1, "startsAt": "%s"},
         "metadata": {"name": "hourly probe", "project": "sched"},
         "plan": {"name": "hourly probe", "env": {"TOKEN": "secret-value"},
           "generator": {"plugin": "synthetic", "options": {"rate": 50, "duration": "2s", "names": 2}},
           "scenarios": {"unused": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "none"}},
           "flows": {"none": {"steps": [{"think": "1s"}]}}}}""".formatted(id, startsAt);
    HttpResponse<String> sent = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.apiUrl()
        + "/schedules")).header("Authorization", "Bearer " + stack.apiToken()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, sent.statusCode(), sent.body());
    long deadline = System.nanoTime() + 60_000_000_000L;
    com.fasterxml.jackson.databind.JsonNode schedule = null;
    while (schedule == null || schedule.path("lastRunId").isNull()) {
      assertTrue(System.nanoTime() < deadline, "the schedule did not start its run: " + schedule);
      Thread.sleep(200);
      schedule = apiGet("/schedules/" + id);
    }
    assertTrue(schedule.path("rule").asText().startsWith("hourly every 1 from "), schedule.toString());
    assertEquals("<redacted>", schedule.path("plan").path("env").path("TOKEN").asText(), "env values are not shown");
    assertEquals("started", schedule.path("history").get(0).path("action").asText());
    String run = schedule.path("lastRunId").asText();
    assertTrue(run.startsWith(id + "-"), run);
    com.fasterxml.jackson.databind.JsonNode state = null;
    while (state == null || !state.path("status").asText().equals("FINISHED")) {
      assertTrue(System.nanoTime() < deadline, "the scheduled run did not finish: " + state);
      Thread.sleep(200);
      state = apiGet("/runs/" + run);
    }
    assertEquals(id, state.path("metadata").path("tags").path("schedule").asText(), state.path("metadata").toString());
    assertTrue(schedule.path("nextAt").asLong() > java.time.Instant.parse(startsAt).toEpochMilli() + 3_500_000L,
        "the next start is an hour on");

    HttpResponse<String> bad = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.apiUrl()
        + "/schedules")).header("Authorization", "Bearer " + stack.apiToken()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"plan\": {}, \"cron\": \"0 25 * * *\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("$.cron") && bad.body().contains("the hour 25 is outside 0-23"), bad.body());

    HttpResponse<String> deleted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.apiUrl()
        + "/schedules/" + id)).header("Authorization", "Bearer " + stack.apiToken()).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, deleted.statusCode(), deleted.body());
    while (apiGet("/schedules/" + id) != null) {
      assertTrue(System.nanoTime() < deadline, "the schedule was not deleted");
      Thread.sleep(200);
    }
  }

  static CliRun replay(String runId, String... more) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("replay", runId, "--bootstrap",
        stack.kafkaBootstrap(), "--clickhouse-url", stack.clickHouseUri().toString(), "--clickhouse-user",
        stack.clickHouseUser(), "--clickhouse-password", stack.clickHousePassword(), "--database", "run_it"));
    args.addAll(java.util.List.of(more));
    return CliRun.of(args.toArray(String[]::new));
  }

  @Test
  void aReplayReachesTheRunsVerdictWithItsThresholdsAndAnotherWithOthers(@TempDir Path dir) throws Exception {
    String runId = "replayed-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    CliRun r = run(plan(dir, "{\"http_req_duration\": [\"p(95)<1\"], \"http_req_failed\": [\"rate<0.5\"]}", "5s"),
        "--run-id", runId);
    assertEquals(99, r.code(), r.out() + r.err());
    long requests = Long.parseLong(r.out().replaceAll("(?s).*http_reqs\\.*?: (\\d+) .*", "$1"));

    // The plan's own thresholds: the same verdict as the live run, every request counted again.
    CliRun same = replay(runId, "--analysis", "same", "--api", stack.apiUrl(), "--token", stack.apiToken());
    assertEquals(99, same.code(), same.out() + same.err());
    assertTrue(same.out().contains("✗ 'p(95)<1'") && same.out().contains("✓ 'rate<0.5'"), same.out());
    assertTrue(same.out().matches("(?s).*http_reqs\\.*?: " + requests + " .*"), "the replay counts the run's "
        + requests + " requests: " + same.out());

    // Other thresholds, read through an API the command starts itself; the reports are the analysis's.
    Path lenient = dir.resolve("lenient.json");
    Files.writeString(lenient, "{\"http_req_duration{name:products}\": [\"p(95)<5000\"], \"http_reqs\": [\"count==" + requests
        + "\"]}");
    CliRun other = replay(runId, "--analysis", "lenient", "--thresholds", lenient.toString(), "-o",
        dir.resolve("replay.xml").toString());
    assertEquals(0, other.code(), other.out() + other.err());
    assertTrue(other.out().contains("✓ 'p(95)<5000'") && other.out().contains("✓ 'count==" + requests + "'"), other.out());
    assertTrue(!other.out().contains("p(95)<1'"), "the plan's thresholds are not judged: " + other.out());
    Document junit = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("replay.xml").toFile());
    assertEquals("0", junit.getDocumentElement().getAttribute("failures"));

    // A time range: the first 2 s of the run hold fewer requests than the whole.
    CliRun firstSeconds = replay(runId, "--analysis", "first-2s", "--to", "2s", "--thresholds", lenient.toString());
    assertEquals(99, firstSeconds.code(), "count==" + requests + " fails on part of the run: " + firstSeconds.out());

    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"http_req_duration\": [\"p(95)<<1\"]}");
    CliRun invalid = replay(runId, "--thresholds", bad.toString());
    assertEquals(104, invalid.code(), invalid.out() + invalid.err());
    assertTrue(invalid.err().contains("$.thresholds.http_req_duration[0]"), invalid.err());
    CliRun missing = replay("no-such-run");
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("no run no-such-run in database run_it"), missing.err());
  }

  @Test
  void anInvalidPlanExits104WithEveryErrorAndItsPath(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("bad.json");
    Files.writeString(p, """
        {"scenarios": {"s": {"executor": "constant-vus", "vus": 0, "duration": "10s", "exec": "nope"}},
         "thresholds": {"http_req_duration": ["p(95)<<500"]},
         "flows": {"f": {"steps": [{"request": {"url": "http://127.0.0.1:1/"}}]}}}
        """);
    CliRun r = run(p);
    assertEquals(104, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("is not a valid plan ("), r.err());
    assertTrue(r.err().contains("$.scenarios.s.vus"), r.err());
    assertTrue(r.err().contains("$.scenarios.s.exec"), r.err());
    assertTrue(r.err().contains("$.thresholds.http_req_duration[0]"), r.err());
    assertTrue(r.out().isEmpty(), "nothing submitted: " + r.out());

    Files.writeString(p, "{\"scenarios\": ");
    CliRun notJson = run(p);
    assertEquals(104, notJson.code());
    assertTrue(notJson.err().contains("$: not JSON"), notJson.err());
  }

  @Test
  void aThresholdWithAbortOnFailAbortsTheRunAndExits108(@TempDir Path dir) throws Exception {
    shop.faults(new DemoShop.Faults(Duration.ofMillis(5), 0.5, 256));
    try {
      long t0 = System.nanoTime();
      CliRun r = run(plan(dir, "{\"http_req_failed\": [{\"threshold\": \"rate<0.1\", \"abortOnFail\": true,"
          + " \"delayAbortEval\": \"2s\"}]}", "60s"), "-o", dir.resolve("summary.json").toString());
      assertEquals(108, r.code(), r.out() + r.err());
      assertTrue(r.out().contains("The run was aborted by a threshold"), r.out());
      assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(55).toNanos(), "aborted long before its 60 s");
      String summary = Files.readString(dir.resolve("summary.json"));
      assertTrue(summary.contains("\"exitCode\" : 108") && summary.contains("\"abortSource\" : \"threshold\""), summary);
    } finally {
      shop.faults(new DemoShop.Faults(Duration.ofMillis(5), 0, 256));
    }
  }

  /**
   * A user Trend that goes below zero, as k6 allows ({@code new Trend('balance_change')}), judged by
   * thresholds on min, max, avg and both percentile methods, and shown as it is in the summary.
   */
  @Test
  void aUserTrendBelowZeroIsJudgedAndShownAsK6Would(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("balance.json");
    Files.writeString(p, """
        {"name": "balance", "metrics": {"balance_change": "trend"},
         "scenarios": {"pay": {"executor": "per-vu-iterations", "vus": 1, "iterations": 1, "exec": "pay"}},
         "thresholds": {"balance_change": ["min==-20", "max==-10", "avg==-15", "p(95)<=-9.9", "p(95)>=-10.1"]},
         "flows": {"pay": {"steps": [{"metric": {"name": "balance_change", "value": -10}},
                                     {"metric": {"name": "balance_change", "value": -20}}]}}}
        """);
    CliRun r = run(p);
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("✓ 'min==-20' min=-20") && r.out().contains("✓ 'max==-10' max=-10")
        && r.out().contains("✓ 'avg==-15' avg=-15"), r.out());
    assertTrue(r.out().matches("(?s).*balance_change\\.*?: avg=-15 .*min=-20 .*max=-10 .*"), r.out());
    CliRun k6 = run(p, "--percentiles", "k6");
    assertEquals(0, k6.code(), k6.out() + k6.err());
    double p95 = Double.parseDouble(k6.out().replaceAll("(?s).*balance_change\\.*?: .*?p\\(95\\)=(-[0-9.]+).*", "$1"));
    assertEquals(-10.5, p95, 10.5 / 128, "k6's p(95) of -10, -20, interpolated: " + k6.out());
  }

  /**
   * Iterations that fail for a reason of the plan (a variable no extraction set) make no request: the run
   * says so while it runs and at its end, never a quiet run that looks like an idle one.
   */
  @Test
  void iterationsThatFailForAReasonOfThePlanAreReportedNotSilent(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("broken.json");
    Files.writeString(p, """
        {"name": "broken journey", "env": {"BASE_URL": "%s"},
         "scenarios": {"journey": {"executor": "constant-vus", "vus": 2, "duration": "3s", "exec": "journey"}},
         "flows": {"journey": {"steps": [
           {"request": {"url": "${ENV.BASE_URL}/api/products", "name": "products",
                        "extract": [{"var": "cart", "header": "X-No-Such-Header"}]}},
           {"think": "100ms"},
           {"request": {"url": "${ENV.BASE_URL}/api/cart/${cart}", "name": "cart"}}]}}}
        """.formatted(shop.url()));
    CliRun r = run(p, "--run-id", "broken-" + java.util.UUID.randomUUID().toString().substring(0, 8));
    assertEquals(0, r.code(), "no thresholds: the run itself is not judged, as in k6: " + r.out() + r.err());
    assertTrue(r.out().contains("WARNING: iterations fail on generator run-it-generator (the plan's or the"
        + " generator's fault, not the system under test's): scenario journey: ${cart}: the VU has no variable"
        + " cart"), "said while the run runs: " + r.out());
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("warning: (\\d+) of (\\d+) iterations failed for a"
        + " reason of the plan or a generator").matcher(r.out());
    assertTrue(m.find(), "said at the end: " + r.out());
    assertTrue(Long.parseLong(m.group(1)) > 0 && m.group(1).equals(m.group(2)), "every iteration failed: " + m.group());
    long products = Long.parseLong(r.out().replaceAll("(?s).*http_reqs\\.*?: (\\d+) .*", "$1"));
    assertEquals(Long.parseLong(m.group(2)), products, "each iteration made its first request, none its second");
  }
}
