package dev.loadtest.api.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.SecondsAsRead;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.series.Projection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads merged aggregates from the metric tables. Every value that comes from a caller reaches SQL only
 * as an escaped string literal ({@link ClickHouseHttp#quote}) or a number the caller's text was parsed
 * into: ClickHouse 18.16 has no server-side parameters. Thread-safe.
 */
public final class MetricReader {
  static final ObjectMapper JSON = new ObjectMapper();
  /** Series ids a query names at most (20 digits and a separator each: 2,000 of them are 44 KB of SQL). */
  public static final int MAX_LISTED_SERIES = 2_000;
  private final ClickHouseHttp ch;
  private final String database;
  private final int maxListedSeries;

  public MetricReader(ClickHouseHttp ch, String database) {
    this(ch, database, MAX_LISTED_SERIES);
  }

  /** @param maxListedSeries series ids a query names at most; with more, every row is read and filtered here */
  public MetricReader(ClickHouseHttp ch, String database, int maxListedSeries) {
    this.ch = ch;
    this.database = database;
    this.maxListedSeries = maxListedSeries;
  }

  /** Tags a series must have: for each key, one of the values. */
  public record TagFilter(String key, List<String> values) {}

  /** Which series, which time, grouped how. */
  public record Query(String run, String analysis, Set<String> metrics, List<TagFilter> filters, List<String> groupBy,
      boolean byMetric, boolean bySeries, int step, List<Slices.Slice> slices) {
    public Query {
      filters = List.copyOf(filters);
      groupBy = List.copyOf(groupBy);
      slices = List.copyOf(slices);
    }
  }

  /** One answer row: its metric (when grouped by metric), group values, series (when by series), step start. */
  public record Row(String metric, List<String> groups, long seriesId, long tsSec, Agg agg) {}

  /** Where the rollups' rows end for a run (see {@link Slices.Coverage}). */
  public Slices.Coverage coverage(String run, String analysis) {
    return coverage(run, analysis, null);
  }

  /**
   * Where the rollups' rows of {@code metric} (null: any) end for a run: a read of that metric alone needs no
   * more, and reads a tenth of the rows of a run's every metric.
   */
  public Slices.Coverage coverage(String run, String analysis, String metric) {
    String key = " WHERE test_run_id = " + q(run) + " AND analysis_id = " + q(analysis)
        + (metric == null ? "" : " AND metric = " + q(metric));
    String sql = "SELECT 60 AS w, toUInt32(max(ts)) AS m, count() AS n FROM metric_1m" + key
        + " UNION ALL SELECT 10 AS w, toUInt32(max(ts)) AS m, count() AS n FROM metric_10s" + key
        + " FORMAT TabSeparated";
    long end60 = Long.MIN_VALUE;
    long end10 = Long.MIN_VALUE;
    for (String line : lines(sql)) {
      String[] f = line.split("\t");
      if (Long.parseLong(f[2]) == 0) {
        continue;
      }
      if (f[0].equals("60")) {
        end60 = Long.parseLong(f[1]) + 60;
      } else {
        end10 = Long.parseLong(f[1]) + 10;
      }
    }
    return new Slices.Coverage(end60, end10);
  }

  /** Metric name to type, for the metrics of a run. */
  public Map<String, MetricType> metricTypes(String run, String analysis) {
    Map<String, MetricType> out = new LinkedHashMap<>();
    for (String line : lines("SELECT metric, any(metric_type) AS type FROM series WHERE test_run_id = " + q(run)
        + " AND analysis_id = " + q(analysis) + " GROUP BY metric ORDER BY metric FORMAT JSONEachRow")) {
      JsonNode n = tree(line);
      out.put(n.path("metric").asText(), MetricType.valueOf(n.path("type").asText()));
    }
    return out;
  }

  /** How many series of the run match. */
  public long countSeries(String run, String analysis, Set<String> metrics, List<TagFilter> filters) {
    String sql = "SELECT count() FROM (SELECT DISTINCT series_id FROM series" + seriesWhere(run, analysis, metrics,
        filters) + ") FORMAT TabSeparated";
    return Long.parseLong(ch.execute(database, sql).strip());
  }

  /** How many distinct combinations of the {@code groupBy} tags the matching series have. */
  public long countGroups(String run, String analysis, String metric, List<TagFilter> filters, List<String> groupBy) {
    StringBuilder cols = new StringBuilder();
    for (String k : groupBy) {
      cols.append(cols.length() == 0 ? "" : ", ").append("tag_values[indexOf(tag_keys, ").append(q(k)).append(")]");
    }
    String sql = "SELECT count() FROM (SELECT DISTINCT " + cols + " FROM series" + seriesWhere(run, analysis,
        Set.of(metric), filters) + ") FORMAT TabSeparated";
    return Long.parseLong(ch.execute(database, sql).strip());
  }

  /** Merged aggregates, one row per metric/group/series/step as the query asks, with histograms. */
  public List<Row> aggregate(Query query) {
    return aggregate(query, List.of(), true);
  }

  /**
   * Merged aggregates; the buckets of {@code percentiles} (0..100) are found in ClickHouse, and the
   * histograms themselves only come back {@code withHistograms}.
   */
  public List<Row> aggregate(Query query, List<Double> percentiles, boolean withHistograms) {
    if (query.slices().isEmpty()) {
      return List.of();
    }
    StringBuilder sql = new StringBuilder("SELECT ");
    List<String> keys = new ArrayList<>();
    if (query.byMetric()) {
      keys.add("metric");
    }
    for (int i = 0; i < query.groupBy().size(); i++) {
      keys.add("g" + i);
    }
    if (query.bySeries()) {
      keys.add("series_id");
    }
    if (query.step() > 0) {
      keys.add("t");
    }
    for (String k : keys) {
      sql.append(k).append(", ");
    }
    sql.append("sum(count) AS c, sum(sum) AS s, min(min) AS lo, max(max) AS hi, sum(non_zero) AS nz,"
        + " sumMap(hist_idx, hist_cnt) AS h FROM (");
    StringBuilder outer = new StringBuilder("SELECT ");
    for (String k : keys) {
      outer.append(k).append(", ");
    }
    outer.append("c, s, lo, hi, nz").append(withHistograms ? ", h" : "");
    for (int i = 0; i < percentiles.size(); i++) {
      // the bucket holding the rank SparseHistogram.percentile looks for; the bound is taken in Java
      outer.append(", tupleElement(h, 1)[arrayFirstIndex(x -> x >= greatest(1, ceil(c * ")
          .append(Agg.rankFraction(percentiles.get(i))).append(")), arrayCumSum(tupleElement(h, 2)))] AS p").append(i);
    }
    outer.append(" FROM (");
    sql.append(union(query, query.step() > 0 ? ", intDiv(toUInt32(ts), " + query.step() + ") * " + query.step()
        + " AS t" : ""));
    sql.append(')');
    if (!query.groupBy().isEmpty()) {
      sql.append(GROUP_JOIN_LEFT).append(groupColumns(query)).append(GROUP_JOIN_RIGHT);
    }
    if (!keys.isEmpty()) {
      sql.append(" GROUP BY ").append(String.join(", ", keys));
    }
    outer.append(sql).append(')');
    if (!keys.isEmpty()) {
      outer.append(" ORDER BY ").append(String.join(", ", keys));
    }
    outer.append(" FORMAT JSONEachRow");
    List<Row> out = new ArrayList<>();
    for (String line : lines(outer.toString())) {
      JsonNode n = tree(line);
      List<String> groups = new ArrayList<>();
      for (int i = 0; i < query.groupBy().size(); i++) {
        groups.add(n.path("g" + i).asText());
      }
      out.add(new Row(query.byMetric() ? n.path("metric").asText() : null, groups,
          query.bySeries() ? Long.parseUnsignedLong(n.path("series_id").asText()) : 0,
          query.step() > 0 ? n.path("t").asLong() : 0, agg(n, percentiles)));
    }
    return out;
  }

  /**
   * The same rows as {@link #aggregate(Query)}, added up here rather than in ClickHouse: the stored rows
   * come back as RowBinary and {@link RowBinaryMerge} collapses repeated rows (what FINAL does, at half
   * the cost on 18.16) and adds them per key. ClickHouse 18.16 merges histograms with {@code sumMap} at
   * about 60,000 rows/s on a small machine, while it sends the raw rows several times faster, so a panel
   * costs little more than reading its rows. The group-by tags come from the series table in a second,
   * small query.
   *
   * <p>When every answer point is one stored row (each group one series, e.g. a projection grouped by its
   * own tags, and a step equal to the width of every table read), the histograms do not travel at all:
   * each row brings the bucket of each of {@code percentiles} (stored for the usual ones, migration
   * V008), and only the series with a second row at some point (a late correction) are read again whole.
   * Rows then carry no histogram, only those buckets.
   *
   * @param percentiles the percentiles (0..100) the caller will ask the rows' aggregates for
   * @param needs the columns besides the count that the caller's stats read (a point of one stored row
   *     reads only those)
   * @param matchedSeries how many series the query's filters match (without a group-by or by-series
   *     answer, all of them make one point per step)
   */
  public List<Row> aggregateHere(Query query, List<Double> percentiles, Agg.Needs needs, long matchedSeries) {
    return aggregateHere(query, percentiles, needs, matchedSeries, false);
  }

  /**
   * As {@link #aggregateHere(Query, List, Agg.Needs, long)}; {@code withHistograms}: every row brings its
   * whole histogram and every column (for callers that add or subtract rows).
   */
  public List<Row> aggregateHere(Query query, List<Double> percentiles, Agg.Needs needs, long matchedSeries,
      boolean withHistograms) {
    if (query.slices().isEmpty()) {
      return List.of();
    }
    Map<Long, List<String>> groups = query.groupBy().isEmpty() ? null : groupsOf(query);
    String t = stepColumn(query.step());
    RowBinaryMerge merge = new RowBinaryMerge(query.byMetric(), query.bySeries(), query.step() > 0, groups,
        percentiles);
    boolean onePerPoint = !withHistograms && query.step() > 0 && query.slices().stream().allMatch(s -> s.width() == query.step())
        && (query.bySeries() || (groups == null ? matchedSeries <= 1 : merge.oneSeriesPerGroup()));
    if (!onePerPoint) {
      merge.add(ch.executeBinary(database, "SELECT " + RowBinaryMerge.COLUMNS + " FROM (" + union(query, t, false, "")
          + ") FORMAT RowBinary"));
      return merge.rows();
    }
    merge.addRanked(ch.executeBinary(database, "SELECT " + RowBinaryMerge.rankedColumns(percentiles, query.byMetric(),
        needs) + " FROM (" + union(query, RowBinaryMerge.rankedSourceColumns(percentiles), false, "")
        + ") FORMAT RowBinary"), needs);
    Set<Long> several = Set.copyOf(merge.seriesWithSeveralRows());
    if (several.size() > maxListedSeries) { // too many to name in a query: every row again, whole
      RowBinaryMerge whole = new RowBinaryMerge(query.byMetric(), query.bySeries(), query.step() > 0, groups,
          percentiles);
      whole.add(ch.executeBinary(database, "SELECT " + RowBinaryMerge.COLUMNS + " FROM (" + union(query, t, false, "")
          + ") FORMAT RowBinary"));
      return whole.rows();
    }
    if (!several.isEmpty()) {
      merge.dropSeries(several);
      merge.add(ch.executeBinary(database, "SELECT " + RowBinaryMerge.COLUMNS + " FROM (" + union(query, t, false,
          " AND series_id IN (" + several.stream().map(Long::toUnsignedString).collect(Collectors.joining(", "))
          + ")") + ") FORMAT RowBinary"));
    }
    return merge.rows();
  }

  /** The series of {@code query} (its run, analysis, metrics and filters) with the values of its group-by tags. */
  public Map<Long, List<String>> groupsOf(Query query) {
    Map<Long, List<String>> groups = new java.util.HashMap<>();
    StringBuilder cols = new StringBuilder("series_id");
    for (int i = 0; i < query.groupBy().size(); i++) {
      cols.append(", g").append(i);
    }
    for (String line : lines("SELECT " + cols + " FROM (" + groupColumns(query) + ") FORMAT JSONEachRow")) {
      JsonNode n = tree(line);
      List<String> values = new ArrayList<>();
      for (int i = 0; i < query.groupBy().size(); i++) {
        values.add(n.path("g" + i).asText());
      }
      groups.putIfAbsent(Long.parseUnsignedLong(n.path("series_id").asText()), List.copyOf(values));
    }
    return groups;
  }

  /** One group's rows over a range added up without histograms, and where one percentile falls among them. */
  public record GroupTotals(List<String> groups, Agg agg, int lowBucket, int highBucket, long[] seriesIds) {}

  /**
   * Per group of {@code query} (grouped, its step ignored: the whole range) in one query: count, sum, min,
   * max and non-zero added over its stored rows (each once, however often it was inserted), and with a
   * {@code percentile} the range of buckets the percentile of all its rows together lies in, from each
   * row's count and stored percentile bucket ({@link #percentileBucketRange}), which is what lets a ranking
   * by a percentile merge the histograms of only the groups that can reach its top. The aggregates carry
   * no histogram.
   */
  public List<GroupTotals> groupTotals(Query query, Double percentile) {
    if (query.groupBy().isEmpty()) {
      throw new IllegalArgumentException("group totals need a group-by");
    }
    if (query.slices().isEmpty()) {
      return List.of();
    }
    String bucket = percentile == null ? "toInt16(0)" : RowBinaryMerge.storedBucket(percentile) != null
        ? RowBinaryMerge.storedBucket(percentile) : "toInt16(hist_idx[arrayFirstIndex(x -> x >= greatest(1,"
            + " ceil(count * " + Agg.rankFraction(percentile) + ")), arrayCumSum(hist_cnt))])";
    StringBuilder keys = new StringBuilder();
    for (int i = 0; i < query.groupBy().size(); i++) {
      keys.append(i == 0 ? "" : ", ").append('g').append(i);
    }
    // Each row as one number, (bucket + 32768) << 40 | count, so that sorting gives every version the same answer.
    String rowsOf = percentile == null ? ", emptyArrayUInt64() AS rs"
        : ", groupArray(bitOr(bitShiftLeft(toUInt64(toInt32(b1) + 32768), 40), least(toUInt64(c1), 1099511627775)))"
            + " AS rs";
    String sql = "SELECT " + keys + ", toInt64(sum(c2)), toFloat64(sum(s2)), toFloat64(min(lo2)),"
        + " toFloat64(max(hi2)), toInt64(sum(nz2)), arraySort(groupArray(series_id)), arraySort(groupArrayArray(rs))"
        + " FROM (SELECT series_id, sum(c1) AS c2, sum(s1) AS s2, min(lo1) AS lo2, max(hi1) AS hi2, sum(nz1) AS nz2"
        + rowsOf + " FROM ("
        + "SELECT series_id, any(count) AS c1, any(sum) AS s1, any(min) AS lo1, any(max) AS hi1,"
        + " any(non_zero) AS nz1, any(bk) AS b1 FROM ("
        + unionOf(query, "series_id, ts, writer_id, count, sum, min, max, non_zero, " + bucket + " AS bk", false,
            " AND count > 0")
        + ") GROUP BY series_id, ts, writer_id) GROUP BY series_id)"
        + GROUP_JOIN_LEFT + groupColumns(query) + GROUP_JOIN_RIGHT + " GROUP BY " + keys + " FORMAT RowBinary";
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(ch.executeBinary(database, sql))
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    List<GroupTotals> out = new ArrayList<>();
    while (in.hasRemaining()) {
      List<String> groups = new ArrayList<>(query.groupBy().size());
      for (int i = 0; i < query.groupBy().size(); i++) {
        groups.add(RowBinaryMerge.string(in));
      }
      long count = in.getLong();
      double sum = in.getDouble();
      double min = in.getDouble();
      double max = in.getDouble();
      long nonZero = in.getLong();
      long[] ids = new long[(int) RowBinaryMerge.varint(in)];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = in.getLong();
      }
      long[] rowCounts = new long[(int) RowBinaryMerge.varint(in)];
      int[] rowBuckets = new int[rowCounts.length];
      for (int i = 0; i < rowCounts.length; i++) {
        long packed = in.getLong();
        rowCounts[i] = packed & ((1L << 40) - 1);
        rowBuckets[i] = (int) (packed >>> 40) - 32768;
      }
      int[] range = percentile == null ? new int[2] : percentileBucketRange(rowCounts, rowBuckets, percentile);
      out.add(new GroupTotals(List.copyOf(groups), new Agg(count, sum, min, max, nonZero, Double.NaN, new int[0],
          new long[0]), range[0], range[1], ids));
    }
    return out;
  }

  /** The column of {@code p}'s stored bucket ({@code bucket_p95}), or null: only p50, p90, p95 and p99 are stored. */
  public static String storedBucket(double p) {
    return RowBinaryMerge.storedBucket(p);
  }

  /**
   * A series over its whole run as {@code metric_run} holds it (the aggregate job writes it every 10 s of
   * event time while it changes): its parts added up, how many rows that took, and the bucket of the percentile
   * asked for (exact when it took one row; rankedBuckets of {@code agg} then hold it).
   */
  public record RunTotals(long seriesId, Agg agg, int rows) {}

  /**
   * The whole-run rows of {@code metric}'s series in {@code analysis} (by-name trends only: see the aggregate
   * job's {@code BucketLadder}), each key in its last version, added up per series; with {@code percentile}
   * one of the stored ones (50, 90, 95, 99), a series of one row carries that percentile's bucket (one of
   * several rows says nothing of their sum's: 0, so that every engine answers alike).
   */
  public List<RunTotals> runTotals(String run, String analysis, String metric, double percentile) {
    String bucket = storedBucket(percentile);
    if (bucket == null) {
      throw new IllegalArgumentException("p(" + percentile + ") has no stored bucket");
    }
    String sql = "SELECT series_id, toInt64(sum(c)), toFloat64(sum(s)), toFloat64(min(lo)), toFloat64(max(hi)),"
        + " toInt64(sum(nz)), toUInt32(count()), toInt16(if(count() = 1, any(b), 0)) FROM (SELECT series_id, ts, writer_id,"
        + " argMax(count, version) AS c, argMax(sum, version) AS s, argMax(min, version) AS lo,"
        + " argMax(max, version) AS hi, argMax(non_zero, version) AS nz, argMax(" + bucket + ", version) AS b"
        + " FROM metric_run WHERE test_run_id = " + q(run) + " AND analysis_id = " + q(analysis)
        + " AND metric = " + q(metric) + " GROUP BY series_id, ts, writer_id) WHERE c > 0 GROUP BY series_id"
        + " FORMAT RowBinary";
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(ch.executeBinary(database, sql))
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    List<RunTotals> out = new ArrayList<>();
    while (in.hasRemaining()) {
      long id = in.getLong();
      long count = in.getLong();
      double sum = in.getDouble();
      double min = in.getDouble();
      double max = in.getDouble();
      long nonZero = in.getLong();
      int rows = in.getInt();
      int b = in.getShort();
      out.add(new RunTotals(id, new Agg(count, sum, min, max, nonZero, Double.NaN, new int[0], new long[0],
          rows == 1 ? Map.of(percentile, b) : Map.of()), rows));
    }
    return out;
  }

  /**
   * The lowest and highest bucket percentile {@code p} of rows merged together can be in, knowing each row's
   * count and the bucket its own percentile {@code p} is in (nearest rank, as stored): {low, high}. Row i
   * has at least r_i = max(1, ceil(n_i p/100)) of its samples at or below its bucket b_i and at most r_i - 1
   * below it. So the merged percentile (rank R of N) is at or below the lowest bucket b where the rows with
   * b_i at most b hold R such ranks together, and it is at or above the bucket of the row where, walking the
   * rows from the highest b_i down, the samples they must have above (n_i - r_i + 1 each) first pass N - R.
   * Weighted so, a run's few-sample tail rows (its last seconds, whose percentile scatters) hardly widen
   * the range, where the plain lowest and highest b_i would.
   */
  static int[] percentileBucketRange(long[] counts, int[] buckets, double p) {
    int n = counts.length;
    if (n == 0) {
      return new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
    }
    double f = Agg.rankFraction(p);
    long total = 0;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      total += counts[i];
      order[i] = i;
    }
    long rank = Math.max(1, (long) Math.ceil(f * total));
    java.util.Arrays.sort(order, (a, b) -> Integer.compare(buckets[a], buckets[b]));
    int high = buckets[order[n - 1]];
    long atOrBelow = 0;
    for (int k = 0; k < n; k++) {
      int i = order[k];
      atOrBelow += Math.max(1, (long) Math.ceil(f * counts[i]));
      if (atOrBelow >= rank) {
        high = buckets[i];
        break;
      }
    }
    int low = buckets[order[0]];
    long above = 0;
    for (int k = n - 1; k >= 0; k--) {
      int i = order[k];
      above += counts[i] - Math.max(1, (long) Math.ceil(f * counts[i])) + 1;
      if (above > total - rank) {
        low = buckets[i];
        break;
      }
    }
    return new int[] {low, high};
  }

  /**
   * {@code query}'s slices merged per group and step (its filters and group-by not used: the series are
   * given), for the series of {@code groupOfSeries} only, each row with its group's values and histogram:
   * for callers that know their series (a ranking's candidates, a ranked page) and need no series table.
   */
  public List<Row> aggregateOfSeries(Query query, Map<Long, List<String>> groupOfSeries, List<Double> percentiles) {
    if (query.slices().isEmpty() || groupOfSeries.isEmpty()) {
      return List.of();
    }
    Query plain = new Query(query.run(), query.analysis(), query.metrics(), List.of(), List.of(), false, false,
        query.step(), query.slices());
    RowBinaryMerge merge = new RowBinaryMerge(false, false, query.step() > 0, new java.util.HashMap<>(groupOfSeries),
        percentiles);
    String t = stepColumn(query.step());
    // Up to maxListedSeries series are named in the query; more would pass ClickHouse's query size limit
    // (256 KiB), so then every row is read and those of other series are left out here.
    String only = groupOfSeries.size() > maxListedSeries ? "" : " AND series_id IN (" + groupOfSeries.keySet()
        .stream().map(Long::toUnsignedString).collect(Collectors.joining(", ")) + ")";
    merge.add(ch.executeBinary(database, "SELECT " + RowBinaryMerge.COLUMNS + " FROM (" + union(plain, t, false, only)
        + ") FORMAT RowBinary"));
    return merge.rows();
  }

  /** The column {@code t} of a union: each row's step start, or 0 for one answer over the range. */
  private static String stepColumn(int step) {
    return step > 0 ? ", toUInt32(intDiv(toUInt32(ts), " + step + ") * " + step + ") AS t" : ", toUInt32(0) AS t";
  }

  /**
   * Gauges each generator reports as a share or a count of its own (its CPU, its machine's, its heap used
   * over its maximum, the hosts it requested): over several generators the busiest one's value is the
   * answer (two generators at 70% CPU are not at 140%), where other gauges add up (the VUs of all generators).
   */
  public static final Set<String> PER_GENERATOR_GAUGES = Set.of("generator_cpu", "generator_host_cpu",
      "generator_memory", "generator_hosts");

  /**
   * Gauges: per group and step, the sum over series of each series' latest value (e.g. the VUs of all
   * generators; the largest for {@link #PER_GENERATOR_GAUGES}), with the smallest and largest such total per
   * second within the step as min and max.
   */
  public List<Row> gauges(Query query) {
    if (query.slices().isEmpty()) {
      return List.of();
    }
    List<String> outer = new ArrayList<>();
    if (query.byMetric()) {
      outer.add("metric");
    }
    for (int i = 0; i < query.groupBy().size(); i++) {
      outer.add("g" + i);
    }
    List<String> perSecond = new ArrayList<>(outer);
    perSecond.add("t");
    perSecond.add("ts");
    // The latest value per series and second, summed over series per second, then the last total per step.
    String perGenerator = PER_GENERATOR_GAUGES.stream().sorted().map(MetricReader::q)
        .collect(Collectors.joining(", "));
    String total = query.byMetric() ? "if(metric IN (" + perGenerator + "), max(v), sum(v))"
        : PER_GENERATOR_GAUGES.containsAll(query.metrics()) && !query.metrics().isEmpty() ? "max(v)" : "sum(v)";
    // Each stored row once, however often it was inserted (what FINAL does, which took ten times as long on
    // 18.16: the gauges' rows sit among the rows of every other series of a run).
    int step = Math.max(1, query.step());
    String once = "SELECT metric, series_id, ts, t, any(last) AS last, any(count) AS count FROM ("
        + unionOf(query, "metric, series_id, ts, writer_id, count, last, intDiv(toUInt32(ts), " + step + ") * " + step
            + " AS t", false, "")
        + ") GROUP BY metric, series_id, ts, writer_id, t";
    String inner = "SELECT " + String.join(", ", perSecond) + ", " + total + " AS total, sum(n) AS c FROM (SELECT "
        + String.join(", ", perSecond) + ", series_id, argMax(last, ts) AS v, sum(count) AS n FROM (" + once + ")"
        + (query.groupBy().isEmpty() ? "" : GROUP_JOIN_LEFT + groupColumns(query) + GROUP_JOIN_RIGHT)
        + " GROUP BY " + String.join(", ", perSecond) + ", series_id) GROUP BY " + String.join(", ", perSecond);
    List<String> keys = new ArrayList<>(outer);
    if (query.step() > 0) {
      keys.add("t");
    }
    String sql = "SELECT " + (keys.isEmpty() ? "" : String.join(", ", keys) + ", ")
        + "sum(c) AS c, argMax(total, ts) AS last, min(total) AS lo, max(total) AS hi FROM (" + inner + ")"
        + (keys.isEmpty() ? "" : " GROUP BY " + String.join(", ", keys) + " ORDER BY " + String.join(", ", keys))
        + " FORMAT JSONEachRow";
    List<Row> out = new ArrayList<>();
    for (String line : lines(sql)) {
      JsonNode n = tree(line);
      List<String> groups = new ArrayList<>();
      for (int i = 0; i < query.groupBy().size(); i++) {
        groups.add(n.path("g" + i).asText());
      }
      out.add(new Row(query.byMetric() ? n.path("metric").asText() : null, groups, 0,
          query.step() > 0 ? n.path("t").asLong() : 0, new Agg(n.path("c").asLong(), 0, n.path("lo").asDouble(),
              n.path("hi").asDouble(), 0, n.path("last").asDouble(), new int[0], new long[0])));
    }
    return out;
  }

  /** Ways to rank series. */
  public enum Rank { COUNT, ERROR_RATE, PERCENTILE }

  /**
   * The {@code k} series of {@code metric} that rank highest, with at least {@code minCount} samples;
   * ranked by count, by the rate of non-zero samples (e.g. http_req_failed), or by percentile {@code p} (by
   * the histogram bucket the percentile falls in, so that 50,000 series rank inside ClickHouse).
   */
  public List<Row> top(Query query, Rank rank, double p, long minCount, int k) {
    if (query.slices().isEmpty()) {
      return List.of();
    }
    String order = switch (rank) {
      case COUNT -> "c";
      case ERROR_RATE -> "nz / c";
      case PERCENTILE -> "tupleElement(h, 1)[arrayFirstIndex(x -> x >= ceil(c * " + p / 100
          + "), arrayCumSum(tupleElement(h, 2)))]";
    };
    String sql = "SELECT series_id, sum(count) AS c, sum(sum) AS s, min(min) AS lo, max(max) AS hi,"
        + " sum(non_zero) AS nz, sumMap(hist_idx, hist_cnt) AS h FROM (" + union(query, "") + ")"
        + " GROUP BY series_id HAVING c >= " + minCount + " ORDER BY " + order + " DESC, series_id LIMIT " + k
        + " FORMAT JSONEachRow";
    List<Row> out = new ArrayList<>();
    for (String line : lines(sql)) {
      JsonNode n = tree(line);
      out.add(new Row(null, List.of(), Long.parseUnsignedLong(n.path("series_id").asText()), 0, agg(n, Double.NaN)));
    }
    return out;
  }

  /** A series: its id, metric, type and tags. */
  public record Series(long id, String metric, MetricType type, Map<String, String> tags) {}

  /** Series of a run, by metric and id, paged. */
  public List<Series> series(String run, String analysis, Set<String> metrics, List<TagFilter> filters, int limit,
      long offset) {
    return seriesRows("SELECT series_id, metric, any(metric_type) AS mtype, any(tag_keys) AS tkeys,"
        + " any(tag_values) AS tvals FROM series" + seriesWhere(run, analysis, metrics, filters)
        + " GROUP BY metric, series_id ORDER BY metric, series_id LIMIT " + limit + " OFFSET " + offset
        + " FORMAT JSONEachRow");
  }

  /** The given series of a run. */
  public Map<Long, Series> seriesByIds(String run, String analysis, List<Long> ids) {
    if (ids.isEmpty()) {
      return Map.of();
    }
    String in = ids.stream().map(Long::toUnsignedString).collect(Collectors.joining(", "));
    Map<Long, Series> out = new LinkedHashMap<>();
    for (Series s : seriesRows("SELECT series_id, metric, any(metric_type) AS mtype, any(tag_keys) AS tkeys,"
        + " any(tag_values) AS tvals FROM series WHERE test_run_id = " + q(run) + " AND analysis_id = "
        + q(analysis) + " AND series_id IN (" + in + ") GROUP BY metric, series_id FORMAT JSONEachRow")) {
      out.put(s.id(), s);
    }
    return out;
  }

  private List<Series> seriesRows(String sql) {
    List<Series> out = new ArrayList<>();
    for (String line : lines(sql)) {
      JsonNode n = tree(line);
      Map<String, String> tags = new LinkedHashMap<>();
      JsonNode keys = n.path("tkeys");
      JsonNode values = n.path("tvals");
      for (int i = 0; i < keys.size(); i++) {
        tags.put(keys.get(i).asText(), values.get(i).asText());
      }
      out.add(new Series(Long.parseUnsignedLong(n.path("series_id").asText()), n.path("metric").asText(),
          MetricType.valueOf(n.path("mtype").asText()), tags));
    }
    return out;
  }

  private String union(Query query, String extraColumns) {
    return union(query, extraColumns, true, "");
  }

  /**
   * @param deduplicated read with FINAL (else the caller collapses repeated rows itself)
   * @param extraCondition appended to each table's WHERE (built from numbers only)
   */
  private String union(Query query, String extraColumns, boolean deduplicated, String extraCondition) {
    return unionOf(query, "metric, series_id, ts, writer_id, count, sum, min, max, last, non_zero, hist_idx, hist_cnt"
        + extraColumns, deduplicated, extraCondition);
  }

  /** Each slice's rows of {@code columns} (FINAL if {@code deduplicated}), with {@code extraCondition}, as one UNION ALL. */
  private String unionOf(Query query, String columns, boolean deduplicated, String extraCondition) {
    // With a group-by, only rows whose series is in the series table: the join below then finds each one's
    // group, as an inner join would (ANY INNER JOIN answers differently across ClickHouse versions).
    String seriesCond = query.filters().isEmpty() && query.groupBy().isEmpty() ? "" : " AND series_id IN (SELECT series_id FROM series"
        + seriesWhere(query.run(), query.analysis(), query.metrics(), query.filters()) + ")";
    List<String> parts = new ArrayList<>();
    for (Slices.Slice s : query.slices()) {
      String range = metricCond(query.metrics()) + " AND ts >= toDateTime(" + Math.max(0, s.fromSec())
          + ") AND ts < toDateTime(" + Math.min(4_294_967_295L, s.toSec()) + ")";
      String table = s.table() + (deduplicated ? " FINAL" : "");
      parts.add("SELECT " + columns + " FROM " + table + " WHERE test_run_id = " + q(query.run()) + " AND analysis_id = "
          + q(query.analysis()) + range + seriesCond + extraCondition);
      if (s.table().equals("metric_1s") && !query.analysis().contains("~")) {
        // The series' 1 s rows that their names' rows stand for (V017): read as the series' own.
        parts.add("SELECT " + columns + " FROM (SELECT " + SecondsAsRead.STOOD_FOR_COLUMNS + " FROM " + table
            + " WHERE test_run_id = " + q(query.run()) + " AND analysis_id = "
            + q(Projection.NAME.analysisId(query.analysis())) + " AND raw_series != 0" + range + ") WHERE 1"
            + seriesCond + extraCondition);
      }
    }
    return String.join(" UNION ALL ", parts);
  }


  /**
   * Joins a read's rows to their series' group values. Written so that ClickHouse 18.16 and current
   * releases answer alike: current ones need aliases on joined subqueries, and since 19.14 ANY INNER JOIN keeps
   * one row per key on both sides, so it is a LEFT join of rows already limited to known series (see
   * {@link #union}), which keeps every row on every version.
   */
  static final String GROUP_JOIN_LEFT = " AS m ANY LEFT JOIN (";
  static final String GROUP_JOIN_RIGHT = ") AS g USING series_id";

  private String groupColumns(Query query) {
    StringBuilder b = new StringBuilder("SELECT series_id");
    for (int i = 0; i < query.groupBy().size(); i++) {
      b.append(", tag_values[indexOf(tag_keys, ").append(q(query.groupBy().get(i))).append(")] AS g").append(i);
    }
    return b.append(" FROM series").append(seriesWhere(query.run(), query.analysis(), query.metrics(),
        query.filters())).toString();
  }

  static String seriesWhere(String run, String analysis, Set<String> metrics, List<TagFilter> filters) {
    StringBuilder b = new StringBuilder(" WHERE test_run_id = ").append(q(run)).append(" AND analysis_id = ")
        .append(q(analysis)).append(metricCond(metrics));
    for (TagFilter f : filters) {
      b.append(" AND tag_values[indexOf(tag_keys, ").append(q(f.key())).append(")] IN (")
          .append(f.values().stream().map(MetricReader::q).collect(Collectors.joining(", "))).append(')');
    }
    return b.toString();
  }

  static String metricCond(Set<String> metrics) {
    if (metrics == null || metrics.isEmpty()) {
      return "";
    }
    return " AND metric IN (" + metrics.stream().sorted().map(MetricReader::q).collect(Collectors.joining(", ")) + ")";
  }

  static Agg agg(JsonNode n, List<Double> percentiles) {
    Agg a = agg(n, Double.NaN);
    if (percentiles.isEmpty()) {
      return a;
    }
    Map<Double, Integer> ranked = new java.util.HashMap<>();
    for (int i = 0; i < percentiles.size(); i++) {
      ranked.put(percentiles.get(i), n.path("p" + i).asInt());
    }
    return new Agg(a.count(), a.sum(), a.min(), a.max(), a.nonZero(), a.last(), a.histIndexes(), a.histCounts(),
        ranked);
  }

  static Agg agg(JsonNode n, double last) {
    JsonNode h = n.path("h");
    JsonNode idx = h.path(0);
    JsonNode cnt = h.path(1);
    int[] indexes = new int[idx.size()];
    long[] counts = new long[idx.size()];
    int k = 0;
    for (int i = 0; i < idx.size(); i++) {
      long c = cnt.get(i).asLong();
      if (c > 0) {
        indexes[k] = idx.get(i).asInt();
        counts[k++] = c;
      }
    }
    return new Agg(n.path("c").asLong(), n.path("s").asDouble(), n.path("lo").asDouble(), n.path("hi").asDouble(),
        n.path("nz").asLong(), last, java.util.Arrays.copyOf(indexes, k), java.util.Arrays.copyOf(counts, k));
  }

  static String q(String s) {
    return ClickHouseHttp.quote(s);
  }

  private List<String> lines(String sql) {
    String body = ch.execute(database, sql);
    List<String> out = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (!line.isEmpty()) {
        out.add(line);
      }
    }
    return out;
  }

  static JsonNode tree(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new UncheckedIOException("unreadable answer from ClickHouse: " + line, e);
    }
  }

}
