package dev.loadtest.flink.threshold;

import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateRecords;
import dev.loadtest.flink.aggregate.BatchTimes;
import dev.loadtest.flink.aggregate.Rejections;
import dev.loadtest.flink.aggregate.EagerBoundedOutOfOrderness;
import dev.loadtest.flink.sink.RunRowBinary;
import dev.loadtest.flink.sink.ThresholdRowBinary;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The threshold job: 1 s buckets from the aggregates topic and run states from the runs topic, joined per
 * test run in {@link RunThresholds}; threshold state changes and final results go to the thresholds
 * topic, aborts of runs that fail an abortOnFail threshold to the commands topic (both keyed by test run
 * id, at least once: results are states, and the coordinator applies a command id once). With a
 * ClickHouse target, run states and threshold results are also stored in the {@code runs} and
 * {@code thresholds} tables for the query API (this job already reads both streams; a separate job would
 * cost a slot to copy a few records per run).
 */
public final class ThresholdJob {
  private ThresholdJob() {}

  /** Adds the job to {@code env} (checkpoints every second unless the environment sets its own). */
  public static void build(StreamExecutionEnvironment env, ThresholdJobConfig c) {
    if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
      env.enableCheckpointing(1_000);
    }
    DataStream<Tuple2<String, String>> runs = dev.loadtest.flink.aggregate.RunPlans.states(env, c.bootstrapServers(),
        c.runsTopic(), c.groupId() + "-runs");

    KafkaSource<AggregateJob.RawRecord> aggregatesSource = KafkaSource.<AggregateJob.RawRecord>builder()
        .setBootstrapServers(c.bootstrapServers()).setTopics(c.aggregatesTopic()).setGroupId(c.groupId())
        .setProperty("isolation.level", "read_committed")
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setDeserializer(new Located()).build();
    // Records are decoded by the judge of their run, after the shuffle: it knows whether the run needs the
    // series' records or only the totals' (RunThresholds). Here only their times are checked, for the watermark.
    SingleOutputStreamOperator<AggregateJob.RawRecord> timed = env.fromSource(aggregatesSource,
            WatermarkStrategy.noWatermarks(), "aggregates").uid("aggregates")
        .process(new RecordTimes(c.aggregatesTopic())).name("check record times").uid("record-times");
    DataStream<String> rejected = timed.getSideOutput(RecordTimes.REJECTED);
    DataStream<AggregateJob.RawRecord> records = timed
        .assignTimestampsAndWatermarks(WatermarkStrategy
            .<AggregateJob.RawRecord>forGenerator(ctx -> new EagerBoundedOutOfOrderness<>(c.outOfOrderness(),
                c.idleness()))
            .withTimestampAssigner((r, t) -> r.timestampMs)).uid("watermarks");

