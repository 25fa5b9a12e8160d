package dev.loadtest.schemas.sample;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes Avro's binary encoding (zig-zag varints, little-endian doubles, length-prefixed strings,
 * blocked arrays) into a growable byte array. Not thread-safe; reusable after {@link #reset()}. Sample
 * batches ({@link SampleBatchCodec}) and the aggregate job's aggregates records are written with it.
 */
public final class AvroBinaryWriter {
  private byte[] buf;
  private int pos;

  public AvroBinaryWriter(int initialCapacity) {
    buf = new byte[Math.max(16, initialCapacity)];
  }

  public void reset() {
    pos = 0;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  public void rawByte(int b) {
    ensure(1);
    buf[pos++] = (byte) b;
  }

  public void rawLongLe(long v) {
    ensure(8);
    for (int i = 0; i < 8; i++) {
      buf[pos++] = (byte) (v >>> (8 * i));
    }
  }

  public void writeLong(long n) {
    ensure(10);
    long v = (n << 1) ^ (n >> 63);
    while ((v & ~0x7FL) != 0) {
      buf[pos++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[pos++] = (byte) v;
  }

  public void writeInt(int n) {
    ensure(5);
    int v = (n << 1) ^ (n >> 31);
    while ((v & ~0x7F) != 0) {
      buf[pos++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[pos++] = (byte) v;
  }

  public void writeDouble(double d) {
    rawLongLe(Double.doubleToRawLongBits(d));
  }

  public void writeString(String s) {
    int n = s.length();
    int start = pos;
    writeInt(n);
    ensure(n);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) { // not one byte a char: the UTF-8 length first
        pos = start;
        writeUtf8(s.getBytes(StandardCharsets.UTF_8));
        return;
      }
      buf[pos++] = (byte) c;
    }
  }

  /** A string already in UTF-8. */
  public void writeUtf8(byte[] utf8) {
    writeInt(utf8.length);
    rawBytes(utf8);
  }

  /** Bytes as they are (an encoded part written before). */
  public void rawBytes(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, pos, bytes.length);
    pos += bytes.length;
  }

  /** Starts an array of {@code count} items: Avro writes one block, then the end marker after the items. */
  public void arrayStart(int count) {
    if (count > 0) {
      writeLong(count);
    }
  }

  public void arrayEnd() {
    rawByte(0);
  }

  /**
   * Writes a whole array of longs: the hot path. Buffer and position live in locals, and the loop checks
   * once per item that a whole varint fits, growing the buffer only when it does not.
   */
  public void writeLongs(long[] values, int n) {
    arrayStart(n);
    byte[] b = buf;
    int safeEnd = b.length - 10;
    int p = pos;
    for (int i = 0; i < n; i++) {
      if (p > safeEnd) {
        // Grow for the rest of the column at the bytes per item seen so far (at least 10 more bytes).
        pos = p;
        ensure(Math.max(10, (int) Math.min(Integer.MAX_VALUE / 2, (long) (n - i) * 4)));
        b = buf;
        safeEnd = b.length - 10;
      }
      long x = values[i];
      long v = (x << 1) ^ (x >> 63);
      // Unrolled for 1 to 3 bytes, the usual sizes of offsets, timings and byte counts.
      if ((v & ~0x7FL) == 0) {
        b[p++] = (byte) v;
      } else if ((v & ~0x3FFFL) == 0) {
        b[p] = (byte) (v | 0x80);
        b[p + 1] = (byte) (v >>> 7);
        p += 2;
      } else if ((v & ~0x1FFFFFL) == 0) {
        b[p] = (byte) (v | 0x80);
        b[p + 1] = (byte) ((v >>> 7) | 0x80);
        b[p + 2] = (byte) (v >>> 14);
        p += 3;
      } else {
        while ((v & ~0x7FL) != 0) {
          b[p++] = (byte) ((v & 0x7F) | 0x80);
          v >>>= 7;
        }
        b[p++] = (byte) v;
      }
    }
    pos = p;
    arrayEnd();
  }

  public void writeBooleans(boolean[] values, int n) {
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

  public void writeInts(int[] values, int n) {
    arrayStart(n);
    byte[] b = buf;
    int safeEnd = b.length - 5;
    int p = pos;
    for (int i = 0; i < n; i++) {
      if (p > safeEnd) {
        pos = p;
        ensure(Math.max(5, (int) Math.min(Integer.MAX_VALUE / 2, (long) (n - i) * 2)));
        b = buf;
        safeEnd = b.length - 5;
      }
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
