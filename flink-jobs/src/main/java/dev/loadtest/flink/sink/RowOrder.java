package dev.loadtest.flink.sink;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The order of a table's sorting key, read from the leading fields of RowBinary rows: a sink hands
 * ClickHouse each insert's rows sorted by it. A MergeTree sorts every inserted block by its key unless the
 * block is sorted already (18.16 checks first): on 18.16 here, 1 M metric rows took 3.1 s of ClickHouse's CPU
 * to insert in the order the job makes them, 1.6 s in key order. Compared as ClickHouse compares them:
 * strings as unsigned bytes (a prefix first), integers unsigned. Rows with equal keys keep their order (a
 * stable sort), so ReplacingMergeTree keeps the same row of duplicates as before. Immutable, thread-safe.
 */
public final class RowOrder implements java.io.Serializable {
  /** The types a key's leading fields may have, as RowBinary writes them. */
  public enum Field { STRING, UINT64, UINT32 }

  private static final long serialVersionUID = 1L;
  private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final Field[] fields;

  public RowOrder(Field... fields) {
    if (fields.length == 0) {
      throw new IllegalArgumentException("a key has at least one field");
    }
    this.fields = fields.clone();
  }

  /**
   * The {@code n} rows of {@code buf} starting at {@code starts[0..n)} (ascending, the last ending at
   * {@code length}), in key order: a new array of {@code length} bytes, or null when they are in order already.
   */
  public byte[] sort(byte[] buf, int length, int[] starts, int n) {
    boolean sorted = true;
    for (int i = 1; i < n && sorted; i++) {
      sorted = compare(buf, starts[i - 1], starts[i]) <= 0;
    }
    if (sorted) {
      return null;
    }
    Keys keys = new Keys(buf, starts, n);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    mergeSort(keys, order, new int[n], 0, n);
    byte[] out = new byte[length];
    int at = 0;
    for (int i = 0; i < n; i++) {
      int r = order[i];
      int from = starts[r];
      int to = r + 1 < n ? starts[r + 1] : length;
      System.arraycopy(buf, from, out, at, to - from);
      at += to - from;
    }
    return out;
  }

  /**
   * Each row's key made cheap to compare: the leading strings (few distinct values in an insert: its runs,
   * analyses and metrics) as the rank of their combination among those of the insert, the first integer after
   * them as a number whose signed order is its unsigned order, the next as a number too; what follows is
   * compared from the bytes, only when all of that is equal.
   */
  private final class Keys {
    final byte[] buf;
    final int[] prefix;
    final long[] first;
    final long[] second;
    final int[] rest;
    final int restField;

    Keys(byte[] buf, int[] starts, int n) {
      this.buf = buf;
      prefix = new int[n];
      first = new long[n];
      second = new long[n];
      rest = new int[n];
      int strings = 0;
      while (strings < fields.length && fields[strings] == Field.STRING) {
        strings++;
      }
      int numbers = strings;
      while (numbers < fields.length && numbers < strings + 2 && fields[numbers] != Field.STRING) {
        numbers++;
      }
      restField = numbers;
      // the distinct leading strings, by a hash of their bytes, then their bytes
      java.util.HashMap<Long, int[]> byHash = new java.util.HashMap<>();
      java.util.List<int[]> distinct = new java.util.ArrayList<>(); // {start of the first row, end of its strings}
      int[] id = new int[n];
      for (int i = 0; i < n; i++) {
        int at = starts[i];
        long h = 1;
        for (int k = 0; k < strings; k++) {
          long len = varint(buf, at);
          int from = (int) (len >>> 32);
          int to = from + (int) len;
          for (int b = at; b < to; b++) {
            h = h * 31 + buf[b];
          }
          at = to;
        }
        int[] candidates = byHash.get(h);
        int found = -1;
        if (candidates != null) {
          for (int c : candidates) {
            int[] d = distinct.get(c);
            if (Arrays.equals(buf, d[0], d[1], buf, starts[i], at)) {
              found = c;
              break;
            }
          }
        }
        if (found < 0) {
          found = distinct.size();
          distinct.add(new int[] {starts[i], at});
          byHash.put(h, candidates == null ? new int[] {found} : append(candidates, found));
        }
        id[i] = found;
        // then up to two integers as numbers; the rest of the key from its bytes
        for (int field = strings; field < restField; field++) {
          long v;
          if (fields[field] == Field.UINT64) {
            v = (long) LONG_LE.get(buf, at) ^ Long.MIN_VALUE; // signed order of this is the unsigned order
            at += 8;
          } else {
            v = Integer.toUnsignedLong((int) INT_LE.get(buf, at));
            at += 4;
          }
          if (field == strings) {
            first[i] = v;
          } else {
            second[i] = v;
          }
        }
        rest[i] = at;
      }
      Integer[] ranks = new Integer[distinct.size()];
      for (int d = 0; d < ranks.length; d++) {
        ranks[d] = d;
      }
      int leading = strings;
      Arrays.sort(ranks, (a, b) -> compareFields(buf, distinct.get(a)[0], distinct.get(b)[0], 0, leading));
      int[] rankOf = new int[ranks.length];
      for (int r = 0; r < ranks.length; r++) {
        rankOf[ranks[r]] = r;
      }
      for (int i = 0; i < n; i++) {
        prefix[i] = rankOf[id[i]];
      }
    }

