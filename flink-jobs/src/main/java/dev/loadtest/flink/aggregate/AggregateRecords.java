package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.avro.AggregateBucket;
import dev.loadtest.schemas.avro.MetricKind;
import dev.loadtest.schemas.avro.Tag;
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
 * (Avro single-object encoding) of one bucket. One record per bucket keeps the job free of a second
 * grouping stage; the producer batches records on the wire. A correction row is published like a
 * complete one: live readers add what they receive.
 */
public final class AggregateRecords {
  private AggregateRecords() {}

  public static AggregateBatch toAvro(SeriesBucket b) {
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
    return AggregateBatch.newBuilder().setTestRunId(b.testRunId)
        .setAnalysisId(b.analysisId == null ? "" : b.analysisId).setBuckets(List.of(bucket)).build();
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

  /** The serialization of buckets into {@code topic}. */
  public static KafkaRecordSerializationSchema<SeriesBucket> serializer(String topic) {
    return (b, context, timestamp) -> {
      try {
        ByteBuffer value = toAvro(b).toByteBuffer();
        byte[] bytes = new byte[value.remaining()];
        value.get(bytes);
        return new ProducerRecord<>(topic, null, b.startMs, b.testRunId.getBytes(StandardCharsets.UTF_8), bytes);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot encode the bucket " + b, e);
      }
    };
  }
}
