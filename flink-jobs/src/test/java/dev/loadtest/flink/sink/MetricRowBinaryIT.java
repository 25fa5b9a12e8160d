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
}
