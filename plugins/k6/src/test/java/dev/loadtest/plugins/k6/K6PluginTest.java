package dev.loadtest.plugins.k6;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.generator.testing.FakePublisher;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The k6 plug-in's own logic: k6's segment flags, its options, and what it does without a binary. No k6 binary can
 * be installed on this project's machines (neither Debian nor npm has one), so no test here runs k6 itself; the
 * reading of k6's JSON output it streams is the importer's, tested on k6's format.
 */
class K6PluginTest {
  static TestPlan plan(String options) {
    return PlanParser.parse("""
        {"name": "k6 shop", "env": {"BASE_URL": "http://127.0.0.1:8080"},
         "generator": {"plugin": "k6", "options": %s}}""".formatted(options));
  }

  @Test
  void eachGeneratorRunsItsSegmentOfTheRunsSequenceWithK6sOwnFlags() {
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.split(3);
    List<String> cmd = K6Plugin.commandLine("k6", seq.segment(1), seq.toString(), Path.of("/tmp/out.json"),
        Map.of("BASE_URL", "http://127.0.0.1:8080"), Path.of("/tmp/script.js"));
    assertEquals(List.of("k6", "run", "--quiet", "--no-summary", "--no-usage-report", "--execution-segment", "1/3:2/3",
        "--execution-segment-sequence", "0,1/3,2/3,1", "--out", "json=/tmp/out.json", "-e",
        "BASE_URL=http://127.0.0.1:8080", "/tmp/script.js"), cmd);
  }

  @Test
  void withoutABinaryTheGeneratorDoesNotOfferThePlugInAndSaysWhy() {
    String why = K6Plugin.probe("/nonexistent/k6").orElseThrow();
    assertTrue(why.startsWith("no k6 binary here (") && why.endsWith("set LOADTEST_K6 to one, or put k6 on the PATH"),
        why);
  }

  @Test
  void optionsAndTheScriptAreCheckedUpFrontAndTheScriptTravelsInThePlan(@TempDir Path dir) throws Exception {
    List<PlanError> unknown = GeneratorPlugin.checkPlan(plan("{\"script\": \"nope.js\", \"vus\": 3}"), dir);
    assertEquals(List.of("$.generator.options.vus"), unknown.stream().map(PlanError::path).toList(), unknown.toString());
    List<PlanError> missing = GeneratorPlugin.checkPlan(plan("{\"script\": \"nope.js\"}"), dir);
    assertEquals("$.generator.options.script", missing.get(0).path());
    assertEquals("there is no k6 script at " + dir.resolve("nope.js").toAbsolutePath(), missing.get(0).message());
    Files.writeString(dir.resolve("script.js"), "export default function () {}\n");
    assertEquals(List.of(), GeneratorPlugin.checkPlan(plan("{\"script\": \"script.js\"}"), dir));
    String embedded = new K6Plugin().embedFiles("{\"script\": \"script.js\"}", dir);
    assertTrue(embedded.contains("\"scriptContent\":\"export default function () {}\\n\""), embedded);
  }

  @Test
  void aRunWhoseK6CannotStartEndsWithTheReason(@TempDir Path dir) throws Exception {
    PluginRun run = new K6Run(new PluginContext("k6-run", plan("{\"scriptContent\": \"export default function () {}\"}"),
        Map.of(), ExecutionSegmentSequence.whole(), 0, new BatchingSampleSink("k6-run", "g", "local",
            new FakePublisher()), dir, () -> null, 1), "export default function () {}", Map.of(),
        java.time.Duration.ofSeconds(5), "/nonexistent/k6");
    assertTrue(run.run(System.nanoTime()), "nothing ran, nothing was aborted");
    assertEquals(1, run.failedIterations());
    assertTrue(run.iterationErrors().get(0).startsWith("cannot run k6 (/nonexistent/k6): "),
        run.iterationErrors().toString());
  }
}
