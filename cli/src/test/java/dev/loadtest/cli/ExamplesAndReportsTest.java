package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.cli.follow.RunFollower;
import dev.loadtest.cli.follow.SummaryText;
import dev.loadtest.cli.report.Reports;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** The examples are valid plans; the demo's scaling; reports and summary text from a given outcome. */
class ExamplesAndReportsTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyExampleIsAValidPlan() throws Exception {
    List<Path> examples;
    try (Stream<Path> s = Files.walk(Path.of("..", "examples"))) {
      examples = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertTrue(examples.size() >= 8, examples.toString());
    for (Path p : examples) {
      TestPlan plan = PlanParser.parse(Files.readString(p)); // throws, listing the errors, when invalid
      boolean tool = List.of("jmeter", "locust", "gatling").contains(plan.generator().plugin());
      assertEquals(tool, plan.scenarios().isEmpty(), p + ": a tool's script sizes its own load, a plan's scenarios do");
      // every file a plan names is there, and its plug-in finds nothing wrong with it
      assertEquals(List.of(), dev.loadtest.generator.plugin.GeneratorPlugin.checkPlan(plan, p.getParent()), p.toString());
    }
  }

  @Test
  void theDemoScalesEveryScenarioTimelineByOneFactor() throws Exception {
    ObjectNode plan = (ObjectNode) JSON.readTree(Files.readString(Path.of("..", "examples", "checkout.json")));
    DemoCommand.scaleTo(plan, Duration.ofSeconds(30));
    JsonNode shoppers = plan.path("scenarios").path("shoppers");
    assertEquals(List.of("5000ms", "20000ms", "5000ms"), List.of(shoppers.path("stages").get(0).path("duration").asText(),
        shoppers.path("stages").get(1).path("duration").asText(), shoppers.path("stages").get(2).path("duration").asText()));
    assertEquals("30000ms", plan.path("scenarios").path("visitors").path("duration").asText());
    assertEquals("5s", shoppers.path("gracefulRampDown").asText(), "graceful times are kept");
    PlanParser.parse(plan.toString());
  }

  static RunFollower.Outcome outcome(String status, String abortSource, List<String> failed) throws Exception {
    JsonNode summary = JSON.readTree("""
        {"testRunId": "r1", "durationSeconds": 10, "from": 0, "to": 10000,
         "metrics": [
           {"metric": "http_reqs", "type": "counter", "samples": 100, "stats": {"count": 100, "rate": 10}},
           {"metric": "http_req_duration", "type": "trend", "samples": 100,
            "stats": {"avg": 12.5, "min": 0.5, "med": 10, "max": 1500, "p(95)": 40},
            "submetrics": [{"metric": "http_req_duration{name:checkout}", "tags": {"name": "checkout"},
              "stats": {"avg": 20, "min": 1, "med": 18, "max": 90, "p(95)": 80}}]},
           {"metric": "http_req_failed", "type": "rate", "samples": 100, "stats": {"rate": 0.02, "passes": 2, "fails": 98}},
           {"metric": "data_received", "type": "counter", "samples": 100, "stats": {"count": 1250000, "rate": 125000}},
           {"metric": "vus", "type": "gauge", "samples": 10, "stats": {"value": 0, "min": 0, "max": 5}}],
         "checks": {"passed": 99, "failed": 1, "byCheck": [{"check": "status is 200", "passes": 99, "fails": 1}]},
         "thresholds": {"results": [
           {"threshold": "http_req_duration: p(95)<30", "state": "FAILED", "value": 40, "final": true},
           {"threshold": "http_req_failed: rate<0.05", "state": "PASSED", "value": 0.02, "final": true},
           {"threshold": "my_trend: avg<5", "state": "NO_DATA", "value": null, "final": true}]}}
        """);
    ObjectNode verdict = JSON.createObjectNode().put("complete", true);
    verdict.putArray("failed").addAll(failed.stream().map(JSON.getNodeFactory()::textNode).toList());
    verdict.putArray("noData").add("my_trend: avg<5");
    JsonNode run = JSON.readTree("{\"testRunId\": \"r1\", \"metadata\": {\"name\": \"nightly <checkout>\"}}");
    return new RunFollower.Outcome(status, abortSource, "why", verdict, JSON.createObjectNode().put("requests", 100),
        true, "", summary, run);
  }

