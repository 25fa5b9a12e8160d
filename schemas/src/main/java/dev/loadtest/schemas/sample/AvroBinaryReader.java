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

  /**
   * Reads an array of longs: the hot loop of sample decoding. Varints are decoded with local variables
   * and one bounds check per item (is a whole 10-byte varint surely inside the record?), not per byte;
   * only the last items before the end of the record take the checked path.
   */
  long[] readLongArray() {
    int n = blockCount(1);
    long[] out = new long[n];
    int size = 0;
    while (n > 0) {
      if (size + n > out.length) {
        out = java.util.Arrays.copyOf(out, size + n);
      }
      {
        final byte[] b = buf;
        final int safeEnd = end - 10;
        int p = pos;
        for (int i = 0; i < n; i++) {
          if (p > safeEnd) {
            // Within 10 bytes of the end: the checked path, which reports a truncated record.
            pos = p;
            out[size++] = readLong();
            p = pos;
            continue;
          }
          // Unrolled for 1 to 3 bytes (offsets, timings and sizes are mostly that short).
          long v;
          int b0 = b[p];
          if (b0 >= 0) {
            v = b0;
            p += 1;
          } else {
            int b1 = b[p + 1];
            if (b1 >= 0) {
              v = (b0 & 0x7F) | (b1 << 7);
              p += 2;
            } else {
              int b2 = b[p + 2];
              if (b2 >= 0) {
                v = (b0 & 0x7F) | ((b1 & 0x7F) << 7) | (b2 << 14);
                p += 3;
              } else {
                v = (b0 & 0x7F) | ((b1 & 0x7F) << 7) | ((b2 & 0x7F) << 14);
                p += 3;
                int shift = 21;
                long x;
                do {
                  x = b[p++];
                  v |= (x & 0x7F) << shift;
                  shift += 7;
                } while (x < 0 && shift < 70);
                if (x < 0) {
                  throw new MalformedSampleBatchException("varint longer than 10 bytes at byte " + p);
                }
              }
            }
          }
          out[size++] = (v >>> 1) ^ -(v & 1);
        }
        pos = p;
      }
      n = blockCount(1);
    }
    return size == out.length ? out : java.util.Arrays.copyOf(out, size);
  }

  /** Reads an array of ints, as {@link #readLongArray()} does. */
  int[] readIntArray() {
    int n = blockCount(1);
    int[] out = new int[n];
    int size = 0;
    while (n > 0) {
      if (size + n > out.length) {
        out = java.util.Arrays.copyOf(out, size + n);
      }
      {
        final byte[] b = buf;
        final int safeEnd = end - 5;
        int p = pos;
        for (int i = 0; i < n; i++) {
          if (p > safeEnd) {
            pos = p;
            out[size++] = readInt();
            p = pos;
            continue;
          }
          int v = b[p++];
          if (v < 0) {
            v &= 0x7F;
            int shift = 7;
            int x;
            do {
              x = b[p++];
              v |= (x & 0x7F) << shift;
              shift += 7;
            } while (x < 0 && shift < 35);
            if (x < 0) {
              throw new MalformedSampleBatchException("int varint longer than 5 bytes at byte " + p);
            }
          }
          out[size++] = (v >>> 1) ^ -(v & 1);
        }
        pos = p;
      }
      n = blockCount(1);
    }
    return size == out.length ? out : java.util.Arrays.copyOf(out, size);
  }

  /** Reads an array of booleans (one byte each, 0 or 1), checking the bounds once per block. */
  boolean[] readBooleanArray() {
    int n = blockCount(1);
    boolean[] out = new boolean[n];
    int size = 0;
    while (n > 0) {
      if (size + n > out.length) {
        out = java.util.Arrays.copyOf(out, size + n);
      }
      final byte[] b = buf;
      int p = pos;
      for (int i = 0; i < n; i++) {
        byte x = b[p++];
        if ((x & ~1) != 0) {
          throw new MalformedSampleBatchException("boolean byte is " + x + " at byte " + (p - 1));
        }
        out[size++] = x == 1;
      }
      pos = p;
      n = blockCount(1);
    }
    return size == out.length ? out : java.util.Arrays.copyOf(out, size);
  }

  private MalformedSampleBatchException truncated() {
    return new MalformedSampleBatchException("record ends early at byte " + pos);
  }
}
