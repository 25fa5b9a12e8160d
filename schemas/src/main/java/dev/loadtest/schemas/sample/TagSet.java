package dev.loadtest.schemas.sample;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * An immutable tag set, pairs sorted by key, with its hash computed once. A generator builds one per
 * distinct (step, status, ...) combination and reuses it for every sample, so that adding a sample to a
 * batch costs a hash lookup, not a sort. Thread-safe.
 */
public final class TagSet {
  public static final TagSet EMPTY = new TagSet(new String[0]);

  private final String[] keysAndValues;
  private final int hash;

  private TagSet(String[] sortedKeysAndValues) {
    this.keysAndValues = sortedKeysAndValues;
    this.hash = Arrays.hashCode(sortedKeysAndValues);
  }

  public static TagSet of(Map<String, String> tags) {
    TreeMap<String, String> sorted = new TreeMap<>(tags);
    String[] kv = new String[sorted.size() * 2];
    int i = 0;
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      kv[i++] = e.getKey();
      kv[i++] = e.getValue();
    }
    return new TagSet(kv);
  }

  /** This tag set with {@code key} set to {@code value} (replacing any value it had). */
  public TagSet with(String key, String value) {
    TreeMap<String, String> m = toMap();
    m.put(key, value);
    return of(m);
  }

  public TreeMap<String, String> toMap() {
    TreeMap<String, String> m = new TreeMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  public int size() {
    return keysAndValues.length / 2;
  }

  public String key(int i) {
    return keysAndValues[2 * i];
  }

  public String value(int i) {
    return keysAndValues[2 * i + 1];
  }

  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof TagSet t && t.hash == hash && Arrays.equals(keysAndValues, t.keysAndValues);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return toMap().toString();
  }
}
