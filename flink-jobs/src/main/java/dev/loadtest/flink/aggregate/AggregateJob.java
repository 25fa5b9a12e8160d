package dev.loadtest.flink.aggregate;

import dev.loadtest.flink.sink.ClickHouseSink;
import dev.loadtest.flink.sink.MetricRowBinary;
import dev.loadtest.flink.sink.SeriesRowBinary;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * The aggregate job: sample batches from Kafka, spread over the tasks, pre-aggregated per series and
 * second across batches before the shuffle ({@link PreAggregateOperator}: cost grows with series, not
 * samples, and a series' second crosses the network once per task, not once per batch), merged per series
 * into 1 s buckets across all generators in event time, projected by name in the same pass and rolled up
 * to 10 s and 1 min ({@link BucketLadder#seriesAndNames}), the metrics' totals merged from each task's part
 * ({@link BucketLadder#projections}; a job of one task makes them in the same operator,
 * {@link BucketLadder#seriesAndNamesWithTotals}), and written to ClickHouse ({@code metric_1s}, {@code metric_10s},
 * {@code metric_1m}, and each new series to {@code series}) exactly once per checkpoint; the 1 s buckets of
 * the series and of the totals are also published to the aggregates topic (exactly once, Kafka transactions;
 * a few records per run, second and {@link AggregateRecords.Kind}) for the threshold job and live readers,
 * which read the totals and gauges and skip the series' records unless a threshold needs them. Samples later than the watermark are counted as correction rows ({@link BucketLadder}).
 *
 * <p><b>Hostile input.</b> Every batch passes {@link BatchGate} first (its header readable, its key its run
 * id, its (generator, sequence) not counted before), then {@link BatchTimes} (sample times in range); a
 * record that fails either, or cannot be decoded, goes to {@code loadtest.dlq} with where it was and why,
 * is counted, and the job goes on: no record can fail the job.
 *
 * <p>The same job re-analyses a run: with a run filter, a time range and an analysis id
 * ({@link AggregateJobConfig#replay}), its rows are stored under that analysis id and not published live.
 */
public final class AggregateJob {
  /** Buckets a task carries before the shuffle at most (a stalled watermark; about 1-10 KB each). */
  static final int MAX_CARRIED_BUCKETS = 200_000;
  /**
   * The ladder's uid, the same with and without the run states as its second input: every operator has a uid
   * of its own, so that a savepoint maps onto a later build's job by name, not by the shape of the graph
   * (Flink's generated ids change with any operator added or moved).
   */
  static final String LADDER_UID = "ladder";

  private AggregateJob() {}

  /**
   * Adds the job to {@code env}, enabling checkpoints at the configured interval (the sink needs them).
   *
   * @return the merged 1 s buckets per series (a replay judges its thresholds on them)
   */
  public static DataStream<SeriesBucket> build(StreamExecutionEnvironment env, AggregateJobConfig c) {
    if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
      env.enableCheckpointing(c.checkpointInterval().toMillis());
      // Under load a checkpoint can take longer than the interval; without a pause the job would do little
      // else than checkpoint (and commit ever bigger batches of rows), so leave it half an interval.
      env.getCheckpointConfig().setMinPauseBetweenCheckpoints(c.checkpointInterval().toMillis() / 2);
      // A barrier stuck behind back-pressured buffers for more than a second overtakes them (the buffers go
      // into the checkpoint): the checkpoint, and so the commit of the rows, does not wait for the backlog.
      env.getCheckpointConfig().enableUnalignedCheckpoints();
      env.getCheckpointConfig().setAlignedCheckpointTimeout(java.time.Duration.ofSeconds(1));
    }
    var builder = KafkaSource.<RawRecord>builder()
        .setBootstrapServers(c.bootstrapServers())
        .setTopics(c.samplesTopic())
        .setGroupId(c.groupId())
        .setProperty("isolation.level", "read_committed")
        .setStartingOffsets(OffsetsInitializer.committedOffsets(
            org.apache.kafka.clients.consumer.OffsetResetStrategy.EARLIEST))
        .setDeserializer(new RawRecords(c.runFilter()));
    if (c.bounded()) {
      builder.setStartingOffsets(OffsetsInitializer.earliest()).setBounded(OffsetsInitializer.latest());
    }
    SingleOutputStreamOperator<AggregateJob.RawRecord> admitted = env.fromSource(builder.build(),
            WatermarkStrategy.noWatermarks(), "samples").uid("samples")
        .process(new BatchGate(c.jobName(), c.samplesTopic()))
        .name("one count per batch, in its own run").uid("batch-gate");
    SingleOutputStreamOperator<SeriesBucket> partials = admitted
        // A run's batches share one partition (keyed by run id); spread their decoding over every subtask.
        .rebalance()
        .transform("pre-aggregate batches per series and second", TypeInformation.of(SeriesBucket.class),
            new PreAggregateOperator(c, MAX_CARRIED_BUCKETS)).uid("pre-aggregate");
    admitted.getSideOutput(BatchGate.REJECTED).union(partials.getSideOutput(PreAggregateOperator.REJECTED))
        .sinkTo(Rejections.sink(c.bootstrapServers(), c.samplesTopic()))
        .name("kafka " + Topics.DLQ).uid("dlq");
    // One task holds every part of every total: it makes them too, and all its rows leave through one sink.
    boolean oneTask = env.getParallelism() == 1;
    boolean publish = !c.aggregatesTopic().isEmpty();
    String ladderName = "1 s buckets per series and by name, rolled up to 10 s and 1 min" + (oneTask ? ", totals" : "");
    SingleOutputStreamOperator<SeriesBucket> seconds;
    if (publish && !c.bounded()) {
      // The run states beside the buckets: a run judged on its totals needs no series' records (RunPlans).
      // (A bounded job, a test's, publishes every series: Kafka's bounded source never ends on a topic that
      // does not exist, and the run states are not there to wait for.)
      DataStream<Tuple2<String, String>> runs = RunPlans.states(env, c.bootstrapServers(), c.runsTopic(),
          c.groupId() + "-runs");
      seconds = partials.keyBy(BucketLadder.BY_NAME).connect(runs.broadcast())
          .transform(ladderName, SeriesBucketSerializer.HANDED_OVER, BucketLadder.seriesAndNamesWithPlans(oneTask))
          .uid(LADDER_UID);
    } else {
      seconds = partials.keyBy(BucketLadder.BY_NAME)
          // Its consumers are done with a row when they return (the sink encodes it): no copy for them.
          .transform(ladderName, SeriesBucketSerializer.HANDED_OVER,
              oneTask ? BucketLadder.seriesAndNamesWithTotals(publish) : BucketLadder.seriesAndNames(publish))
          .uid(LADDER_UID);
    }
    // The ladder's rows to a sink chained to it: no union, so no serialisation of every row.
    seconds.sinkTo(sink(c, new MetricRowBinary()))
        .name("clickhouse metric tables").uid("clickhouse-metrics");
    DataStream<SeriesBucket> newSeries = seconds.getSideOutput(BucketLadder.NEW_SERIES);
    DataStream<AggregateRecords.Published> published = seconds.getSideOutput(BucketLadder.PUBLISHED);
    if (!oneTask) {
      // The metrics as a whole (for cheap dashboard reads): each task's part per metric and second, merged.
      // Their rows go to a sink of their own, so a total may be committed a moment before the series rows of
      // the same checkpoint (see BucketLadder#seriesAndNamesWithTotals).
      SingleOutputStreamOperator<SeriesBucket> totals = seconds.getSideOutput(BucketLadder.TOTAL_PARTS)
          .keyBy(BucketLadder.BY_SERIES)
          .transform("1 s buckets per metric, rolled up to 10 s and 1 min", TypeInformation.of(SeriesBucket.class),
              BucketLadder.projections(publish)).uid("totals-ladder");
      totals.sinkTo(sink(c, new MetricRowBinary()))
          .name("clickhouse metric tables (totals)").uid("clickhouse-totals");
      newSeries = newSeries.union(totals.getSideOutput(BucketLadder.NEW_SERIES));
      published = published.union(totals.getSideOutput(BucketLadder.PUBLISHED));
    }
    newSeries.sinkTo(sink(c, new SeriesRowBinary()))
        .name("clickhouse series").uid("clickhouse-series");
    if (publish) {
      Properties producer = new Properties();
      producer.setProperty("transaction.timeout.ms", "600000");
      producer.setProperty("compression.type", "lz4");
      published.sinkTo(KafkaSink.<AggregateRecords.Published>builder()
              .setBootstrapServers(c.bootstrapServers())
              .setRecordSerializer(AggregateRecords.serializer(c.aggregatesTopic()))
              .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
              .setTransactionalIdPrefix("loadtest-aggregates-" + c.groupId())
              .setKafkaProducerConfig(producer)
              .build())
          .name("kafka " + c.aggregatesTopic()).uid("published");
    }
    return seconds.filter(AggregateJob::seriesSecond).name("1 s buckets of the series").uid("series-seconds");
  }

  /** A ClickHouse sink of the job's rows of {@code rows}' kind, staged as {@code c} says. */
  private static <T> ClickHouseSink<T> sink(AggregateJobConfig c, dev.loadtest.flink.sink.RowBinaryRows<T> rows) {
    return ClickHouseSink.builder(rows).server(c.clickHouseUri(), c.clickHouseUser(), c.clickHousePassword())
        .database(c.database()).staging(c.stagingDir()).build();
  }

  /** Whether a ladder's row is a 1 s bucket of a series (not a rollup, not a projection's). */
  static boolean seriesSecond(SeriesBucket b) {
    return b.widthMs == 1_000 && (b.analysisId == null || !b.analysisId.contains("~"));
  }

  /**
   * A samples record as read: where it was, its key, the identity its header gives (read in the source,
   * without decoding the samples), and its value.
   */
  public static final class RawRecord {
    public int partition;
    public long offset;
    /** The record's key as UTF-8, or null. */
    public String key;
    public String testRunId;
    public String generatorId;
    public long sequence;
    /** Why the header could not be read, or null. */
    public String headerError;
    /** The record's Kafka timestamp (an aggregates record's: the start of its buckets' second). */
    public long timestampMs;
    /** An aggregates record's kind (its header), or null. */
    public AggregateRecords.Kind kind;
    public byte[] value;

    public RawRecord() {}

    /** Where {@code record} was, its key and its value (an absent value as empty). */
    public static RawRecord of(ConsumerRecord<byte[], byte[]> record) {
      RawRecord r = new RawRecord();
      r.partition = record.partition();
      r.offset = record.offset();
      r.key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
      r.value = record.value() == null ? new byte[0] : record.value();
      return r;
    }
  }

  /**
   * Keeps partition, offset and key with each value, so that a rejected batch can be found again, and reads
   * the batch's identity. With a run filter, other runs' batches are skipped here, before any shuffle.
   */
  static final class RawRecords implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;
    private final String runFilter;

    RawRecords(String runFilter) {
      this.runFilter = runFilter == null ? "" : runFilter;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
      RawRecord r = RawRecord.of(record);
      try {
        SampleBatchCodec.Identity id = SampleBatchCodec.identity(r.value);
        if (!runFilter.isEmpty() && !runFilter.equals(id.testRunId())) {
          return;
        }
        r.testRunId = id.testRunId();
        r.generatorId = id.generatorId();
        r.sequence = id.sequence();
      } catch (RuntimeException e) {
        if (!runFilter.isEmpty() && !runFilter.equals(r.key)) {
          return; // unreadable, and not even keyed as the run replayed: the live job reported it
        }
        r.headerError = String.valueOf(e.getMessage());
      }
      out.collect(r);
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
      return TypeInformation.of(RawRecord.class);
    }
  }
}
