package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.run.RunState;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What the aggregate job reads of the runs topic: whether a run's thresholds are judged on its series
 * (a threshold with tag selectors, {@code http_req_duration{status:500}}) or on the metrics' totals. Only
 * the first needs every series' 1 s bucket on the aggregates topic; for the others the threshold job and the
 * live API read the totals and gauges, and the insights only count the series and names
 * ({@link BucketLadder#seriesAndNamesWithPlans}). At 55,000 series the series' records were 2.5 times the
 * bytes of the samples themselves on the broker, read by nobody.
 */
public final class RunPlans {
  private RunPlans() {}

  /**
   * Whether run {@code run}, whose state is {@code runStateJson} (a record keyed {@code run}), is judged on
   * its series; null when the state has no plan yet or is another run's. A state or plan that cannot be read
   * counts as judged on its series: publishing what nobody reads costs bytes, not publishing what a
   * threshold needs would cost its verdict.
   */
  public static Boolean judgedOnSeries(String run, String runStateJson) {
    String plan;
    try {
      RunState state = RunState.fromJson(runStateJson);
      if (!run.equals(state.testRunId())) {
        return null;
      }
      plan = state.plan();
    } catch (RuntimeException e) {
      return Boolean.TRUE;
    }
    if (plan == null || plan.isBlank()) {
      return null;
    }
    try {
      return judgedOnSeries(PlanParser.parse(plan));
    } catch (RuntimeException e) {
      return Boolean.TRUE;
    }
  }

  /**
   * Whether {@code plan}'s thresholds need the series: one names a tag. The threshold job judges on the
   * totals exactly when this is false ({@code RunThresholds}).
   */
  public static boolean judgedOnSeries(dev.loadtest.schemas.plan.TestPlan plan) {
    return plan.thresholds().stream().anyMatch(t -> !t.selector().tags().isEmpty());
  }

  /**
   * The run states of {@code topic} as (key, value), from its beginning, as an input without event time
   * ({@link AlwaysIdle}). Subscribed by pattern, with partitions looked for every 10 s: a topic that does not
   * exist yet is not an error, and is read once it does.
   */
  public static DataStream<Tuple2<String, String>> states(StreamExecutionEnvironment env, String bootstrapServers,
      String topic, String groupId) {
    KafkaSource<Tuple2<String, String>> source = KafkaSource.<Tuple2<String, String>>builder()
        .setBootstrapServers(bootstrapServers)
        .setTopicPattern(java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(topic)))
        .setGroupId(groupId)
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setProperty("partition.discovery.interval.ms", "10000")
        .setDeserializer(new KeyAndValue())
        .build();
    return env.fromSource(source, WatermarkStrategy.<Tuple2<String, String>>forGenerator(ctx -> new AlwaysIdle<>()),
        "runs").uid("run-states");
  }

  /** A runs record as (key, value); tombstones of the compacted topic are skipped. */
  public static final class KeyAndValue implements KafkaRecordDeserializationSchema<Tuple2<String, String>> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Tuple2<String, String>> out) {
      if (record.value() == null) {
        return;
      }
      out.collect(Tuple2.of(record.key() == null ? "" : new String(record.key(), StandardCharsets.UTF_8),
          new String(record.value(), StandardCharsets.UTF_8)));
    }

    @Override
    public TypeInformation<Tuple2<String, String>> getProducedType() {
      return Types.TUPLE(Types.STRING, Types.STRING);
    }
  }

  /**
   * The watermark of an input that carries no event time (run states): always idle, so that the operator it
   * joins follows its other input's watermark alone.
   */
  public static final class AlwaysIdle<T> implements WatermarkGenerator<T> {
    @Override
    public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {}

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
      output.markIdle();
    }
  }
}
