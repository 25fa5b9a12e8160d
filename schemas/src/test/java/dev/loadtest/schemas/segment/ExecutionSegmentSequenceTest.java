package dev.loadtest.schemas.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ExecutionSegmentSequenceTest {
  @Test
  void thirdsAddUpExactlyForEveryCount() {
    ExecutionSegmentSequence thirds = ExecutionSegmentSequence.parse("0,1/3,2/3,1");
    assertEquals("1/3:2/3", thirds.segment(1));
    for (long n = 0; n <= 10_000; n++) {
      long sum = thirds.scale(0, n) + thirds.scale(1, n) + thirds.scale(2, n);
      assertEquals(n, sum, "n = " + n);
    }
    assertEquals(34, thirds.scale(0, 100));
    assertEquals(33, thirds.scale(1, 100));
    assertEquals(33, thirds.scale(2, 100));
  }

  @Test
  void randomPartitionsGiveEveryIndexToExactlyOneSegmentAndSharesNeverShrink() {
    SplittableRandom r = new SplittableRandom(11);
    for (int round = 0; round < 200; round++) {
      ExecutionSegmentSequence seq = randomSequence(r);
      long[] previous = new long[seq.segmentCount()];
      long[] owned = new long[seq.segmentCount()];
      for (long n = 1; n <= 2_000; n++) {
        owned[seq.ownerOf(n - 1)]++;
        long sum = 0;
        for (int s = 0; s < seq.segmentCount(); s++) {
          long share = seq.scale(s, n);
          assertEquals(owned[s], share, seq + " segment " + s + " n " + n);
          assertTrue(share >= previous[s], "a share never shrinks: " + seq + " segment " + s + " at n " + n);
          previous[s] = share;
          sum += share;
        }
        assertEquals(n, sum, seq + " at n " + n);
      }
    }
  }

  @Test
  void eachSegmentGetsItsLengthOfEveryCycle() {
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse("0,0.37,1");
    assertEquals(100, seq.cycle());
    assertEquals(37, seq.scale(0, 100));
    assertEquals(63, seq.scale(1, 100));
    assertEquals(370, seq.scale(0, 1_000));
    assertEquals(6.3, seq.scaleRate(1, 10), 1e-9);
    assertEquals(3.7, seq.scaleRate(0, 10), 1e-9);
  }

  @Test
  void theIndexesOfASegmentAreInterleavedNotInBursts() {
    // 37% of an arrival-rate schedule: every window of 20 consecutive iterations holds 7 or 8 of them,
    // where a block assignment would give the first 37 of every 100 to one generator.
    ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse("0,0.37,1");
    for (long start = 0; start < 1_000; start++) {
      long mine = seq.scale(0, start + 20) - seq.scale(0, start);
      assertTrue(mine >= 7 && mine <= 8, "window at " + start + " holds " + mine);
    }
  }

  @Test
  void oneSegmentIsTheWholeTest() {
    ExecutionSegmentSequence whole = ExecutionSegmentSequence.whole();
    assertEquals(12_345, whole.scale(0, 12_345));
    assertEquals("0,1", whole.toString());
    assertEquals(ExecutionSegmentSequence.split(4).toString(), ExecutionSegmentSequence.parse("0,25%,0.5,3/4,1").toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"1/3|1/3", "0.25|1/4", "25%|1/4", "2/4|1/2", "1|1", "0|0", "12.5%|1/8"})
  void fractionsParseAsK6WritesThem(String text, String expected) {
    assertEquals(expected, Fraction.parse(text).toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"1/2", "0,1/2,1/3,1", "0,1/2,1/2,1", "0,1.5", "0,-1/2,1", "0,a,1", "0,1/0,1",
      "0,0.0000001,1"})
  void rejectsWhatIsNotAPartitionOfTheTest(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExecutionSegmentSequence.parse(text));
    assertTrue(!e.getMessage().isBlank());
  }

  private static ExecutionSegmentSequence randomSequence(SplittableRandom r) {
    TreeSet<Fraction> inner = new TreeSet<>();
    int cuts = r.nextInt(0, 6);
    while (inner.size() < cuts) {
      int d = r.nextInt(2, 25);
      int n = r.nextInt(1, d);
      inner.add(new Fraction(n, d));
    }
    List<Fraction> bounds = new ArrayList<>();
    bounds.add(Fraction.ZERO);
    bounds.addAll(inner);
    bounds.add(Fraction.ONE);
    return ExecutionSegmentSequence.of(bounds);
  }
}
