package dev.loadtest.schemas.sample;

import java.nio.charset.StandardCharsets;

/**
 * Reads Avro's binary encoding from a byte array, checking every length against the bytes that are
 * left so that a malformed record fails with {@link MalformedSampleBatchException} instead of
 * allocating without bound. Not thread-safe.
 */
final class AvroBinaryReader {
  private final byte[] buf;
  private int pos;
  private final int end;

  AvroBinaryReader(byte[] buf, int offset, int end) {
    this.buf = buf;
    this.pos = offset;
    this.end = end;
  }

  int position() {
    return pos;
  }

  boolean atEnd() {
    return pos == end;
  }

  byte rawByte() {
    if (pos >= end) {
      throw truncated();
    }
    return buf[pos++];
  }

  long rawLongLe() {
    if (end - pos < 8) {
      throw truncated();
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v |= (buf[pos++] & 0xFFL) << (8 * i);
    }
    return v;
  }

  long readLong() {
    long v = 0;
    int shift = 0;
    while (true) {
      if (pos >= end) {
        throw truncated();
      }
      byte b = buf[pos++];
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        break;
      }
      shift += 7;
      if (shift > 63) {
        throw new MalformedSampleBatchException("varint longer than 10 bytes at byte " + pos);
      }
    }
    return (v >>> 1) ^ -(v & 1);
  }

  int readInt() {
    long v = readLong();
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new MalformedSampleBatchException("int out of range at byte " + pos + ": " + v);
    }
    return (int) v;
  }

  boolean readBoolean() {
    byte b = rawByte();
    if (b != 0 && b != 1) {
      throw new MalformedSampleBatchException("boolean byte is " + b + " at byte " + (pos - 1));
    }
    return b == 1;
  }

  double readDouble() {
    return Double.longBitsToDouble(rawLongLe());
  }

  String readString() {
    int len = readInt();
    if (len < 0 || len > end - pos) {
      throw new MalformedSampleBatchException("string length " + len + " at byte " + pos + " exceeds the record");
    }
    String s = new String(buf, pos, len, StandardCharsets.UTF_8);
    pos += len;
    return s;
  }

  /**
   * Reads the item count of the next array block (0 at the end of the array). Each item takes at least
   * {@code minItemBytes}, which bounds a sane count by the bytes left.
   */
  int blockCount(int minItemBytes) {
    long n = readLong();
    if (n < 0) {
      n = -n;
      readLong(); // block size in bytes, which we do not need
    }
    if (n > (long) (end - pos) / Math.max(1, minItemBytes)) {
      throw new MalformedSampleBatchException("array block of " + n + " items at byte " + pos
          + " is larger than the rest of the record");
    }
    return (int) n;
  }

  private MalformedSampleBatchException truncated() {
    return new MalformedSampleBatchException("record ends early at byte " + pos);
  }
}
