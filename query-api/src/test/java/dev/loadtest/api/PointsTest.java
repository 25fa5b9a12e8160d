package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PointsTest {
  private static String thousandths(double v) {
    char[] buf = new char[24];
    int len = Points.thousandths(v, buf);
    return len == 0 ? null : new String(buf, 0, len);
  }

  @Test
  void aValueInWholeThousandthsIsWrittenAsItsShortDecimal() {
    assertEquals("50.943", thousandths(50943 / 1000.0));
    assertEquals("0.05", thousandths(0.05));
    assertEquals("0.005", thousandths(5 / 1000.0));
    assertEquals("2", thousandths(2.0));
    assertEquals("-12.5", thousandths(-12.5));
    assertEquals("0", thousandths(-0.0));
    assertEquals("123456789012.345", thousandths(123456789012345L / 1000.0));
  }

  @Test
  void anyOtherValueIsLeftToTheGeneralWriter() {
    assertEquals(null, thousandths(1.0 / 3));
    assertEquals(null, thousandths(0.0001));
    assertEquals(null, thousandths(1e300));
    assertEquals(null, thousandths(Double.POSITIVE_INFINITY));
  }

  @Test
  void everyWrittenDecimalReadsBackAsTheSameDouble() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < 200_000; i++) {
      double v = switch (i % 3) {
        case 0 -> rnd.nextLong(-10_000_000_000L, 10_000_000_000L) / 1000.0; // microseconds as milliseconds
        case 1 -> rnd.nextLong(0, 1_000_000) / 100.0;
        default -> rnd.nextDouble() * Math.pow(10, rnd.nextInt(-4, 13));
      };
      String s = thousandths(v);
      if (s != null) {
        assertEquals(v, Double.parseDouble(s), s);
      } else {
        assertEquals(true, i % 3 == 2, "a whole number of thousandths is written: " + v);
      }
    }
  }
}
