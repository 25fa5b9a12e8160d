package dev.loadtest.flink.threshold;

import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateRecords;
import dev.loadtest.flink.aggregate.BatchTimes;
import dev.loadtest.flink.aggregate.Rejections;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.histogram.SparseHistogram;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * How {@link RunThresholds} reads its buckets: {@code loadtest.aggregates} records, decoded and checked
 * ({@link Records}), or buckets as they are ({@link Buckets}).
 */
final class DecodeBuckets {
  private DecodeBuckets() {}

  /**
   * Aggregates records. One that cannot be read, whose key is not its run id, or whose times or histograms
   * are out of range is rejected with the reason; it never reaches a run's thresholds. A record of the
   * series' kind (its header) is not decoded when the run is judged on the totals.
   */
  static final class Records implements RunThresholds.Input<AggregateJob.RawRecord> {
    private static final long serialVersionUID = 1L;
    private final String topic;

    Records(String topic) {
      this.topic = topic;
    }

    @Override
    public TypeInformation<AggregateJob.RawRecord> type() {
      return TypeInformation.of(AggregateJob.RawRecord.class);
    }

    @Override
    public boolean hasTotals() {
      return true;
    }

    @Override
    public List<SeriesBucket> read(AggregateJob.RawRecord r, String key, boolean fromTotals) {
      if (fromTotals && r.kind == AggregateRecords.Kind.SERIES) {
        return List.of();
      }
      List<SeriesBucket> buckets;
      try {
        buckets = AggregateRecords.fromAvro(AggregateBatch.fromByteBuffer(ByteBuffer.wrap(r.value)));
      } catch (java.io.IOException | RuntimeException e) {
        throw new IllegalArgumentException("not an aggregates record the threshold job can read: " + e, e);
      }
      String reason = reasonToReject(key, buckets, System.currentTimeMillis());
      if (reason != null) {
        throw new IllegalArgumentException(reason);
      }
      return buckets;
    }

    @Override
    public String rejection(AggregateJob.RawRecord r, String reason) {
      return Rejections.json("thresholds", topic, r.partition, r.offset, reason, r.value);
    }

    @Override
    public boolean unbounded() {
      return true;
    }
  }

  /** Buckets as they are (a replay's merged 1 s buckets): the series only, no totals. */
  static final class Buckets implements RunThresholds.Input<SeriesBucket> {
    private static final long serialVersionUID = 1L;

    @Override
    public TypeInformation<SeriesBucket> type() {
      return TypeInformation.of(SeriesBucket.class);
    }

    @Override
    public boolean hasTotals() {
      return false;
    }

    @Override
    public List<SeriesBucket> read(SeriesBucket b, String key, boolean fromTotals) {
      return List.of(b);
    }

    @Override
    public String rejection(SeriesBucket b, String reason) {
      throw new IllegalStateException("buckets are not rejected: " + reason);
    }

    @Override
    public boolean unbounded() {
      return false;
    }
  }

  /** Why the buckets of a record keyed {@code key} cannot be judged, or null. */
  static String reasonToReject(String key, List<SeriesBucket> buckets, long nowMs) {
    for (SeriesBucket b : buckets) {
      if (!b.testRunId.equals(key)) {
        return "the record's key " + (key == null ? "(none)" : "\"" + key + "\"") + " is not the run id of its"
            + " buckets, \"" + b.testRunId + "\"";
      }
      if (!BatchTimes.accepts(b.startMs, nowMs) || b.widthMs <= 0) {
        return "bucket time " + b.startMs + " ms (width " + b.widthMs + ") is out of range";
      }
      try {
        b.metricType();
      } catch (IllegalArgumentException e) {
        return "unknown metric type " + b.type;
      }
      try { // merges trust their histograms (ascending indexes, positive counts): checked here, once
        SparseHistogram.check(b.histIndexes, b.histCounts);
      } catch (IllegalArgumentException e) {
        return "the histogram of series " + b.seriesId + " at " + b.startMs + " ms is invalid: " + e.getMessage();
      }
    }
    return null;
  }
}
