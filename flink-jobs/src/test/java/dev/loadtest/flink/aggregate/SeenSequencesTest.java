package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeenSequencesTest {
  @Test
  void batchesInOrderAreOneInterval() {
    long[] s = SeenSequences.NONE;
    for (long q = 1_000; q < 1_100; q++) {
      s = SeenSequences.add(s, q);
    }
    assertArrayEquals(new long[] {1_000, 1_099}, s);
    assertEquals(100, SeenSequences.count(s));
  }

  @Test
  void aGapClosedLaterJoinsItsNeighbours() {
    long[] s = SeenSequences.add(SeenSequences.add(SeenSequences.NONE, 5), 7);
    assertArrayEquals(new long[] {5, 5, 7, 7}, s);
    assertArrayEquals(new long[] {5, 7}, SeenSequences.add(s, 6));
    assertArrayEquals(new long[] {4, 5, 7, 7}, SeenSequences.add(s, 4));
    assertArrayEquals(new long[] {5, 5, 7, 8}, SeenSequences.add(s, 8));
  }

  @Test
  void extremesDoNotOverflow() {
    long[] s = SeenSequences.add(SeenSequences.add(SeenSequences.NONE, Long.MAX_VALUE), Long.MIN_VALUE);
    assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE}, s);
    assertEquals(true, SeenSequences.contains(s, Long.MAX_VALUE));
    assertEquals(false, SeenSequences.contains(s, 0));
  }

  /** Differential: the intervals answer as a plain set does, for numbers in any order. */
  @Test
  void answersAsASetDoes() {
    SplittableRandom r = new SplittableRandom(3);
    for (int round = 0; round < 50; round++) {
      Set<Long> reference = new HashSet<>();
      long[] s = SeenSequences.NONE;
      for (int i = 0; i < 300; i++) {
        long q = r.nextInt(200);
        assertEquals(reference.contains(q), SeenSequences.contains(s, q), "contains " + q);
        reference.add(q);
        s = SeenSequences.add(s, q);
        assertEquals(reference.size(), SeenSequences.count(s));
      }
      for (int i = 1; i < s.length; i++) {
        assertEquals(true, s[i] >= s[i - 1] + (i % 2 == 0 ? 2 : 0), "sorted, disjoint, not adjacent: " + SeenSequences.toString(s));
      }
    }
  }
}
