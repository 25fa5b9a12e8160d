package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every plan error is found by `loadtest run` before any generator starts (exit 104, each error at its JSON
 * path), never a run that makes 0 requests or a generator that fails with exit 1: value types, undefined
 * env, feeder files, plug-in names and options, file encodings.
 */
class PlanChecksUpFrontTest {
  private static final String FLOW = """
      "scenarios": {"s": {"executor": "shared-iterations", "vus": 1, "iterations": 1, "exec": "f"}},
      "flows": {"f": {"steps": [{"request": {"url": "${ENV.BASE}/x", "name": "x", "headers": %s}}]}}""";

  private static String plan(String extra, String headers) {
    return "{\"name\": \"p\", \"env\": {\"BASE\": \"http://127.0.0.1:1\"}, " + extra + FLOW.formatted(headers) + "}";
  }

  /** The errors RunCommand.load prints for {@code file}, or null when the plan can run. */
  private static String errorsOf(Path file, Map<String, String> env) {
    StringWriter err = new StringWriter();
    RunCommand.Loaded loaded = RunCommand.load(file, env, new PrintWriter(err, true));
    return loaded == null ? err.toString() : null;
  }

  @Test
  void aMissingFeederFileAndAnUnknownPluginExit104WithTheirPaths(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("plan.json");
    Files.writeString(p, plan("\"feeders\": {\"users\": {\"file\": \"users.csv\"}}, ", "{}"));
    String err = errorsOf(p, Map.of());
    assertNotNull(err, "a missing feeder file is refused");
    assertTrue(err.contains("$.feeders.users.file: feeder users: there is no file " + dir.resolve("users.csv")), err);

    // Submitted to a cluster (no plan directory here), feeder files are the generators' to read.
    assertNotNull(RunCommand.load(Files.readString(p), "plan.json", Map.of(), null, new PrintWriter(new StringWriter())),
        "submit leaves feeder files to the generators");

    Files.writeString(dir.resolve("users.csv"), "email\na@example.com\n");
    assertNull(errorsOf(p, Map.of()), "the same plan runs once the file is there");

    Files.writeString(p, plan("\"generator\": {\"plugin\": \"wrk2\"}, ", "{}"));
    CliRun run = CliRun.of("run", p.toString());
    assertEquals(104, run.code(), run.out() + run.err());
    assertTrue(run.err().contains("$.generator.plugin: unknown plug-in \"wrk2\": the generators have gatling, http,"
        + " jmeter, k6, locust, synthetic"), run.err());
    assertFalse(run.out().contains("starting the embedded stack"), "nothing started: " + run.out());
  }

  @Test
  void numbersAsHeaderValuesAndUndefinedEnvAreRefusedUnlessEnvIsGiven(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("plan.json");
    Files.writeString(p, plan("", "{\"X-Retries\": 3}"));
    String err = errorsOf(p, Map.of());
    assertTrue(err.contains("$.flows.f.steps[0].request.headers['X-Retries']: must be a string, got the number 3"), err);

    Files.writeString(p, plan("", "{\"X-Who\": \"${ENV.WHO}\"}"));
    err = errorsOf(p, Map.of());
    assertTrue(err.contains("$.flows.f.steps[0].request.headers['X-Who']: \"${ENV.WHO}\" names env value \"WHO\""), err);
    assertNull(errorsOf(p, Map.of("WHO", "me")), "-e WHO=me defines it");
  }

  @Test
  void encodingsAreReadOrRefusedSayingWhere(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("plan.json");
    byte[] utf16 = plan("", "{}").getBytes(StandardCharsets.UTF_16); // big-endian with a byte order mark
    Files.write(p, utf16);
    assertNull(errorsOf(p, Map.of()), "UTF-16 with a byte order mark is read");

    Files.write(p, new byte[] {0x7B, 0x22, (byte) 0xC3, 0x28, 0x22, 0x7D});
    String err = errorsOf(p, Map.of());
    assertTrue(err.contains("$: not UTF-8 text: byte 0xC3 at offset 2"), err);
    assertFalse(err.contains("Input length"), err);

    Files.write(p, new byte[] {0x1F, (byte) 0x8B, 0x08, 0x00, 0x00});
    err = errorsOf(p, Map.of());
    assertTrue(err.contains("binary file"), err);
  }

  @Test
  void aJMeterTestPlanIsCheckedUpFrontAndTravelsInThePlan(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("jmeter.json");
    Files.writeString(p, """
        {"name": "j", "generator": {"plugin": "jmeter", "options": {"testPlan": "missing.jmx", "threads": 3}}}""");
    CliRun run = CliRun.of("run", p.toString());
    assertEquals(104, run.code(), run.out() + run.err());
    assertTrue(run.err().contains("$.generator.options.threads: unknown option"), run.err());
    Files.writeString(p, """
        {"name": "j", "generator": {"plugin": "jmeter", "options": {"testPlan": "missing.jmx"}}}""");
    assertTrue(errorsOf(p, Map.of()).contains("$.generator.options.testPlan: no JMeter test plan at "
        + dir.resolve("missing.jmx")), errorsOf(p, Map.of()));

    Files.writeString(dir.resolve("broken.jmx"), "<jmeterTestPlan><hashTree>");
    Files.writeString(p, """
        {"name": "j", "generator": {"plugin": "jmeter", "options": {"testPlan": "broken.jmx"}}}""");
    assertTrue(errorsOf(p, Map.of()).contains("$.generator.options.testPlan: not a JMeter test plan that JMeter 5.6"
        + " reads: "), errorsOf(p, Map.of()));

    Path example = Path.of("../examples/jmeter/checkout.json").toAbsolutePath();
    RunCommand.Loaded loaded = RunCommand.load(example, Map.of(), new PrintWriter(new StringWriter(), true));
    assertNotNull(loaded, "the example plan is valid");
    assertEquals(Files.readString(example.resolveSibling("checkout.jmx")), loaded.json().path("generator")
        .path("options").path("testPlanXml").asText(), "the test plan's XML travels in the plan to the generators");
    assertTrue(loaded.parsed().scenarios().isEmpty(), "JMeter's thread groups size the load");
  }
}
