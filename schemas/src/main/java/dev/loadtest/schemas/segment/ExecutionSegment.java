package dev.loadtest.schemas.segment;

/**
 * One part {@code (from, to]} of a test's work, as k6 writes it: {@code 1/3:2/3}, {@code 0.5:0.75},
 * {@code 50%:75%}, or only its end ({@code 75%} is {@code 0:3/4}); empty is the whole test.
 *
 * @param from where the segment starts, 0 <= from < to
 * @param to where it ends, at most 1
 */
public record ExecutionSegment(Fraction from, Fraction to) {
  public static final ExecutionSegment WHOLE = new ExecutionSegment(Fraction.ZERO, Fraction.ONE);

  public ExecutionSegment {
    if (from.compareTo(to) >= 0) {
      throw new IllegalArgumentException("an execution segment's start (" + from + ") must be less than its end ("
          + to + ")");
    }
  }

  /**
   * Parses k6's form.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static ExecutionSegment parse(String text) {
    String s = text.strip();
    if (s.isEmpty()) {
      return WHOLE;
    }
    int colon = s.indexOf(':');
    if (colon < 0) {
      return new ExecutionSegment(Fraction.ZERO, Fraction.parse(s));
    }
    return new ExecutionSegment(Fraction.parse(s.substring(0, colon)), Fraction.parse(s.substring(colon + 1)));
  }

  /** {@code to - from} as a double (for rates, which need not be whole). */
  public double length() {
    return to.toDouble() - from.toDouble();
  }

  /** As k6 prints it: {@code 1/3:2/3}. */
  @Override
  public String toString() {
    return from + ":" + to;
  }
}