    SingleOutputStreamOperator<Tuple2<String, String>> results = runs.connect(records)
        .keyBy(r -> r.f0, r -> r.key == null ? "" : r.key, Types.STRING)
        .process(RunThresholds.live(c.finalGrace(), c.aggregatesTopic()), Types.TUPLE(Types.STRING, Types.STRING))
        .name("judge thresholds per run").uid("judge");
    rejected.union(results.getSideOutput(RunThresholds.REJECTED_AGGREGATES))
        .sinkTo(Rejections.sink(c.bootstrapServers(), c.aggregatesTopic()))
        .name("kafka " + Topics.DLQ).uid("dlq");
    results.sinkTo(keyedStrings(c, c.thresholdsTopic())).name("kafka " + c.thresholdsTopic()).uid("thresholds");
    results.getSideOutput(RunThresholds.ABORTS).sinkTo(keyedStrings(c, c.commandsTopic()))
        .name("kafka " + c.commandsTopic()).uid("aborts");
    results.getSideOutput(RunThresholds.REJECTED_RUN_STATES).sinkTo(Rejections.sink(c.bootstrapServers(), c.runsTopic()))
        .name("kafka " + Topics.DLQ + " (run states)").uid("dlq-run-states");
    if (c.insightsTopic() != null) {
      // Insights beside the judge, on the same streams keyed the same way (its own state: a judge that is
      // done with a run has nothing to say about its generators or names).
      SingleOutputStreamOperator<Tuple2<String, String>> insights = runs.connect(records)
          .keyBy(r -> r.f0, r -> r.key == null ? "" : r.key, Types.STRING)
          .process(new RunInsights(), Types.TUPLE(Types.STRING, Types.STRING))
          .name("performance insights per run").uid("insights");
      insights.sinkTo(keyedStrings(c, c.insightsTopic())).name("kafka " + c.insightsTopic()).uid("kafka-insights");
      if (c.clickHouse() != null) {
        insights.filter(r -> dev.loadtest.flink.sink.InsightRowBinary.readable(r.f1)).name("readable insights")
            .uid("readable-insights")
            .sinkTo(c.clickHouse().sink(new dev.loadtest.flink.sink.InsightRowBinary())).name("clickhouse insights")
            .uid("clickhouse-insights");
      }
    }
    if (c.clickHouse() != null) {
      runs.filter(r -> RunRowBinary.readable(r.f1)).name("readable run states").uid("readable-run-states")
          .sinkTo(c.clickHouse().sink(new RunRowBinary())).name("clickhouse runs").uid("clickhouse-runs");
      results.filter(r -> ThresholdRowBinary.readable(r.f1)).name("readable threshold results")
          .uid("readable-threshold-results")
          .sinkTo(c.clickHouse().sink(new ThresholdRowBinary())).name("clickhouse thresholds")
          .uid("clickhouse-thresholds");
    }
  }

  private static KafkaSink<Tuple2<String, String>> keyedStrings(ThresholdJobConfig c, String topic) {
    return KafkaSink.<Tuple2<String, String>>builder()
        .setBootstrapServers(c.bootstrapServers())
        .setRecordSerializer((KafkaRecordSerializationSchema<Tuple2<String, String>>) (t, ctx, ts) ->
            new ProducerRecord<>(topic, t.f0.getBytes(StandardCharsets.UTF_8), t.f1.getBytes(StandardCharsets.UTF_8)))
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .build();
  }

  /** An aggregates record with where it was (for the DLQ), its time and its kind (header). */
  static final class Located implements KafkaRecordDeserializationSchema<AggregateJob.RawRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<AggregateJob.RawRecord> out) {
      AggregateJob.RawRecord r = AggregateJob.RawRecord.of(record);
      r.timestampMs = record.timestamp();
      org.apache.kafka.common.header.Header kind = record.headers().lastHeader(AggregateRecords.KIND_HEADER);
      r.kind = kind == null ? null : AggregateRecords.Kind.ofHeader(kind.value());
      out.collect(r);
    }

    @Override
    public TypeInformation<AggregateJob.RawRecord> getProducedType() {
      return TypeInformation.of(AggregateJob.RawRecord.class);
    }
  }

  /**
   * Checks an aggregates record's time (its Kafka timestamp, the start of its buckets' second) before it
   * drives the watermark; one out of range ({@link BatchTimes}) goes to {@link #REJECTED} with the reason
   * and is counted in {@code malformedAggregates}. Its content is checked where it is decoded
   * ({@link DecodeBuckets}).
   */
  static final class RecordTimes extends ProcessFunction<AggregateJob.RawRecord, AggregateJob.RawRecord> {
    static final OutputTag<String> REJECTED = new OutputTag<>("rejected-aggregate-times") {};
    private static final long serialVersionUID = 1L;
    private final String topic;
    private transient Counter malformed;

    RecordTimes(String topic) {
      this.topic = topic;
    }

    @Override
    public void open(OpenContext ctx) {
      malformed = getRuntimeContext().getMetricGroup().counter("malformedAggregates");
    }

    @Override
    public void processElement(AggregateJob.RawRecord r, Context ctx, Collector<AggregateJob.RawRecord> out) {
      if (!BatchTimes.accepts(r.timestampMs, System.currentTimeMillis())) {
        malformed.inc();
        ctx.output(REJECTED, Rejections.json("thresholds", topic, r.partition, r.offset, "record time "
            + r.timestampMs + " ms is out of range", r.value));
        return;
      }
      out.collect(r);
    }
  }
}
