package dev.loadtest.api.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SlicesTest {
  static final Slices.Coverage ALL = new Slices.Coverage(Long.MAX_VALUE, Long.MAX_VALUE);

  @Test
  void aRangeIsTiledCoarsestInTheMiddleAndFinestAtTheEdges() {
    List<Slices.Slice> s = Slices.plan(47, 253, 0, ALL);
    assertEquals(List.of(new Slices.Slice(1, 47, 50), new Slices.Slice(10, 50, 60), new Slices.Slice(60, 60, 240),
        new Slices.Slice(10, 240, 250), new Slices.Slice(1, 250, 253)), s);
    assertEquals(253 - 47, s.stream().mapToLong(Slices.Slice::seconds).sum(), "no gap, no overlap");
  }

  @Test
  void onlyWrittenRollupsAreUsed() {
    // minutes written up to 120, ten seconds up to 170: the rest comes from 1 s rows
    List<Slices.Slice> s = Slices.plan(0, 200, 0, new Slices.Coverage(120, 170));
    assertEquals(List.of(new Slices.Slice(60, 0, 120), new Slices.Slice(10, 120, 170), new Slices.Slice(1, 170, 200)), s);
    assertEquals(List.of(new Slices.Slice(1, 0, 200)), Slices.plan(0, 200, 0, Slices.Coverage.NONE));
  }

  @Test
  void aStepUsesOnlyTablesThatDivideIt() {
    // 1 s and 15 s steps: neither 10 s nor 1 min rows fit in one step, so only 1 s rows are read
    assertEquals(List.of(new Slices.Slice(1, 0, 90)), Slices.plan(0, 90, 1, ALL));
    assertEquals(List.of(new Slices.Slice(1, 0, 90)), Slices.plan(0, 90, 15, ALL));
    assertEquals(List.of(new Slices.Slice(10, 0, 90)), Slices.plan(0, 90, 30, ALL));
    assertEquals(List.of(new Slices.Slice(60, 0, 120)), Slices.plan(0, 120, 120, ALL));
  }
}
