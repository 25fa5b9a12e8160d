package dev.loadtest.schemas.series;

import java.util.Map;
import java.util.TreeMap;

/**
 * Series that the aggregate job also stores with fewer tags, so that the reads dashboards make most
 * (a whole metric; a metric by {@code name}) cost rows per metric or per name, not per series: a run with
 * 23,000 series has a few dozen names. A projection's rows are the merged 1 s buckets of every series it
 * covers (and their 10 s and 1 min rollups), under the analysis id of the run plus a suffix that no
 * analysis id can contain ({@code ~}), so that reads of the full series never see them. Gauges are not
 * projected (their buckets keep a last value, which does not add up across series).
 */
public enum Projection {
  /** Every series of a metric as one: no tags. */
  TOTAL("~total"),
  /** Every series of a metric with the same {@code name} tag as one: the tag {@code name} only. */
  NAME("~name");

  /** The tag a projection keeps. */
  public static final String NAME_TAG = "name";

  private final String suffix;

  Projection(String suffix) {
    this.suffix = suffix;
  }

  /** The analysis id its rows are stored under, for the rows of {@code analysisId} ({@code ""}: live). */
  public String analysisId(String analysisId) {
    return (analysisId == null ? "" : analysisId) + suffix;
  }

  /** The tags a series' projection keeps (sorted by key). */
  public TreeMap<String, String> tags(String[] keys, String[] values) {
    TreeMap<String, String> out = new TreeMap<>();
    if (this == NAME && keys != null) {
      for (int i = 0; i < keys.length; i++) {
        if (keys[i].equals(NAME_TAG)) {
          out.put(NAME_TAG, values[i]);
        }
      }
    }
    return out;
  }

  /** The projected series' id: distinct from every real series and from the other projection's. */
  public long seriesId(String testRunId, String metric, Map<String, String> projectedTags) {
    TreeMap<String, String> t = new TreeMap<>(projectedTags);
    t.put(suffix, "");
    return SeriesId.of(testRunId, metric, t);
  }
}
