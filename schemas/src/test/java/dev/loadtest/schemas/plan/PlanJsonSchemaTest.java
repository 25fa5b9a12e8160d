package dev.loadtest.schemas.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Holds the published JSON Schemas (for users' editors and other tools) and the parser in agreement:
 * what the parser accepts the schema accepts, and every structural mistake the parser rejects the
 * schema rejects too.
 */
class PlanJsonSchemaTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
      b -> b.schemaMappers(m -> m.mapPrefix("https://loadtest.dev/schemas/", "classpath:jsonschema/")));
  private static final JsonSchema PLAN = FACTORY.getSchema(SchemaLocation.of("https://loadtest.dev/schemas/test-plan.schema.json"));
  private static final JsonSchema COMMAND = FACTORY.getSchema(SchemaLocation.of("https://loadtest.dev/schemas/command.schema.json"));

  @Test
  void theCheckoutPlanIsValidUnderTheSchema() {
    Set<ValidationMessage> errors = PLAN.validate(Plans.base());
    assertEquals(Set.of(), errors);
  }

  static Stream<Arguments> structural() {
    return MalformedPlanTest.cases().stream().filter(MalformedPlanTest.Case::structural).map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("structural")
  void theSchemaRejectsEveryStructuralMistake(MalformedPlanTest.Case c) throws Exception {
    JsonNode plan = JSON.readTree(c.plan().get());
    assertFalse(PLAN.validate(plan).isEmpty(), "the JSON Schema accepts: " + c.name());
  }

  @Test
  void commandsValidateWithTheEmbeddedPlanSchema() throws Exception {
    var start = JSON.createObjectNode().put("type", "start").put("commandId", "c-1").put("testRunId", "run-1");
    start.set("plan", Plans.base());
    assertEquals(Set.of(), COMMAND.validate(start));
    assertEquals(Set.of(), COMMAND.validate(JSON.readTree(
        "{\"type\":\"abort\",\"commandId\":\"c-2\",\"testRunId\":\"run-1\",\"reason\":\"p95\",\"source\":\"threshold\"}")));
    assertTrue(!COMMAND.validate(JSON.readTree("{\"type\":\"pause\",\"commandId\":\"c\",\"testRunId\":\"r\"}")).isEmpty());
    var schedule = JSON.createObjectNode().put("type", "schedule").put("commandId", "c-3").put("scheduleId", "nightly")
        .put("cron", "0 3 * * *");
    schedule.set("plan", Plans.base());
    assertEquals(Set.of(), COMMAND.validate(schedule));
    dev.loadtest.schemas.command.CommandParser.parse(schedule.toString()); // the parser agrees
    var both = schedule.deepCopy().put("type", "schedule");
    both.putObject("recurrence").put("frequency", "daily").put("startsAt", "2027-01-01T03:00:00Z");
    assertTrue(!COMMAND.validate(both).isEmpty(), "cron and recurrence at once");
    assertEquals(Set.of(), COMMAND.validate(JSON.readTree(
        "{\"type\":\"unschedule\",\"commandId\":\"c-4\",\"scheduleId\":\"nightly\"}")));
    var quiet = Plans.base();
    quiet.putObject("insights").putArray("disabled").add("not-enough-data");
    assertEquals(Set.of(), PLAN.validate(quiet));
    PlanParser.parse(quiet.toString());
    ((com.fasterxml.jackson.databind.node.ObjectNode) quiet.get("insights")).putArray("disabled").add("no-such-rule");
    assertTrue(!PLAN.validate(quiet).isEmpty(), "an unknown insight");
    var broken = start.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken.get("plan")).remove("flows");
    assertTrue(!COMMAND.validate(broken).isEmpty(), "the plan inside a command is checked");
  }

  @Test
  void aPlanRunByAnotherToolsPlugInNeedsNoFlowsAndAnHttpPlanStillDoes() throws Exception {
    String tool = "{\"name\": \"j\", \"generator\": {\"plugin\": \"jmeter\", \"options\": {\"testPlan\": \"a.jmx\"}}}";
    assertEquals(Set.of(), PLAN.validate(JSON.readTree(tool)));
    assertTrue(PlanParser.parse(tool).scenarios().isEmpty(), "the tool's script sizes the load");
    String http = "{\"name\": \"h\", \"generator\": {\"plugin\": \"http\"}}";
    assertFalse(PLAN.validate(JSON.readTree(http)).isEmpty());
    InvalidPlanException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidPlanException.class,
        () -> PlanParser.parse(http));
    assertEquals("$.flows", e.errors().get(0).path());
  }
}
