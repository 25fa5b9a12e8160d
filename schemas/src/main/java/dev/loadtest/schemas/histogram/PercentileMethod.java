package dev.loadtest.schemas.histogram;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a percentile is read from a {@link SparseHistogram}. Both answer within the layout's bound (1/128 of
 * the value) of the exact answer of their definition over the raw samples; they differ in the definition:
 * <ul>
 *   <li>{@link #NEAREST_RANK}: the {@code ceil(p/100 * n)}-th smallest sample (HdrHistogram's
 *       getValueAtPercentile), read as its bucket's upper bound; what thresholds judge.</li>
 *   <li>{@link #K6}: k6's end-of-test summary, which interpolates linearly between the samples at ranks
 *       {@code floor(p/100 * (n - 1))} and the next (values 0, 20, 30 .. 100: med 55, p(95) 95.5). The
 *       smallest and largest sample are exact (min and max); a rank inside a wider bucket is placed within
 *       the bucket by its position among the bucket's count.</li>
 * </ul>
 */
public enum PercentileMethod {
  NEAREST_RANK("nearest-rank"),
  K6("k6");

  private final String id;

  PercentileMethod(String id) {
    this.id = id;
  }

  /** The name in APIs and on the command line. */
  public String id() {
    return id;
  }

  /**
   * The method named {@code text}.
   *
   * @throws IllegalArgumentException naming the methods there are
   */
  public static PercentileMethod parse(String text) {
    for (PercentileMethod m : values()) {
      if (m.id.equals(text.trim().toLowerCase(Locale.ROOT))) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown percentile method \""
        + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "\": use one of "
        + Arrays.stream(values()).map(PercentileMethod::id).collect(Collectors.joining(", ")));
  }
}
