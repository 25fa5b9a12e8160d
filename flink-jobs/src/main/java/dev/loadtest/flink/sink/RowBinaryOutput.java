package dev.loadtest.flink.sink;

import java.io.ByteArrayOutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growing buffer of rows in ClickHouse's RowBinary format: little-endian numbers, LEB128 lengths, the
 * cheapest insert format that ClickHouse 18.16 and current releases both read. Not thread-safe: its
 * writes skip the locking of {@link ByteArrayOutputStream} (a sink writes millions of numbers a second).
 */
public final class RowBinaryOutput extends ByteArrayOutputStream {
  private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  public RowBinaryOutput(int initialBytes) {
    super(initialBytes);
  }

  /** The buffer itself (its first {@link #size()} bytes are the rows), for reading without a copy. */
  byte[] buffer() {
    return buf;
  }

  private void room(int bytes) {
    if (count + bytes > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + bytes));
    }
  }

  @Override
  public void write(int b) {
    room(1);
    buf[count++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    room(len);
    System.arraycopy(b, off, buf, count, len);
    count += len;
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

  /** A signed 16-bit integer, two's complement, little-endian. */
  public void int16(int v) {
    uint16(v & 0xFFFF);
  }

  public void uint16(int v) {
    write(v & 0xFF);
    write((v >>> 8) & 0xFF);
  }

  public void uint32(long v) {
    room(4);
    INT_LE.set(buf, count, (int) v);
    count += 4;
  }

  public void int64(long v) {
    room(8);
    LONG_LE.set(buf, count, v);
    count += 8;
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
