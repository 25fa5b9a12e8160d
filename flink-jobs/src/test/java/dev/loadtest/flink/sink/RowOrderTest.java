package dev.loadtest.flink.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.flink.aggregate.SeriesBucket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RowOrderTest {
  /** A row's key as ClickHouse orders it, and the row's bytes. */
  private record Row(byte[] run, byte[] analysis, byte[] metric, long series, long ts, byte[] writer, byte[] bytes) {}

  private static final Comparator<Row> CLICKHOUSE = Comparator.<Row, byte[]>comparing(Row::run, Arrays::compareUnsigned)
      .thenComparing(Row::analysis, Arrays::compareUnsigned).thenComparing(Row::metric, Arrays::compareUnsigned)
      .thenComparing(Row::series, Long::compareUnsigned).thenComparing(Row::ts, Long::compare)
      .thenComparing(Row::writer, Arrays::compareUnsigned);

  @Test
  void metricRowsComeOutInTheTablesKeyOrderEveryRowOnceAndEqualKeysInTheirOrder() {
    Random rnd = new Random(3);
    String[] runs = {"run-b", "run-a", "run-ab", "rün", "run-a\u0000"};
    String[] analyses = {"", "~name", "~total", "a1~name"};
    String[] metrics = {"http_reqs", "http_req_duration", "http_req_failed", "http_req_duration_x", "vus"};
    String[] writers = {"main", "late:gen-1/7", "merged:0/12", "main#00ff", "mai"};
    for (int round = 0; round < 20; round++) {
      MetricRowBinary encoder = new MetricRowBinary();
      RowBinaryOutput out = new RowBinaryOutput(1024);
      int n = 1 + rnd.nextInt(3_000);
      int[] starts = new int[n];
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        SeriesBucket b = new SeriesBucket();
        b.testRunId = runs[rnd.nextInt(runs.length)];
        b.analysisId = analyses[rnd.nextInt(analyses.length)];
        b.metric = metrics[rnd.nextInt(metrics.length)];
        // series ids above 2^63 too (ClickHouse orders UInt64 unsigned), and few of them: equal keys occur
        b.seriesId = rnd.nextInt(4) == 0 ? -1L - rnd.nextInt(3) : rnd.nextInt(6);
        b.widthMs = 1_000;
        b.startMs = (1_780_000_000L + rnd.nextInt(4)) * 1000;
        b.writerId = writers[rnd.nextInt(writers.length)];
        b.count = i; // tells equal keys apart: their order must stay
        if (rnd.nextBoolean()) {
          int k = 1 + rnd.nextInt(5);
          b.histIndexes = new int[k];
          b.histCounts = new long[k];
          for (int j = 0; j < k; j++) {
            b.histIndexes[j] = j * 300 + rnd.nextInt(200); // variable-length rows
            b.histCounts[j] = 1 + rnd.nextInt(1000);
          }
        }
        starts[i] = out.size();
        encoder.write(b, out);
        int end = out.size();
        rows.add(new Row(utf8(b.testRunId), utf8(b.analysisId), utf8(b.metric), b.seriesId, b.startMs / 1000,
            utf8(b.writerId), Arrays.copyOfRange(out.buffer(), starts[i], end)));
      }
      byte[] sorted = MetricRowBinary.KEY.sort(out.buffer(), out.size(), starts, n);
      List<Row> expected = new ArrayList<>(rows);
      expected.sort(CLICKHOUSE); // List.sort is stable
      if (n > 1 && sorted == null) {
        assertEquals(expected, rows, "null only when the rows were in order already");
        continue;
      }
      byte[] want = new byte[out.size()];
      int at = 0;
      for (Row r : expected) {
        System.arraycopy(r.bytes(), 0, want, at, r.bytes().length);
        at += r.bytes().length;
      }
      assertNotNull(sorted);
      assertTrue(Arrays.equals(want, sorted), "round " + round + ": every row once, in key order, equal keys in order");
    }
  }

  @Test
  void rowsInOrderAlreadyAreLeftAsTheyAre() {
    MetricRowBinary encoder = new MetricRowBinary();
    RowBinaryOutput out = new RowBinaryOutput(1024);
    int[] starts = new int[50];
    for (int i = 0; i < 50; i++) {
      SeriesBucket b = new SeriesBucket();
      b.testRunId = "r";
      b.analysisId = "";
      b.metric = "http_reqs";
      b.seriesId = i / 5;
      b.widthMs = 1_000;
      b.startMs = (1_780_000_000L + i % 5) * 1000;
      b.writerId = "main";
      starts[i] = out.size();
      encoder.write(b, out);
    }
    assertNull(MetricRowBinary.KEY.sort(out.buffer(), out.size(), starts, 50));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