  @Test
  void exitCodesFollowTheVerdictAndHowTheRunEnded() throws Exception {
    assertEquals(99, outcome("FINISHED", "", List.of("http_req_duration: p(95)<30")).exitCode());
    assertEquals(99, outcome("FINISHED", "", List.of()).exitCode(), "no data counts as failed");
    assertEquals(108, outcome("ABORTED", "threshold", List.of()).exitCode());
    assertEquals(105, outcome("ABORTED", "user", List.of()).exitCode());
    assertEquals(1, outcome("FAILED", "", List.of()).exitCode());
  }

  @Test
  void incompleteResultsAreNeverAPassOrAFail() throws Exception {
    for (List<String> failed : List.of(List.<String>of(), List.of("http_req_duration: p(95)<30"))) {
      RunFollower.Outcome o = outcome("FINISHED", "", failed);
      RunFollower.Outcome incomplete = new RunFollower.Outcome(o.status(), o.abortSource(), o.reason(), o.verdict(),
          o.totals(), false, "the store holds 80 of the 100 http_reqs the generators reported", o.summary(), o.run());
      assertEquals(97, incomplete.exitCode());
    }
    dev.loadtest.schemas.run.RunState finished = dev.loadtest.schemas.run.RunState.first("r", 
        dev.loadtest.schemas.run.RunStatus.FINISHED, 0, "done", List.of(), "h", null, null);
    assertEquals(97, SubmitCommand.exitCode(finished.withVerdict(new dev.loadtest.schemas.run.RunState.Verdict(
        List.of("a"), List.of(), List.of(), false, true))), "a partial verdict");
    assertEquals(0, SubmitCommand.exitCode(finished.withVerdict(new dev.loadtest.schemas.run.RunState.Verdict(
        List.of("a"), List.of(), List.of(), true, false))));
    assertEquals(99, SubmitCommand.exitCode(finished.withVerdict(new dev.loadtest.schemas.run.RunState.Verdict(
        List.of(), List.of("a"), List.of(), true, false))));
  }

  @Test
  void aRunWithALostGeneratorIsMarkedDegradedInTheSummaryAndTheReports(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    RunFollower.Outcome o = outcome("FINISHED", "", List.of());
    assertEquals(null, o.degraded(), "no generator lost");
    JsonNode run = JSON.readTree("""
        {"testRunId": "r1", "metadata": {"name": "nightly"}, "history": [
          {"status": "RUNNING", "atMs": 1000, "reason": "generator g1 started"},
          {"status": "RUNNING", "atMs": 61000, "reason": "generator(s) g3 lost (no heartbeat for 5 s; g3 had sent 812 requests); going on degraded with the others"},
          {"status": "FINISHED", "atMs": 121000, "reason": "2 of 3 generator(s) finished; degraded: g3 lost"}]}""");
    ObjectNode totals = JSON.createObjectNode().put("requests", 100).put("generators", 2).put("lost", 1);
    RunFollower.Outcome lost = new RunFollower.Outcome("FINISHED", "", "2 of 3 generator(s) finished; degraded: g3 lost",
        o.verdict(), totals, true, "", o.summary(), run);
    assertEquals("1 of 3 generator(s) lost; at 1970-01-01T00:01:01Z generator(s) g3 lost (no heartbeat for 5 s; g3 had"
        + " sent 812 requests); the results hold what they delivered before", lost.degraded());
    Path json = dir.resolve("summary.json");
    Reports.write(json, lost, lost.exitCode(), null);
    assertEquals(lost.degraded(), JSON.readTree(Files.readString(json)).path("degraded").asText());
    assertTrue(Reports.html(lost, lost.exitCode(), Map.of(), null, null).contains("DEGRADED: 1 of 3 generator(s) lost"),
        "the HTML report says it");
  }

