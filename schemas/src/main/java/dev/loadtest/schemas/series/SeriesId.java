package dev.loadtest.schemas.series;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The stable 64-bit id of a series: (test run, metric, tag set). It is a contract (stored in ClickHouse
 * and carried in aggregates), so the algorithm is fixed: FNV-1a 64 over the UTF-8 bytes of
 * {@code testRunId 0x00 metric 0x00} followed by {@code key 0x01 value 0x00} for each tag in key order.
 * The separators cannot occur in ids, metric names or (by the generator's sanitising) tag text, so two
 * different series never share an encoding. Pure functions, safe from any thread.
 */
public final class SeriesId {
  static final long FNV_OFFSET = 0xcbf29ce484222325L;
  static final long FNV_PRIME = 0x100000001b3L;

  private SeriesId() {}

  /** The id of a series; tags in any order (they are sorted by key here). */
  public static long of(String testRunId, String metric, Map<String, String> tags) {
    SortedMap<String, String> sorted = tags instanceof SortedMap<String, String> s && s.comparator() == null
        ? s : new TreeMap<>(tags);
    long h = FNV_OFFSET;
    h = mix(h, testRunId);
    h = mixByte(h, 0);
    h = mix(h, metric);
    h = mixByte(h, 0);
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      h = mix(h, e.getKey());
      h = mixByte(h, 1);
      h = mix(h, e.getValue());
      h = mixByte(h, 0);
    }
    return h;
  }

  /** The id of a series whose tags are given as alternating keys and values already sorted by key. */
  public static long ofSorted(String testRunId, String metric, String[] sortedKeysAndValues) {
    long h = FNV_OFFSET;
    h = mixByte(mix(h, testRunId), 0);
    h = mixByte(mix(h, metric), 0);
    for (int i = 0; i + 1 < sortedKeysAndValues.length; i += 2) {
      h = mixByte(mix(h, sortedKeysAndValues[i]), 1);
      h = mixByte(mix(h, sortedKeysAndValues[i + 1]), 0);
    }
    return h;
  }

  /** FNV-1a 64 of a string's UTF-8 bytes (exposed for the published test vectors). */
  static long fnv1a(String s) {
    return mix(FNV_OFFSET, s);
  }

  private static long mix(long h, String s) {
    int n = s.length();
    int i = 0;
    for (; i < n; i++) { // ASCII, the common case, without encoding the string first
      char c = s.charAt(i);
      if (c >= 0x80) {
        break;
      }
      h ^= c;
      h *= FNV_PRIME;
    }
    if (i == n) {
      return h;
    }
    byte[] bytes = s.substring(i).getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      h ^= b & 0xFF;
      h *= FNV_PRIME;
    }
    return h;
  }

  private static long mixByte(long h, int b) {
    return (h ^ b) * FNV_PRIME;
  }
}
