package dev.loadtest.schemas.time;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as k6 writes them (its extended durations): Go's number-unit pairs such as {@code 1m30s},
 * {@code 500ms}, {@code 1.5s}, {@code 2h}, with units h, m, s, ms, us (or µs) and ns, after an optional
 * whole number of days ({@code 1d}, {@code 10d1.12s}; {@code 2.1d} is refused, as in k6); or a bare number,
 * which k6 reads as milliseconds. A leading minus sign makes a negative duration (on days, it applies to
 * the whole: {@code -1d2h} is -26h), which callers that need a positive one reject with their own
 * message. Parsed exactly, in whole nanoseconds, over the whole range of a signed 64-bit count of
 * nanoseconds (k6's {@code time.Duration}).
 */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ms|us|µs|ns|h|m|s)");
  private static final Pattern NUMBER = Pattern.compile("[-+]?(\\d+(?:\\.\\d*)?|\\.\\d+)");
  private static final Pattern DAYS = Pattern.compile("([-+]?\\d+)d(.*)");
  private static final BigInteger MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger MAX = BigInteger.valueOf(Long.MAX_VALUE);
  private static final BigDecimal NANOS_PER_MS = BigDecimal.valueOf(1_000_000);

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
      return ofNanos(text, new BigDecimal(s).multiply(NANOS_PER_MS).setScale(0, RoundingMode.HALF_EVEN).toBigInteger());
    }
    Matcher days = DAYS.matcher(s);
    if (days.matches()) {
      BigInteger d = new BigInteger(days.group(1));
      BigInteger rest = days.group(2).isEmpty() ? BigInteger.ZERO : goDuration(days.group(2), text);
      if (rest.signum() < 0) {
        throw notADuration(text);
      }
      BigInteger nanos = d.multiply(BigInteger.valueOf(86_400_000_000_000L));
      return ofNanos(text, nanos.add(d.signum() < 0 ? rest.negate() : rest));
    }
    return ofNanos(text, goDuration(s, text));
  }

  /** Go's {@code time.ParseDuration}: a sign, then number-unit pairs; exact. */
  private static BigInteger goDuration(String s, String text) {
    boolean negative = s.startsWith("-");
    String body = negative || s.startsWith("+") ? s.substring(1) : s;
    if (body.equals("0")) {
      return BigInteger.ZERO;
    }
    Matcher m = PART.matcher(body);
    int pos = 0;
    BigDecimal nanos = BigDecimal.ZERO;
    if (body.isEmpty()) {
      throw notADuration(text);
    }
    while (pos < body.length()) {
      if (!m.find(pos) || m.start() != pos) {
        throw notADuration(text);
      }
      nanos = nanos.add(new BigDecimal(m.group(1).endsWith(".") ? m.group(1) + "0" : m.group(1))
          .multiply(BigDecimal.valueOf(unitNanos(m.group(2)))));
      pos = m.end();
    }
    BigInteger whole = nanos.setScale(0, RoundingMode.DOWN).toBigInteger();
    return negative ? whole.negate() : whole;
  }

  /** {@code text} in quotes for a message, cut at 40 characters: an error never echoes a whole hostile input. */
  private static String quote(String text) {
    return "\"" + (text.length() > 40 ? text.substring(0, 40) + "...\" (" + text.length() + " characters)" : text + "\"");
  }

  private static IllegalArgumentException notADuration(String text) {
    return new IllegalArgumentException(quote(text) + " is not a duration: expected number-unit pairs"
        + " such as \"1m30s\" or \"500ms\" (units h, m, s, ms, us, ns), after whole days (\"1d12h\")");
  }

  /** Parses a duration and requires it to be at least zero (or above zero when {@code allowZero} is false). */
  public static Duration parseNonNegative(String text, boolean allowZero) {
    Duration d = parse(text);
    if (d.isNegative()) {
      throw new IllegalArgumentException("must not be negative, got " + quote(text));
    }
    if (!allowZero && d.isZero()) {
      throw new IllegalArgumentException("must be greater than zero, got " + quote(text));
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
      case "h" -> 3_600_000_000_000L;
      case "m" -> 60_000_000_000L;
      case "s" -> 1_000_000_000L;
      case "ms" -> 1_000_000L;
      case "us", "µs" -> 1_000L;
      case "ns" -> 1L;
      default -> throw new IllegalStateException(unit);
    };
  }

  private static Duration ofNanos(String text, BigInteger nanos) {
    if (nanos.compareTo(MIN) < 0 || nanos.compareTo(MAX) > 0) {
      throw new IllegalArgumentException(quote(text) + " is too long a duration (at most 106751d23h47m16.854775807s)");
    }
    return Duration.ofNanos(nanos.longValue());
  }
}
