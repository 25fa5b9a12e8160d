package dev.loadtest.schemas.segment;

import java.math.BigDecimal;

/** An exact fraction in [0, 1] with a positive denominator, kept reduced. */
public record Fraction(long numerator, long denominator) implements Comparable<Fraction> {
  /** Denominators above this are refused: segments are shares of a test, not of atoms. */
  public static final long MAX_DENOMINATOR = 1_000_000;
  public static final Fraction ZERO = new Fraction(0, 1);
  public static final Fraction ONE = new Fraction(1, 1);

  public Fraction {
    if (denominator <= 0) {
      throw new IllegalArgumentException("denominator must be positive: " + denominator);
    }
    long g = gcd(Math.abs(numerator), denominator);
    numerator /= g;
    denominator /= g;
  }

  /**
   * Parses {@code 1/3}, {@code 0.25} or {@code 25%}, as k6 writes segment bounds.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static Fraction parse(String text) {
    String s = text.strip();
    try {
      if (s.endsWith("%")) {
        BigDecimal pct = new BigDecimal(s.substring(0, s.length() - 1).strip());
        return ofDecimal(pct.movePointLeft(2), text);
      }
      int slash = s.indexOf('/');
      if (slash >= 0) {
        long n = Long.parseLong(s.substring(0, slash).strip());
        long d = Long.parseLong(s.substring(slash + 1).strip());
        if (d <= 0) {
          throw new IllegalArgumentException("\"" + text + "\" has a denominator that is not positive");
        }
        return checked(new Fraction(n, d), text);
      }
      return ofDecimal(new BigDecimal(s), text);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("\"" + text + "\" is not a fraction, decimal or percentage (e.g. 1/3, 0.5, 50%)");
    }
  }

  private static Fraction ofDecimal(BigDecimal v, String text) {
    BigDecimal stripped = v.stripTrailingZeros();
    int scale = Math.max(0, stripped.scale());
    if (scale > 6) {
      throw new IllegalArgumentException("\"" + text + "\" is finer than 1/1000000");
    }
    long d = BigDecimal.TEN.pow(scale).longValueExact();
    return checked(new Fraction(stripped.movePointRight(scale).longValueExact(), d), text);
  }

  private static Fraction checked(Fraction f, String text) {
    if (f.numerator < 0 || f.numerator > f.denominator) {
      throw new IllegalArgumentException("\"" + text + "\" is not between 0 and 1");
    }
    if (f.denominator > MAX_DENOMINATOR) {
      throw new IllegalArgumentException("\"" + text + "\" is finer than 1/" + MAX_DENOMINATOR);
    }
    return f;
  }

  public double toDouble() {
    return (double) numerator / denominator;
  }

  /** {@code this - o}, which must not be negative. */
  public Fraction minus(Fraction o) {
    long d = Math.multiplyExact(denominator / gcd(denominator, o.denominator), o.denominator);
    return new Fraction(Math.subtractExact(numerator * (d / denominator), o.numerator * (d / o.denominator)), d);
  }

  /** This fraction of {@code total}, which must be a multiple of the denominator. */
  long of(long total) {
    return Math.multiplyExact(numerator, total / denominator);
  }

  @Override
  public int compareTo(Fraction o) {
    return Long.compare(Math.multiplyExact(numerator, o.denominator), Math.multiplyExact(o.numerator, denominator));
  }

  /** As k6 prints it: {@code 0}, {@code 1}, {@code 1/3}. */
  @Override
  public String toString() {
    return denominator == 1 ? Long.toString(numerator) : numerator + "/" + denominator;
  }

  static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a == 0 ? 1 : a;
  }
}