  @Test
  void theJUnitReportHasOneCasePerThresholdAndFailsTheFailedAndTheEmptyOnes(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("junit.xml");
    Reports.write(file, outcome("FINISHED", "", List.of("http_req_duration: p(95)<30")), 99, null);
    Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(
        Files.readAllBytes(file)));
    assertEquals("4", d.getDocumentElement().getAttribute("tests"), "3 thresholds and the run's end");
    assertEquals("2", d.getDocumentElement().getAttribute("failures"));
    String xml = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(xml.contains("name=\"p(95)&lt;30\"") && xml.contains("loadtest nightly &lt;checkout&gt;"), xml);
    assertTrue(xml.contains("had no samples (counted as failed)"), xml);
  }

  @Test
  void aRegressionGateAndInsightsShowInEveryReport(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    JsonNode checks = JSON.readTree("""
        [{"regression": "http_req_duration: p(95) +10%", "state": "EXCEEDED", "baseline": 30, "value": 40,
          "change": "+33.333%", "message": "http_req_duration p(95) went from 30 to 40 (+33.333%, limit +10%)"},
         {"regression": "http_req_failed: rate +1pp", "state": "PASSED", "baseline": 0.01, "value": 0.02,
          "change": "+1pp", "message": "ok"}]""");
    dev.loadtest.cli.follow.RegressionGate gate = new dev.loadtest.cli.follow.RegressionGate("base-1",
        "the load test's baseline", true, checks, JSON.createObjectNode(), null);
    JsonNode insights = JSON.readTree("""
        {"complete": true, "disabled": [], "insights": [{"rule": "increased-failure-rate", "severity": "warning",
          "title": "Increased failure rate", "message": "21.3% <failed>", "from": 2000, "to": 7000}]}""");
    RunFollower.Outcome o = outcome("FINISHED", "", List.of());
    Path xml = dir.resolve("junit.xml");
    Path json = dir.resolve("summary.json");
    Reports.write(xml, o, 99, null, gate, insights);
    Reports.write(json, o, 99, null, gate, insights);
    String page = Reports.html(o, 99, Map.of(), gate, insights);
    Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(
        Files.readAllBytes(xml)));
    assertEquals("6", d.getDocumentElement().getAttribute("tests"), "3 thresholds, 2 limits and the run's end");
    org.w3c.dom.NodeList failures = d.getElementsByTagName("failure");
    boolean regressionFailed = false;
    for (int i = 0; i < failures.getLength(); i++) {
      org.w3c.dom.Element f = (org.w3c.dom.Element) failures.item(i);
      regressionFailed |= f.getAttribute("type").equals("regression")
          && f.getAttribute("message").endsWith("(baseline run base-1)");
    }
    assertTrue(regressionFailed, Files.readString(xml));
    JsonNode summary = JSON.readTree(json.toFile());
    assertTrue(summary.path("regression").path("regressed").asBoolean());
    assertEquals("increased-failure-rate", summary.path("insights").get(0).path("rule").asText());
    assertTrue(page.contains("<table id=\"regressions\">") && page.contains("+33.333%"), page);
    assertTrue(page.contains("<table id=\"insights\">") && page.contains("21.3% &lt;failed&gt;")
        && page.contains("2 s - 7 s"), page);
  }

  @Test
  void theSummaryTextReadsLikeK6s() throws Exception {
    String text = SummaryText.render(outcome("FINISHED", "", List.of()).summary(), outcome("FINISHED", "", List.of()));
    assertTrue(text.contains("✗ 'p(95)<30' p(95)=40.00ms"), text);
    assertTrue(text.contains("✓ 'rate<0.05' rate=2.00%"), text);
    assertTrue(text.contains("? 'avg<5' no samples (NO_DATA)"), text);
    assertTrue(text.matches("(?s).*http_reqs\\.+: 100\\s+10/s.*"), text);
    assertTrue(text.matches("(?s).*http_req_duration\\.+: avg=12\\.50ms min=500µs med=10\\.00ms max=1\\.50s p\\(95\\)=40\\.00ms.*"), text);
    assertTrue(text.contains("{ name:checkout }"), text);
    assertTrue(text.matches("(?s).*http_req_failed\\.+: 2\\.00% 2 out of 100.*"), text);
    assertTrue(text.matches("(?s).*data_received\\.+: 1\\.3 MB\\s+125\\.0 kB/s.*"), text);
    assertTrue(text.matches("(?s).*checks_succeeded\\.+: 99\\.00% 99 out of 100.*"), text);
  }

  @Test
  void theHtmlReportEscapesAndDrawsEachChartItHasDataFor() throws Exception {
    JsonNode reqs = JSON.readTree("{\"series\": [{\"points\": [[0, 10], [1000, 20], [2000, 15]]}]}");
    Reports.Chart chart = Reports.CHARTS.get(0);
    String svg = Reports.svg(chart, reqs);
    assertTrue(svg.startsWith("<svg") && svg.contains("stroke=\"" + chart.lines().get(0).color() + "\""), svg);
    assertEquals(3, svg.split("points=\"")[1].split("\"")[0].split(" ").length, "three points on the line");
  }
}
