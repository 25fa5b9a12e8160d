package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.avro.AggregateBucket;
import dev.loadtest.schemas.avro.MetricKind;
import dev.loadtest.schemas.avro.Tag;
import dev.loadtest.schemas.sample.AvroBinaryWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Buckets as {@code loadtest.aggregates} records: key the test run id, value an {@link AggregateBatch}
 * (Avro single-object encoding) of the buckets of one run, analysis and second. The aggregate job publishes
 * the complete 1 s buckets a watermark closes as a few such records per run and second ({@link #batches}),
 * not one record per series: at 55,000 series a record per bucket was 55,000 Avro encodings and producer
 * sends a second, and as many records for the threshold job to read. A correction row is published like a
 * complete one, in a record of its own: live readers add what they receive.
 *
 * <p><b>Kinds.</b> A record holds buckets of one {@link Kind}, named in its {@value #KIND_HEADER} header: the
 * metrics' totals (the {@link dev.loadtest.schemas.series.Projection#TOTAL} projection, analysis id with its
 * suffix), the gauges' series (gauges are not projected), or every other series. The totals and the gauges
 * are what live readers and most thresholds need, a few dozen buckets per run and second whatever the
 * cardinality; a reader that does not need the series skips their records by the header, without decoding
 * them (at 55,000 series, decoding every series bucket was a quarter of the threshold job's and the live
 * API's work).
 */
public final class AggregateRecords {
  private AggregateRecords() {}

  /** Buckets a published record holds at most (and fewer when its value would pass {@link #MAX_VALUE_BYTES}). */
  static final int MAX_BUCKETS = 500;
  /** A published value's size at most: below Kafka's default 1 MB message limit with room for the record's own. */
  static final int MAX_VALUE_BYTES = 900_000;

  /** The Kafka header that names a record's {@link Kind} (its value the kind's name, lower case). */
  public static final String KIND_HEADER = dev.loadtest.schemas.topics.Topics.AGGREGATES_KIND_HEADER;

  /** What a published record holds. */
  public enum Kind {
    /** 1 s buckets of the metrics' totals (analysis id with the total projection's suffix). */
    TOTALS,
    /** 1 s buckets of the series of gauges. */
    GAUGES,
    /** 1 s buckets of every other series. */
    SERIES;

    /** The kind of {@code b}'s record. */
    public static Kind of(SeriesBucket b) {
      if (b.analysisId != null && b.analysisId.endsWith(BucketLadder.TOTAL_SUFFIX)) {
        return TOTALS;
      }
      return "GAUGE".equals(b.type) ? GAUGES : SERIES;
    }

    /** The header's value. */
    public String header() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The kind a header value names, or null (no header, or one this version does not know). */
    public static Kind ofHeader(byte[] value) {
      if (value == null) {
        return null;
      }
      String v = new String(value, StandardCharsets.UTF_8);
      for (Kind k : values()) {
        if (k.header().equals(v)) {
          return k;
        }
      }
      return null;
    }
  }

  /** A record ready for {@code loadtest.aggregates}: the run id as key, its time, its kind, its encoded value. */
  public static final class Published {
    public String key;
    public long timestampMs;
    public Kind kind;
    public byte[] value;

    public Published() {}

    Published(String key, long timestampMs, Kind kind, byte[] value) {
      this.key = key;
      this.timestampMs = timestampMs;
      this.kind = kind;
      this.value = value;
    }
  }

  /** A batch of one bucket. */
  public static AggregateBatch toAvro(SeriesBucket b) {
    return AggregateBatch.newBuilder().setTestRunId(b.testRunId)
        .setAnalysisId(b.analysisId == null ? "" : b.analysisId).setBuckets(List.of(bucket(b))).build();
  }

  /**
   * Buckets of one run, analysis and second ({@link #encode}d) as records of at most {@link #MAX_BUCKETS}
   * buckets and {@link #MAX_VALUE_BYTES} bytes (a bucket larger than that alone in its record).
   */
  public static List<Published> batches(String run, String analysis, long startMs, Kind kind, List<byte[]> buckets) {
    List<Published> out = new ArrayList<>();
    byte[] runBytes = utf8(run);
    byte[] analysisBytes = utf8(analysis);
    int fixed = HEADER.length + 2 * 5 + runBytes.length + analysisBytes.length + 2 * 10;
    int from = 0;
    while (from < buckets.size()) {
      int to = from;
      int size = fixed;
      while (to < buckets.size() && to - from < MAX_BUCKETS
          && (to == from || size + buckets.get(to).length <= MAX_VALUE_BYTES)) {
        size += buckets.get(to++).length;
      }
      out.add(new Published(run, startMs, kind, value(runBytes, analysisBytes, buckets.subList(from, to), size)));
      from = to;
    }
    return out;
  }

  /** An {@link AggregateBatch} in Avro's single-object encoding, as {@code AggregateBatch#toByteBuffer} writes it. */
  private static byte[] value(byte[] run, byte[] analysis, List<byte[]> buckets, int capacity) {
    AvroBinaryWriter w = new AvroBinaryWriter(capacity);
    w.rawBytes(HEADER);
    w.writeUtf8(run);
    w.writeUtf8(analysis);
    w.arrayStart(buckets.size());
    for (byte[] b : buckets) {
      w.rawBytes(b);
    }
    w.arrayEnd();
    return w.toByteArray();
  }

  /**
   * {@code b} as an {@link AggregateBucket} in Avro's binary encoding: the bytes Avro's own writer gives
   * {@link #bucket}{@code (b)}, written straight from the bucket (Avro's builders, boxed histogram lists
   * and generic writer were a sixth of the aggregate job's busiest thread at 55,000 series).
   */
  public static byte[] encode(SeriesBucket b) {
    int n = b.histIndexes == null ? 0 : b.histIndexes.length;
    int tags = b.tagKeys == null ? 0 : b.tagKeys.length;
    AvroBinaryWriter w = new AvroBinaryWriter(96 + 3 * len(b.metric) + 15 * n + 64 * tags);
    w.writeLong(b.seriesId);
    w.writeString(b.metric);
    w.writeInt(kindIndex(b.type));
    w.arrayStart(tags);
    for (int i = 0; i < tags; i++) {
      w.writeString(b.tagKeys[i]);
      w.writeString(b.tagValues[i]);
    }
    w.arrayEnd();
    w.writeLong(b.startMs);
    w.writeInt(b.widthMs);
    w.writeLong(b.count);
    w.writeDouble(b.sum);
    w.writeDouble(b.min);
    w.writeDouble(b.max);
    w.writeDouble(b.last);
    w.writeLong(b.nonZero);
    w.writeInts(b.histIndexes, n);
    w.writeLongs(b.histCounts, n);
    return w.toByteArray();
  }

  /** {@link MetricKind}'s symbol index of a bucket's type (Avro writes an enum as it). */
  private static int kindIndex(String type) {
    return switch (type) {
      case "COUNTER" -> 0;
      case "GAUGE" -> 1;
      case "RATE" -> 2;
      case "TREND" -> 3;
      default -> throw new IllegalArgumentException("not a metric type: " + type);
    };
  }

  /** The single-object encoding's header of {@link AggregateBatch}: its marker and schema fingerprint. */
  private static final byte[] HEADER = header();

  private static byte[] header() {
    try {
      ByteBuffer empty = AggregateBatch.newBuilder().setTestRunId("").setAnalysisId("").setBuckets(List.of())
          .build().toByteBuffer();
      byte[] h = new byte[empty.remaining() - 3]; // the empty body: two empty strings and an empty array
      empty.get(h);
      return h;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] utf8(String s) {
    return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
  }

  private static int len(String s) {
    return s == null ? 0 : s.length();
  }

  /** The Avro form of one bucket. */
  public static AggregateBucket bucket(SeriesBucket b) {
    List<Tag> tags = new ArrayList<>(b.tagKeys == null ? 0 : b.tagKeys.length);
    for (int i = 0; b.tagKeys != null && i < b.tagKeys.length; i++) {
      tags.add(new Tag(b.tagKeys[i], b.tagValues[i]));
    }
    int n = b.histIndexes == null ? 0 : b.histIndexes.length;
    List<Integer> idx = new ArrayList<>(n);
    List<Long> cnt = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      idx.add(b.histIndexes[i]);
      cnt.add(b.histCounts[i]);
    }
    AggregateBucket bucket = AggregateBucket.newBuilder().setSeriesId(b.seriesId).setMetric(b.metric)
        .setType(MetricKind.valueOf(b.type)).setTags(tags).setStartMs(b.startMs).setWidthMs(b.widthMs)
        .setCount(b.count).setSum(b.sum).setMin(b.min).setMax(b.max).setLast(b.last).setNonZero(b.nonZero)
        .setHistIndexes(idx).setHistCounts(cnt).build();
    return bucket;
  }

  /** The buckets of a record value. */
  public static List<SeriesBucket> fromAvro(AggregateBatch batch) {
    List<SeriesBucket> out = new ArrayList<>(batch.getBuckets().size());
    for (AggregateBucket a : batch.getBuckets()) {
      SeriesBucket b = new SeriesBucket();
      b.testRunId = batch.getTestRunId();
      b.analysisId = batch.getAnalysisId();
      b.seriesId = a.getSeriesId();
      b.metric = a.getMetric();
      b.type = a.getType().name();
      b.tagKeys = a.getTags().stream().map(Tag::getKey).toArray(String[]::new);
      b.tagValues = a.getTags().stream().map(Tag::getValue).toArray(String[]::new);
      b.startMs = a.getStartMs();
      b.widthMs = a.getWidthMs();
      b.count = a.getCount();
      b.sum = a.getSum();
      b.min = a.getMin();
      b.max = a.getMax();
      b.last = a.getLast();
      b.nonZero = a.getNonZero();
      b.histIndexes = a.getHistIndexes().stream().mapToInt(Integer::intValue).toArray();
      b.histCounts = a.getHistCounts().stream().mapToLong(Long::longValue).toArray();
      out.add(b);
    }
    return out;
  }

  /** The serialization of published records into {@code topic}. */
  public static KafkaRecordSerializationSchema<Published> serializer(String topic) {
    return (p, context, timestamp) -> {
      ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null, p.timestampMs,
          p.key.getBytes(StandardCharsets.UTF_8), p.value);
      if (p.kind != null) {
        r.headers().add(KIND_HEADER, p.kind.header().getBytes(StandardCharsets.UTF_8));
      }
      return r;
    };
  }
}
