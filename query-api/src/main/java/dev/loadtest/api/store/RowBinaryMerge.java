package dev.loadtest.api.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Adds up stored bucket rows per key in the API rather than in ClickHouse. The rows come as RowBinary
 * with the columns {@code metric String, series_id UInt64, t UInt32, count UInt64, sum Float64,
 * min Float64, max Float64, non_zero UInt64, hist_idx Array(UInt16), hist_cnt Array(UInt64)}; counts and
 * sums are added, minima and maxima kept, histograms added bucket by bucket into a dense array. Not
 * thread-safe: one per query.
 */
final class RowBinaryMerge {
  /** The columns the query must select, in this order. */
  static final String COLUMNS = "metric, series_id, t, count, sum, min, max, non_zero, hist_idx, hist_cnt";

  private final boolean byMetric;
  private final boolean bySeries;
  private final boolean byTime;
  private final Map<Long, List<String>> groupsOfSeries;
  private final Map<Key, Acc> accs = new HashMap<>();

  private record Key(String metric, List<String> groups, long seriesId, long t) {}

  private static final class Acc {
    long count;
    double sum;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    long nonZero;
    long[] hist = new long[0];
  }

  /**
   * @param groupsOfSeries the group-by tag values of each series; null when the query has no group-by
   *     (rows of a series missing from it are left out, as an inner join would)
   */
  RowBinaryMerge(boolean byMetric, boolean bySeries, boolean byTime, Map<Long, List<String>> groupsOfSeries) {
    this.byMetric = byMetric;
    this.bySeries = bySeries;
    this.byTime = byTime;
    this.groupsOfSeries = groupsOfSeries;
  }

  /** Adds every row of {@code rowBinary}. */
  void add(byte[] rowBinary) {
    ByteBuffer in = ByteBuffer.wrap(rowBinary).order(ByteOrder.LITTLE_ENDIAN);
    while (in.hasRemaining()) {
      String metric = string(in);
      long seriesId = in.getLong();
      long t = Integer.toUnsignedLong(in.getInt());
      long count = in.getLong();
      double sum = in.getDouble();
      double min = in.getDouble();
      double max = in.getDouble();
      long nonZero = in.getLong();
      int n = (int) varint(in);
      int[] idx = new int[n];
      for (int i = 0; i < n; i++) {
        idx[i] = Short.toUnsignedInt(in.getShort());
      }
      int m = (int) varint(in);
      if (m != n) {
        throw new IllegalStateException("a stored row has " + n + " histogram indexes and " + m + " counts");
      }
      List<String> groups = List.of();
      if (groupsOfSeries != null) {
        groups = groupsOfSeries.get(seriesId);
        if (groups == null) {
          in.position(in.position() + 8 * m);
          continue;
        }
      }
      Acc a = accs.computeIfAbsent(new Key(byMetric ? metric : null, groups, bySeries ? seriesId : 0,
          byTime ? t : 0), k -> new Acc());
      a.count += count;
      a.sum += sum;
      a.min = Math.min(a.min, min);
      a.max = Math.max(a.max, max);
      a.nonZero += nonZero;
      if (n > 0 && idx[n - 1] >= a.hist.length) {
        a.hist = Arrays.copyOf(a.hist, Math.max(idx[n - 1] + 1, a.hist.length * 2));
      }
      for (int i = 0; i < n; i++) {
        a.hist[idx[i]] += in.getLong();
      }
    }
  }

  /** The merged rows, ordered by metric, groups, series and time (as the SQL path orders them). */
  List<MetricReader.Row> rows() {
    List<Map.Entry<Key, Acc>> entries = new ArrayList<>(accs.entrySet());
    Comparator<Key> order = Comparator.comparing((Key k) -> k.metric() == null ? "" : k.metric())
        .thenComparing(Key::groups, RowBinaryMerge::compareLists)
        .thenComparing(Key::seriesId, Long::compareUnsigned)
        .thenComparingLong(Key::t);
    entries.sort(Map.Entry.comparingByKey(order));
    List<MetricReader.Row> out = new ArrayList<>(entries.size());
    for (Map.Entry<Key, Acc> e : entries) {
      Acc a = e.getValue();
      int nonZeroBuckets = 0;
      for (long c : a.hist) {
        nonZeroBuckets += c > 0 ? 1 : 0;
      }
      int[] indexes = new int[nonZeroBuckets];
      long[] counts = new long[nonZeroBuckets];
      for (int i = 0, k = 0; i < a.hist.length; i++) {
        if (a.hist[i] > 0) {
          indexes[k] = i;
          counts[k++] = a.hist[i];
        }
      }
      Key key = e.getKey();
      out.add(new MetricReader.Row(key.metric(), key.groups(), key.seriesId(), key.t(), new Agg(a.count, a.sum,
          a.count == 0 ? Double.NaN : a.min, a.count == 0 ? Double.NaN : a.max, a.nonZero, Double.NaN, indexes, counts)));
    }
    return out;
  }

  private static int compareLists(List<String> a, List<String> b) {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      int c = a.get(i).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }

  private static String string(ByteBuffer in) {
    int len = (int) varint(in);
    String s = new String(in.array(), in.position(), len, StandardCharsets.UTF_8);
    in.position(in.position() + len);
    return s;
  }

  private static long varint(ByteBuffer in) {
    long v = 0;
    for (int shift = 0; ; shift += 7) {
      byte b = in.get();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
  }
}
