package dev.loadtest.api.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Adds up stored bucket rows per key in the API rather than in ClickHouse. The rows come as RowBinary
 * with the columns {@code metric String, series_id UInt64, ts UInt32, writer_id String, t UInt32,
 * count UInt64, sum Float64,
 * min Float64, max Float64, non_zero UInt64, hist_idx Array(Int16), cnt32 Array(UInt32),
 * cnt64 Array(UInt64)}, the bucket counts in 4 bytes unless the row counts more than 2^32 samples
 * (then in 8: whichever array is not empty); counts and
 * sums are added, minima and maxima kept, histograms added bucket by bucket (sparse: most keys have one
 * row, a projection's bucket and perhaps a correction). Rows repeated under their table's key (series,
 * time, writer: an insert replayed after a restart, not yet merged away by ReplacingMergeTree) count
 * once, as FINAL would have it. Not thread-safe: one per query.
 */
final class RowBinaryMerge {
  /** The columns the query must select, in this order. */
  static final String COLUMNS = "metric, series_id, toUInt32(ts) AS ts32, writer_id, t, count, sum, min, max,"
      + " non_zero, hist_idx, if(count > 4294967295, emptyArrayUInt32(), arrayMap(x -> toUInt32(x), hist_cnt)) AS cnt32,"
      + " if(count > 4294967295, hist_cnt, emptyArrayUInt64()) AS cnt64";

  /**
   * The columns of {@link #addRanked}: the metric if asked for, {@code series_id}, the row's own time
   * ({@code ts32}: one row per point), {@code count}, then only what {@code needs} says the stats read
   * ({@code sum}; {@code min, max}; {@code non_zero}), then per percentile the bucket holding its rank
   * ({@code Int16}): a stored column (migrations V008, V009) or, for another percentile, found from the row's
   * histogram as {@link dev.loadtest.schemas.histogram.SparseHistogram#percentile} does. No writer and no
   * order: a second row of a series and time is found here, whoever wrote it.
   */
  static String rankedColumns(List<Double> percentiles, boolean byMetric, Agg.Needs needs) {
    StringBuilder b = new StringBuilder(byMetric ? "metric, " : "").append("series_id, toUInt32(ts) AS ts32, count");
    if (needs.sum()) {
      b.append(", sum");
    }
    if (needs.minMax()) {
      b.append(", min, max");
    }
    if (needs.nonZero()) {
      b.append(", non_zero");
    }
    for (double p : percentiles) {
      String stored = storedBucket(p);
      b.append(", ").append(stored != null ? stored : "toInt16(hist_idx[arrayFirstIndex(x -> x >= greatest(1,"
          + " ceil(count * " + Agg.rankFraction(p) + ")), arrayCumSum(hist_cnt))])");
    }
    return b.toString();
  }

  /**
   * What each table's part of the query must add to its columns for {@link #rankedColumns}: the stored
   * bucket columns among {@code percentiles} (the others are found from the histogram columns).
   */
  static String rankedSourceColumns(List<Double> percentiles) {
    StringBuilder b = new StringBuilder();
    percentiles.stream().map(RowBinaryMerge::storedBucket).filter(java.util.Objects::nonNull).distinct()
        .forEach(c -> b.append(", ").append(c));
    return b.toString();
  }

  /** The column in which every stored row carries the bucket of percentile {@code p}; null if none does. */
  static String storedBucket(double p) {
    return p == 50 || p == 90 || p == 95 || p == 99 ? "bucket_p" + (int) p : null;
  }

  private final boolean byMetric;
  private final boolean bySeries;
  private final boolean byTime;
  private final Map<Long, Group> groupOfSeries; // null: no group-by
  private final boolean oneSeriesPerGroup;
  private final List<Double> percentiles;
  private Map<Key, Acc> accs = new HashMap<>();
  private java.util.Set<StoredKey> seen = new java.util.HashSet<>();
  private final java.util.Set<Long> severalRows = new java.util.HashSet<>();
  private final ArrayList<Ranked> rankedPoints = new ArrayList<>();

  /** A point of the answer with what orders it. */
  private record Ranked(int groupRank, long seriesId, MetricReader.Row row) {}

  /** Group-by values, one instance per distinct values, with their place in the answer's order. */
  private record Group(List<String> values, int rank, int hash) {
    static final Group NONE = new Group(List.of(), 0, 0);
  }

  /** A key of the answer; groups are compared by identity (one instance per distinct values). */
  private record Key(String metric, Group group, long seriesId, long t, int hash) {
    Key(String metric, Group group, long seriesId, long t) {
      this(metric, group, seriesId, t, ((java.util.Objects.hashCode(metric) * 31 + group.hash()) * 31
          + Long.hashCode(seriesId)) * 31 + Long.hashCode(t));
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.hash == hash && k.seriesId == seriesId && k.t == t && k.group == group
          && java.util.Objects.equals(k.metric, metric);
    }
  }

  private record StoredKey(long seriesId, long ts, String writerId) {}

  private static final class Acc {
    long count;
    double sum;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    long nonZero;
    int[] idx;
    long[] cnt;

    /** Adds a sparse histogram (indexes ascending, as stored). */
    void addHistogram(int[] i2, long[] c2) {
      if (idx == null || idx.length == 0) {
        idx = i2;
        cnt = c2;
        return;
      }
      if (i2.length == 0) {
        return;
      }
      int[] mi = new int[idx.length + i2.length];
      long[] mc = new long[mi.length];
      int a = 0;
      int b = 0;
      int k = 0;
      while (a < idx.length || b < i2.length) {
        if (b >= i2.length || (a < idx.length && idx[a] < i2[b])) {
          mi[k] = idx[a];
          mc[k++] = cnt[a++];
        } else if (a >= idx.length || i2[b] < idx[a]) {
          mi[k] = i2[b];
          mc[k++] = c2[b++];
        } else {
          mi[k] = idx[a];
          mc[k++] = cnt[a++] + c2[b++];
        }
      }
      idx = Arrays.copyOf(mi, k);
      cnt = Arrays.copyOf(mc, k);
    }
  }

  /**
   * @param groupsOfSeries the group-by tag values of each series; null when the query has no group-by
   *     (rows of a series missing from it are left out, as an inner join would)
   * @param percentiles the percentiles (0..100) whose buckets {@link #addRanked} rows carry, in their order
   */
  RowBinaryMerge(boolean byMetric, boolean bySeries, boolean byTime, Map<Long, List<String>> groupsOfSeries,
      List<Double> percentiles) {
    this.byMetric = byMetric;
    this.bySeries = bySeries;
    this.byTime = byTime;
    if (groupsOfSeries == null) {
      this.groupOfSeries = null;
      this.oneSeriesPerGroup = false;
    } else {
      // each distinct group once, ranked in the answer's order
      List<List<String>> distinct = new ArrayList<>(new java.util.HashSet<>(groupsOfSeries.values()));
      distinct.sort(RowBinaryMerge::compareLists);
      Map<List<String>, Group> byValues = new HashMap<>();
      for (int i = 0; i < distinct.size(); i++) {
        byValues.put(distinct.get(i), new Group(distinct.get(i), i, distinct.get(i).hashCode()));
      }
      this.groupOfSeries = HashMap.newHashMap(groupsOfSeries.size());
      groupsOfSeries.forEach((series, values) -> groupOfSeries.put(series, byValues.get(values)));
      this.oneSeriesPerGroup = distinct.size() == groupsOfSeries.size();
    }
    this.percentiles = List.copyOf(percentiles);
  }

  /**
   * Adds every row of {@code rowBinary} in the columns of {@link #rankedColumns} (with {@code needs}), in
   * any order: rows without their histogram, each with the buckets of its percentiles, each a point. A key
   * with a second row (a late correction, an insert replayed and not yet merged away, or another series of
   * its group) cannot add buckets: its series are then in {@link #seriesWithSeveralRows()}, to be read again
   * with histograms.
   */
  void addRanked(byte[] rowBinary, Agg.Needs needs) {
    ByteBuffer in = ByteBuffer.wrap(rowBinary).order(ByteOrder.LITTLE_ENDIAN);
    int k = percentiles.size();
    int start = rankedPoints.size();
    int rowBytes = 20 + (needs.sum() ? 8 : 0) + (needs.minMax() ? 16 : 0) + (needs.nonZero() ? 8 : 0) + 2 * k;
    rankedPoints.ensureCapacity(start + rowBinary.length / rowBytes);
    long curSeries = 0;
    Group curGroup = null;
    while (in.hasRemaining()) {
      String metric = byMetric ? string(in) : null;
      long seriesId = in.getLong();
      long ts = Integer.toUnsignedLong(in.getInt());
      long count = in.getLong();
      double sum = needs.sum() ? in.getDouble() : Double.NaN;
      double min = needs.minMax() ? in.getDouble() : Double.NaN;
      double max = needs.minMax() ? in.getDouble() : Double.NaN;
      long nonZero = needs.nonZero() ? in.getLong() : 0;
      int[] ranked = new int[k];
      for (int i = 0; i < k; i++) {
        ranked[i] = in.getShort();
      }
      if (curGroup == null || seriesId != curSeries) { // rows of a series mostly come together
        curSeries = seriesId;
        curGroup = groupOfSeries == null ? Group.NONE : groupOfSeries.get(seriesId);
      }
      if (curGroup == null) {
        continue; // not in the series table: left out, as an inner join would
      }
      Agg agg = new Agg(count, sum, count == 0 ? Double.NaN : min, count == 0 ? Double.NaN : max, nonZero, Double.NaN,
          new int[0], new long[0], rankedMap(ranked));
      rankedPoints.add(new Ranked(curGroup.rank(), seriesId, new MetricReader.Row(metric, curGroup.values(),
          bySeries ? seriesId : 0, ts, agg)));
    }
    // in the answer's order, so that a key's rows and a group's series are neighbours
    List<Ranked> added = rankedPoints.subList(start, rankedPoints.size());
    added.sort(RowBinaryMerge::compare);
    for (int i = 1; i < added.size(); i++) {
      Ranked a = added.get(i - 1);
      Ranked b = added.get(i);
      if (a.seriesId == b.seriesId) {
        if (a.row.tsSec() == b.row.tsSec()) {
          severalRows.add(b.seriesId);
        }
      } else if (!bySeries && a.groupRank == b.groupRank && java.util.Objects.equals(a.row.metric(), b.row.metric())) {
        // a group (or, without group-by, the answer) of two series: only histograms can add their points
        severalRows.add(a.seriesId);
        severalRows.add(b.seriesId);
      }
    }
  }

  private Map<Double, Integer> rankedMap(int[] buckets) {
    return switch (percentiles.size()) { // small immutable maps: one per point
      case 0 -> Map.of();
      case 1 -> Map.of(percentiles.get(0), buckets[0]);
      case 2 -> Map.of(percentiles.get(0), buckets[0], percentiles.get(1), buckets[1]);
      default -> {
        Map<Double, Integer> m = HashMap.newHashMap(percentiles.size());
        for (int i = 0; i < percentiles.size(); i++) {
          m.put(percentiles.get(i), buckets[i]);
        }
        yield m;
      }
    };
  }

  /** Whether every group-by group is one series (false without a group-by). */
  boolean oneSeriesPerGroup() {
    return oneSeriesPerGroup;
  }

  /** The series whose rows {@link #addRanked} could not answer alone (see there). */
  java.util.Set<Long> seriesWithSeveralRows() {
    return java.util.Collections.unmodifiableSet(severalRows);
  }

  /**
   * Forgets what {@link #addRanked} added for {@code series}, so that their rows can be added again with
   * histograms by {@link #add}.
   */
  void dropSeries(java.util.Set<Long> series) {
    rankedPoints.removeIf(r -> series.contains(r.seriesId));
    severalRows.removeAll(series);
  }

  /** Sizes the maps for about {@code rows} more rows at once rather than by repeated doubling. */
  private void presize(int rows) {
    if (accs.isEmpty() && rows > 16) {
      accs = HashMap.newHashMap(rows);
      seen = java.util.HashSet.newHashSet(rows);
    }
  }

  /** Adds every row of {@code rowBinary}. */
  void add(byte[] rowBinary) {
    ByteBuffer in = ByteBuffer.wrap(rowBinary).order(ByteOrder.LITTLE_ENDIAN);
    presize(rowBinary.length / 200);
    while (in.hasRemaining()) {
      String metric = byMetric ? string(in) : skipString(in);
      long seriesId = in.getLong();
      long ts = Integer.toUnsignedLong(in.getInt());
      String writerId = string(in);
      long t = Integer.toUnsignedLong(in.getInt());
      long count = in.getLong();
      double sum = in.getDouble();
      double min = in.getDouble();
      double max = in.getDouble();
      long nonZero = in.getLong();
      int n = (int) varint(in);
      int[] idx = new int[n];
      for (int i = 0; i < n; i++) {
        idx[i] = in.getShort();
      }
      int m32 = (int) varint(in);
      long[] cnt = new long[m32];
      for (int i = 0; i < m32; i++) {
        cnt[i] = Integer.toUnsignedLong(in.getInt());
      }
      int m64 = (int) varint(in);
      if (m64 > 0) {
        cnt = new long[m64];
        for (int i = 0; i < m64; i++) {
          cnt[i] = in.getLong();
        }
      }
      if (cnt.length != n) {
        throw new IllegalStateException("a stored row has " + n + " histogram indexes and " + cnt.length + " counts");
      }
      Group groups = Group.NONE;
      if (groupOfSeries != null) {
        groups = groupOfSeries.get(seriesId);
        if (groups == null) {
          continue;
        }
      }
      if (!seen.add(new StoredKey(seriesId, ts, writerId))) {
        continue; // the same stored row again
      }
      Acc a = accs.computeIfAbsent(new Key(byMetric ? metric : null, groups, bySeries ? seriesId : 0,
          byTime ? t : 0), k -> new Acc());
      a.count += count;
      a.sum += sum;
      a.min = Math.min(a.min, min);
      a.max = Math.max(a.max, max);
      a.nonZero += nonZero;
      a.addHistogram(idx, cnt);
    }
  }

  /** The merged rows, ordered by metric, groups, series and time (as the SQL path orders them). */
  List<MetricReader.Row> rows() {
    if (!severalRows.isEmpty()) {
      throw new IllegalStateException("the percentiles of series " + severalRows + " need their rows' histograms:"
          + " read them again (seriesWithSeveralRows, dropSeries, add)");
    }
    List<Ranked> all = new ArrayList<>(rankedPoints.size() + accs.size());
    all.addAll(rankedPoints); // already in order: a run that the sort only merges
    for (Map.Entry<Key, Acc> e : accs.entrySet()) {
      Acc a = e.getValue();
      Key key = e.getKey();
      all.add(new Ranked(key.group().rank(), key.seriesId(), new MetricReader.Row(key.metric(), key.group().values(),
          key.seriesId(), key.t(), new Agg(a.count, a.sum, a.count == 0 ? Double.NaN : a.min,
          a.count == 0 ? Double.NaN : a.max, a.nonZero, Double.NaN, a.idx == null ? new int[0] : a.idx,
          a.cnt == null ? new long[0] : a.cnt))));
    }
    all.sort(RowBinaryMerge::compare);
    List<MetricReader.Row> out = new ArrayList<>(all.size());
    for (Ranked r : all) {
      out.add(r.row());
    }
    return out;
  }

  /** Metric, group, series (unsigned), time: the order of the SQL path. */
  private static int compare(Ranked a, Ranked b) {
    MetricReader.Row x = a.row();
    MetricReader.Row y = b.row();
    if (x.metric() != null && y.metric() != null) {
      int c = x.metric().compareTo(y.metric());
      if (c != 0) {
        return c;
      }
    }
    int c = Integer.compare(a.groupRank(), b.groupRank());
    if (c != 0) {
      return c;
    }
    c = Long.compareUnsigned(x.seriesId(), y.seriesId());
    return c != 0 ? c : Long.compare(x.tsSec(), y.tsSec());
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

  private static final byte[] MAIN = "main".getBytes(StandardCharsets.UTF_8);

  static String string(ByteBuffer in) {
    int len = (int) varint(in);
    if (len == MAIN.length && Arrays.equals(in.array(), in.position(), in.position() + len, MAIN, 0, len)) {
      in.position(in.position() + len);
      return "main"; // the writer of nearly every row: not a new string per row
    }
    String s = new String(in.array(), in.position(), len, StandardCharsets.UTF_8);
    in.position(in.position() + len);
    return s;
  }

  private static String skipString(ByteBuffer in) {
    int len = (int) varint(in);
    in.position(in.position() + len);
    return null;
  }

  static long varint(ByteBuffer in) {
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
