package dev.loadtest.flink.aggregate;

import dev.loadtest.schemas.series.Projection;
import java.util.TreeMap;

/**
 * A series' 1 s bucket as its part of a {@link Projection}: same time, counts and histogram, fewer tags, the
 * projection's series and analysis id, and the source series' id appended to its writer id (see
 * {@link BucketLadder}, which makes the job's projections in place). For tests and tools that write a
 * run's rows directly, as the job would.
 */
public final class Project {
  private Project() {}

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
