package dev.loadtest.schemas.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunStateTest {

  @Test
  void aStateWrittenBeforeWarningsAndFailedIterationsReadsWithNone() {
    String old = "{\"testRunId\":\"r-1\",\"status\":\"FINISHED\",\"history\":[],\"errors\":[],\"version\":3,"
        + "\"totals\":{\"requests\":10,\"samples\":30,\"undelivered\":0,\"iterations\":10,\"droppedIterations\":0,"
        + "\"generators\":1,\"lost\":0}}";
    RunState s = RunState.fromJson(old);
    assertEquals(List.of(), s.warnings());
    assertEquals(0, s.totals().failedIterations());
    assertEquals(List.of(), s.totals().iterationErrors());
    assertFalse(s.toJson().contains("\"warnings\""), "no warnings, no field: " + s.toJson());
  }

  @Test
  void warningsAreKeptOnceEachAndAtMostTen() {
    RunState s = RunState.first("r-1", RunStatus.RUNNING, 0, "running", List.of(), "h", "{}", null);
    RunState warned = s.withWarning("w");
    assertEquals(s.version() + 1, warned.version());
    assertSame(warned, warned.withWarning("w"), "the same warning again is no new state");
    for (int i = 0; i < 20; i++) {
      warned = warned.withWarning("w" + i);
    }
    assertEquals(RunState.MAX_WARNINGS, warned.warnings().size());
    assertEquals(warned, RunState.fromJson(warned.toJson()));
  }
}
