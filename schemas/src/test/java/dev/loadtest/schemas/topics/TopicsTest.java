package dev.loadtest.schemas.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void theTopicsAreThoseOfTheDesignAndItsExtensionsWithTheirSettings() { // insights, schedules: README "The contracts"
    Map<String, Topics.Spec> byName = Topics.all().stream().collect(Collectors.toMap(Topics.Spec::name, t -> t));
    assertEquals(List.of("loadtest.commands", "loadtest.runs", "loadtest.generators", "loadtest.assignments",
        "loadtest.samples", "loadtest.aggregates", "loadtest.thresholds", "loadtest.insights", "loadtest.schedules",
        "loadtest.dlq"),
        Topics.all().stream().map(Topics.Spec::name).toList());
    assertEquals("compact", byName.get(Topics.RUNS).config().get("cleanup.policy"), "run state is compacted");
    assertEquals("compact", byName.get(Topics.GENERATORS).config().get("cleanup.policy"), "heartbeats are compacted");
    assertEquals("compact", byName.get(Topics.SCHEDULES).config().get("cleanup.policy"), "a schedule's latest state");
    assertEquals(Long.toString(7L * 24 * 3600 * 1000), byName.get(Topics.SAMPLES).config().get("retention.ms"),
        "raw samples are kept a week for replay");
  }
}
