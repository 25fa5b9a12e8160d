package dev.loadtest.schemas.sample;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.SampleBatch.HttpRequests;
import dev.loadtest.schemas.sample.SampleBatch.MetricDef;
import dev.loadtest.schemas.sample.SampleBatch.MetricPoints;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects the samples of one batch, interning strings and tag sets as it goes. Not thread-safe: one
 * writer fills it and calls {@link #build()} once, after which the builder must not be used.
 */
public final class SampleBatchBuilder {
  private final String testRunId;
  private final String generatorId;
  private final String loadZone;
  private final long sequence;
  private final long baseTimeUs;

  private final List<String> strings = new ArrayList<>();
  private final Map<String, Integer> stringIds = new HashMap<>();
  private final List<int[]> tagSets = new ArrayList<>();
  private final Map<TagSetKey, Integer> tagSetIds = new HashMap<>();
  private final Map<TagSet, Integer> preparedIds = new HashMap<>();
  private final List<MetricDef> metrics = new ArrayList<>();
  private final Map<String, Integer> metricIds = new HashMap<>();

  private int requests;
  private long[] reqOffset = new long[64];
  private int[] reqTagSet = new int[64];
  private long[][] timings = new long[9][64];
  private boolean[] failed = new boolean[64];
  private int[] vu = new int[64];

  private int points;
  private int[] pointMetric = new int[16];
  private long[] pointOffset = new long[16];
  private int[] pointTagSet = new int[16];
  private double[] pointValue = new double[16];
  private boolean built;
  /** A tag added to every tag set without that key of its own ({@link #tagEvery}), or null. */
  private String everyKey;
  private String everyValue;

  public SampleBatchBuilder(String testRunId, String generatorId, String loadZone, long sequence, long baseTimeUs) {
    this.testRunId = testRunId;
    this.generatorId = generatorId;
    this.loadZone = loadZone;
    this.sequence = sequence;
    this.baseTimeUs = baseTimeUs;
  }

  /**
   * Adds {@code key}={@code value} to every tag set given from now on that has no {@code key} of its own (a
   * generator's id on every sample, when the plan asks for it). Call it before the first tag set.
   */
  public SampleBatchBuilder tagEvery(String key, String value) {
    if (!tagSets.isEmpty()) {
      throw new IllegalStateException("tagEvery after tag sets were given");
    }
    everyKey = java.util.Objects.requireNonNull(key, "key");
    everyValue = java.util.Objects.requireNonNull(value, "value");
    return this;
  }

  /** The id of a tag set given as alternating keys and values (any order of pairs). */
  public int tagSet(String... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("tags must come in key, value pairs");
    }
    TreeMap<String, String> sorted = new TreeMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      sorted.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return tagSet(sorted);
  }

  /** The id of a tag set; pairs are stored sorted by key. */
  public int tagSet(Map<String, String> tags) {
    boolean addEvery = everyKey != null && !tags.containsKey(everyKey);
    TreeMap<String, String> sorted = !addEvery && tags instanceof TreeMap<String, String> t && t.comparator() == null
        ? t : new TreeMap<>(tags); // one copy, the caller's map untouched
    if (addEvery) {
      sorted.put(everyKey, everyValue);
    }
    int[] ids = new int[sorted.size() * 2];
    int i = 0;
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      ids[i++] = string(e.getKey());
      ids[i++] = string(e.getValue());
    }
    return tagSetIds.computeIfAbsent(new TagSetKey(ids), k -> {
      tagSets.add(k.ids);
      return tagSets.size() - 1;
    });
  }

  /** The id of a prepared tag set; repeated calls with the same set cost one hash lookup. */
  public int tagSet(TagSet tags) {
    Integer id = preparedIds.get(tags);
    if (id == null && everyKey != null) {
      TreeMap<String, String> map = new TreeMap<>();
      for (int i = 0; i < tags.size(); i++) {
        map.put(tags.key(i), tags.value(i));
      }
      map.putIfAbsent(everyKey, everyValue); // so that tagSet(Map) copies nothing more
      id = tagSet(map);
      preparedIds.put(tags, id);
    }
    if (id == null) {
      int[] ids = new int[tags.size() * 2];
      for (int i = 0; i < tags.size(); i++) {
        ids[2 * i] = string(tags.key(i));
        ids[2 * i + 1] = string(tags.value(i));
      }
      id = tagSetIds.computeIfAbsent(new TagSetKey(ids), k -> {
        tagSets.add(k.ids);
        return tagSets.size() - 1;
      });
      preparedIds.put(tags, id);
    }
    return id;
  }

  /** The id of a metric for {@link #addPoint}. A name keeps the type it was first declared with. */
  public int metric(String name, MetricType type) {
    Integer id = metricIds.get(name);
    if (id != null) {
      if (metrics.get(id).type() != type) {
        throw new IllegalArgumentException("metric " + name + " is a " + metrics.get(id).type().jsonName()
            + ", not a " + type.jsonName());
      }
      return id;
    }
    metrics.add(new MetricDef(string(name), type));
    metricIds.put(name, metrics.size() - 1);
    return metrics.size() - 1;
  }

  /** Adds one HTTP request; times in microseconds, {@code startUs} in epoch microseconds. */
  public SampleBatchBuilder addRequest(long startUs, int tagSet, long durationUs, long blockedUs,
      long connectingUs, long tlsHandshakingUs, long sendingUs, long waitingUs, long receivingUs,
      long bytesSent, long bytesReceived, boolean isFailed, int vuNumber) {
    checkOpen();
    checkTagSet(tagSet);
    if (requests == reqOffset.length) {
      int n = requests * 2;
      reqOffset = Arrays.copyOf(reqOffset, n);
      reqTagSet = Arrays.copyOf(reqTagSet, n);
      for (int c = 0; c < timings.length; c++) {
        timings[c] = Arrays.copyOf(timings[c], n);
      }
      failed = Arrays.copyOf(failed, n);
      vu = Arrays.copyOf(vu, n);
    }
    int i = requests++;
    reqOffset[i] = startUs - baseTimeUs;
    reqTagSet[i] = tagSet;
    timings[0][i] = durationUs;
    timings[1][i] = blockedUs;
    timings[2][i] = connectingUs;
    timings[3][i] = tlsHandshakingUs;
    timings[4][i] = sendingUs;
    timings[5][i] = waitingUs;
    timings[6][i] = receivingUs;
    timings[7][i] = bytesSent;
    timings[8][i] = bytesReceived;
    failed[i] = isFailed;
    vu[i] = vuNumber;
    return this;
  }

  /** Adds one sample of a metric declared with {@link #metric}; {@code timeUs} in epoch microseconds. */
  public SampleBatchBuilder addPoint(int metric, long timeUs, int tagSet, double value) {
    checkOpen();
    checkTagSet(tagSet);
    if (metric < 0 || metric >= metrics.size()) {
      throw new IllegalArgumentException("unknown metric id " + metric);
    }
    if (points == pointMetric.length) {
      int n = points * 2;
      pointMetric = Arrays.copyOf(pointMetric, n);
      pointOffset = Arrays.copyOf(pointOffset, n);
      pointTagSet = Arrays.copyOf(pointTagSet, n);
      pointValue = Arrays.copyOf(pointValue, n);
    }
    int i = points++;
    pointMetric[i] = metric;
    pointOffset[i] = timeUs - baseTimeUs;
    pointTagSet[i] = tagSet;
    pointValue[i] = value;
    return this;
  }

  public int size() {
    return requests + points;
  }

  public SampleBatch build() {
    checkOpen();
    built = true;
    int n = requests;
    HttpRequests req = new HttpRequests(Arrays.copyOf(reqOffset, n), Arrays.copyOf(reqTagSet, n),
        Arrays.copyOf(timings[0], n), Arrays.copyOf(timings[1], n), Arrays.copyOf(timings[2], n),
        Arrays.copyOf(timings[3], n), Arrays.copyOf(timings[4], n), Arrays.copyOf(timings[5], n),
        Arrays.copyOf(timings[6], n), Arrays.copyOf(timings[7], n), Arrays.copyOf(timings[8], n),
        Arrays.copyOf(failed, n), Arrays.copyOf(vu, n));
    int p = points;
    MetricPoints pts = new MetricPoints(Arrays.copyOf(pointMetric, p), Arrays.copyOf(pointOffset, p),
        Arrays.copyOf(pointTagSet, p), Arrays.copyOf(pointValue, p));
    return new SampleBatch(testRunId, generatorId, loadZone, sequence, baseTimeUs, strings, tagSets,
        metrics, req, pts);
  }

  private int string(String s) {
    return stringIds.computeIfAbsent(s, k -> {
      strings.add(k);
      return strings.size() - 1;
    });
  }

  private void checkTagSet(int tagSet) {
    if (tagSet < 0 || tagSet >= tagSets.size()) {
      throw new IllegalArgumentException("unknown tag set id " + tagSet);
    }
  }

  private void checkOpen() {
    if (built) {
      throw new IllegalStateException("build() was called already");
    }
  }

  private record TagSetKey(int[] ids) {
    @Override
    public boolean equals(Object o) {
      return o instanceof TagSetKey k && Arrays.equals(ids, k.ids);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(ids);
    }
  }
}
