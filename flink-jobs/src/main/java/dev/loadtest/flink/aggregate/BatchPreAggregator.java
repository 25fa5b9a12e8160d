package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.histogram.HistogramLayout;
import dev.loadtest.schemas.histogram.SingleWriterHistogram;
import dev.loadtest.schemas.histogram.SparseHistogram;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.HttpMetric;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.series.SeriesId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Folds sample batches into buckets per (series, second) before anything is shuffled, so that
 * downstream cost grows with the number of series, not of samples: a batch of 10,000 requests over 12
 * tag sets and 2 seconds becomes at most 12 x 11 x 2 buckets, and successive batches of the same seconds
 * (every generator sends one every 100 ms) add into the same buckets until they are drained.
 *
 * <p>Samples fall in the second of their start time. Series ids are computed once per (tag set, metric)
 * of a batch. Trend values are recorded in thousandths of their k6 unit: request timings are already
 * microseconds; metric points (k6 gives trends in milliseconds, or the user's unit) are multiplied by
 * 1000 and rounded up, as the histogram layout prescribes.
 *
 * <p>{@link #add} carries the buckets of seconds the watermark has not passed, for {@link #drain} to hand
 * over when it does (named after the first batch that added to them, {@code origin}). Samples of seconds it
 * has passed by less than {@link #HOLD_AFTER_MS} (a little late: one task saw another generator's later
 * batch first, and downstream, whose event time is the slowest task's, they are usually still in time) become
 * buckets of their batch alone, handed to {@code late} at once. Samples later than that (the job fell behind,
 * or event time ran on while input stalled: downstream they are correction rows) are carried, merged per
 * (series, second) whatever batch they came in, until {@link #drainLate} hands them over under one writer id
 * (the caller's: once per checkpoint), so a job that fell behind writes at most one correction row per series
 * and second per checkpoint and task, not one per batch. Samples outside [fromMs, toMs) are left out.
 *
 * <p><b>Memory.</b> A bucket's trend values are kept as they are, 8 bytes each, until it has
 * {@link #DENSE_AFTER} of them; only then does it take a dense histogram (4-16 KB, by the largest value). At
 * high cardinality (tens of thousands of series, a few samples per series and second) carried buckets thus
 * cost about as much as their samples, and a job that has fallen behind does not fill its heap with mostly
 * empty dense arrays. At most {@link #SPARE_DENSE} dense histograms are kept for reuse.
 *
 * <p>Not thread-safe: one per task.
 */
public final class BatchPreAggregator {
  static final long SECOND_US = 1_000_000L;
  private static final HttpMetric[] HTTP = HttpMetric.values();

  /** Values a bucket keeps as they are before it takes a dense histogram. */
  static final int DENSE_AFTER = 256;
  /** Dense histograms kept for reuse at most (a burst of dense buckets is not kept for ever). */
  static final int SPARE_DENSE = 64;

  /** Tag sets whose HTTP series ids are remembered at most. */
  static final int SERIES_CACHE = 100_000;

  private final ArrayDeque<SingleWriterHistogram> spareHistograms = new ArrayDeque<>();
  private final Map<TagSetKey, long[]> httpSeriesCache = new HashMap<>();
  private final String analysisId;
  private final long fromSecond;
  private final long toSecond;
  /** Carried buckets by second, then series id. */
  private final TreeMap<Long, Map<Long, Acc>> carried = new TreeMap<>();
  private int carriedCount;
  /** Late samples' buckets by second, then series id. */
  private final Map<Long, Map<Long, Acc>> late = new HashMap<>();
  private int lateCount;

  /** How far past a second the watermark must be for its late samples to be held and merged. */
  public static final long HOLD_AFTER_MS = 5_000;

  /** Every sample, for live runs. */
  public BatchPreAggregator() {
    this("", Long.MIN_VALUE, Long.MAX_VALUE);
  }

  /** Samples of seconds starting in [fromMs, toMs), as buckets of {@code analysisId}. */
  public BatchPreAggregator(String analysisId, long fromMs, long toMs) {
    this.analysisId = analysisId == null ? "" : analysisId;
    this.fromSecond = fromMs == Long.MIN_VALUE ? Long.MIN_VALUE : Math.floorDiv(fromMs + 999, 1000);
    this.toSecond = toMs == Long.MAX_VALUE ? Long.MAX_VALUE : Math.floorDiv(toMs + 999, 1000);
  }

  /**
   * The buckets of {@code batch} alone, one per (series, second) that has samples (what {@link #add} and
   * {@link #drain} give for one batch on an empty aggregator).
   *
   * @throws IllegalArgumentException when a sample lies further than 68 years from the batch's base time
   */
  public List<SeriesBucket> aggregate(SampleBatch batch) {
    List<SeriesBucket> out = new ArrayList<>();
    add(batch, Long.MIN_VALUE, "", out::add);
    drain(Long.MAX_VALUE, out::add);
    return out;
  }

  /** How many buckets are carried, late ones included. */
  public int carried() {
    return carriedCount + lateCount;
  }

  /** How many buckets of late samples are carried. */
  public int carriedLate() {
    return lateCount;
  }

  /** Hands over, and forgets, every bucket of late samples, as rows of writer {@code writerId}. */
  public void drainLate(String writerId, Consumer<SeriesBucket> out) {
    for (Map<Long, Acc> atSecond : late.values()) {
      for (Acc acc : atSecond.values()) {
        SeriesBucket b = acc.toBucket(analysisId);
        b.writerId = writerId;
        out.accept(b);
        recycle(acc);
      }
    }
    late.clear();
    lateCount = 0;
  }

  /**
   * Each carried bucket as it is now (late ones not included), kept: for a checkpoint's copy. The bucket
   * given shares nothing the aggregator changes later, except its gauge arrays (to be encoded at once).
   */
  public void forEachCarried(Consumer<SeriesBucket> out) {
    for (Map<Long, Acc> atSecond : carried.values()) {
      for (Acc acc : atSecond.values()) {
        out.accept(acc.toBucket(analysisId));
      }
    }
  }

  /**
   * Hands over, and forgets, the carried buckets whose second ends at or before {@code watermarkMs}.
   */
  public void drain(long watermarkMs, Consumer<SeriesBucket> out) {
    Iterator<Map.Entry<Long, Map<Long, Acc>>> it = carried.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Map<Long, Acc>> e = it.next();
      if (e.getKey() * 1000 + 999 > watermarkMs) {
        break;
      }
      for (Acc acc : e.getValue().values()) {
        out.accept(acc.toBucket(analysisId));
        recycle(acc);
      }
      carriedCount -= e.getValue().size();
      it.remove();
    }
  }

  /**
   * Adds {@code batch}: samples of seconds ending after {@code watermarkMs} into the carried buckets (a new
   * one named {@code origin}); samples a little late into buckets of this batch alone, handed to {@code late}
   * (writer id {@code origin}); samples later than that into the carried late buckets ({@link #drainLate}).
   *
   * @return the start (ms) of the latest second with samples of this batch, {@link Long#MIN_VALUE} if none
   * @throws IllegalArgumentException when a sample lies further than 68 years from the batch's base time
   *     (a corrupt batch: the caller sends it to the DLQ); nothing of the batch is added then
   */
  public long add(SampleBatch batch, long watermarkMs, String origin, Consumer<SeriesBucket> late) {
    checkTimes(batch);
    Map<Long, Acc[]> requestGroups = new HashMap<>();
    Map<PointKey, Acc> pointGroups = new HashMap<>();
    String[][] tagsOf = new String[batch.tagSets().size()][];
    long[][] httpSeries = new long[tagsOf.length][];
    List<Acc> own = new ArrayList<>();
    long latestSecond = Long.MIN_VALUE;

    SampleBatch.HttpRequests q = batch.requests();
    long base = batch.baseTimeUs();
    long baseSecond = Math.floorDiv(base, SECOND_US);
    for (int i = 0; i < q.size(); i++) {
      int ts = q.tagSet()[i];
      long timeUs = base + q.offsetUs()[i];
      long second = Math.floorDiv(timeUs, SECOND_US);
      if (second < fromSecond || second >= toSecond) {
        continue;
      }
      latestSecond = Math.max(latestSecond, second);
      // One lookup per request: the 11 metrics of a (tag set, second) share a group. The key packs the
      // second relative to the batch (checked above to fit) and the tag set index.
      long groupKey = ((second - baseSecond) * 0x1_0000_0000L) | (ts & 0xFFFF_FFFFL);
      Acc[] group = requestGroups.get(groupKey);
      if (group == null) {
        if (httpSeries[ts] == null) {
          tagsOf[ts] = withLoadZone(batch.tags(ts), batch.loadZone());
          httpSeries[ts] = httpSeriesIds(batch.testRunId(), tagsOf[ts]);
        }
        group = new Acc[HTTP.length];
        for (int m = 0; m < HTTP.length; m++) {
          group[m] = acc(httpSeries[ts][m], HTTP[m].metric(), HTTP[m].type(), batch.testRunId(), tagsOf[ts], second,
              watermarkMs, origin, own);
        }
        requestGroups.put(groupKey, group);
      }
      for (int m = 0; m < HTTP.length; m++) {
        group[m].add(HTTP[m].value(q, i), timeUs, this);
      }
    }

    SampleBatch.MetricPoints p = batch.points();
    for (int i = 0; i < p.size(); i++) {
      SampleBatch.MetricDef def = batch.metrics().get(p.metric()[i]);
      int ts = p.tagSet()[i];
      long timeUs = base + p.offsetUs()[i];
      long second = Math.floorDiv(timeUs, SECOND_US);
      if (second < fromSecond || second >= toSecond) {
        continue;
      }
      latestSecond = Math.max(latestSecond, second);
      PointKey key = new PointKey(p.metric()[i], ts, second);
      Acc acc = pointGroups.get(key);
      if (acc == null) {
        String name = batch.strings().get(def.name());
        String[] tags = withLoadZone(batch.tags(ts), batch.loadZone());
        acc = acc(SeriesId.ofSorted(batch.testRunId(), name, tags), name, def.type(), batch.testRunId(), tags, second,
            watermarkMs, origin, own);
        pointGroups.put(key, acc);
      }
      double v = p.value()[i];
      if (def.type() == MetricType.TREND) {
        acc.add(HistogramLayout.toUnits(v * 1000), timeUs, this);
      } else {
        acc.add(v, timeUs, this);
        if (def.type() == MetricType.GAUGE) {
          acc.gauge(batch.generatorId(), v, timeUs);
        }
      }
    }

    for (Acc acc : own) {
      late.accept(acc.toBucket(analysisId));
      recycle(acc);
    }
    return latestSecond == Long.MIN_VALUE ? Long.MIN_VALUE : latestSecond * 1000;
  }

  /**
   * Every request's second, relative to the batch's base second, must fit the 32 bits of a group key
   * (within 68 years), checked on the offsets before anything is added.
   */
  private static void checkTimes(SampleBatch batch) {
    long limitUs = (Integer.MAX_VALUE - 1L) * SECOND_US;
    long[] offsets = batch.requests().offsetUs();
    for (int i = 0; i < batch.requests().size(); i++) {
      if (offsets[i] > limitUs || offsets[i] < -limitUs) {
        long relative = Math.floorDiv(batch.baseTimeUs() + offsets[i], SECOND_US)
            - Math.floorDiv(batch.baseTimeUs(), SECOND_US);
        throw new IllegalArgumentException("request " + i + " of batch " + batch.generatorId() + "/" + batch.sequence()
            + " is " + relative + " s from the batch's base time: not a sample of this batch's run");
      }
    }
  }

  /** The bucket a (series, second) of {@code batch} adds to: carried, the batch's own, or carried late. */
  private Acc acc(long seriesId, String metric, MetricType type, String testRunId, String[] tags, long second,
      long watermarkMs, String origin, List<Acc> own) {
    long endMs = second * 1000 + 999;
    boolean isLate = endMs + HOLD_AFTER_MS <= watermarkMs;
    if (endMs <= watermarkMs && !isLate) {
      Acc a = new Acc(seriesId, metric, type, testRunId, tags, second, origin);
      own.add(a);
      return a;
    }
    Map<Long, Acc> atSecond = isLate ? late.computeIfAbsent(second, k -> new HashMap<>())
        : carried.computeIfAbsent(second, k -> new HashMap<>());
    Acc a = atSecond.get(seriesId);
    if (a == null) {
      a = new Acc(seriesId, metric, type, testRunId, tags, second, origin);
      atSecond.put(seriesId, a);
      if (isLate) {
        lateCount++;
      } else {
        carriedCount++;
      }
    }
    return a;
  }

  private void recycle(Acc acc) {
    if (acc.histogram != null) {
      if (spareHistograms.size() < SPARE_DENSE) {
        acc.histogram.reset();
        spareHistograms.push(acc.histogram);
      }
      acc.histogram = null;
    }
    acc.values = null;
  }

  /**
   * The ids of the HTTP metrics' series of a tag set, remembered across batches (every batch of a generator
   * lists the same tag sets again; hashing them was a third of this stage's time at 55,000 series).
   */
  private long[] httpSeriesIds(String testRunId, String[] tags) {
    TagSetKey key = new TagSetKey(testRunId, tags);
    long[] ids = httpSeriesCache.get(key);
    if (ids == null) {
      ids = new long[HTTP.length];
      for (int m = 0; m < HTTP.length; m++) {
        ids[m] = SeriesId.ofSorted(testRunId, HTTP[m].metric(), tags);
      }
      if (httpSeriesCache.size() >= SERIES_CACHE) {
        httpSeriesCache.clear(); // bounded: a run of ever new tag sets costs hashing, never memory
      }
      httpSeriesCache.put(key, ids);
    }
    return ids;
  }

  /** A run and a tag set (keys and values), compared by content. */
  private record TagSetKey(String testRunId, String[] tags) {
    @Override
    public boolean equals(Object o) {
      return o instanceof TagSetKey k && testRunId.equals(k.testRunId) && java.util.Arrays.equals(tags, k.tags);
    }

    @Override
    public int hashCode() {
      return testRunId.hashCode() * 31 + java.util.Arrays.hashCode(tags);
    }
  }

  private SingleWriterHistogram histogram() {
    SingleWriterHistogram h = spareHistograms.poll();
    return h == null ? new SingleWriterHistogram() : h;
  }

  private record PointKey(int metric, int tagSet, long second) {}

  /** The tag every series gets with its batch's load zone, as k6 Cloud tags every metric. */
  public static final String LOAD_ZONE_TAG = "load_zone";

  /**
   * A tag set ({@code kv}: keys and values alternating, sorted by key) with {@code load_zone} set to
   * {@code zone}, unless the zone is empty or the tag set has its own {@code load_zone} (a k6 result imported
   * with it, say).
   */
  static String[] withLoadZone(String[] kv, String zone) {
    if (zone == null || zone.isEmpty()) {
      return kv;
    }
    int at = 0;
    while (at < kv.length) {
      int c = kv[at].compareTo(LOAD_ZONE_TAG);
      if (c == 0) {
        return kv;
      }
      if (c > 0) {
        break;
      }
      at += 2;
    }
    String[] out = new String[kv.length + 2];
    System.arraycopy(kv, 0, out, 0, at);
    out[at] = LOAD_ZONE_TAG;
    out[at + 1] = zone;
    System.arraycopy(kv, at, out, at + 2, kv.length - at);
    return out;
  }

  /** The running aggregate of one (series, second). */
  private static final class Acc {
    final long seriesId;
    final String metric;
    final MetricType type;
    final String testRunId;
    final String[] tags;
    final long second;
    final String origin;
    /** Trend values (units, either side of zero), the first {@code recorded} used, until the bucket goes dense. */
    long[] values;
    int recorded;
    /** The dense histogram, once more than {@link #DENSE_AFTER} values came. */
    SingleWriterHistogram histogram;
    long count;
    double sum;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double last;
    long lastTimeUs = Long.MIN_VALUE;
    long nonZero;
    /** Gauges: each generator's last value (the bucket's, filled in {@link #toBucket}). */
    SeriesBucket gauges;

    Acc(long seriesId, String metric, MetricType type, String testRunId, String[] tags, long second, String origin) {
      this.seriesId = seriesId;
      this.metric = metric;
      this.type = type;
      this.testRunId = testRunId;
      this.tags = tags;
      this.second = second;
      this.origin = origin;
    }

    void add(long units, long timeUs, BatchPreAggregator owner) {
      if (type == MetricType.TREND) {
        if (histogram != null) {
          histogram.record(units);
        } else if (recorded < DENSE_AFTER) {
          if (values == null) {
            values = new long[8];
          } else if (recorded == values.length) {
            values = java.util.Arrays.copyOf(values, Math.min(DENSE_AFTER, recorded * 2));
          }
          values[recorded++] = units;
        } else {
          histogram = owner.histogram();
          for (int i = 0; i < recorded; i++) {
            histogram.record(values[i]);
          }
          values = null;
          histogram.record(units);
        }
      }
      add((double) units, timeUs, owner);
    }

    void gauge(String generator, double v, long timeUs) {
      if (gauges == null) {
        gauges = new SeriesBucket();
      }
      gauges.gauge(generator, v, timeUs);
    }

    void add(double v, long timeUs, BatchPreAggregator owner) {
      count++;
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
      if (v != 0) {
        nonZero++;
      }
      if (timeUs >= lastTimeUs) {
        last = v;
        lastTimeUs = timeUs;
      }
    }

    SeriesBucket toBucket(String analysisId) {
      SeriesBucket b = new SeriesBucket();
      b.testRunId = testRunId;
      b.analysisId = analysisId;
      b.writerId = origin;
      b.seriesId = seriesId;
      b.metric = metric;
      b.type = type.name();
      String[] kv = tags;
      b.tagKeys = new String[kv.length / 2];
      b.tagValues = new String[kv.length / 2];
      for (int i = 0; i < b.tagKeys.length; i++) {
        b.tagKeys[i] = kv[2 * i];
        b.tagValues[i] = kv[2 * i + 1];
      }
      b.startMs = second * 1000;
      b.widthMs = 1000;
      b.count = count;
      b.sum = sum;
      b.min = min;
      b.max = max;
      b.last = last;
      b.lastTimeUs = lastTimeUs;
      b.nonZero = type == MetricType.RATE ? nonZero : 0;
      if (gauges != null) {
        b.gaugeWriters = gauges.gaugeWriters;
        b.gaugeLasts = gauges.gaugeLasts;
        b.gaugeTimesUs = gauges.gaugeTimesUs;
      }
      if (histogram != null) {
        SparseHistogram s = histogram.snapshot();
        b.histIndexes = s.indexes();
        b.histCounts = s.counts();
      } else if (recorded > 0) {
        int[] sorted = new int[recorded];
        for (int i = 0; i < recorded; i++) {
          sorted[i] = HistogramLayout.bucketIndex(values[i]);
        }
        java.util.Arrays.sort(sorted);
        int[] indexes = new int[recorded];
        long[] counts = new long[recorded];
        int k = -1;
        for (int index : sorted) {
          if (k < 0 || indexes[k] != index) {
            indexes[++k] = index;
          }
          counts[k]++;
        }
        b.histIndexes = java.util.Arrays.copyOf(indexes, k + 1);
        b.histCounts = java.util.Arrays.copyOf(counts, k + 1);
      } else {
        b.histIndexes = new int[0];
        b.histCounts = new long[0];
      }
      return b;
    }
  }
}
