package dev.loadtest.flink.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.flink.aggregate.BatchPreAggregator;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatches;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Buckets of real sample batches written to a real ClickHouse as RowBinary, and read back. */
@Timeout(120)
class MetricRowBinaryIT {
  private final ClickHouseServer server = ClickHouseServer.shared();
  private final ClickHouseHttp ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(),
      Duration.ofSeconds(60));

  @Test
  void rowsReadBackAsTheBucketsWereAndARepeatedBatchCountsOnce() {
    String db = ClickHouseServer.newDatabaseName("rowbinary");
    Migrations.apply(ch, db);
    SampleBatch batch = SampleBatches.checkout(5_000, 11);
    List<SeriesBucket> buckets = new BatchPreAggregator().aggregate(batch);
    buckets.forEach(b -> b.writerId = "late:gen-1/7");
    byte[] rows = MetricRowBinary.encode(buckets);
    ch.insert(db, MetricRowBinary.insert("metric_1s"), rows);
    ch.insert(db, MetricRowBinary.insert("metric_1s"), rows); // replayed after a restart from the same checkpoint

    String run = ClickHouseHttp.quote(batch.testRunId());
    long requests = buckets.stream().filter(b -> b.metric.equals("http_reqs")).mapToLong(b -> b.count).sum();
    assertEquals(Long.toString(requests), ch.execute(db, "SELECT sum(count) FROM metric_1s FINAL WHERE test_run_id = "
        + run + " AND metric = 'http_reqs' FORMAT TabSeparated").strip(), "every request once, not twice");
    assertEquals(Integer.toString(buckets.size()), ch.execute(db, "SELECT count() FROM metric_1s FINAL WHERE"
        + " test_run_id = " + run + " FORMAT TabSeparated").strip());

    // A trend's histogram comes back bucket for bucket: the percentiles from ClickHouse equal the in-memory ones.
    SparseHistogram expected = buckets.stream().filter(b -> b.metric.equals("http_req_duration"))
        .map(SeriesBucket::histogram).reduce(SparseHistogram.EMPTY, SparseHistogram::merge);
    String[] merged = ch.execute(db, "SELECT sumMap(hist_idx, hist_cnt), toInt64(sum(sum)), toInt64(min(min)),"
        + " toInt64(max(max)) FROM metric_1s FINAL WHERE test_run_id = " + run + " AND metric = 'http_req_duration'"
        + " FORMAT TabSeparated").strip().split("\t");
    String[] arrays = merged[0].substring(2, merged[0].length() - 2).split("\\],\\[");
    int[] indexes = java.util.Arrays.stream(arrays[0].split(",")).mapToInt(Integer::parseInt).toArray();
    long[] counts = java.util.Arrays.stream(arrays[1].split(",")).mapToLong(Long::parseLong).toArray();
    SparseHistogram stored = SparseHistogram.of(indexes, counts, Long.parseLong(merged[1]), Long.parseLong(merged[2]),
        Long.parseLong(merged[3]));
    assertEquals(expected.count(), stored.count());
    assertTrue(indexes.length > 10, "a spread of buckets: " + indexes.length);
    for (double p : new double[] {50, 95, 99}) {
      assertEquals(expected.percentile(p), stored.percentile(p), "p(" + p + ")");
    }
  }

  @Test
  void aUserTrendBelowZeroIsStoredAndReadBackExactly() {
    String db = ClickHouseServer.newDatabaseName("signed");
    Migrations.apply(ch, db);
    // Two seconds of a user Trend (ms): one with a few values (kept as they are), one with many (dense).
    dev.loadtest.schemas.sample.SampleBatchBuilder b =
        new dev.loadtest.schemas.sample.SampleBatchBuilder("signed-run", "gen", "zone", 0, 1_780_000_000_000_000L);
    int metric = b.metric("balance_change", dev.loadtest.schemas.metrics.MetricType.TREND);
    int ts = b.tagSet("name", "transfer");
    java.util.Random rnd = new java.util.Random(5);
    dev.loadtest.schemas.histogram.SingleWriterHistogram all = new dev.loadtest.schemas.histogram.SingleWriterHistogram();
    double[] few = {-10, -20, 0, 3.5};
    for (int i = 0; i < few.length; i++) {
      b.addPoint(metric, 1_780_000_000_000_000L + i, ts, few[i]);
      all.record(dev.loadtest.schemas.histogram.HistogramLayout.toUnits(few[i] * 1000));
    }
    for (int i = 0; i < 3_000; i++) {
      double v = Math.round((rnd.nextGaussian() * 400 - 100) * 1000) / 1000.0; // whole microseconds
      b.addPoint(metric, 1_780_000_001_000_000L + i, ts, v);
      all.record(dev.loadtest.schemas.histogram.HistogramLayout.toUnits(v * 1000));
    }
    List<SeriesBucket> buckets = new BatchPreAggregator().aggregate(b.build());
    ch.insert(db, MetricRowBinary.insert("metric_1s"), MetricRowBinary.encode(buckets));
    SparseHistogram expected = all.snapshot();
    String[] merged = ch.execute(db, "SELECT sumMap(hist_idx, hist_cnt), toInt64(sum(sum)), toInt64(min(min)),"
        + " toInt64(max(max)), argMin(bucket_p50, ts) FROM metric_1s WHERE metric = 'balance_change' FORMAT TabSeparated")
        .strip().split("\t");
    String[] arrays = merged[0].substring(2, merged[0].length() - 2).split("\\],\\[");
    int[] indexes = java.util.Arrays.stream(arrays[0].split(",")).mapToInt(Integer::parseInt).toArray();
    long[] counts = java.util.Arrays.stream(arrays[1].split(",")).mapToLong(Long::parseLong).toArray();
    SparseHistogram stored = SparseHistogram.of(indexes, counts, Long.parseLong(merged[1]), Long.parseLong(merged[2]),
        Long.parseLong(merged[3]));
    assertEquals(expected, stored, "buckets, count, sum, min and max as recorded");
    assertTrue(indexes[0] < 0 && indexes[indexes.length - 1] > 0, "buckets either side of zero");
    assertEquals(dev.loadtest.schemas.histogram.HistogramLayout.bucketIndex(-10_000L), Integer.parseInt(merged[4]),
        "the first second's median is in the bucket of -10 ms (of -20, -10, 0 and 3.5 ms)");
  }

  /**
   * Whole-run rows (width 0) go to metric_run with their version: the last version of a row is what a reader
   * taking argMax by version gets, whatever merged yet, and its stored p(95) bucket is the histogram's.
   */
  @Test
  void wholeRunRowsAreReadInTheirLastVersionWithTheirPercentileBucket() {
    String db = ClickHouseServer.newDatabaseName("runrows");
    Migrations.apply(ch, db);
    SampleBatch batch = SampleBatches.checkout(5_000, 12);
    SeriesBucket part = new BatchPreAggregator().aggregate(batch).stream()
        .filter(b -> b.metric.equals("http_req_duration")).findFirst().orElseThrow();
    part.widthMs = dev.loadtest.flink.aggregate.BucketLadder.RUN_WIDTH_MS;
    part.writerId = "";
    SeriesBucket first = part.copy();
    first.count = 1;
    first.histIndexes = new int[] {part.histIndexes[0]};
    first.histCounts = new long[] {1};
    first.lastTimeUs = 10_999;
    part.lastTimeUs = 20_999;
    ch.insert(db, MetricRowBinary.insert("metric_run"), MetricRowBinary.encode(List.of(part)));
    ch.insert(db, MetricRowBinary.insert("metric_run"), MetricRowBinary.encode(List.of(first))); // older, later
    String[] read = ch.execute(db, "SELECT argMax(count, version), argMax(bucket_p95, version), count() FROM"
        + " metric_run WHERE test_run_id = " + ClickHouseHttp.quote(part.testRunId) + " GROUP BY series_id, ts,"
        + " writer_id FORMAT TabSeparated").strip().split("\t");
    assertEquals(Long.toString(part.count), read[0], "the last version, though inserted first");
    assertEquals("2", read[2], "two versions not merged yet");
    long rank = Math.max(1, (long) Math.ceil(Math.nextDown(95.0) / 100 * part.count));
    long seen = 0;
    int bucket = 0;
    for (int i = 0; i < part.histIndexes.length && seen < rank; i++) {
      seen += part.histCounts[i];
      bucket = part.histIndexes[i];
    }
    assertEquals(Integer.toString(bucket), read[1], "p(95)'s bucket of the last version");
  }

  /**
   * The percentile buckets the writer gives (V016) are what each table's own DEFAULT expressions compute from
   * the same row: rows of every width, few and many samples, either side of zero, rows without a histogram,
   * and counts the histogram does not match (0, more than it holds).
   */
  @Test
  void thePercentileBucketsWrittenAreWhatTheTablesExpressionsCompute() {
    String db = ClickHouseServer.newDatabaseName("pbuckets");
    Migrations.apply(ch, db);
    java.util.Random rnd = new java.util.Random(17);
    int[] widths = {1_000, 10_000, 60_000, dev.loadtest.flink.aggregate.BucketLadder.RUN_WIDTH_MS};
    List<String> tables = MetricRowBinary.TABLES;
    for (int t = 0; t < widths.length; t++) {
      List<SeriesBucket> rows = new java.util.ArrayList<>();
      for (int i = 0; i < 400; i++) {
        SeriesBucket b = new SeriesBucket();
        b.testRunId = "pb";
        b.analysisId = "";
        b.metric = i % 10 == 0 ? "http_reqs" : "http_req_duration";
        b.seriesId = i;
        b.widthMs = widths[t];
        b.startMs = 1_780_000_020L * 1000 / 60_000 * 60_000;
        b.writerId = "main";
        b.lastTimeUs = 5;
        if (i % 10 != 0) {
          dev.loadtest.schemas.histogram.SingleWriterHistogram h = new dev.loadtest.schemas.histogram.SingleWriterHistogram();
          int n = 1 + rnd.nextInt(i % 3 == 0 ? 4 : 2_000);
          for (int k = 0; k < n; k++) {
            h.record((i % 7 == 0 && rnd.nextBoolean() ? -1 : 1) * (long) (20_000 * Math.exp(rnd.nextGaussian())));
          }
          SparseHistogram s = h.snapshot();
          b.histIndexes = s.indexes();
          b.histCounts = s.counts();
          // edges the expressions must agree on: a count of 0 (rank 1), a count the histogram never reaches
          b.count = i % 13 == 0 ? 0 : i % 17 == 0 ? s.count() + 1_000 : s.count();
        } else {
          b.count = 1 + rnd.nextInt(100); // a counter: no histogram
        }
        rows.add(b);
      }
      ch.insert(db, MetricRowBinary.insert(tables.get(t)), MetricRowBinary.encode(rows));
      StringBuilder select = new StringBuilder("SELECT count()");
      for (String c : List.of("bucket_p50", "bucket_p90", "bucket_p95", "bucket_p99")) {
        String expression = ch.execute(db, "SELECT default_expression FROM system.columns WHERE database = "
            + ClickHouseHttp.quote(db) + " AND table = '" + tables.get(t) + "' AND name = '" + c + "'"
            + " AND default_kind = 'DEFAULT' FORMAT TabSeparatedRaw").strip();
        assertTrue(expression.contains("arrayCumSum"), tables.get(t) + "." + c + " has its DEFAULT expression");
        select.append(", countIf(").append(c).append(" = toInt16(").append(expression).append("))");
      }
      assertEquals("400\t400\t400\t400\t400", ch.execute(db, select + " FROM " + tables.get(t)
          + " FORMAT TabSeparated").strip(), tables.get(t) + ": every written bucket equals the expression's");
      assertTrue(Long.parseLong(ch.execute(db, "SELECT uniqExact(bucket_p99) FROM " + tables.get(t)
          + " FORMAT TabSeparated").strip()) > 20, "buckets spread over many values, not one default");
    }
  }

  /**
   * Rows sorted by {@link MetricRowBinary#KEY} are what ClickHouse takes as sorted already (it counts the
   * blocks it did not have to sort), and they are stored as they were.
   */
  @Test
  void rowsInTheKeysOrderAreTakenAsSortedAndStoredAsTheyWere() {
    String db = ClickHouseServer.newDatabaseName("sorted");
    Migrations.apply(ch, db);
    List<SeriesBucket> buckets = new java.util.ArrayList<>(new BatchPreAggregator().aggregate(SampleBatches.checkout(5_000, 13)));
    java.util.Collections.shuffle(buckets, new java.util.Random(13));
    RowBinaryOutput out = new RowBinaryOutput(1 << 16);
    int[] starts = new int[buckets.size()];
    MetricRowBinary encoder = new MetricRowBinary();
    for (int i = 0; i < buckets.size(); i++) {
      starts[i] = out.size();
      encoder.write(buckets.get(i), out);
    }
    byte[] sorted = MetricRowBinary.KEY.sort(out.buffer(), out.size(), starts, buckets.size());
    assertTrue(sorted != null && sorted.length == out.size(), "shuffled rows are reordered, every byte kept");
    String counted = "SELECT value FROM system.events WHERE event = 'MergeTreeDataWriterBlocksAlreadySorted'"
        + " FORMAT TabSeparated";
    long before = Long.parseLong("0" + ch.execute(db, counted).strip());
    ch.insert(db, MetricRowBinary.insert("metric_1s"), sorted);
    assertTrue(Long.parseLong("0" + ch.execute(db, counted).strip()) > before, "ClickHouse did not sort the block");
    String run = ClickHouseHttp.quote(buckets.get(0).testRunId);
    assertEquals(Integer.toString(buckets.size()), ch.execute(db, "SELECT count() FROM metric_1s WHERE test_run_id = "
        + run + " FORMAT TabSeparated").strip());
    long requests = buckets.stream().filter(b -> b.metric.equals("http_reqs")).mapToLong(b -> b.count).sum();
    assertEquals(Long.toString(requests), ch.execute(db, "SELECT sum(count) FROM metric_1s WHERE test_run_id = " + run
        + " AND metric = 'http_reqs' FORMAT TabSeparated").strip());
  }
}
