package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.metrics.MetricType;
import java.util.Arrays;
import java.util.Objects;

/**
 * What one series did in one time bucket: the unit the aggregate job shuffles, merges, stores in
 * ClickHouse and publishes. Flink serialises it with {@link SeriesBucketSerializer} (compact histograms), in
 * checkpoints and between tasks.
 *
 * <p>Fields by metric type: every type counts its samples in {@code count}. Trends keep their values in
 * thousandths of their k6 unit (microseconds for time trends) in the sparse histogram, with
 * {@code sum}, {@code min} and {@code max} of the same. Counters keep their total in {@code sum}. Rates
 * keep the non-zero samples in {@code nonZero}. Gauges keep {@code last} (the value with the latest
 * {@code lastTimeUs}), {@code min} and {@code max}.
 *
 * <p>Not thread-safe; {@link #merge} mutates this bucket.
 */
@org.apache.flink.api.common.typeinfo.TypeInfo(SeriesBucketSerializer.Factory.class)
public class SeriesBucket {
  public String testRunId;
  public String analysisId = "";
  public long seriesId;
  public String metric;
  public String type;
  public String[] tagKeys;
  public String[] tagValues;
  public long startMs;
  public int widthMs;
  public long count;
  public double sum;
  public double min;
  public double max;
  public double last;
  public long lastTimeUs;
  public long nonZero;
  public int[] histIndexes;
  public long[] histCounts;
  /**
   * Which writer's row this bucket becomes in ClickHouse: {@code ""} for a window's complete bucket, else a
   * late correction named after the sample batch it came from, so that replays collapse and corrections add.
   */
  public String writerId = "";
  /**
   * Gauges before {@link #sumGauges}: each generator's last value in the bucket and its time, so that
   * buckets of several generators merge into one per generator (the latest wins) and then add up.
   * Null or empty once summed, and for other types.
   */
  public String[] gaugeWriters;
  public double[] gaugeLasts;
  public long[] gaugeTimesUs;
  /**
   * A by-name 1 s row made of one series' bucket alone: that series' id (its {@code raw_series}, V017), so
   * that the row also stands for the series' own row, which is then not written ({@link #inNameRow}). 0: none.
   * Set by the ladder on the rows it emits; copied, but never serialized or checkpointed: a bucket that crosses
   * a task boundary loses it together with {@link #inNameRow} (both rows are then written, as before V017).
   */
  public long rawSeries;
  /**
   * A series' 1 s bucket whose by-name row stands for it ({@link #rawSeries}): no row of its own is written.
   * Transient as {@link #rawSeries}.
   */
  public boolean inNameRow;
  /**
   * A by-name rollup bucket (10 s, 1 min) made so far only of one series' buckets, each alone of its name in
   * its second: that series' id, whose own rollup bucket then holds the same numbers (the ladder's checkpoint
   * keeps one of the two, see {@code BucketLadder#snapshotState}). 0: none, or several. Kept by the ladder on
   * its open buckets only; not copied, never serialized.
   */
  public long standsFor;

  public SeriesBucket() {}

  /** A copy that shares nothing mutable with this bucket. */
  public SeriesBucket copy() {
    SeriesBucket c = identity();
    c.tagKeys = tagKeys == null ? null : tagKeys.clone();
    c.tagValues = tagValues == null ? null : tagValues.clone();
    c.takeNumbers(this);
    c.gaugeWriters = gaugeWriters == null ? null : gaugeWriters.clone();
    c.gaugeLasts = gaugeLasts == null ? null : gaugeLasts.clone();
    c.gaugeTimesUs = gaugeTimesUs == null ? null : gaugeTimesUs.clone();
    c.rawSeries = rawSeries;
    c.inNameRow = inNameRow;
    return c;
  }

  /** A bucket of the same series, time, writer and tags (shared, not copied), without numbers. */
  public SeriesBucket identity() {
    SeriesBucket c = new SeriesBucket();
    c.testRunId = testRunId;
    c.analysisId = analysisId;
    c.seriesId = seriesId;
    c.metric = metric;
    c.type = type;
    c.tagKeys = tagKeys;
    c.tagValues = tagValues;
    c.startMs = startMs;
    c.widthMs = widthMs;
    c.writerId = writerId;
    return c;
  }

