package dev.loadtest.flink.sink;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A growing buffer of rows in ClickHouse's RowBinary format: little-endian numbers, LEB128 lengths, the
 * cheapest insert format that ClickHouse 18.16 and current releases both read. Not thread-safe.
 */
public final class RowBinaryOutput extends ByteArrayOutputStream {
  public RowBinaryOutput(int initialBytes) {
    super(initialBytes);
  }

  public void varint(long v) {
    while ((v & ~0x7FL) != 0) {
      write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    write((int) v);
  }

  public void string(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    varint(b.length);
    write(b, 0, b.length);
  }

  public void uint16(int v) {
    write(v & 0xFF);
    write((v >>> 8) & 0xFF);
  }

  public void uint32(long v) {
    for (int i = 0; i < 4; i++) {
      write((int) (v >>> (8 * i)) & 0xFF);
    }
  }

  public void int64(long v) {
    for (int i = 0; i < 8; i++) {
      write((int) (v >>> (8 * i)) & 0xFF);
    }
  }

  public void float64(double d) {
    int64(Double.doubleToLongBits(d));
  }

  /** An {@code Array(String)}. */
  public void strings(String[] values) {
    int n = values == null ? 0 : values.length;
    varint(n);
    for (int i = 0; i < n; i++) {
      string(values[i]);
    }
  }
}
