package dev.loadtest.flink.sink;

import dev.loadtest.flink.aggregate.SeriesBucket;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes buckets as rows of {@code metric_1s} in ClickHouse's RowBinary format (the column order of
 * migration V003), the cheapest insert format both ClickHouse 18.16 and current releases read. Each row
 * carries its bucket's {@code writer_id}: with ReplacingMergeTree keyed on it, rows inserted again after a
 * restart collapse to the rows written the first time. Stateless.
 */
public final class MetricRowBinary {
  /** The statement the encoded rows go with. */
  public static final String INSERT = "INSERT INTO metric_1s (test_run_id, analysis_id, metric, series_id, ts,"
      + " writer_id, count, sum, min, max, last, non_zero, hist_idx, hist_cnt) FORMAT RowBinary";

  private MetricRowBinary() {}

  /** Rows with each bucket's own writer id ({@code "main"} for a complete window bucket). */
  public static byte[] encode(List<SeriesBucket> buckets) {
    Out out = new Out(64 + buckets.size() * 96);
    for (SeriesBucket b : buckets) {
      if (b.widthMs != 1000 || b.startMs % 1000 != 0) {
        throw new IllegalArgumentException("metric_1s takes one-second buckets, got " + b.widthMs + " ms at " + b.startMs);
      }
      out.string(b.testRunId);
      out.string(b.analysisId == null ? "" : b.analysisId);
      out.string(b.metric);
      out.int64(b.seriesId);
      out.int32(b.startMs / 1000);
      out.string(b.writerId == null || b.writerId.isEmpty() ? "main" : b.writerId);
      out.int64(b.count);
      out.float64(b.sum);
      out.float64(b.count == 0 ? 0 : b.min);
      out.float64(b.count == 0 ? 0 : b.max);
      out.float64(b.last);
      out.int64(b.nonZero);
      int n = b.histIndexes == null ? 0 : b.histIndexes.length;
      out.varint(n);
      for (int i = 0; i < n; i++) {
        int idx = b.histIndexes[i];
        if (idx < 0 || idx > 0xFFFF) {
          throw new IllegalArgumentException("bucket index " + idx + " does not fit hist_idx (UInt16)");
        }
        out.int16(idx);
      }
      out.varint(n);
      for (int i = 0; i < n; i++) {
        out.int64(b.histCounts[i]);
      }
    }
    return out.toByteArray();
  }

  /** Little-endian primitives and LEB128 lengths, as RowBinary writes them. */
  private static final class Out extends ByteArrayOutputStream {
    Out(int size) {
      super(size);
    }

    void varint(long v) {
      while ((v & ~0x7FL) != 0) {
        write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      write((int) v);
    }

    void string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      varint(b.length);
      write(b, 0, b.length);
    }

    void int16(int v) {
      write(v & 0xFF);
      write((v >>> 8) & 0xFF);
    }

    void int32(long v) {
      for (int i = 0; i < 4; i++) {
        write((int) (v >>> (8 * i)) & 0xFF);
      }
    }

    void int64(long v) {
      for (int i = 0; i < 8; i++) {
        write((int) (v >>> (8 * i)) & 0xFF);
      }
    }

    void float64(double d) {
      int64(Double.doubleToLongBits(d));
    }
  }
}
