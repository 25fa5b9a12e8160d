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
import java.util.List;
import java.util.Map;

/**
 * Folds one sample batch into partial buckets per (series, second) before anything is shuffled, so
 * that downstream cost grows with the number of series, not of samples: a batch of 10,000 requests over
 * 12 tag sets and 2 seconds becomes at most 12 x 11 x 2 buckets.
 *
 * <p>Samples fall in the second of their start time. Series ids are computed once per (tag set, metric)
 * of a batch. Trend values are recorded in thousandths of their k6 unit: request timings are already
 * microseconds; metric points (k6 gives trends in milliseconds, or the user's unit) are multiplied by
 * 1000 and rounded up, as the histogram layout prescribes.
 *
 * <p>Not thread-safe: one per task. It keeps its histograms between batches to spare allocation.
 */
public final class BatchPreAggregator {
  static final long SECOND_US = 1_000_000L;
  private static final HttpMetric[] HTTP = HttpMetric.values();

  private final ArrayDeque<SingleWriterHistogram> spareHistograms = new ArrayDeque<>();

  /**
   * Partial buckets of {@code batch}, one per (series, second) that has samples.
   *
   * @throws IllegalArgumentException when a sample lies further than 68 years from the batch's base time
   *     (a corrupt batch: the caller sends it to the DLQ)
   */
  public List<SeriesBucket> aggregate(SampleBatch batch) {
    Map<Long, Acc[]> requestGroups = new HashMap<>();
    Map<PointKey, Acc> pointGroups = new HashMap<>();
    long[][] httpSeries = new long[batch.tagSets().size()][];
    List<Acc> all = new ArrayList<>();

    SampleBatch.HttpRequests q = batch.requests();
    long base = batch.baseTimeUs();
    long baseSecond = Math.floorDiv(base, SECOND_US);
    for (int i = 0; i < q.size(); i++) {
      int ts = q.tagSet()[i];
      long timeUs = base + q.offsetUs()[i];
      long second = Math.floorDiv(timeUs, SECOND_US);
      // One lookup per request: the 11 metrics of a (tag set, second) share a group. The key packs the
      // second relative to the batch (a batch spans seconds, not 68 years) and the tag set index.
      long relative = second - baseSecond;
      if (relative != (int) relative) {
        throw new IllegalArgumentException("request " + i + " of batch " + batch.generatorId() + "/" + batch.sequence()
            + " is " + relative + " s from the batch's base time: not a sample of this batch's run");
      }
      long groupKey = (relative * 0x1_0000_0000L) | (ts & 0xFFFF_FFFFL);
      Acc[] group = requestGroups.get(groupKey);
      if (group == null) {
        if (httpSeries[ts] == null) {
          httpSeries[ts] = httpSeriesIds(batch, ts);
        }
        group = new Acc[HTTP.length];
        for (int m = 0; m < HTTP.length; m++) {
          group[m] = new Acc(httpSeries[ts][m], HTTP[m].metric(), HTTP[m].type(), ts, second);
          all.add(group[m]);
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
      PointKey key = new PointKey(p.metric()[i], ts, second);
      Acc acc = pointGroups.get(key);
      if (acc == null) {
        String name = batch.strings().get(def.name());
        acc = new Acc(SeriesId.ofSorted(batch.testRunId(), name, batch.tags(ts)), name, def.type(), ts, second);
        pointGroups.put(key, acc);
        all.add(acc);
      }
      double v = p.value()[i];
      if (def.type() == MetricType.TREND) {
        acc.add(HistogramLayout.toUnits(v * 1000), timeUs, this);
      } else {
        acc.add(v, timeUs, this);
      }
    }

    List<SeriesBucket> out = new ArrayList<>(all.size());
    for (Acc acc : all) {
      out.add(acc.toBucket(batch));
      if (acc.histogram != null) {
        acc.histogram.reset();
        spareHistograms.push(acc.histogram);
      }
    }
    return out;
  }

  private static long[] httpSeriesIds(SampleBatch batch, int tagSet) {
    String[] tags = batch.tags(tagSet);
    long[] ids = new long[HTTP.length];
    for (int m = 0; m < HTTP.length; m++) {
      ids[m] = SeriesId.ofSorted(batch.testRunId(), HTTP[m].metric(), tags);
    }
    return ids;
  }

  private SingleWriterHistogram histogram() {
    SingleWriterHistogram h = spareHistograms.poll();
    return h == null ? new SingleWriterHistogram() : h;
  }

  private record PointKey(int metric, int tagSet, long second) {}

  /** The running aggregate of one (series, second) within one batch. */
  private static final class Acc {
    final long seriesId;
    final String metric;
    final MetricType type;
    final int tagSet;
    final long second;
    SingleWriterHistogram histogram;
    long count;
    double sum;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double last;
    long lastTimeUs = Long.MIN_VALUE;
    long nonZero;

    Acc(long seriesId, String metric, MetricType type, int tagSet, long second) {
      this.seriesId = seriesId;
      this.metric = metric;
      this.type = type;
      this.tagSet = tagSet;
      this.second = second;
    }

    void add(long units, long timeUs, BatchPreAggregator owner) {
      if (type == MetricType.TREND) {
        if (histogram == null) {
          histogram = owner.histogram();
        }
        histogram.record(units);
      }
      // The histogram counts negative values as 0; sum, min and max agree with it.
      add((double) (type == MetricType.TREND ? Math.max(0, units) : units), timeUs, owner);
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

    SeriesBucket toBucket(SampleBatch batch) {
      SeriesBucket b = new SeriesBucket();
      b.testRunId = batch.testRunId();
      b.seriesId = seriesId;
      b.metric = metric;
      b.type = type.name();
      String[] kv = batch.tags(tagSet);
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
      if (histogram != null) {
        SparseHistogram s = histogram.snapshot();
        b.histIndexes = s.indexes();
        b.histCounts = s.counts();
      } else {
        b.histIndexes = new int[0];
        b.histCounts = new long[0];
      }
      return b;
    }
  }
}
