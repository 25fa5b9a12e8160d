package dev.loadtest.schemas.sample;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes Avro's binary encoding (zig-zag varints, little-endian doubles, length-prefixed strings,
 * blocked arrays) into a growable byte array. Not thread-safe; reusable after {@link #reset()}.
 */
final class AvroBinaryWriter {
  private byte[] buf;
  private int pos;

  AvroBinaryWriter(int initialCapacity) {
    buf = new byte[Math.max(16, initialCapacity)];
  }

  void reset() {
    pos = 0;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  void rawByte(int b) {
    ensure(1);
    buf[pos++] = (byte) b;
  }

  void rawLongLe(long v) {
    ensure(8);
    for (int i = 0; i < 8; i++) {
      buf[pos++] = (byte) (v >>> (8 * i));
    }
  }

  void writeLong(long n) {
    ensure(10);
    long v = (n << 1) ^ (n >> 63);
    while ((v & ~0x7FL) != 0) {
      buf[pos++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[pos++] = (byte) v;
  }

  void writeInt(int n) {
    ensure(5);
    int v = (n << 1) ^ (n >> 31);
    while ((v & ~0x7F) != 0) {
      buf[pos++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[pos++] = (byte) v;
  }

  void writeBoolean(boolean b) {
    rawByte(b ? 1 : 0);
  }

  void writeDouble(double d) {
    rawLongLe(Double.doubleToRawLongBits(d));
  }

  void writeString(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    writeInt(bytes.length);
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, pos, bytes.length);
    pos += bytes.length;
  }

  /** Starts an array of {@code count} items: Avro writes one block, then the end marker after the items. */
  void arrayStart(int count) {
    if (count > 0) {
      writeLong(count);
    }
  }

  void arrayEnd() {
    rawByte(0);
  }

  /** Writes a whole array of longs; the loop keeps buffer and position in locals (the hot path). */
  void writeLongs(long[] values, int n) {
    arrayStart(n);
    ensure(10 * n + 1);
    final byte[] b = buf;
    int p = pos;
    for (int i = 0; i < n; i++) {
      long x = values[i];
      long v = (x << 1) ^ (x >> 63);
      while ((v & ~0x7FL) != 0) {
        b[p++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      b[p++] = (byte) v;
    }
    pos = p;
    arrayEnd();
  }

  void writeBooleans(boolean[] values, int n) {
    arrayStart(n);
    ensure(n + 1);
    final byte[] b = buf;
    int p = pos;
    for (int i = 0; i < n; i++) {
      b[p++] = values[i] ? (byte) 1 : (byte) 0;
    }
    pos = p;
    arrayEnd();
  }

  void writeInts(int[] values, int n) {
    arrayStart(n);
    ensure(5 * n + 1);
    final byte[] b = buf;
    int p = pos;
    for (int i = 0; i < n; i++) {
      int x = values[i];
      int v = (x << 1) ^ (x >> 31);
      while ((v & ~0x7F) != 0) {
        b[p++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      b[p++] = (byte) v;
    }
    pos = p;
    arrayEnd();
  }

  private void ensure(int more) {
    if (pos + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
    }
  }
}
