package dev.loadtest.schemas.threshold;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.time.Durations;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One k6 threshold expression: {@code aggregation operator value}, e.g. {@code p(95)<500},
 * {@code rate<0.01}, {@code count>=100}, {@code avg <= 200}, with k6's aggregations (avg, min, max,
 * med, p(N), rate, count, value) and operators (&lt; &lt;= &gt; &gt;= == === !=). Our extension: a
 * trailing {@code over DURATION} makes the threshold judge only the most recent window of that length
 * (k6 judges the whole run so far), e.g. {@code p(95)<500 over 1m}.
 *
 * @param window empty: the whole run so far
 */
public record ThresholdExpression(Aggregation aggregation, double percentile, Operator operator,
    double value, Optional<Duration> window, String source) {

  private static final Pattern SYNTAX = Pattern.compile(
      "\\s*(p\\(\\s*([0-9]+(?:\\.[0-9]+)?)\\s*\\)|[a-z]+)\\s*(===|==|!=|<=|>=|<|>)\\s*"
          + "([-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\\s*(?:over\\s+(\\S+)\\s*)?");

  /** What a threshold aggregates. */
  public enum Aggregation {
    COUNT("count", EnumSet.of(MetricType.COUNTER)),
    RATE("rate", EnumSet.of(MetricType.COUNTER, MetricType.RATE)),
    VALUE("value", EnumSet.of(MetricType.GAUGE)),
    AVG("avg", EnumSet.of(MetricType.TREND)),
    MIN("min", EnumSet.of(MetricType.TREND)),
    MAX("max", EnumSet.of(MetricType.TREND)),
    MED("med", EnumSet.of(MetricType.TREND)),
    PERCENTILE("p(N)", EnumSet.of(MetricType.TREND));

    private final String text;
    private final Set<MetricType> appliesTo;

    Aggregation(String text, Set<MetricType> appliesTo) {
      this.text = text;
      this.appliesTo = appliesTo;
    }

    public boolean appliesTo(MetricType type) {
      return appliesTo.contains(type);
    }

    public String text() {
      return text;
    }
  }

  /** k6's comparison operators; {@code ===} means the same as {@code ==} on numbers. */
  public enum Operator {
    LT("<"), LE("<="), GT(">"), GE(">="), EQ("=="), STRICT_EQ("==="), NE("!=");

    private final String symbol;

    Operator(String symbol) {
      this.symbol = symbol;
    }

    public String symbol() {
      return symbol;
    }

    public boolean test(double observed, double limit) {
      return switch (this) {
        case LT -> observed < limit;
        case LE -> observed <= limit;
        case GT -> observed > limit;
        case GE -> observed >= limit;
        case EQ, STRICT_EQ -> observed == limit;
        case NE -> observed != limit;
      };
    }

    static Operator of(String symbol) {
      for (Operator o : values()) {
        if (o.symbol.equals(symbol)) {
          return o;
        }
      }
      throw new IllegalArgumentException(symbol);
    }
  }

  /**
   * Parses one expression.
   *
   * @throws IllegalArgumentException whose message says what is wrong
   */
  public static ThresholdExpression parse(String source) {
    if (source == null || source.isBlank()) {
      throw new IllegalArgumentException("a threshold expression must not be empty (write e.g. \"p(95)<500\")");
    }
    Matcher m = SYNTAX.matcher(source);
    if (!m.matches()) {
      throw new IllegalArgumentException("\"" + source + "\" is not a threshold expression: expected"
          + " AGGREGATION OPERATOR NUMBER such as \"p(95)<500\" or \"rate<0.01\", optionally followed by"
          + " \"over DURATION\"");
    }
    Aggregation agg;
    double pct = Double.NaN;
    if (m.group(2) != null) {
      agg = Aggregation.PERCENTILE;
      pct = Double.parseDouble(m.group(2));
      if (pct > 100) {
        throw new IllegalArgumentException("\"" + source + "\": percentile p(" + m.group(2) + ") is above 100");
      }
    } else {
      String name = m.group(1).toLowerCase(Locale.ROOT);
      agg = switch (name) {
        case "count" -> Aggregation.COUNT;
        case "rate" -> Aggregation.RATE;
        case "value" -> Aggregation.VALUE;
        case "avg" -> Aggregation.AVG;
        case "min" -> Aggregation.MIN;
        case "max" -> Aggregation.MAX;
        case "med" -> Aggregation.MED;
        default -> throw new IllegalArgumentException("\"" + source + "\": unknown aggregation \"" + m.group(1)
            + "\" (use avg, min, max, med, p(N), rate, count or value)");
      };
    }
    Optional<Duration> window = Optional.empty();
    if (m.group(5) != null) {
      Duration w;
      try {
        w = Durations.parse(m.group(5));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("\"" + source + "\": window " + e.getMessage(), e);
      }
      if (w.isNegative() || w.isZero()) {
        throw new IllegalArgumentException("\"" + source + "\": the window after \"over\" must be longer than zero");
      }
      window = Optional.of(w);
    }
    return new ThresholdExpression(agg, pct, Operator.of(m.group(3)), Double.parseDouble(m.group(4)),
        window, source.strip());
  }

  /** Whether an observed aggregate satisfies this threshold. */
  public boolean passes(double observed) {
    return operator.test(observed, value);
  }

  /** The aggregation as k6 prints it: {@code p(95)}, {@code avg}, {@code rate}... */
  public String aggregationText() {
    return aggregation == Aggregation.PERCENTILE ? "p(" + trim(percentile) + ")" : aggregation.text();
  }

  private static String trim(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
