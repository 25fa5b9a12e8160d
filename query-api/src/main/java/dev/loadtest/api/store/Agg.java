package dev.loadtest.api.store;

import dev.loadtest.schemas.histogram.HistogramLayout;
import dev.loadtest.schemas.histogram.PercentileMethod;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.metrics.MetricType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stored buckets merged over some series and some time: counts and sums added, histograms added bucket
 * by bucket (never percentiles averaged). Trend values are in thousandths of their k6 unit, as stored;
 * {@link #stat} answers in the unit (milliseconds for time trends).
 *
 * @param last a gauge's value: the sum over its series of each one's latest value
 * @param rankedBuckets percentile (0..100) to the histogram bucket its rank falls in, when ClickHouse found
 *     it (so that the histogram itself need not travel); percentiles not in it come from the histogram
 */
public record Agg(long count, double sum, double min, double max, long nonZero, double last, int[] histIndexes,
    long[] histCounts, Map<Double, Integer> rankedBuckets) {

  public Agg(long count, double sum, double min, double max, long nonZero, double last, int[] histIndexes,
      long[] histCounts) {
    this(count, sum, min, max, nonZero, last, histIndexes, histCounts, Map.of());
  }

  /** The rank {@link SparseHistogram#percentile} looks for, as a fraction of the count (for SQL). */
  public static double rankFraction(double p) {
    return Math.max(0, Math.nextDown(p)) / 100.0;
  }

  /**
   * Which stored columns besides the count some stats of a metric read (what {@link #stat} uses), so that
   * a read of many rows leaves the others in ClickHouse; an Agg built without a column holds NaN or 0 there.
   */
  public record Needs(boolean sum, boolean minMax, boolean nonZero) {
    public static final Needs ALL = new Needs(true, true, true);

    /** What {@code stats} (names of {@link #STAT}) of a metric of {@code type} read. */
    public static Needs of(MetricType type, java.util.Collection<String> stats) {
      return switch (type) {
        case TREND -> new Needs(stats.stream().anyMatch(s -> s.equals("sum") || s.equals("avg")),
            stats.stream().anyMatch(s -> s.equals("min") || s.equals("max") || s.equals("med")
                || percentileOf(s) >= 0), false);
        case COUNTER -> new Needs(!stats.isEmpty(), false, false);
        case RATE -> new Needs(false, false, !stats.isEmpty());
        case GAUGE -> ALL;
      };
    }
  }

  /** The distinct percentiles (0..100) that {@code stats} (names of {@link #STAT}) name; {@code med} is 50. */
  public static List<Double> percentiles(java.util.Collection<String> stats) {
    List<Double> out = new java.util.ArrayList<>();
    for (String s : stats) {
      double p = s.equals("med") ? 50 : percentileOf(s);
      if (p >= 0 && !out.contains(p)) {
        out.add(p);
      }
    }
    return out;
  }

  /** The stats an API caller may ask for: {@code count rate sum avg min med max value passes fails p(N)}. */
  public static final Pattern STAT = Pattern.compile("count|rate|sum|avg|min|med|max|value|passes|fails"
      + "|p\\((100|[0-9]{1,2}(\\.[0-9]{1,4})?)\\)");
  /** k6's default trend stats of the end-of-test summary, with p(99). */
  public static final List<String> DEFAULT_TREND_STATS = List.of("avg", "min", "med", "max", "p(90)", "p(95)",
      "p(99)");

  public static final Agg EMPTY = new Agg(0, 0, Double.NaN, Double.NaN, 0, Double.NaN, new int[0], new long[0]);

  /** This and {@code o} added (histograms bucket by bucket); {@code last} is not kept. */
  public Agg plus(Agg o) {
    if (o.count == 0) {
      return this;
    }
    if (count == 0) {
      return o;
    }
    long[][] h = combine(o, 1);
    return new Agg(count + o.count, sum + o.sum, Math.min(min, o.min), Math.max(max, o.max), nonZero + o.nonZero,
        Double.NaN, toInts(h[0]), h[1]);
  }

  /**
   * What is left of this aggregate without {@code part} (which it includes): counts, sums and histogram
   * buckets subtracted exactly; min and max read from the histogram that is left (the bounds of its lowest
   * and highest bucket, within this aggregate's own min and max), so within the histogram's error bound.
   */
  public Agg minus(Agg part) {
    if (part.count == 0) {
      return this;
    }
    long c = count - part.count;
    if (c <= 0) {
      return EMPTY;
    }
    long[][] h = combine(part, -1);
    double lo = min;
    double hi = max;
    if (h[0].length > 0) {
      lo = Math.max(min, HistogramLayout.lowerBound((int) h[0][0]));
      hi = Math.min(max, HistogramLayout.upperBound((int) h[0][h[0].length - 1]));
    }
    return new Agg(c, sum - part.sum, lo, hi, Math.max(0, nonZero - part.nonZero), Double.NaN, toInts(h[0]), h[1]);
  }

  /** The histogram buckets of this and {@code sign} times {@code o}'s, without empty ones: {indexes, counts}. */
  private long[][] combine(Agg o, int sign) {
    java.util.TreeMap<Integer, Long> m = new java.util.TreeMap<>();
    for (int i = 0; i < histIndexes.length; i++) {
      m.merge(histIndexes[i], histCounts[i], Long::sum);
    }
    for (int i = 0; i < o.histIndexes.length; i++) {
      m.merge(o.histIndexes[i], sign * o.histCounts[i], Long::sum);
    }
    m.values().removeIf(v -> v <= 0);
    long[][] out = new long[2][m.size()];
    int k = 0;
    for (Map.Entry<Integer, Long> e : m.entrySet()) {
      out[0][k] = e.getKey();
      out[1][k++] = e.getValue();
    }
    return out;
  }

  private static int[] toInts(long[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (int) v[i];
    }
    return out;
  }

  public SparseHistogram histogram() {
    if (histIndexes.length == 0) {
      return SparseHistogram.EMPTY;
    }
    return SparseHistogram.of(histIndexes, histCounts, Math.round(sum), Math.round(min), Math.round(max));
  }

  /** Whether {@code stat} (one of {@link #STAT}) means something for a metric of {@code type}. */
  public static boolean appliesTo(MetricType type, String stat) {
    return new Agg(1, 1, 1, 1, 1, 1, new int[] {1}, new long[] {1}).stat(type, stat, 1) != null;
  }

  /**
   * One stat of this aggregate of a metric of {@code type} over {@code seconds} (for rates per second);
   * null where the stat means nothing for the type or there is no data (JSON null).
   *
   * @throws IllegalArgumentException for a stat outside {@link #STAT}
   */
  public Double stat(MetricType type, String stat, double seconds) {
    return stat(type, stat, seconds, PercentileMethod.NEAREST_RANK);
  }

  /** As {@link #stat(MetricType, String, double)}, with trend percentiles read by {@code method}. */
  public Double stat(MetricType type, String stat, double seconds, PercentileMethod method) {
    double pct = percentileOf(stat);
    if (count == 0) {
      return switch (stat) {
        case "count", "sum", "passes", "fails" -> 0.0;
        case "rate" -> type == MetricType.RATE ? null : 0.0;
        default -> null;
      };
    }
    switch (type) {
      case TREND -> {
        return switch (stat) {
          case "count" -> (double) count;
          case "rate" -> seconds > 0 ? count / seconds : null;
          case "sum" -> sum / 1000;
          case "avg" -> sum / count / 1000;
          case "min" -> min / 1000;
          case "max" -> max / 1000;
          case "med" -> percentile(50, method) / 1000;
          default -> pct >= 0 ? percentile(pct, method) / 1000 : null;
        };
      }
      case COUNTER -> {
        return switch (stat) {
          case "count", "sum" -> sum;
          case "rate" -> seconds > 0 ? sum / seconds : null;
          default -> null;
        };
      }
      case RATE -> {
        return switch (stat) {
          case "rate" -> (double) nonZero / count;
          case "count" -> (double) count;
          case "passes" -> (double) nonZero;
          case "fails" -> (double) (count - nonZero);
          default -> null;
        };
      }
      case GAUGE -> {
        return switch (stat) {
          case "value" -> last;
          case "min" -> min;
          case "max" -> max;
          case "count" -> (double) count;
          default -> null;
        };
      }
      default -> throw new IllegalStateException(type.name());
    }
  }

  private static final java.util.concurrent.ConcurrentHashMap<String, Double> PERCENTILES =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The percentile {@code stat} names ({@code p(N)}), -1 for the other stats of {@link #STAT}: checked
   * with the pattern once per distinct name (a panel asks the same few stats of thousands of points).
   *
   * @throws IllegalArgumentException for a stat outside {@link #STAT}
   */
  static double percentileOf(String stat) {
    Double known = PERCENTILES.get(stat);
    if (known != null) {
      return known;
    }
    Matcher m = STAT.matcher(stat);
    if (!m.matches()) {
      throw new IllegalArgumentException("unknown stat \"" + stat + "\"");
    }
    double p = m.group(1) != null ? Double.parseDouble(m.group(1)) : -1;
    if (PERCENTILES.size() < 10_000) { // bounded: callers choose the names
      PERCENTILES.put(stat, p);
    }
    return p;
  }

  /**
   * Percentile {@code p} in histogram units, as {@link SparseHistogram#percentile(double, PercentileMethod)}
   * computes it; k6's method reads the histogram (the ranked buckets are nearest-rank's).
   */
  double percentile(double p, PercentileMethod method) {
    if (method == PercentileMethod.K6) {
      return histogram().percentileK6(p);
    }
    Integer idx = rankedBuckets.get(p);
    if (idx == null || idx == 0 && histIndexes.length > 0) {
      return histogram().percentile(p);
    }
    long v = p == 0 ? HistogramLayout.lowerBound(idx) : HistogramLayout.upperBound(idx);
    return Math.min(max, Math.max(min, v));
  }

  /** The stats of the k6 end-of-test summary for a metric of {@code type}. */
  public Map<String, Double> summaryStats(MetricType type, List<String> trendStats, double seconds) {
    return summaryStats(type, trendStats, seconds, PercentileMethod.NEAREST_RANK);
  }

  /** As {@link #summaryStats(MetricType, List, double)}, with trend percentiles read by {@code method}. */
  public Map<String, Double> summaryStats(MetricType type, List<String> trendStats, double seconds,
      PercentileMethod method) {
    List<String> names = switch (type) {
      case TREND -> trendStats;
      case COUNTER -> List.of("count", "rate");
      case RATE -> List.of("rate", "passes", "fails");
      case GAUGE -> List.of("value", "min", "max");
    };
    Map<String, Double> out = new LinkedHashMap<>();
    for (String n : names) {
      out.put(n, stat(type, n, seconds, method));
    }
    return out;
  }
}
