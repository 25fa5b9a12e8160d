package dev.loadtest.topology;

import static dev.loadtest.topology.CoordinatorDriver.plan;
import static dev.loadtest.topology.CoordinatorDriver.start;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandProcessorTest extends DriverTest {

  @Test
  void aValidStartCreatesThenValidatesTheRunWithItsPlanHashAndSecretsRedacted() {
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    List<RunState> states = c.runStates();
    assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.QUEUED),
        states.stream().map(RunState::status).toList(), "queued: no generator has joined");
    RunState validated = states.get(1);
    assertEquals(2, validated.version());
    assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED), validated.history().stream().map(RunState.Transition::status).toList());
    assertEquals(64, validated.planHash().length());
    assertEquals("nightly", validated.metadata().name());
    assertFalse(validated.plan().contains("127.0.0.1:8080"), "env values are not stored: " + validated.plan());
    assertFalse(validated.plan().contains("SAVE10"), "scenario env values are not stored either");
    assertTrue(validated.plan().contains(StoredPlans.REDACTED));
    assertTrue(c.dlq.isEmpty());
  }

  @Test
  void theSamePlanWithOtherSecretsHasTheSameHash() {
    ObjectNode other = plan();
    ((ObjectNode) other.get("env")).put("BASE_URL", "http://localhost:9090");
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.commands.pipeInput("run-2", start("c-2", "run-2", other));
    List<RunState> states = c.runStates();
    assertEquals(states.get(1).planHash(), states.get(3).planHash());
  }

  @Test
  void anInvalidPlanMakesARejectedRunWithEveryErrorAndItsPath() {
    ObjectNode p = plan();
    ((ObjectNode) p.at("/scenarios/buy")).put("maxVUs", 5);
    ((ObjectNode) p.at("/scenarios/browse")).put("exec", "nope");
    c.commands.pipeInput("run-1", start("c-1", "run-1", p));
    RunState r = c.runStates().get(0);
    assertEquals(RunStatus.REJECTED, r.status());
    assertEquals(List.of("$.plan.scenarios.browse.exec", "$.plan.scenarios.buy.maxVUs"),
        r.errors().stream().map(PlanError::path).sorted().toList());
    assertTrue(c.dlq.isEmpty());
  }

  @Test
  void aTargetHostOutsideTheAllowlistIsRejectedWithItsPath() {
    ObjectNode p = plan();
    ((ObjectNode) p.get("env")).put("BASE_URL", "https://shop.example.com");
    c.commands.pipeInput("run-1", start("c-1", "run-1", p));
    RunState r = c.runStates().get(0);
    assertEquals(RunStatus.REJECTED, r.status());
    PlanError first = r.errors().get(0);
    assertEquals("$.plan.flows.browse.steps[0].request.url", first.path());
    assertTrue(first.message().contains("\"shop.example.com\" is not in the coordinator's allowed hosts"), first.message());
  }

  @Test
  void aHostKnownOnlyAtRunTimeIsRejected() {
    ObjectNode p = plan();
    ((ObjectNode) p.at("/flows/browse/steps/2/request")).put("url", "http://${productId}/x");
    c.commands.pipeInput("run-1", start("c-1", "run-1", p));
    RunState r = c.runStates().get(0);
    assertEquals(RunStatus.REJECTED, r.status());
    assertTrue(r.errors().get(0).message().contains("only known at run time"), r.errors().toString());
  }

  @Test
  void theAllowlistTakesWildcardDomains() {
    try (CoordinatorDriver d = new CoordinatorDriver(new CoordinatorConfig(List.of("*.shop.internal"), 1 << 20),
        stateDir.resolve("w"))) {
      ObjectNode p = plan();
      ((ObjectNode) p.get("env")).put("BASE_URL", "http://api.shop.internal:8080");
      d.commands.pipeInput("run-1", start("c-1", "run-1", p));
      assertEquals(RunStatus.VALIDATED, d.runStates().get(1).status());
    }
  }

  @Test
  void aRepeatedCommandHasNoSecondEffect() {
    String cmd = start("c-1", "run-1", plan());
    c.commands.pipeInput("run-1", cmd);
    c.commands.pipeInput("run-1", cmd);
    String abort = "{\"type\":\"abort\",\"commandId\":\"c-2\",\"testRunId\":\"run-1\",\"source\":\"user\"}";
    c.commands.pipeInput("run-1", abort);
    c.commands.pipeInput("run-1", abort);
    assertEquals(List.of(RunStatus.CREATED, RunStatus.VALIDATED, RunStatus.QUEUED, RunStatus.ABORTED),
        c.runStates().stream().map(RunState::status).toList());
    List<JsonNode> answers = c.rejections();
    assertEquals(2, answers.size(), "each repeat is answered, without effect");
    answers.forEach(a -> assertTrue(a.path("reason").asText().contains("was used already for run \"run-1\""), a::toString));
  }

  @Test
  void aStopThatReusesTheStartsCommandIdIsAnsweredNotLost() {
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.commands.pipeInput("run-1", "{\"type\":\"stop\",\"commandId\":\"c-1\",\"testRunId\":\"run-1\"}");
    JsonNode answer = c.rejections().get(0);
    assertTrue(answer.path("reason").asText().contains("command id \"c-1\" was used already"), answer::toString);
    assertEquals(RunStatus.QUEUED, c.runStates().get(2).status(), "the run goes on");
  }

  @Test
  void plansOverTheLimitsAreRejectedWithEachLimitAndItsPathAndNotStored() {
    ObjectNode p = plan();
    ObjectNode scenarios = p.putObject("scenarios");
    for (int i = 0; i < 10_000; i++) {
      scenarios.putObject("s" + i).put("executor", "constant-vus").put("vus", 1).put("duration", "1s").put("exec", "browse");
    }
    p.put("description", "x".repeat(800_000));
    c.commands.pipeInput("run-big", start("c-1", "run-big", p));
    RunState rejected = c.runStates().get(0);
    assertEquals(RunStatus.REJECTED, rejected.status());
    assertNull(rejected.plan(), "a plan over the limits is not kept");
    assertTrue(rejected.toJson().length() < 10_000, "the answer is small: " + rejected.toJson().length());
    List<String> paths = rejected.errors().stream().map(PlanError::path).toList();
    assertTrue(paths.containsAll(List.of("$.plan", "$.plan.scenarios", "$.plan.description")), paths.toString());
    assertTrue(rejected.errors().get(0).message().contains("at most " + dev.loadtest.schemas.plan.PlanLimits.MAX_BYTES),
        rejected.errors().get(0).message());

    c.commands.pipeInput("run-ok", start("c-2", "run-ok", plan()));
    assertEquals(RunStatus.VALIDATED, c.runStates().get(1).status(), "the coordinator goes on");
  }

  @Test
  void aPlanWithinTheLimitsWhoseRecordsWouldBeTooLargeIsRejectedAndNothingLargeIsWritten() {
    // Quote-heavy inline feeder data just under the byte limit: escaped in the run's control event, it grows.
    ObjectNode p = plan();
    var rows = p.putObject("feeders").putObject("users").put("pick", "random").putArray("data");
    int i = 0;
    while (p.toString().length() < dev.loadtest.schemas.plan.PlanLimits.MAX_BYTES - 2_000) {
      for (int k = 0; k < 50; k++) {
        rows.addObject().put("u", "\"" + i++ + "\"");
      }
    }
    c.commands.pipeInput("run-q", start("c-1", "run-q", p));
    List<RunState> states = c.runStates();
    assertEquals(1, states.size(), "rejected at once, never created or queued");
    RunState answer = states.get(0);
    assertEquals(RunStatus.REJECTED, answer.status());
    assertTrue(answer.errors().get(0).message().contains("too large to travel through the coordinator"),
        answer.errors().toString());
    assertNull(answer.plan());
  }

  @Test
  void abortAndStopEndARunThatHasNotStarted() {
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.commands.pipeInput("run-2", start("c-2", "run-2", plan()));
    c.commands.pipeInput("run-1", "{\"type\":\"abort\",\"commandId\":\"c-3\",\"testRunId\":\"run-1\",\"reason\":\"p95 over 500ms\",\"source\":\"threshold\"}");
    c.commands.pipeInput("run-2", "{\"type\":\"stop\",\"commandId\":\"c-4\",\"testRunId\":\"run-2\"}");
    List<RunState> states = c.runStates();
    RunState aborted = states.stream().filter(s -> s.testRunId().equals("run-1")).reduce((a, b) -> b).orElseThrow();
    assertEquals(RunStatus.ABORTED, aborted.status());
    assertEquals("threshold", aborted.abortSource());
    assertEquals("p95 over 500ms", aborted.history().get(aborted.history().size() - 1).reason());
    RunState stopped = states.stream().filter(s -> s.testRunId().equals("run-2")).reduce((a, b) -> b).orElseThrow();
    assertEquals(RunStatus.ABORTED, stopped.status());
    assertEquals("user", stopped.abortSource());
  }

  @Test
  void commandsThatCannotApplyGoToTheDlqWithTheReason() {
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    c.commands.pipeInput("run-1", start("c-2", "run-1", plan()));
    c.commands.pipeInput("run-9", "{\"type\":\"stop\",\"commandId\":\"c-3\",\"testRunId\":\"run-9\"}");
    c.commands.pipeInput("run-1", "{\"type\":\"abort\",\"commandId\":\"c-4\",\"testRunId\":\"run-1\"}");
    c.commands.pipeInput("run-1", "{\"type\":\"abort\",\"commandId\":\"c-5\",\"testRunId\":\"run-1\"}");
    List<String> reasons = c.rejections().stream().map(r -> r.get("reason").asText()).toList();
    assertEquals(3, reasons.size(), reasons.toString());
    assertTrue(reasons.get(0).contains("exists already (VALIDATED)"), reasons.get(0));
    assertTrue(reasons.get(1).contains("there is no run \"run-9\""), reasons.get(1));
    assertTrue(reasons.get(2).contains("has ended already (ABORTED)"), reasons.get(2));
  }

  @Test
  void recordsThatAreNotCommandsGoToTheDlqAndLoseNothing() {
    c.commands.pipeInput("run-1", "not json at all");
    c.commands.pipeInput("run-1", (String) null);
    c.commands.pipeInput((String) null, "{\"type\":\"stop\",\"commandId\":\"c\",\"testRunId\":\"run-1\"}");
    String huge = "{\"type\":\"stop\",\"commandId\":\"c\",\"testRunId\":\"run-1\",\"x\":\"" + "y".repeat(3_000_000) + "\"}";
    c.commands.pipeInput("run-1", huge);
    List<JsonNode> r = c.rejections();
    assertEquals(4, r.size());
    assertTrue(r.get(0).get("reason").asText().contains("not valid JSON"), r.get(0).toString());
    assertEquals("not json at all", r.get(0).get("value").asText(), "the rejected record is kept");
    assertTrue(r.get(1).get("reason").asText().contains("has no value"));
    assertTrue(r.get(2).get("reason").asText().contains("keyed by their testRunId"));
    assertTrue(r.get(3).get("reason").asText().contains("at most"));
    assertEquals(huge.length(), r.get(3).get("valueTruncatedFrom").asInt());
    assertEquals(64 * 1024, r.get(3).get("value").asText().length(), "the DLQ keeps the head of a huge record");
    assertNull(r.get(1).get("value").textValue());
    c.commands.pipeInput("run-1", start("c-1", "run-1", plan()));
    assertEquals(RunStatus.VALIDATED, c.runStates().get(1).status(), "the coordinator goes on");
  }

  static String importCommand(String commandId, String runId, String extra) {
    return "{\"type\":\"import\",\"commandId\":\"" + commandId + "\",\"testRunId\":\"" + runId + "\","
        + "\"plan\":{\"name\":\"imported\",\"generator\":{\"plugin\":\"import\",\"options\":{}}},"
        + "\"source\":\"k6-json results.json\",\"startedAtMs\":1709283600000,\"endedAtMs\":1709283660000,"
        + "\"requests\":1200,\"samples\":5000" + extra + "}";
  }

  @Test
  void anImportIsAFinishedRunAtTheFilesOwnTimesAndAnExistingRunIsNotOverwritten() {
    c.commands.pipeInput("imp-1", importCommand("c-1", "imp-1", ",\"iterations\":300"));
    List<RunState> states = c.runStates();
    assertEquals(List.of(RunStatus.CREATED, RunStatus.FINISHED), states.stream().map(RunState::status).toList());
    RunState done = states.get(1);
    assertEquals(List.of(1709283600000L, 1709283600000L, 1709283660000L),
        done.history().stream().map(RunState.Transition::atMs).toList());
    assertEquals("imported from k6-json results.json: 1200 requests", done.lastReason());
    assertEquals(1200, done.totals().requests());
    assertEquals(300, done.totals().iterations());

    c.commands.pipeInput("imp-1", importCommand("c-2", "imp-1", ""));
    c.commands.pipeInput("imp-1", "{\"type\":\"abort\",\"commandId\":\"c-3\",\"testRunId\":\"imp-1\"}");
    assertTrue(c.runStates().isEmpty(), "nothing changes an imported run");
    List<JsonNode> answers = c.rejections();
    assertTrue(answers.get(0).path("reason").asText().contains("run \"imp-1\" exists already (FINISHED)"),
        answers.toString());
    assertTrue(answers.get(1).path("reason").asText().contains("has ended already"), answers.toString());
  }

  @Test
  void aMalformedImportGoesToTheDlqWithEveryErrorAndMakesNoRun() {
    c.commands.pipeInput("imp-2", importCommand("c-1", "imp-2", "").replace("\"requests\":1200", "\"requests\":-5")
        .replace("\"endedAtMs\":1709283660000", "\"endedAtMs\":\"soon\"").replace(",\"samples\":5000", ""));
    assertTrue(c.runStates().isEmpty());
    String reason = c.rejections().get(0).path("reason").asText();
    assertTrue(reason.contains("$.requests") && reason.contains("$.endedAtMs") && reason.contains("$.samples"), reason);
  }
}