  /**
   * Makes this bucket's numbers (count, sum, min, max, last and its time, non-zero count, histogram) those of
   * {@code other}, a bucket of the same type, copied; its identity (series, time, writer, tags) stays.
   */
  public void takeNumbers(SeriesBucket other) {
    count = other.count;
    sum = other.sum;
    min = other.min;
    max = other.max;
    last = other.last;
    lastTimeUs = other.lastTimeUs;
    nonZero = other.nonZero;
    histIndexes = other.histIndexes == null ? null : other.histIndexes.clone();
    histCounts = other.histCounts == null ? null : other.histCounts.clone();
  }

  /** {@link #type} as an enum (a switch on the string: {@code Enum.valueOf} showed in profiles). */
  public MetricType metricType() {
    return switch (type) {
      case "TREND" -> MetricType.TREND;
      case "COUNTER" -> MetricType.COUNTER;
      case "RATE" -> MetricType.RATE;
      case "GAUGE" -> MetricType.GAUGE;
      default -> MetricType.valueOf(type); // throws, naming the type
    };
  }

  /** The trend histogram (empty for other types). */
  public SparseHistogram histogram() {
    if (histIndexes == null || histIndexes.length == 0) {
      return SparseHistogram.EMPTY;
    }
    return SparseHistogram.of(histIndexes, histCounts, (long) sum, (long) min, (long) max);
  }

  /** Adds {@code other}, a partial bucket of the same series and time bucket, into this one. */
  public SeriesBucket merge(SeriesBucket other) {
    if (other.seriesId != seriesId || other.startMs != startMs || other.widthMs != widthMs
        || !Objects.equals(other.analysisId, analysisId)) {
      throw new IllegalArgumentException("cannot merge buckets of different series or times: " + this + " and " + other);
    }
    return mergeWithin(other);
  }

  /**
   * Adds {@code other}, a bucket of the same series whose time lies within this one's (a 1 s bucket into its
   * 10 s rollup), into this one; {@code other} is left as it was.
   */
  public SeriesBucket mergeWithin(SeriesBucket other) {
    if (other.seriesId != seriesId || other.startMs < startMs || other.startMs + other.widthMs > startMs + widthMs
        || !Objects.equals(other.analysisId, analysisId)) {
      throw new IllegalArgumentException("cannot merge a bucket outside this one or of another series: " + this
          + " and " + other);
    }
    return absorb(other);
  }

  /**
   * Adds {@code other}, a bucket of the same series at any time, into this one (a whole-run part of the
   * series, whose start and width are not a time bucket's); {@code other} is left as it was.
   */
  public SeriesBucket absorb(SeriesBucket other) {
    if (metricType() == MetricType.TREND) {
      addHistogram(other.histIndexes, other.histCounts);
    }
    if (other.count > 0 && (count == 0 || other.lastTimeUs >= lastTimeUs)) {
      last = other.last;
      lastTimeUs = other.lastTimeUs;
    }
    min = count == 0 ? other.min : other.count == 0 ? min : Math.min(min, other.min);
    max = count == 0 ? other.max : other.count == 0 ? max : Math.max(max, other.max);
    count += other.count;
    sum += other.sum;
    nonZero += other.nonZero;
    if (other.gaugeWriters != null && other.gaugeWriters.length > 0) {
      for (int i = 0; i < other.gaugeWriters.length; i++) {
        gauge(other.gaugeWriters[i], other.gaugeLasts[i], other.gaugeTimesUs[i]);
      }
    }
    return this;
  }

