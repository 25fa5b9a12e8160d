package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.series.Projection;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Each 1 s bucket of a series (complete or a correction) as its part of every {@link Projection} of the
 * series: same time, counts and histogram, fewer tags. Every part's writer id gets the source series' id
 * appended: a part that reaches the projection's 1 s stage after that second was emitted becomes a
 * correction row named after its writer id, and many series feed one projection (a complete bucket of a
 * series first seen late, from a job that fell behind, is such a part), so without the source's id their
 * corrections would share one key and replace each other under ReplacingMergeTree, and the projection would
 * count less than its series. Parts in time merge into the projection's complete row as before. Stateless.
 */
public final class Project implements FlatMapFunction<SeriesBucket, SeriesBucket> {
  private static final long serialVersionUID = 1L;

  @Override
  public void flatMap(SeriesBucket b, Collector<SeriesBucket> out) {
    if (b.metricType() == MetricType.GAUGE) {
      return;
    }
    for (Projection p : Projection.values()) {
      out.collect(project(b, p));
    }
  }

  /** {@code b}'s part of projection {@code p} (a new bucket; {@code b} is not changed). */
  public static SeriesBucket project(SeriesBucket b, Projection p) {
    SeriesBucket c = b.copy();
    TreeMap<String, String> tags = p.tags(b.tagKeys, b.tagValues);
    c.tagKeys = tags.keySet().toArray(String[]::new);
    c.tagValues = tags.values().toArray(String[]::new);
    c.analysisId = p.analysisId(b.analysisId);
    c.seriesId = p.seriesId(b.testRunId, b.metric, tags);
    c.writerId = (c.writerId == null ? "" : c.writerId) + "#" + Long.toHexString(b.seriesId);
    return c;
  }
}
