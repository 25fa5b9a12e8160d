package dev.loadtest.topology;

import static dev.loadtest.topology.CoordinatorDriver.plan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.command.ScheduleRule;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Schedules in the coordinator's topology: kept as state, fired as start commands, skipped while their run goes. */
class ScheduleTest {
  @TempDir
  Path stateDir;

  static String schedule(String id, String cron) {
    ObjectNode c = CoordinatorDriver.JSON.createObjectNode().put("type", "schedule").put("commandId", "c-" + id)
        .put("scheduleId", id).put("cron", cron);
    c.set("plan", plan());
    c.putObject("metadata").put("name", "nightly checkout").put("project", "shop").putObject("tags").put("team", "perf");
    return c.toString();
  }

  static JsonNode tree(String s) {
    try {
      return CoordinatorDriver.JSON.readTree(s);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aScheduleStartsARunWhenDueAndSkipsWhileItsPreviousRunGoes() {
    try (CoordinatorDriver c = new CoordinatorDriver(CoordinatorConfig.defaults(), stateDir)) {
      TestOutputTopic<String, String> schedules = c.driver.createOutputTopic(Topics.SCHEDULES,
          Serdes.String().deserializer(), Serdes.String().deserializer());
      c.commands.pipeInput("nightly", schedule("nightly", "*/5 * * * *"));
      JsonNode kept = tree(schedules.readValue());
      long next = kept.path("nextAtMs").asLong();
      assertEquals(0, next % 300_000, "on a 5-minute boundary: " + Instant.ofEpochMilli(next));
      assertTrue(kept.path("describe").asText().contains("*/5 * * * *"), kept.toString());

      c.driver.advanceWallClockTime(Duration.ofMinutes(5).plusSeconds(1));
      List<RunState> runs = c.runStates();
      assertTrue(!runs.isEmpty(), "the schedule started a run");
      RunState first = runs.get(0);
      assertTrue(first.testRunId().startsWith("nightly-"), first.testRunId());
      assertEquals(Map.of("team", "perf", "schedule", "nightly"), first.metadata().tags());
      assertEquals("shop", first.metadata().project());
      assertEquals("nightly checkout", first.metadata().name());
      JsonNode afterFire = tree(schedules.readValuesToList().getLast());
      assertEquals(first.testRunId(), afterFire.path("lastRunId").asText());
      assertEquals("started", afterFire.path("history").get(0).path("action").asText());
      assertTrue(afterFire.path("nextAtMs").asLong() > next);

      // No generator: the run waits (QUEUED), so the next start is skipped, and says why.
      c.driver.advanceWallClockTime(Duration.ofMinutes(5));
      JsonNode skipped = tree(schedules.readValuesToList().getLast());
      JsonNode h = skipped.path("history").get(1);
      assertEquals("skipped", h.path("action").asText(), skipped.toString());
      assertTrue(h.path("reason").asText().startsWith("run " + first.testRunId() + " of this schedule still runs ("),
          h.toString());
      assertTrue(c.runStates().stream().noneMatch(s -> !s.testRunId().equals(first.testRunId())),
          "no second run while the first goes");

      // Once it has ended, the next start is made.
      c.commands.pipeInput(first.testRunId(), "{\"type\": \"abort\", \"commandId\": \"a1\", \"testRunId\": \""
          + first.testRunId() + "\", \"reason\": \"enough\"}");
      c.driver.advanceWallClockTime(Duration.ofMinutes(5));
      assertTrue(c.runStates().stream().anyMatch(s -> s.testRunId().startsWith("nightly-") && !s.testRunId().equals(
          first.testRunId()) && s.status() == RunStatus.VALIDATED), "a second run once the first ended");

      c.commands.pipeInput("nightly", "{\"type\": \"unschedule\", \"commandId\": \"u1\", \"scheduleId\": \"nightly\"}");
      List<org.apache.kafka.streams.test.TestRecord<String, String>> tail = schedules.readRecordsToList();
      assertNull(tail.getLast().value(), "a tombstone for the deleted schedule");
      c.runStates();
      c.driver.advanceWallClockTime(Duration.ofMinutes(30));
      assertEquals(List.of(), c.runStates(), "nothing after it was deleted");
    }
  }

  @Test
  void aScheduleWithAWrongRuleOrPlanIsRefusedWithWhere() {
    try (CoordinatorDriver c = new CoordinatorDriver(CoordinatorConfig.defaults(), stateDir)) {
      c.commands.pipeInput("bad", schedule("bad", "61 * * * *"));
      JsonNode r = c.rejections().getFirst();
      assertTrue(r.path("reason").asText().contains("$.cron: the minute 61 is outside 0-59"), r.toString());
      c.commands.pipeInput("bad2", "{\"type\": \"schedule\", \"commandId\": \"x\", \"scheduleId\": \"bad2\","
          + " \"plan\": " + plan() + ", \"cron\": \"0 3 * * *\", \"recurrence\": {}}");
      assertTrue(c.rejections().getFirst().path("reason").asText().contains("exactly one of \"cron\""));
      c.commands.pipeInput("ghost", "{\"type\": \"unschedule\", \"commandId\": \"u\", \"scheduleId\": \"ghost\"}");
      assertTrue(c.rejections().getFirst().path("reason").asText().contains("there is no schedule \"ghost\""));
    }
  }

  @Test
  void cronAndRecurrenceRulesFindTheirNextStart() {
    long t = Instant.parse("2027-01-01T03:07:30Z").toEpochMilli(); // a Friday
    assertEquals(Instant.parse("2027-01-01T03:10:00Z").toEpochMilli(), ScheduleRule.Cron.parse("*/5 * * * *").next(t));
    assertEquals(Instant.parse("2027-01-02T03:00:00Z").toEpochMilli(), ScheduleRule.Cron.parse("0 3 * * *").next(t));
    assertEquals(Instant.parse("2027-01-04T08:00:00Z").toEpochMilli(),
        ScheduleRule.Cron.parse("0 8-18 * * mon-fri").next(Instant.parse("2027-01-01T18:30:00Z").toEpochMilli()),
        "the next weekday morning");
    assertEquals(Instant.parse("2027-02-01T00:00:00Z").toEpochMilli(), ScheduleRule.Cron.parse("0 0 1 * *").next(t));
    assertEquals(Instant.parse("2027-01-03T12:00:00Z").toEpochMilli(), ScheduleRule.Cron.parse("0 12 * * 0").next(t),
        "0 is Sunday");
    assertEquals(Instant.parse("2027-01-03T12:00:00Z").toEpochMilli(), ScheduleRule.Cron.parse("0 12 * * 7").next(t),
        "and so is 7");
    long start = Instant.parse("2027-01-01T02:00:00Z").toEpochMilli();
    ScheduleRule.Recurrence every2h = new ScheduleRule.Recurrence("hourly", 2, start, 0, 3);
    assertEquals(Instant.parse("2027-01-01T04:00:00Z").toEpochMilli(), every2h.next(t));
    assertEquals(start, every2h.next(start - 1), "the first start itself");
    assertEquals(-1, every2h.next(Instant.parse("2027-01-01T06:00:00Z").toEpochMilli()), "three times only");
    ScheduleRule.Recurrence monthly = new ScheduleRule.Recurrence("monthly", 1,
        Instant.parse("2027-01-31T00:00:00Z").toEpochMilli(), Instant.parse("2027-06-01T00:00:00Z").toEpochMilli(), 0);
    assertEquals(Instant.parse("2027-02-28T00:00:00Z").toEpochMilli(), monthly.next(
        Instant.parse("2027-01-31T00:00:00Z").toEpochMilli()), "a month after the 31st is the month's end");
    assertEquals(-1, monthly.next(Instant.parse("2027-05-31T00:00:01Z").toEpochMilli()), "until June");
    for (String bad : new String[] {"* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "5-1 * * * *",
        "* * * * funday"}) {
      try {
        ScheduleRule.Cron.parse(bad);
        throw new AssertionError(bad + " was taken");
      } catch (IllegalArgumentException e) {
        assertTrue(!e.getMessage().isBlank());
      }
    }
  }
}
