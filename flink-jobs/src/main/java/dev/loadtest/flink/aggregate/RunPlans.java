package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.run.RunState;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
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
      return PlanParser.parse(plan).thresholds().stream().anyMatch(t -> !t.selector().tags().isEmpty());
    } catch (RuntimeException e) {
      return Boolean.TRUE;
    }
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
