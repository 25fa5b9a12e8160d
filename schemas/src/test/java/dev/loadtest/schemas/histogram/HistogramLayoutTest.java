package dev.loadtest.schemas.histogram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class HistogramLayoutTest {
  private static final long ONE_HOUR_US = 3_600_000_000L;
  /** HdrHistogram with 2 significant digits and a unit of 1: the reference layout. */
  private static final Histogram HDR = new Histogram(1, ONE_HOUR_US, 2);

  @Test
  void bucketBoundsEqualHdrHistogramsForEveryBucketFromOneMicrosecondToOneHour() {
    int last = HistogramLayout.bucketIndex(ONE_HOUR_US);
    for (int index = 1; index <= last; index++) {
      long lower = HistogramLayout.lowerBound(index);
      long upper = HistogramLayout.upperBound(index);
      assertEquals(HDR.lowestEquivalentValue(lower), lower, "lower bound of bucket " + index);
      assertEquals(HDR.highestEquivalentValue(lower), upper, "upper bound of bucket " + index);
      assertEquals(HDR.lowestEquivalentValue(upper), lower, "bucket " + index + " seen from its upper bound");
      assertEquals(index, HistogramLayout.bucketIndex(lower), "index of lower bound of bucket " + index);
      assertEquals(index, HistogramLayout.bucketIndex(upper), "index of upper bound of bucket " + index);
      if (index > 1) {
        assertEquals(HistogramLayout.upperBound(index - 1) + 1, lower, "buckets " + (index - 1) + " and " + index + " touch");
      }
    }
    assertEquals(HistogramLayout.upperBound(last) + 1, HistogramLayout.lowerBound(last + 1));
  }

  @Test
  void indexMatchesTheDesignFormulaAndHdrForEveryValueBelowOneHundredThousand() {
    for (long v = 1; v < 100_000; v++) {
      int index = HistogramLayout.bucketIndex(v);
      assertEquals(designFormula(v), index, "value " + v);
      assertEquals(HDR.lowestEquivalentValue(v), HistogramLayout.lowerBound(index), "value " + v);
    }
  }

  @Test
  void indexMatchesHdrForTenMillionRandomValuesUpToOneHour() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 10_000_000; i++) {
      long v = 1 + random.nextLong(ONE_HOUR_US);
      int index = HistogramLayout.bucketIndex(v);
      if (index != designFormula(v) || HDR.lowestEquivalentValue(v) != HistogramLayout.lowerBound(index)) {
        throw new AssertionError("value " + v + ": index " + index + ", formula " + designFormula(v)
            + ", HDR lowest " + HDR.lowestEquivalentValue(v) + ", ours " + HistogramLayout.lowerBound(index));
      }
    }
  }

  @Test
  void relativeBucketWidthIsAtMostOneIn128() {
    for (int index = HistogramLayout.LINEAR_LIMIT; index < HistogramLayout.MAX_INDEX; index++) {
      long lower = HistogramLayout.lowerBound(index);
      long width = HistogramLayout.upperBound(index) - lower + 1;
      assertTrue(width * 128 <= lower, "bucket " + index + " is " + width + " wide at " + lower);
    }
  }

  @Test
  void fractionsRoundUpOnBothSidesOfZero() {
    assertEquals(2, HistogramLayout.bucketIndex(1.0001));
    assertEquals(1, HistogramLayout.bucketIndex(1.0));
    assertEquals(0, HistogramLayout.bucketIndex(-0.5), "rounded up, -0.5 is 0");
    assertEquals(-1, HistogramLayout.bucketIndex(-1.5), "rounded up, -1.5 is -1");
    assertEquals(-5, HistogramLayout.bucketIndex(-5L));
    assertEquals(0, HistogramLayout.bucketIndex(Double.NaN));
    assertEquals(HistogramLayout.MAX_INDEX, HistogramLayout.bucketIndex(1e30));
    assertEquals(HistogramLayout.MIN_INDEX, HistogramLayout.bucketIndex(-1e30));
    assertEquals(HistogramLayout.MIN_INDEX, HistogramLayout.bucketIndex(Long.MIN_VALUE));
    assertEquals(Long.MAX_VALUE, HistogramLayout.upperBound(HistogramLayout.MAX_INDEX));
    assertEquals(-Long.MAX_VALUE, HistogramLayout.lowerBound(HistogramLayout.MIN_INDEX));
  }

  @Test
  void negativeValuesTakeTheMirrorImageOfTheLayoutInValueOrder() {
    java.util.Random rnd = new java.util.Random(3);
    for (int i = 0; i < 200_000; i++) {
      long v = i < 1000 ? i : (long) Math.exp(rnd.nextDouble() * 43);
      assertEquals(-HistogramLayout.bucketIndex(v), HistogramLayout.bucketIndex(-v), "mirror of " + v);
      int neg = HistogramLayout.bucketIndex(-v);
      assertTrue(HistogramLayout.lowerBound(neg) <= -v && -v <= HistogramLayout.upperBound(neg), -v + " in its bucket");
    }
    // Every bucket below zero is as narrow as its twin, and the indexes ascend with the values.
    for (int index = HistogramLayout.MIN_INDEX; index < HistogramLayout.MAX_INDEX; index++) {
      assertEquals(HistogramLayout.upperBound(index) + 1, HistogramLayout.lowerBound(index + 1), "bucket " + index + " meets the next");
      if (index <= -HistogramLayout.LINEAR_LIMIT) {
        long width = HistogramLayout.upperBound(index) - HistogramLayout.lowerBound(index) + 1;
        assertTrue(width * 128 <= -HistogramLayout.upperBound(index), "bucket " + index + " is " + width + " wide");
      }
    }
    assertThrows(IllegalArgumentException.class, () -> HistogramLayout.lowerBound(HistogramLayout.MIN_INDEX - 1));
  }

  /** DESIGN.md's formula, written out independently of the implementation. */
  private static int designFormula(long v) {
    if (v < 256) {
      return (int) v;
    }
    int m = (int) Math.floor(Math.log(v >> 7) / Math.log(2));
    // guard against floating-point log at exact powers of two
    while ((1L << (m + 1)) <= (v >> 7)) {
      m++;
    }
    while ((1L << m) > (v >> 7)) {
      m--;
    }
    return (m << 7) + (int) (v >> m);
  }
}
