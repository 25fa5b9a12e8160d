package dev.loadtest.flink.aggregate;

import dev.loadtest.flink.sink.ClickHouseBucketSink;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import java.io.IOException;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.serialization.AbstractDeserializationSchema;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The aggregate job: sample batches from Kafka, pre-aggregated per batch (cost grows with series, not
 * samples), merged per series and second in event-time windows across all generators, written to
 * ClickHouse. A batch's buckets arriving after their window has fired are not dropped: they go to
 * ClickHouse as correction rows of their own (writer id {@code late:<generator>/<sequence>}), which
 * readers add to the window's row.
 */
public final class AggregateJob {
  static final OutputTag<SeriesBucket> LATE = new OutputTag<>("late") {};

  private AggregateJob() {}

  /** Adds the job to {@code env}. */
  public static void build(StreamExecutionEnvironment env, AggregateJobConfig c) {
    var builder = KafkaSource.<byte[]>builder()
        .setBootstrapServers(c.bootstrapServers())
        .setTopics(c.samplesTopic())
        .setGroupId(c.groupId())
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setValueOnlyDeserializer(new Bytes());
    if (c.bounded()) {
      builder.setBounded(OffsetsInitializer.latest());
    }
    DataStream<byte[]> batches = env.fromSource(builder.build(), WatermarkStrategy.noWatermarks(), "samples");
    SingleOutputStreamOperator<SeriesBucket> merged = batches
        .flatMap(new PreAggregate()).name("pre-aggregate")
        .assignTimestampsAndWatermarks(WatermarkStrategy
            .<SeriesBucket>forBoundedOutOfOrderness(c.outOfOrderness())
            .withTimestampAssigner((b, t) -> b.startMs)
            .withIdleness(c.idleness()))
        .keyBy(b -> b.seriesId)
        .window(TumblingEventTimeWindows.of(Duration.ofSeconds(1)))
        .sideOutputLateData(LATE)
        .reduce(SeriesBucket::merge).name("merge per series and second");
    DataStream<SeriesBucket> late = merged.getSideOutput(LATE);
    merged.map(AggregateJob::complete).name("window rows").union(late)
        .sinkTo(new ClickHouseBucketSink(c.clickHouseUri(), c.clickHouseUser(), c.clickHousePassword(),
            c.database(), ClickHouseBucketSink.DEFAULT_MAX_ROWS, ClickHouseBucketSink.DEFAULT_MAX_ATTEMPTS))
        .name("clickhouse metric_1s");
  }

  /** A window's bucket is the series' complete second: its row's writer id is "main". */
  static SeriesBucket complete(SeriesBucket b) {
    b.writerId = "";
    return b;
  }

  /** Decodes a batch and pre-aggregates it; a batch that cannot be read is counted, never silently lost. */
  static final class PreAggregate extends RichFlatMapFunction<byte[], SeriesBucket> {
    private transient BatchPreAggregator aggregator;
    private transient Counter malformed;

    @Override
    public void open(OpenContext ctx) {
      aggregator = new BatchPreAggregator();
      malformed = getRuntimeContext().getMetricGroup().counter("malformedBatches");
    }

    @Override
    public void flatMap(byte[] value, Collector<SeriesBucket> out) {
      SampleBatch batch;
      try {
        batch = SampleBatchCodec.decode(value);
      } catch (RuntimeException e) {
        malformed.inc();
        return;
      }
      String origin = "late:" + batch.generatorId() + "/" + batch.sequence();
      for (SeriesBucket b : aggregator.aggregate(batch)) {
        // Only a bucket that misses its window keeps this name; merged window buckets are "main".
        b.writerId = origin;
        out.collect(b);
      }
    }
  }

  /** The record value as it is. */
  static final class Bytes extends AbstractDeserializationSchema<byte[]> {
    @Override
    public byte[] deserialize(byte[] message) throws IOException {
      return message;
    }
  }
}
