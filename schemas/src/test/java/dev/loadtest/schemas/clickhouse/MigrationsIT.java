package dev.loadtest.schemas.clickhouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.schemas.histogram.HistogramLayout;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The migrations against a real ClickHouse server (the local 18.16 binary on our machines). */
class MigrationsIT {
  private final ClickHouseServer server = ClickHouseServer.shared();
  private final ClickHouseHttp ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(),
      java.time.Duration.ofSeconds(60));

  @Test
  void appliesEachMigrationOnceAndRecordsIt() {
    String db = ClickHouseServer.newDatabaseName("migrations");
    Migrations.Result first = Migrations.apply(ch, db);
    assertEquals(Migrations.bundled().size(), first.applied().size());
    Migrations.Result second = Migrations.apply(ch, db);
    assertEquals(List.of(), second.applied(), "nothing is applied twice");
    assertEquals(first.applied().size(), second.alreadyApplied().size());
    assertEquals(Integer.toString(first.applied().size()),
        ch.execute(db, "SELECT count() FROM schema_migrations FORMAT TabSeparated").strip());
    String tables = ch.execute(db, "SELECT name FROM system.tables WHERE database = " + ClickHouseHttp.quote(db)
        + " ORDER BY name FORMAT TabSeparated");
    assertEquals(List.of("insights", "metric_10s", "metric_1m", "metric_1s", "metric_run", "run_deletions", "run_marks",
        "runs", "schema_migrations", "series", "thresholds", "webhook_deliveries", "webhooks"), List.of(tables.strip().split("\n")));
  }

  @Test
  void theTablesTakeAndMergeWhatTheSinkWillWrite() {
    String db = ClickHouseServer.newDatabaseName("buckets");
    Migrations.apply(ch, db);
    ch.execute(db, "INSERT INTO metric_1s (test_run_id, analysis_id, metric, series_id, ts, writer_id, count, sum, min, max,"
        + " last, non_zero, hist_idx, hist_cnt) VALUES"
        + " ('r1', '', 'http_req_duration', 7, '2026-01-01 00:00:01', 'w1', 3, 30, 5, 15, 0, 0, [5, 10, 15], [1, 1, 1]),"
        + " ('r1', '', 'http_req_duration', 7, '2026-01-01 00:00:01', 'w2', 2, 20, 10, 10, 0, 0, [10], [2]),"
        + " ('r1', '', 'http_req_duration', 7, '2026-01-01 00:00:01', 'w2', 2, 20, 10, 10, 0, 0, [10], [2])");
    // The repeated w2 row is a replayed insert: FINAL collapses it; w1 and w2 are partial buckets and add up.
    String merged = ch.execute(db, "SELECT sum(count), sumMap(hist_idx, hist_cnt) FROM metric_1s FINAL"
        + " WHERE test_run_id = 'r1' FORMAT TabSeparated").strip();
    assertEquals("5\t([5,10,15],[1,3,1])", merged);
  }

  @Test
  void everyRowCarriesTheBucketsOfItsUsualPercentilesAsTheHistogramFindsThem() {
    String db = ClickHouseServer.newDatabaseName("ranks");
    Migrations.apply(ch, db);
    java.util.Random rnd = new java.util.Random(11);
    List<SparseHistogram> rows = new java.util.ArrayList<>();
    StringBuilder values = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      SingleWriterHistogram h = new SingleWriterHistogram();
      int n = 1 + rnd.nextInt(i % 3 == 0 ? 3 : 2000); // few samples too: ranks at the edges
      for (int k = 0; k < n; k++) {
        // latencies, and (every 5th row below zero, every 7th either side) user Trend values (V009)
        long sign = i % 5 == 0 || (i % 7 == 0 && rnd.nextBoolean()) ? -1 : 1;
        h.record(sign * (long) (20_000 * Math.exp(rnd.nextGaussian())));
      }
      SparseHistogram s = h.snapshot();
      rows.add(s);
      values.append(i == 0 ? "" : ", ").append("('r', '', 'http_req_duration', ").append(i).append(", '2026-01-01 00:00:01', 'main', ")
          .append(s.count()).append(", ").append(s.sum()).append(", ").append(s.min()).append(", ").append(s.max())
          .append(", 0, 0, ").append(java.util.Arrays.toString(s.indexes())).append(", ")
          .append(java.util.Arrays.toString(s.counts())).append(')');
    }
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      ch.execute(db, "INSERT INTO " + table + " (test_run_id, analysis_id, metric, series_id, ts, writer_id, count, sum,"
          + " min, max, last, non_zero, hist_idx, hist_cnt) VALUES " + values);
      String[] lines = ch.execute(db, "SELECT bucket_p50, bucket_p90, bucket_p95, bucket_p99 FROM " + table
          + " ORDER BY series_id FORMAT TabSeparated").strip().split("\n");
      assertEquals(rows.size(), lines.length);
      for (int i = 0; i < rows.size(); i++) {
        String[] b = lines[i].split("\t");
        double[] ps = {50, 90, 95, 99};
        for (int k = 0; k < ps.length; k++) {
          SparseHistogram s = rows.get(i);
          double fromBucket = Math.min(s.max(), Math.max(s.min(), HistogramLayout.upperBound(Integer.parseInt(b[k]))));
          assertEquals(s.percentile(ps[k]), fromBucket, table + " row " + i + " (" + s.count() + " samples) p(" + ps[k] + ")");
        }
      }
    }
  }

  @Test
  void rowsStoredBeforeSignedBucketsReadTheSameAfterThem() {
    String db = ClickHouseServer.newDatabaseName("signed");
    Migrations.Result before = Migrations.apply(ch, db, 8);
    assertEquals(8, before.applied().size());
    String row = "('r', '', 'http_req_duration', 1, '2026-01-01 00:00:01', 'main', 5, 1500, 5, 7295, 0, 0,"
        + " [5, 300, 7000, 7295], [1, 2, 1, 1])";
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      ch.execute(db, "INSERT INTO " + table + " (test_run_id, analysis_id, metric, series_id, ts, writer_id, count, sum,"
          + " min, max, last, non_zero, hist_idx, hist_cnt) VALUES " + row);
    }
    String read = "SELECT hist_idx, bucket_p50, bucket_p99 FROM %s FORMAT TabSeparated";
    String old = ch.execute(db, read.formatted("metric_1s")).strip();
    assertEquals("[5,300,7000,7295]\t300\t7295", old);
    Migrations.Result after = Migrations.apply(ch, db);
    List<Integer> applied = after.applied().stream().map(Migrations.Migration::version).toList();
    assertEquals(java.util.stream.IntStream.rangeClosed(9, 8 + applied.size()).boxed().toList(), applied,
        "every later migration, in order");
    assertTrue(applied.size() >= 4, applied.toString());
    for (String table : List.of("metric_1s", "metric_10s", "metric_1m")) {
      assertEquals(old, ch.execute(db, read.formatted(table)).strip(), table + " reads as before");
      assertEquals("Array(Int16)\tInt16", ch.execute(db, "SELECT toTypeName(hist_idx), toTypeName(bucket_p95) FROM "
          + table + " LIMIT 1 FORMAT TabSeparated").strip());
    }
    // Below zero after it: -20 and -10 merge with the old row in value order.
    ch.execute(db, "INSERT INTO metric_1s (test_run_id, analysis_id, metric, series_id, ts, writer_id, count, sum, min,"
        + " max, last, non_zero, hist_idx, hist_cnt) VALUES ('r', '', 'http_req_duration', 1, '2026-01-01 00:00:01',"
        + " 'late', 2, -30, -20, -10, 0, 0, [-20, -10], [1, 1])");
    assertEquals("([-20,-10,5,300,7000,7295],[1,1,1,2,1,1])\t-20\t7295", ch.execute(db,
        "SELECT sumMap(hist_idx, hist_cnt), min(min), max(max) FROM metric_1s FORMAT TabSeparated").strip());
  }

  @Test
  void migrationsAppliedButNotRecordedApplyAgainCleanly() {
    String db = ClickHouseServer.newDatabaseName("unrecorded");
    Migrations.apply(ch, db);
    // A crash after the statements, before the records: every migration ran, none is recorded.
    ch.execute(db, "DROP TABLE schema_migrations");
    Migrations.Result again = Migrations.apply(ch, db);
    assertEquals(Migrations.bundled().size(), again.applied().size(), "each is applied (its ADD COLUMNs left out) and recorded");
    assertEquals(Integer.toString(Migrations.bundled().size()),
        ch.execute(db, "SELECT count() FROM schema_migrations FORMAT TabSeparated").strip());
    assertEquals("4", ch.execute(db, "SELECT count() FROM system.columns WHERE database = " + ClickHouseHttp.quote(db)
        + " AND table = 'metric_1s' AND name LIKE 'bucket_p%' FORMAT TabSeparated").strip(), "no column twice");
  }

  @Test
  void anEditedMigrationIsRefused() {
    String db = ClickHouseServer.newDatabaseName("tampered");
    Migrations.apply(ch, db);
    ch.execute(db, "ALTER TABLE schema_migrations DELETE WHERE version = 2");
    // Wait for the mutation rather than sleeping: poll until the row is gone.
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!ch.execute(db, "SELECT count() FROM schema_migrations WHERE version = 2 FORMAT TabSeparated").strip().equals("0")) {
      assertTrue(System.nanoTime() < deadline, "mutation did not finish");
      Thread.onSpinWait();
    }
    ch.execute(db, "INSERT INTO schema_migrations VALUES (2, 'series', 'deadbeef', now())");
    ClickHouseException e = assertThrows(ClickHouseException.class, () -> Migrations.apply(ch, db));
    assertTrue(e.getMessage().contains("must not be edited"), e.getMessage());
  }

  @Test
  void theServerVersionIsLogged() {
    assertTrue(!server.version().isBlank());
    System.out.println("ClickHouse under test: " + server.version() + " (" + server.origin() + ")");
  }
}
