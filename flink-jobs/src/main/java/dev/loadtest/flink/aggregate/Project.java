package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.series.Projection;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Each 1 s bucket of a series (complete or a correction) as its part of every {@link Projection} of the
 * series: same time, counts and histogram, fewer tags. A correction's writer id gets the source series'
 * id appended, so that corrections of several series from one late batch stay distinct rows of the
 * projection instead of replacing each other. Stateless.
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
    if (c.writerId != null && !c.writerId.isEmpty()) {
      c.writerId = c.writerId + "#" + Long.toHexString(b.seriesId);
    }
    return c;
  }
}
