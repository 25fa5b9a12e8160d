package dev.loadtest.api.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.loadtest.flink.sink.RowBinaryOutput;
import dev.loadtest.schemas.histogram.HistogramLayout;
import dev.loadtest.schemas.metrics.MetricType;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RowBinaryMergeTest {
  static void row(RowBinaryOutput out, String metric, long series, long t, long count, double sum, double min,
      double max, long nonZero, int[] idx, long[] cnt) {
    row(out, metric, series, t, "main", t, count, sum, min, max, nonZero, idx, cnt);
  }

  static void row(RowBinaryOutput out, String metric, long series, long ts, String writer, long t, long count,
      double sum, double min, double max, long nonZero, int[] idx, long[] cnt) {
    out.string(metric);
    out.int64(series);
    out.uint32(ts);
    out.string(writer);
    out.uint32(t);
    out.int64(count);
    out.float64(sum);
    out.float64(min);
    out.float64(max);
    out.int64(nonZero);
    out.varint(idx.length);
    for (int i : idx) {
      out.uint16(i);
    }
    boolean big = count > 4294967295L;
    out.varint(big ? 0 : cnt.length);
    for (int i = 0; !big && i < cnt.length; i++) {
      out.uint32(cnt[i]);
    }
    out.varint(big ? cnt.length : 0);
    for (int i = 0; big && i < cnt.length; i++) {
      out.int64(cnt[i]);
    }
  }

  @Test
  void rowsOfAGroupAndStepAddUpHistogramsBucketByBucket() {
    RowBinaryOutput out = new RowBinaryOutput(16);
    row(out, "http_req_duration", 1, 20, 3, 600, 100, 300, 0, new int[] {100, 300}, new long[] {2, 1});
    row(out, "http_req_duration", 2, 20, 2, 150, 50, 100, 0, new int[] {50, 100}, new long[] {1, 1});
    row(out, "http_req_duration", 2, 20, 2, 150, 50, 100, 0, new int[] {50, 100}, new long[] {1, 1}); // replayed
    row(out, "http_req_duration", 2, 21, "late:g/7@21000", 20, 1, 60, 60, 60, 0, new int[] {60}, new long[] {1}); // a correction
    row(out, "http_req_duration", 3, 20, 1, 70, 70, 70, 0, new int[] {70}, new long[] {1}); // another name
    row(out, "http_req_duration", 1, 10, 1, 5, 5, 5, 0, new int[] {5}, new long[] {1}); // an earlier step
    row(out, "http_req_duration", -1L, 10, 9, 9, 1, 1, 0, new int[] {1}, new long[] {9}); // not in the series table
    RowBinaryMerge merge = new RowBinaryMerge(false, false, true, Map.of(1L, List.of("home"), 2L, List.of("home"),
        3L, List.of("cart")), List.of());
    merge.add(out.toByteArray());
    List<MetricReader.Row> rows = merge.rows();
    assertEquals(3, rows.size(), "cart@20, home@10, home@20; the unknown series is left out as a join would");
    assertEquals(List.of("cart"), rows.get(0).groups());
    MetricReader.Row home10 = rows.get(1);
    MetricReader.Row home20 = rows.get(2);
    assertEquals(10, home10.tsSec());
    assertEquals(6, home20.agg().count(), "a row repeated under its key counts once, a correction adds");
    assertEquals(810, home20.agg().sum());
    assertEquals(50, home20.agg().min());
    assertEquals(300, home20.agg().max());
    assertArrayEquals(new int[] {50, 60, 100, 300}, home20.agg().histIndexes());
    assertArrayEquals(new long[] {1, 1, 3, 1}, home20.agg().histCounts());
    assertEquals(0.3, home20.agg().stat(MetricType.TREND, "max", 10), 1e-9, "in milliseconds");
  }

  @Test
  void bucketCountsOfRowsOverFourBillionSamplesComeInEightBytes() {
    RowBinaryOutput out = new RowBinaryOutput(16);
    row(out, "http_req_duration", 1, 0, 5_000_000_000L, 5e9, 1, 2, 0, new int[] {1, 2}, new long[] {4_999_999_999L, 1});
    row(out, "http_req_duration", 1, 60, 3_000_000_000L, 3e9, 1, 1, 0, new int[] {1}, new long[] {3_000_000_000L});
    RowBinaryMerge merge = new RowBinaryMerge(false, false, false, null, List.of());
    merge.add(out.toByteArray());
    MetricReader.Row total = merge.rows().get(0);
    assertEquals(8_000_000_000L, total.agg().count());
    assertArrayEquals(new long[] {7_999_999_999L, 1}, total.agg().histCounts(), "3e9 fits 4 unsigned bytes, 5e9 not");
  }

  @Test
  void withoutGroupsEverySeriesCountsAndSeriesIdsAreUnsigned() {
    RowBinaryOutput out = new RowBinaryOutput(16);
    row(out, "http_reqs", -2L, 0, 4, 4, 1, 1, 4, new int[0], new long[0]);
    row(out, "http_reqs", 7L, 0, 6, 6, 1, 1, 6, new int[0], new long[0]);
    RowBinaryMerge bySeries = new RowBinaryMerge(true, true, false, null, List.of());
    bySeries.add(out.toByteArray());
    List<MetricReader.Row> rows = bySeries.rows();
    assertEquals(List.of(7L, -2L), rows.stream().map(MetricReader.Row::seriesId).toList(), "unsigned order");
    assertEquals("http_reqs", rows.get(0).metric());
    RowBinaryMerge total = new RowBinaryMerge(false, false, false, null, List.of());
    total.add(out.toByteArray());
    assertEquals(10, total.rows().get(0).agg().count());
  }

  /** A row of {@link RowBinaryMerge#rankedColumns} for percentile stats: count, min and max, buckets. */
  static void rankedRow(RowBinaryOutput out, long series, long ts, long count, double min, double max,
      int... buckets) {
    out.int64(series);
    out.uint32(ts);
    out.int64(count);
    out.float64(min);
    out.float64(max);
    for (int b : buckets) {
      out.uint16(b);
    }
  }

  static final Agg.Needs PERCENTILES = Agg.Needs.of(MetricType.TREND, List.of("p(95)", "med"));

  @Test
  void aRankedReadTakesOnlyTheColumnsItsStatsRead() {
    assertEquals(new Agg.Needs(false, true, false), PERCENTILES);
    assertEquals("series_id, toUInt32(ts) AS ts32, count, min, max, bucket_p95, bucket_p50",
        RowBinaryMerge.rankedColumns(List.of(95.0, 50.0), false, PERCENTILES));
    assertEquals("metric, series_id, toUInt32(ts) AS ts32, count, sum",
        RowBinaryMerge.rankedColumns(List.of(), true, Agg.Needs.of(MetricType.TREND, List.of("count", "avg"))));
    assertEquals(new Agg.Needs(false, false, true), Agg.Needs.of(MetricType.RATE, List.of("rate")));
    assertEquals(new Agg.Needs(true, false, false), Agg.Needs.of(MetricType.COUNTER, List.of("count", "rate")));
    assertEquals(List.of(95.0, 50.0, 99.9), Agg.percentiles(List.of("p(95)", "avg", "med", "p(95)", "p(99.9)")));
  }

  @Test
  void aPointOfOneStoredRowTakesItsPercentileBucketsAndOneWithASecondRowIsReadAgainWhole() {
    RowBinaryOutput ranked = new RowBinaryOutput(16);
    // p(95) and p(50) buckets per row, in no particular order; series 1 is "home", 2 "cart", 3 "login"
    rankedRow(ranked, 2, 20, 1, 50, 50, bucket(50), bucket(50));
    rankedRow(ranked, 1, 10, 4, 500, 2000, bucket(2000), bucket(900));
    rankedRow(ranked, 3, 10, 1, 300, 300, bucket(300), bucket(300));
    rankedRow(ranked, 2, 10, 2, 100, 200, bucket(200), bucket(100));
    rankedRow(ranked, 3, 10, 1, 300, 300, bucket(300), bucket(300)); // replayed insert, not yet merged away
    rankedRow(ranked, 2, 20, 1, 7000, 7000, bucket(7000), bucket(7000)); // late correction
    RowBinaryMerge merge = new RowBinaryMerge(false, false, true, Map.of(1L, List.of("home"), 2L, List.of("cart"),
        3L, List.of("login")), List.of(95.0, 50.0));
    merge.addRanked(ranked.toByteArray(), PERCENTILES);
    assertEquals(Set.of(2L, 3L), merge.seriesWithSeveralRows(), "cart@20 and login@10 have two rows");
    assertThrows(IllegalStateException.class, merge::rows, "two rows' percentile buckets cannot be added");

    merge.dropSeries(Set.of(2L, 3L));
    RowBinaryOutput whole = new RowBinaryOutput(16);
    row(whole, "http_req_duration", 2, 10, "main", 10, 2, 300, 100, 200, 0, new int[] {bucket(100),
        bucket(200)}, new long[] {1, 1});
    row(whole, "http_req_duration", 2, 20, "main", 20, 1, 50, 50, 50, 0, new int[] {bucket(50)}, new long[] {1});
    row(whole, "http_req_duration", 2, 20, "late@20500", 20, 1, 7000, 7000, 7000, 0, new int[] {bucket(7000)},
        new long[] {1});
    row(whole, "http_req_duration", 3, 10, "main", 10, 1, 300, 300, 300, 0, new int[] {bucket(300)}, new long[] {1});
    row(whole, "http_req_duration", 3, 10, "main", 10, 1, 300, 300, 300, 0, new int[] {bucket(300)}, new long[] {1});
    merge.add(whole.toByteArray());
    List<MetricReader.Row> rows = merge.rows();
    assertEquals(List.of("cart@10", "cart@20", "home@10", "login@10"), rows.stream()
        .map(r -> r.groups().get(0) + "@" + r.tsSec()).toList());
    MetricReader.Row home = rows.get(2);
    assertEquals(4, home.agg().count());
    assertEquals(0, home.agg().histIndexes().length, "no histogram travelled");
    assertEquals(2.0, home.agg().stat(MetricType.TREND, "p(95)", 10), 2.0 / 128, "from its bucket, in ms");
    assertEquals(0.9, home.agg().stat(MetricType.TREND, "med", 10), 0.9 / 128);
    MetricReader.Row cart20 = rows.get(1);
    assertEquals(2, cart20.agg().count(), "the row and its correction");
    assertEquals(7.0, cart20.agg().stat(MetricType.TREND, "p(95)", 10), 7.0 / 128, "from the merged histogram");
    assertEquals(0.05, cart20.agg().stat(MetricType.TREND, "med", 10), 0.05 / 128);
    assertEquals(1, rows.get(3).agg().count(), "the replayed insert counts once");
  }

  @Test
  void twoSeriesOfOneGroupCannotShareTheirPercentileBuckets() {
    RowBinaryOutput ranked = new RowBinaryOutput(16);
    rankedRow(ranked, 1, 10, 1, 100, 100, bucket(100));
    rankedRow(ranked, 3, 10, 1, 500, 500, bucket(500));
    rankedRow(ranked, 2, 10, 1, 900, 900, bucket(900));
    RowBinaryMerge merge = new RowBinaryMerge(false, false, true, Map.of(1L, List.of("home"), 2L, List.of("home"),
        3L, List.of("cart")), List.of(50.0));
    merge.addRanked(ranked.toByteArray(), Agg.Needs.of(MetricType.TREND, List.of("med")));
    assertEquals(Set.of(1L, 2L), merge.seriesWithSeveralRows(), "home has two series; cart one");
  }

  private static int bucket(long value) {
    return HistogramLayout.bucketIndex(value);
  }
}