  /**
   * Adds a sparse histogram ({@code indexes} strictly ascending, as every bucket the job makes has them) into
   * this bucket's, in place when it adds no new index. This is the job's most frequent operation (every
   * partial into its 1 s bucket, every 1 s bucket into its rollups and projections, every name into its
   * metric's total), and a total's histogram is wide while a name's is narrow: so no validation copies, a
   * binary search per index of a narrow one, and a new array only when an index is new.
   */
  private void addHistogram(int[] indexes, long[] counts) {
    int m = indexes == null ? 0 : indexes.length;
    if (m == 0) {
      return;
    }
    int n = histIndexes == null ? 0 : histIndexes.length;
    if (n == 0) {
      histIndexes = indexes.clone();
      histCounts = counts.clone();
      return;
    }
    int[] at = new int[m];
    int fresh = 0;
    if (m * 8 < n) {
      int from = 0;
      for (int j = 0; j < m; j++) {
        int k = Arrays.binarySearch(histIndexes, from, n, indexes[j]);
        if (k >= 0) {
          at[j] = k;
          from = k + 1;
        } else {
          at[j] = -1;
          fresh++;
          from = -k - 1;
        }
      }
    } else {
      int i = 0;
      for (int j = 0; j < m; j++) {
        while (i < n && histIndexes[i] < indexes[j]) {
          i++;
        }
        if (i < n && histIndexes[i] == indexes[j]) {
          at[j] = i++;
        } else {
          at[j] = -1;
          fresh++;
        }
      }
    }
    if (fresh == 0) {
      for (int j = 0; j < m; j++) {
        histCounts[at[j]] += counts[j];
      }
      return;
    }
    int[] outIdx = new int[n + fresh];
    long[] outCnt = new long[n + fresh];
    int i = 0;
    int j = 0;
    int o = 0;
    while (i < n || j < m) {
      if (j == m || (i < n && histIndexes[i] < indexes[j])) {
        outIdx[o] = histIndexes[i];
        outCnt[o++] = histCounts[i++];
      } else if (i == n || indexes[j] < histIndexes[i]) {
        outIdx[o] = indexes[j];
        outCnt[o++] = counts[j++];
      } else {
        outIdx[o] = histIndexes[i];
        outCnt[o++] = histCounts[i++] + counts[j++];
      }
    }
    histIndexes = outIdx;
    histCounts = outCnt;
  }

  /** Notes generator {@code writer}'s gauge value at {@code timeUs}, keeping each generator's latest. */
  public void gauge(String writer, double value, long timeUs) {
    int n = gaugeWriters == null ? 0 : gaugeWriters.length;
    for (int i = 0; i < n; i++) {
      if (gaugeWriters[i].equals(writer)) {
        if (timeUs >= gaugeTimesUs[i]) {
          gaugeLasts[i] = value;
          gaugeTimesUs[i] = timeUs;
        }
        return;
      }
    }
    gaugeWriters = n == 0 ? new String[1] : java.util.Arrays.copyOf(gaugeWriters, n + 1);
    gaugeLasts = n == 0 ? new double[1] : java.util.Arrays.copyOf(gaugeLasts, n + 1);
    gaugeTimesUs = n == 0 ? new long[1] : java.util.Arrays.copyOf(gaugeTimesUs, n + 1);
    gaugeWriters[n] = writer;
    gaugeLasts[n] = value;
    gaugeTimesUs[n] = timeUs;
  }

  /**
   * A gauge's value over generators: each generator's last value in the bucket, summed (three generators
   * with 2 VUs each make {@code vus} 6), as {@code last}, {@code min} and {@code max} of this bucket; the
   * per-generator values are then dropped. Rollups of summed buckets keep the last sum and the min and max
   * of the sums. Nothing to do for other types or a bucket summed already.
   */
  public SeriesBucket sumGauges() {
    if (gaugeWriters == null || gaugeWriters.length == 0) {
      return this;
    }
    double total = 0;
    long latest = Long.MIN_VALUE;
    for (int i = 0; i < gaugeWriters.length; i++) {
      total += gaugeLasts[i];
      latest = Math.max(latest, gaugeTimesUs[i]);
    }
    last = total;
    min = total;
    max = total;
    lastTimeUs = latest;
    gaugeWriters = null;
    gaugeLasts = null;
    gaugeTimesUs = null;
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SeriesBucket b && seriesId == b.seriesId && startMs == b.startMs && widthMs == b.widthMs
        && count == b.count && Double.compare(sum, b.sum) == 0 && Double.compare(min, b.min) == 0
        && Double.compare(max, b.max) == 0 && Double.compare(last, b.last) == 0 && nonZero == b.nonZero
        && Objects.equals(testRunId, b.testRunId) && Objects.equals(analysisId, b.analysisId)
        && Objects.equals(metric, b.metric) && Objects.equals(type, b.type)
        && Arrays.equals(tagKeys, b.tagKeys) && Arrays.equals(tagValues, b.tagValues)
        && Arrays.equals(histIndexes, b.histIndexes) && Arrays.equals(histCounts, b.histCounts);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(seriesId) * 31 + Long.hashCode(startMs);
  }

  @Override
  public String toString() {
    return metric + "{" + String.join(",", tagKeys == null ? new String[0] : tagKeys) + "}@" + startMs + "+" + widthMs
        + " count=" + count + " sum=" + sum;
  }
}
