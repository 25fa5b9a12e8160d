package dev.loadtest.generator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class IterationFailuresTest {

  @Test
  void keepsTheFirstDistinctReasonsInOrder() {
    IterationFailures f = new IterationFailures();
    f.record("a", "x");
    f.record("a", "x");
    f.record("b", "y");
    assertEquals(List.of("scenario a: x", "scenario b: y"), f.reasons());
  }

  @Test
  void reasonsAreBoundedInNumberAndLength() {
    IterationFailures f = new IterationFailures();
    IntStream.range(0, 1000).parallel().forEach(i -> f.record("s", "value " + i + " is wrong"));
    assertEquals(IterationFailures.MAX_REASONS, f.reasons().size());
    IterationFailures longOne = new IterationFailures();
    longOne.record("s", "z".repeat(10_000));
    String reason = longOne.reasons().get(0);
    assertEquals(IterationFailures.MAX_REASON_CHARS, reason.length());
    assertTrue(reason.endsWith("…"), reason);
  }
}