    int compare(int a, int b) {
      int c = Integer.compare(prefix[a], prefix[b]);
      if (c != 0) {
        return c;
      }
      c = Long.compare(first[a], first[b]);
      if (c != 0) {
        return c;
      }
      c = Long.compare(second[a], second[b]);
      if (c != 0) {
        return c;
      }
      return compareFields(buf, rest[a], rest[b], restField, fields.length);
    }
  }

  private static int[] append(int[] a, int v) {
    int[] b = Arrays.copyOf(a, a.length + 1);
    b[a.length] = v;
    return b;
  }

  private void mergeSort(Keys keys, int[] a, int[] tmp, int from, int to) {
    if (to - from <= 16) { // insertion sort: stable
      for (int i = from + 1; i < to; i++) {
        int v = a[i];
        int j = i - 1;
        while (j >= from && keys.compare(a[j], v) > 0) {
          a[j + 1] = a[j];
          j--;
        }
        a[j + 1] = v;
      }
      return;
    }
    int mid = (from + to) >>> 1;
    mergeSort(keys, a, tmp, from, mid);
    mergeSort(keys, a, tmp, mid, to);
    if (keys.compare(a[mid - 1], a[mid]) <= 0) {
      return; // the halves are in order already
    }
    System.arraycopy(a, from, tmp, from, to - from);
    int i = from;
    int j = mid;
    for (int k = from; k < to; k++) {
      if (j >= to || i < mid && keys.compare(tmp[i], tmp[j]) <= 0) {
        a[k] = tmp[i++];
      } else {
        a[k] = tmp[j++];
      }
    }
  }

  /** The key of the row at {@code x} against the key of the row at {@code y}. */
  int compare(byte[] buf, int x, int y) {
    return compareFields(buf, x, y, 0, fields.length);
  }

  /** Fields {@code [from, to)} of the key, read at {@code x} and at {@code y}. */
  private int compareFields(byte[] buf, int x, int y, int from, int to) {
    for (int i = from; i < to; i++) {
      switch (fields[i]) {
        case STRING -> {
          long lx = varint(buf, x);
          long ly = varint(buf, y);
          x = (int) (lx >>> 32);
          y = (int) (ly >>> 32);
          int nx = (int) lx;
          int ny = (int) ly;
          int c = Arrays.compareUnsigned(buf, x, x + nx, buf, y, y + ny);
          if (c != 0) {
            return c;
          }
          x += nx;
          y += ny;
        }
        case UINT64 -> {
          int c = Long.compareUnsigned((long) LONG_LE.get(buf, x), (long) LONG_LE.get(buf, y));
          if (c != 0) {
            return c;
          }
          x += 8;
          y += 8;
        }
        case UINT32 -> {
          int c = Integer.compareUnsigned((int) INT_LE.get(buf, x), (int) INT_LE.get(buf, y));
          if (c != 0) {
            return c;
          }
          x += 4;
          y += 4;
        }
      }
    }
    return 0;
  }

  /** The LEB128 length at {@code at}: the position after it (high 32 bits) and the length (low 32 bits). */
  private static long varint(byte[] buf, int at) {
    int v = 0;
    int shift = 0;
    while (true) {
      byte b = buf[at++];
      v |= (b & 0x7F) << shift;
      if (b >= 0) {
        return ((long) at << 32) | (v & 0xFFFFFFFFL);
      }
      shift += 7;
    }
  }
}
