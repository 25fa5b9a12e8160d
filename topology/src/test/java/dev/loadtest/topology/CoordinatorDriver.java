package dev.loadtest.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.plan.Plans;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** The coordinator topology in a TopologyTestDriver, with helpers to send commands and read answers. */
final class CoordinatorDriver implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  final TopologyTestDriver driver;
  final TestInputTopic<String, String> commands;
  final TestOutputTopic<String, String> runs;
  final TestOutputTopic<String, String> dlq;
  final TestInputTopic<String, String> generators;
  final TestOutputTopic<String, String> assignments;
  final TestInputTopic<String, String> thresholds;

  CoordinatorDriver(CoordinatorConfig config, Path stateDir) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "coordinator-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(CoordinatorTopology.build(config), p);
    commands = driver.createInputTopic(Topics.COMMANDS, Serdes.String().serializer(), Serdes.String().serializer());
    runs = driver.createOutputTopic(Topics.RUNS, Serdes.String().deserializer(), Serdes.String().deserializer());
    dlq = driver.createOutputTopic(Topics.DLQ, Serdes.String().deserializer(), Serdes.String().deserializer());
    generators = driver.createInputTopic(Topics.GENERATORS, Serdes.String().serializer(), Serdes.String().serializer());
    assignments = driver.createOutputTopic(Topics.ASSIGNMENTS, Serdes.String().deserializer(),
        Serdes.String().deserializer());
    thresholds = driver.createInputTopic(Topics.THRESHOLDS, Serdes.String().serializer(), Serdes.String().serializer());
  }

  /** A heartbeat of a generator, with the phases of its runs ({@code runId, PHASE, runId, PHASE...}). */
  void heartbeat(String generatorId, String zone, long capacityVus, String... runPhases) {
    java.util.List<dev.loadtest.schemas.generator.Heartbeat.RunProgress> runs = new java.util.ArrayList<>();
    for (int i = 0; i < runPhases.length; i += 2) {
      runs.add(new dev.loadtest.schemas.generator.Heartbeat.RunProgress(runPhases[i], "", 
          dev.loadtest.schemas.generator.Heartbeat.RunPhase.valueOf(runPhases[i + 1]), 10, 0, 10, 30, 0, 0, ""));
    }
    generators.pipeInput(generatorId, dev.loadtest.schemas.generator.GeneratorJson.heartbeat(
        new dev.loadtest.schemas.generator.Heartbeat(generatorId, zone, 2, capacityVus, "test", 0, 0.2, 1, 2, 0.1, runs,
            java.util.List.of(), 0)));
  }

  /** A heartbeat of {@code generatorId} with one run whose iterations fail for {@code reasons}. */
  void heartbeatWithFailures(String generatorId, String zone, String run, String phase, long failed,
      String... reasons) {
    var p = new dev.loadtest.schemas.generator.Heartbeat.RunProgress(run, "",
        dev.loadtest.schemas.generator.Heartbeat.RunPhase.valueOf(phase), 10, 0, 10, 30, 0, 0, "", failed,
        java.util.List.of(reasons));
    generators.pipeInput(generatorId, dev.loadtest.schemas.generator.GeneratorJson.heartbeat(
        new dev.loadtest.schemas.generator.Heartbeat(generatorId, zone, 2, 1000, "test", 0, 0.2, 1, 2, 0.1,
            java.util.List.of(p), java.util.List.of(), 0)));
  }

  java.util.List<dev.loadtest.schemas.generator.Assignment> assignments() {
    return assignments.readValuesToList().stream().map(dev.loadtest.schemas.generator.GeneratorJson::parseAssignment)
        .toList();
  }

  /** The checkout plan of the schemas test fixtures. */
  static ObjectNode plan() {
    return Plans.base();
  }

  static String start(String commandId, String runId, JsonNode plan) {
    ObjectNode c = JSON.createObjectNode().put("type", "start").put("commandId", commandId).put("testRunId", runId);
    c.set("plan", plan);
    c.putObject("metadata").put("name", "nightly").put("who", "ci");
    return c.toString();
  }

  List<RunState> runStates() {
    return runs.readValuesToList().stream().map(RunState::fromJson).toList();
  }

  List<JsonNode> rejections() {
    return dlq.readValuesToList().stream().map(v -> {
      try {
        return JSON.readTree(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).toList();
  }

  @Override
  public void close() {
    driver.close();
  }
}
