package dev.loadtest.schemas.time;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as k6 writes them: a sequence of number-unit pairs such as {@code 1m30s}, {@code 500ms},
 * {@code 1.5s}, {@code 2h}, {@code 1d}, with units d, h, m, s, ms, us (or µs) and ns; or a bare number,
 * which k6 reads as milliseconds. A leading minus sign makes a negative duration, which callers that
 * need a positive one reject with their own message.
 */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ms|us|µs|ns|d|h|m|s)");
  private static final Pattern NUMBER = Pattern.compile("-?(\\d+(?:\\.\\d*)?|\\.\\d+)");

  private Durations() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException with a message that says what is wrong with it
   */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a duration must not be empty (write e.g. \"30s\", \"1m30s\" or \"500ms\")");
    }
    String s = text.strip();
    if (NUMBER.matcher(s).matches()) {
      return ofNanos(s, Double.parseDouble(s) * 1_000_000d);
    }
    boolean negative = s.startsWith("-");
    String body = negative ? s.substring(1) : s;
    Matcher m = PART.matcher(body);
    int pos = 0;
    double nanos = 0;
    while (pos < body.length()) {
      if (!m.find(pos) || m.start() != pos) {
        throw new IllegalArgumentException("\"" + text + "\" is not a duration: expected number-unit pairs"
            + " such as \"1m30s\" or \"500ms\" (units d, h, m, s, ms, us, ns)");
      }
      nanos += Double.parseDouble(m.group(1)) * unitNanos(m.group(2));
      pos = m.end();
    }
    return ofNanos(text, negative ? -nanos : nanos);
  }

  /** Parses a duration and requires it to be at least zero (or above zero when {@code allowZero} is false). */
  public static Duration parseNonNegative(String text, boolean allowZero) {
    Duration d = parse(text);
    if (d.isNegative()) {
      throw new IllegalArgumentException("must not be negative, got \"" + text + "\"");
    }
    if (!allowZero && d.isZero()) {
      throw new IllegalArgumentException("must be greater than zero, got \"" + text + "\"");
    }
    return d;
  }

  /** Formats a duration the way k6 prints one: {@code 1h2m3s}, {@code 1m30s}, {@code 500ms}, {@code 0s}. */
  public static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    StringBuilder b = new StringBuilder();
    if (d.isNegative()) {
      b.append('-');
      d = d.negated();
    }
    long h = d.toHours();
    int m = d.toMinutesPart();
    int s = d.toSecondsPart();
    int ms = d.toMillisPart();
    long restNanos = d.toNanosPart() % 1_000_000;
    if (h > 0) {
      b.append(h).append('h');
    }
    if (m > 0) {
      b.append(m).append('m');
    }
    if (s > 0 || (ms > 0 && (h > 0 || m > 0))) {
      b.append(s);
      if (ms > 0) {
        b.append('.').append(String.format("%03d", ms).replaceAll("0+$", ""));
      }
      b.append('s');
    } else if (ms > 0) {
      b.append(ms).append("ms");
    }
    if (restNanos > 0 && h == 0 && m == 0 && s == 0) {
      b.append(restNanos).append("ns");
    }
    return b.toString();
  }

  private static long unitNanos(String unit) {
    return switch (unit) {
      case "d" -> 86_400_000_000_000L;
      case "h" -> 3_600_000_000_000L;
      case "m" -> 60_000_000_000L;
      case "s" -> 1_000_000_000L;
      case "ms" -> 1_000_000L;
      case "us", "µs" -> 1_000L;
      case "ns" -> 1L;
      default -> throw new IllegalStateException(unit);
    };
  }

  private static Duration ofNanos(String text, double nanos) {
    if (Math.abs(nanos) > 9.2e18) {
      throw new IllegalArgumentException("\"" + text + "\" is too long a duration");
    }
    return Duration.ofNanos(Math.round(nanos));
  }
}
