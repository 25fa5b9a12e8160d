package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees when the plan or an option given to {@code loadtest generator} is wrong. */
class GeneratorCommandTest {
  @Test
  void anInvalidPlanGivesEveryErrorWithItsPathAndExitCode104NeverAStackTrace(@TempDir Path dir) throws Exception {
    Path plan = dir.resolve("plan.json");
    Files.writeString(plan, """
        {"name": "bad", "scenarios": {"s": {"executor": "constant-vus", "vus": -1, "duration": "soon", "exec": "nope"}},
         "flows": {"f": {"steps": [{"request": {"url": "ftp://x", "name": "x"}}]}}}""");
    CliRun o = CliRun.of("generator", "--plan", plan.toString());
    assertEquals(104, o.code(), o.err());
    assertTrue(o.err().contains("$.scenarios.s.vus"), o.err());
    assertTrue(o.err().contains("$.scenarios.s.duration"), o.err());
    assertTrue(o.err().contains("$.scenarios.s.exec"), o.err());
    assertTrue(o.err().contains("$.flows.f.steps[0].request.url"), o.err());
    assertFalse(o.err().contains("Exception") || o.err().contains("\tat "), "no stack trace: " + o.err());
  }

  @Test
  void aSegmentOutsideItsSequenceIsRefusedBeforeAnythingStarts(@TempDir Path dir) throws Exception {
    Path plan = dir.resolve("plan.json");
    Files.writeString(plan, "{}");
    CliRun o = CliRun.of("generator", "--plan", plan.toString(), "--execution-segment", "1/3:1/2",
        "--execution-segment-sequence", "0,1/3,2/3,1");
    assertEquals(2, o.code(), o.out() + o.err());
    assertTrue(o.err().contains("--execution-segment") && o.err().contains("is not a segment of the sequence"), o.err());
    CliRun bad = CliRun.of("generator", "--plan", plan.toString(), "--execution-segment", "2/3:1/3");
    assertEquals(2, bad.code(), bad.out() + bad.err());
  }

  @Test
  void notJsonAtAllIsAPlanErrorToo(@TempDir Path dir) throws Exception {
    Path plan = dir.resolve("plan.json");
    Files.writeString(plan, "scenarios: yes");
    CliRun o = CliRun.of("generator", "--plan", plan.toString());
    assertEquals(104, o.code(), o.err());
    assertTrue(o.err().contains("$"), o.err());
    assertFalse(o.err().contains("\tat "), o.err());
  }

  @Test
  void aPluginsOwnOptionsAreCheckedWithTheirPaths(@TempDir Path dir) throws Exception {
    Path plan = dir.resolve("plan.json");
    Files.writeString(plan, """
        {"name": "synthetic", "generator": {"plugin": "synthetic", "options": {"rate": -5, "latency": {"median": "x"}}},
         "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "f"}},
         "flows": {"f": {"steps": [{"think": "1s"}]}}}""");
    CliRun o = CliRun.of("generator", "--plan", plan.toString(), "--bootstrap", "127.0.0.1:1");
    assertEquals(104, o.code(), o.out() + o.err());
    assertTrue(o.err().contains("$.generator.options.rate"), o.err());
    assertTrue(o.err().contains("$.generator.options.duration"), o.err());
    assertTrue(o.err().contains("$.generator.options.latency.median"), o.err());
  }

  @Test
  void aWarmUpThatIsNoDurationOrTooShortIsRefusedSayingWhatItMustBe() {
    CliRun shortOne = CliRun.of("generator", "--plan", "plan.json", "--warm-up", "1s");
    assertEquals(2, shortOne.code(), shortOne.err());
    assertTrue(shortOne.err().contains("--warm-up") && shortOne.err().contains("at least 3s"), shortOne.err());
    CliRun notOne = CliRun.of("generator", "--plan", "plan.json", "--warm-up", "soon");
    assertEquals(2, notOne.code(), notOne.err());
    assertTrue(notOne.err().contains("--warm-up") && notOne.err().contains("soon"), notOne.err());
    assertFalse(notOne.err().contains("\tat "), notOne.err());
  }

  @Test
  void withoutBootstrapOrPlanItSaysWhatToGive() {
    CliRun o = CliRun.of("generator");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("--bootstrap") && o.err().contains("--plan"), o.err());
  }
}
