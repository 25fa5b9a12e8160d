package dev.loadtest.flink.aggregate;

import java.util.Arrays;

/**
 * The batch sequence numbers a generator has had counted, as sorted disjoint closed intervals packed in a
 * {@code long[]} ({@code [from0, to0, from1, to1, ...]}): a generator numbers its batches in order, so a
 * whole run is one interval, and a batch that came out of order costs two longs until the gap closes.
 * Exact at any size, which a bloom filter or a window of recent numbers is not.
 *
 * <p>Pure functions on the packed array (it is what the keyed state holds), so they are tested alone.
 */
final class SeenSequences {
  static final long[] NONE = new long[0];

  private SeenSequences() {}

  /** Whether {@code seq} is in {@code seen}. */
  static boolean contains(long[] seen, long seq) {
    int i = intervalAtOrBefore(seen, seq);
    return i >= 0 && seq <= seen[2 * i + 1];
  }

  /** {@code seen} with {@code seq} added (a new array; {@code seen} is not changed). */
  static long[] add(long[] seen, long seq) {
    if (contains(seen, seq)) {
      return seen;
    }
    int n = seen.length / 2;
    int before = intervalAtOrBefore(seen, seq); // -1 when seq precedes every interval
    boolean joinsBefore = before >= 0 && seen[2 * before + 1] != Long.MAX_VALUE && seen[2 * before + 1] + 1 == seq;
    int after = before + 1;
    boolean joinsAfter = after < n && seq != Long.MAX_VALUE && seen[2 * after] == seq + 1;
    if (joinsBefore && joinsAfter) {
      long[] out = new long[seen.length - 2];
      System.arraycopy(seen, 0, out, 0, 2 * before + 1);
      out[2 * before + 1] = seen[2 * after + 1];
      System.arraycopy(seen, 2 * after + 2, out, 2 * before + 2, seen.length - 2 * after - 2);
      return out;
    }
    if (joinsBefore) {
      long[] out = seen.clone();
      out[2 * before + 1] = seq;
      return out;
    }
    if (joinsAfter) {
      long[] out = seen.clone();
      out[2 * after] = seq;
      return out;
    }
    long[] out = new long[seen.length + 2];
    System.arraycopy(seen, 0, out, 0, 2 * after);
    out[2 * after] = seq;
    out[2 * after + 1] = seq;
    System.arraycopy(seen, 2 * after, out, 2 * after + 2, seen.length - 2 * after);
    return out;
  }

  /** How many numbers {@code seen} holds. */
  static long count(long[] seen) {
    long c = 0;
    for (int i = 0; i < seen.length; i += 2) {
      c += seen[i + 1] - seen[i] + 1;
    }
    return c;
  }

  /** The index of the last interval starting at or before {@code seq}, or -1. */
  private static int intervalAtOrBefore(long[] seen, long seq) {
    int lo = 0;
    int hi = seen.length / 2 - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (seen[2 * mid] <= seq) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  static String toString(long[] seen) {
    return Arrays.toString(seen);
  }
}
