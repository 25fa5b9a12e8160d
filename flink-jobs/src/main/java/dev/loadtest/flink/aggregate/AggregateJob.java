package dev.loadtest.flink.aggregate;

import dev.loadtest.flink.sink.ClickHouseSink;
import dev.loadtest.flink.sink.MetricRowBinary;
import dev.loadtest.flink.sink.SeriesRowBinary;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * The aggregate job: sample batches from Kafka, pre-aggregated per batch (so that cost grows with
 * series, not samples), merged per series into 1 s buckets across all generators in event time, rolled
 * up to 10 s and 1 min, and written to ClickHouse ({@code metric_1s}, {@code metric_10s},
 * {@code metric_1m}, and each new series to {@code series}) exactly once per checkpoint; 1 s buckets are
 * also published to the aggregates topic (exactly once, Kafka transactions) for the threshold job and
 * live readers. Samples later than the watermark are counted as correction rows ({@link TimeBucketer}). A
 * record that is not a readable sample batch goes to {@code loadtest.dlq} with where it was and why.
 *
 * <p>The same job re-analyses a run: with a run filter, a time range and an analysis id
 * ({@link AggregateJobConfig#replay}), its rows are stored under that analysis id and not published live.
 */
public final class AggregateJob {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AggregateJob() {}

  /**
   * Adds the job to {@code env}, enabling checkpoints at the configured interval (the sink needs them).
   *
   * @return the merged 1 s buckets per series (a replay judges its thresholds on them)
   */
  public static DataStream<SeriesBucket> build(StreamExecutionEnvironment env, AggregateJobConfig c) {
    if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
      env.enableCheckpointing(c.checkpointInterval().toMillis());
    }
    var builder = KafkaSource.<RawRecord>builder()
        .setBootstrapServers(c.bootstrapServers())
        .setTopics(c.samplesTopic())
        .setGroupId(c.groupId())
        .setProperty("isolation.level", "read_committed")
        .setStartingOffsets(OffsetsInitializer.committedOffsets(
            org.apache.kafka.clients.consumer.OffsetResetStrategy.EARLIEST))
        .setDeserializer(new RawRecords());
    if (c.bounded()) {
      builder.setStartingOffsets(OffsetsInitializer.earliest()).setBounded(OffsetsInitializer.latest());
    }
    SingleOutputStreamOperator<SeriesBucket> preAggregated = env.fromSource(builder.build(),
            WatermarkStrategy.noWatermarks(), "samples")
        .process(new PreAggregate(c)).name("pre-aggregate per batch");
    preAggregated.getSideOutput(PreAggregate.REJECTED).sinkTo(KafkaSink.<String>builder()
            .setBootstrapServers(c.bootstrapServers())
            .setRecordSerializer((KafkaRecordSerializationSchema<String>) (json, ctx, ts) -> new ProducerRecord<>(
                Topics.DLQ, c.samplesTopic().getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8)))
            .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE).build())
        .name("kafka " + Topics.DLQ);
    DataStream<SeriesBucket> partials = preAggregated
        .assignTimestampsAndWatermarks(WatermarkStrategy
            .<SeriesBucket>forGenerator(ctx -> new EagerBoundedOutOfOrderness<>(c.outOfOrderness(), c.idleness()))
            .withTimestampAssigner((b, t) -> b.startMs));
    SingleOutputStreamOperator<SeriesBucket> seconds = partials.keyBy(b -> b.seriesId)
        .process(new TimeBucketer(1_000, true)).name("1 s buckets per series");
    SingleOutputStreamOperator<SeriesBucket> tens = seconds.keyBy(b -> b.seriesId)
        .process(new TimeBucketer(10_000, false)).name("10 s rollup");
    SingleOutputStreamOperator<SeriesBucket> minutes = tens.keyBy(b -> b.seriesId)
        .process(new TimeBucketer(60_000, false)).name("1 min rollup");

    // The same buckets with fewer tags (the metric as a whole, and by name), for cheap dashboard reads.
    SingleOutputStreamOperator<SeriesBucket> projectedSeconds = seconds.flatMap(new Project()).name("projections")
        .keyBy(b -> b.seriesId).process(new TimeBucketer(1_000, true)).name("1 s buckets per projection");
    SingleOutputStreamOperator<SeriesBucket> projectedTens = projectedSeconds.keyBy(b -> b.seriesId)
        .process(new TimeBucketer(10_000, false)).name("10 s projection rollup");
    SingleOutputStreamOperator<SeriesBucket> projectedMinutes = projectedTens.keyBy(b -> b.seriesId)
        .process(new TimeBucketer(60_000, false)).name("1 min projection rollup");

    seconds.union(tens, minutes, projectedSeconds, projectedTens, projectedMinutes)
        .sinkTo(ClickHouseSink.builder(new MetricRowBinary())
            .server(c.clickHouseUri(), c.clickHouseUser(), c.clickHousePassword()).database(c.database()).build())
        .name("clickhouse metric tables");
    seconds.getSideOutput(TimeBucketer.NEW_SERIES).union(projectedSeconds.getSideOutput(TimeBucketer.NEW_SERIES))
        .sinkTo(ClickHouseSink.builder(new SeriesRowBinary())
            .server(c.clickHouseUri(), c.clickHouseUser(), c.clickHousePassword()).database(c.database()).build())
        .name("clickhouse series");
    if (!c.aggregatesTopic().isEmpty()) {
      Properties producer = new Properties();
      producer.setProperty("transaction.timeout.ms", "600000");
      producer.setProperty("compression.type", "lz4");
      seconds.sinkTo(KafkaSink.<SeriesBucket>builder()
              .setBootstrapServers(c.bootstrapServers())
              .setRecordSerializer(AggregateRecords.serializer(c.aggregatesTopic()))
              .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
              .setTransactionalIdPrefix("loadtest-aggregates-" + c.groupId())
              .setKafkaProducerConfig(producer)
              .build())
          .name("kafka " + c.aggregatesTopic());
    }
    return seconds;
  }

  /** A samples record as read: where it was, and its value. */
  public static final class RawRecord {
    public int partition;
    public long offset;
    public byte[] value;

    public RawRecord() {}
  }

  /** Keeps partition and offset with each value, so that a rejected batch can be found again. */
  static final class RawRecords implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
      RawRecord r = new RawRecord();
      r.partition = record.partition();
      r.offset = record.offset();
      r.value = record.value() == null ? new byte[0] : record.value();
      out.collect(r);
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
      return TypeInformation.of(RawRecord.class);
    }
  }

  /**
   * Decodes a batch and pre-aggregates it; keeps only the configured run and time range. A batch that
   * cannot be read goes to {@link #REJECTED} (for the DLQ: where it was, why, its first 64 KiB in base64)
   * and is counted in {@code malformedBatches}; the batches around it are unaffected.
   */
  static final class PreAggregate extends ProcessFunction<RawRecord, SeriesBucket> {
    static final OutputTag<String> REJECTED = new OutputTag<>("rejected-batches") {};
    private static final long serialVersionUID = 1L;
    private static final int DLQ_VALUE_LIMIT = 64 * 1024;
    private final String topic;
    private final String runFilter;
    private final String analysisId;
    private final long fromMs;
    private final long toMs;
    private transient BatchPreAggregator aggregator;
    private transient Counter malformed;

    PreAggregate(AggregateJobConfig c) {
      this.topic = c.samplesTopic();
      this.runFilter = c.runFilter();
      this.analysisId = c.analysisId();
      this.fromMs = c.fromMs();
      this.toMs = c.toMs();
    }

    @Override
    public void open(OpenContext ctx) {
      aggregator = new BatchPreAggregator();
      malformed = getRuntimeContext().getMetricGroup().counter("malformedBatches");
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<SeriesBucket> out) {
      SampleBatch batch;
      List<SeriesBucket> buckets;
      try {
        batch = SampleBatchCodec.decode(record.value);
        if (!runFilter.isEmpty() && !runFilter.equals(batch.testRunId())) {
          return;
        }
        buckets = aggregator.aggregate(batch);
      } catch (RuntimeException e) {
        malformed.inc();
        ctx.output(REJECTED, rejection(record, e));
        return;
      }
      // A bucket keeps its batch's name: the origin of a correction row, should it come too late.
      String origin = "late:" + batch.generatorId() + "/" + batch.sequence();
      for (SeriesBucket b : buckets) {
        if (b.startMs < fromMs || b.startMs >= toMs) {
          continue;
        }
        b.writerId = origin;
        b.analysisId = analysisId;
        out.collect(b);
      }
    }

    private String rejection(RawRecord record, RuntimeException e) {
      ObjectNode dlq = JSON.createObjectNode();
      dlq.put("topic", topic);
      dlq.put("partition", record.partition);
      dlq.put("offset", record.offset);
      dlq.put("reason", "not a sample batch the aggregate job can read: " + e.getMessage());
      dlq.put("valueBytes", record.value.length);
      dlq.put("valueBase64", Base64.getEncoder().encodeToString(
          Arrays.copyOf(record.value, Math.min(record.value.length, DLQ_VALUE_LIMIT))));
      dlq.put("atMs", System.currentTimeMillis());
      return dlq.toString();
    }
  }
}
