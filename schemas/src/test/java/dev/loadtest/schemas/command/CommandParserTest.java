package dev.loadtest.schemas.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CommandParserTest {
  private static String plan() throws IOException {
    try (InputStream in = CommandParserTest.class.getResourceAsStream("/plans/checkout.json")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void parsesAStartWithItsPlanAndMetadata() throws IOException {
    Command c = CommandParser.parse("{\"type\":\"start\",\"commandId\":\"c-1\",\"testRunId\":\"run-42\","
        + "\"metadata\":{\"name\":\"nightly\",\"project\":\"shop\",\"tags\":{\"env\":\"staging\"},\"who\":\"ci\"},"
        + "\"plan\":" + plan() + "}");
    Command.Start start = assertInstanceOf(Command.Start.class, c);
    assertEquals("run-42", start.testRunId());
    assertEquals(2, start.plan().scenarios().size());
    assertEquals(Map.of("env", "staging"), start.metadata().tags());
    assertEquals("ci", start.metadata().who());
    assertEquals("", start.metadata().loadTest(), "no explicit load test: the one of its name");
  }

  @Test
  void anExplicitLoadTestIdIsTakenAndAMalformedOneRefusedWithItsPath() throws IOException {
    String start = "{\"type\":\"start\",\"commandId\":\"c-1\",\"testRunId\":\"run-42\",\"metadata\":{\"loadTest\":LOAD_TEST},"
        + "\"plan\":" + plan() + "}";
    Command.Start ok = assertInstanceOf(Command.Start.class, CommandParser.parse(start.replace("LOAD_TEST", "\"checkout.nightly-2\"")));
    assertEquals("checkout.nightly-2", ok.metadata().loadTest());
    for (String bad : List.of("\"lt-0123456789abcdef\"", "\"two words\"", "\"-x\"", "5",
        "\"" + "x".repeat(101) + "\"")) {
      InvalidPlanException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidPlanException.class,
          () -> CommandParser.parse(start.replace("LOAD_TEST", bad)), bad);
      assertTrue(e.errors().stream().anyMatch(x -> x.path().equals("$.metadata.loadTest")), bad + " -> " + e.errors());
    }
  }

  @Test
  void parsesStopAndAbort() {
    assertEquals(new Command.Stop("c-2", "run-42", ""), CommandParser.parse("{\"type\":\"stop\",\"commandId\":\"c-2\",\"testRunId\":\"run-42\"}"));
    assertEquals(new Command.Abort("c-3", "run-42", "p95 too high", Command.Source.THRESHOLD), CommandParser.parse(
        "{\"type\":\"abort\",\"commandId\":\"c-3\",\"testRunId\":\"run-42\",\"reason\":\"p95 too high\",\"source\":\"threshold\"}"));
  }

  @Test
  void planErrorsOfAStartHavePathsUnderPlan() throws IOException {
    String bad = plan().replace("\"maxVUs\": 50", "\"maxVUs\": 2");
    InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> CommandParser.parse(
        "{\"type\":\"start\",\"commandId\":\"c\",\"testRunId\":\"r\",\"plan\":" + bad + "}"));
    assertEquals("$.plan.scenarios.buy.maxVUs", e.errors().get(0).path());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "not json                                                              | $           | not valid JSON",
      "[]                                                                    | $           | must be a JSON object",
      "{\"commandId\":\"c\",\"testRunId\":\"r\"}                             | $.type      | \"type\" is required",
      "{\"type\":\"pause\",\"commandId\":\"c\",\"testRunId\":\"r\"}          | $.type      | unknown command type \"pause\"",
      "{\"type\":\"stop\",\"testRunId\":\"r\"}                               | $.commandId | \"commandId\" is required",
      "{\"type\":\"stop\",\"commandId\":\"c\",\"testRunId\":\"r; DROP\"}     | $.testRunId | must be 1 to 128 letters",
      "{\"type\":\"stop\",\"commandId\":7,\"testRunId\":\"r\"}               | $.commandId | must be a string",
      "{\"type\":\"start\",\"commandId\":\"c\",\"testRunId\":\"r\"}          | $.plan      | needs a \"plan\"",
      "{\"type\":\"abort\",\"commandId\":\"c\",\"testRunId\":\"r\",\"source\":\"cat\"} | $.source | must be \"user\", \"threshold\" or \"system\"",
      "{\"type\":\"stop\",\"commandId\":\"c\",\"testRunId\":\"r\",\"force\":true} | $.force | unknown field \"force\""})
  void rejectsMalformedCommandsWithPathAndMessage(String json, String path, String message) {
    InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> CommandParser.parse(json));
    assertTrue(e.errors().stream().map(PlanError::toString).anyMatch(s -> s.startsWith(path + ":") && s.contains(message)),
        e.getMessage());
  }

  @Test
  void anImportCommandNeedsAPlanItsSourceAndCountsAndTimesInOrder() {
    String ok = "{\"type\":\"import\",\"commandId\":\"c\",\"testRunId\":\"r\",\"plan\":{\"name\":\"n\","
        + "\"generator\":{\"plugin\":\"import\"}},\"source\":\"jmeter-jtl a.jtl\",\"startedAtMs\":10,"
        + "\"endedAtMs\":20,\"requests\":3,\"samples\":4}";
    Command.Import imp = assertInstanceOf(Command.Import.class, CommandParser.parse(ok));
    assertEquals(3, imp.requests());
    assertEquals(0, imp.iterations());
    dev.loadtest.schemas.plan.InvalidPlanException e = org.junit.jupiter.api.Assertions.assertThrows(
        dev.loadtest.schemas.plan.InvalidPlanException.class, () -> CommandParser.parse(ok.replace("\"endedAtMs\":20",
            "\"endedAtMs\":5").replace("\"samples\":4", "\"samples\":4,\"extra\":1")));
    assertEquals(List.of("$.extra", "$.endedAtMs"), e.errors().stream().map(dev.loadtest.schemas.plan.PlanError::path)
        .toList(), e.errors().toString());
    e = org.junit.jupiter.api.Assertions.assertThrows(dev.loadtest.schemas.plan.InvalidPlanException.class,
        () -> CommandParser.parse(ok.replace("\"requests\":3", "\"requests\":1e30").replace(
            ",\"plan\":{\"name\":\"n\",\"generator\":{\"plugin\":\"import\"}}", "")));
    assertEquals(List.of("$.plan", "$.requests"), e.errors().stream().map(dev.loadtest.schemas.plan.PlanError::path)
        .toList(), e.errors().toString());
  }
}
