package dev.loadtest.api;

import dev.loadtest.schemas.threshold.MetricSelector;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A regression limit of a run against a baseline: {@code METRIC[{tag:value,...}]: STAT ±AMOUNT[UNIT]}, e.g.
 * {@code http_req_duration{name:checkout}: p(95) +10%} (p(95) may grow by at most 10% of the baseline's) or
 * {@code http_req_failed: rate +0.5pp} (the failure rate by at most half a percentage point), {@code
 * http_reqs: rate -5%} (throughput may fall by at most 5%). Units: {@code %} of the baseline's value,
 * {@code pp} percentage points (rates, 0..1 as k6 shows them in %), {@code ms} or {@code s} (trends in
 * milliseconds), none (the stat's own unit). The sign says which way is worse. STAT is a summary stat of
 * the metric's type (avg, min, med, max, p(N), rate, count, value, ...), on both runs' merged histograms.
 */
public record Regression(String text, MetricSelector selector, String stat, boolean upIsWorse, double amount,
    Unit unit) {
  /** How a limit's amount is measured. */
  public enum Unit {
    PERCENT("%"), POINTS("pp"), MILLISECONDS("ms"), SECONDS("s"), ABSOLUTE("");

    final String symbol;

    Unit(String symbol) {
      this.symbol = symbol;
    }
  }

  private static final Pattern SYNTAX = Pattern.compile(
      "\\s*(?<sel>[^\\s{}:]+(?:\\{[^}]*})?)\\s*:\\s*(?<stat>[a-z]+|p\\(\\s*\\d+(?:\\.\\d+)?\\s*\\))\\s*"
          + "(?<sign>[+-])\\s*(?<num>\\d+(?:\\.\\d+)?)\\s*(?<unit>%|pp|ms|s)?\\s*");
  private static final java.util.Set<String> STATS = java.util.Set.of("avg", "min", "med", "max", "rate", "count",
      "sum", "value", "passes", "fails");

  /** Parses {@code text}; the message of the exception says what is wrong and what is expected. */
  public static Regression parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty regression limit; expected METRIC[{tag:value}]: STAT +N% (e.g."
          + " \"http_req_duration: p(95) +10%\")");
    }
    if (text.length() > 500) {
      throw new IllegalArgumentException("a regression limit is at most 500 characters");
    }
    Matcher m = SYNTAX.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("\"" + Params.abbreviate(text) + "\" is not METRIC[{tag:value}]: STAT"
          + " (+|-)AMOUNT[%|pp|ms|s] (e.g. \"http_req_duration{name:checkout}: p(95) +10%\", \"http_req_failed:"
          + " rate +0.5pp\")");
    }
    MetricSelector sel = MetricSelector.parse(m.group("sel"));
    String stat = m.group("stat").replace(" ", "");
    if (!stat.startsWith("p(") && !STATS.contains(stat)) {
      throw new IllegalArgumentException("unknown stat \"" + stat + "\" in \"" + Params.abbreviate(text) + "\" (one of "
          + new java.util.TreeSet<>(STATS) + " or p(N))");
    }
    if (stat.startsWith("p(")) {
      double p = Double.parseDouble(stat.substring(2, stat.length() - 1));
      if (p > 100) {
        throw new IllegalArgumentException("percentile " + stat + " is above 100 in \"" + Params.abbreviate(text) + "\"");
      }
    }
    String u = m.group("unit") == null ? "" : m.group("unit");
    Unit unit = switch (u) {
      case "%" -> Unit.PERCENT;
      case "pp" -> Unit.POINTS;
      case "ms" -> Unit.MILLISECONDS;
      case "s" -> Unit.SECONDS;
      default -> Unit.ABSOLUTE;
    };
    if (unit == Unit.POINTS && !stat.equals("rate")) {
      throw new IllegalArgumentException("pp (percentage points) applies to the rate of a rate metric, not to " + stat
          + " in \"" + Params.abbreviate(text) + "\"");
    }
    return new Regression(text.strip(), sel, stat, m.group("sign").equals("+"), Double.parseDouble(m.group("num")),
        unit);
  }

  /** The limit as written after the stat, e.g. {@code +10%}. */
  public String limit() {
    return (upIsWorse ? "+" : "-") + number(amount) + unit.symbol;
  }

  /**
   * The change from {@code baseline} to {@code value} in this limit's unit, signed (positive: grown): NaN when
   * either is missing, infinite for a relative change from a baseline of 0.
   */
  public double change(Double baseline, Double value) {
    if (baseline == null || value == null || baseline.isNaN() || value.isNaN()) {
      return Double.NaN;
    }
    double diff = value - baseline;
    return switch (unit) {
      case PERCENT -> baseline == 0 ? (diff == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, diff))
          : diff / Math.abs(baseline) * 100;
      case POINTS -> diff * 100;
      case SECONDS -> diff / 1000;
      case MILLISECONDS, ABSOLUTE -> diff;
    };
  }

  /** Whether going from {@code baseline} to {@code value} exceeds the limit (never when either is missing). */
  public boolean exceeded(Double baseline, Double value) {
    double c = change(baseline, value);
    return !Double.isNaN(c) && (upIsWorse ? c > amount : -c > amount);
  }

  /** The change written in this limit's unit, e.g. {@code +12.5%}. */
  public String describe(Double baseline, Double value) {
    double c = change(baseline, value);
    if (Double.isNaN(c)) {
      return "n/a";
    }
    if (Double.isInfinite(c)) {
      return (c > 0 ? "+" : "-") + "inf" + unit.symbol + " (from 0)";
    }
    return (c >= 0 ? "+" : "-") + number(Math.abs(c)) + unit.symbol;
  }

  static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    String s = String.format(Locale.ROOT, "%.3f", v);
    return s.replaceAll("0+$", "").replaceAll("\\.$", "");
  }
}
