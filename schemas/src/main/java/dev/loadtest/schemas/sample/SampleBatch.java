package dev.loadtest.schemas.sample;

import dev.loadtest.schemas.metrics.MetricType;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The raw samples of one generator for one test run, as carried by one record of
 * {@code loadtest.samples}: strings dictionary-encoded, HTTP requests and other metric points stored
 * column by column (schema {@code SampleBatch.avsc}, written and read by {@link SampleBatchCodec}).
 *
 * <p>Column arrays are handed over, not copied (a batch of 10,000 requests has 13 columns): the
 * builder and the codec give up their references, and readers must treat them as read-only.
 *
 * @param sequence batch number per (testRunId, generatorId), from 0: with the generator id it
 *     identifies a batch, so that a consumer can drop a batch it has already counted
 * @param baseTimeUs epoch microseconds that every offset is relative to
 * @param strings the dictionary that tag sets and metric definitions refer to
 * @param tagSets each tag set as alternating key and value indexes into {@code strings}, sorted by key
 */
public record SampleBatch(String testRunId, String generatorId, String loadZone, long sequence,
    long baseTimeUs, List<String> strings, List<int[]> tagSets, List<MetricDef> metrics,
    HttpRequests requests, MetricPoints points) {

  public SampleBatch {
    Objects.requireNonNull(testRunId, "testRunId");
    Objects.requireNonNull(generatorId, "generatorId");
    Objects.requireNonNull(loadZone, "loadZone");
    strings = List.copyOf(strings);
    tagSets = List.copyOf(tagSets);
    metrics = List.copyOf(metrics);
    Objects.requireNonNull(requests, "requests");
    Objects.requireNonNull(points, "points");
  }

  /** Number of samples: HTTP requests plus other metric points. */
  public int size() {
    return requests.size() + points.size();
  }

  /** The tags of tag set {@code index} as alternating keys and values, resolved from the dictionary. */
  public String[] tags(int index) {
    int[] ids = tagSets.get(index);
    String[] out = new String[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = strings.get(ids[i]);
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SampleBatch b)) {
      return false;
    }
    if (tagSets.size() != b.tagSets.size()) {
      return false;
    }
    for (int i = 0; i < tagSets.size(); i++) {
      if (!Arrays.equals(tagSets.get(i), b.tagSets.get(i))) {
        return false;
      }
    }
    return testRunId.equals(b.testRunId) && generatorId.equals(b.generatorId) && loadZone.equals(b.loadZone)
        && sequence == b.sequence && baseTimeUs == b.baseTimeUs && strings.equals(b.strings)
        && metrics.equals(b.metrics) && requests.equals(b.requests) && points.equals(b.points);
  }

  @Override
  public int hashCode() {
    return Objects.hash(testRunId, generatorId, sequence, baseTimeUs, requests, points);
  }

  /** A metric of the points: its name (index into strings) and k6 type. */
  public record MetricDef(int name, MetricType type) {}

  /** One entry per HTTP request; every column has {@link #size()} entries except {@code vu}, which may be empty (unknown). */
  public record HttpRequests(long[] offsetUs, int[] tagSet, long[] durationUs, long[] blockedUs,
      long[] connectingUs, long[] tlsHandshakingUs, long[] sendingUs, long[] waitingUs,
      long[] receivingUs, long[] bytesSent, long[] bytesReceived, boolean[] failed, int[] vu) {

    public static final HttpRequests EMPTY = new HttpRequests(new long[0], new int[0], new long[0],
        new long[0], new long[0], new long[0], new long[0], new long[0], new long[0], new long[0],
        new long[0], new boolean[0], new int[0]);

    public HttpRequests {
      int n = offsetUs.length;
      if (tagSet.length != n || durationUs.length != n || blockedUs.length != n || connectingUs.length != n
          || tlsHandshakingUs.length != n || sendingUs.length != n || waitingUs.length != n
          || receivingUs.length != n || bytesSent.length != n || bytesReceived.length != n
          || failed.length != n || (vu.length != n && vu.length != 0)) {
        throw new IllegalArgumentException("HTTP request columns differ in length (offsetUs has " + n + ")");
      }
    }

    public int size() {
      return offsetUs.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof HttpRequests r && Arrays.equals(offsetUs, r.offsetUs) && Arrays.equals(tagSet, r.tagSet)
          && Arrays.equals(durationUs, r.durationUs) && Arrays.equals(blockedUs, r.blockedUs)
          && Arrays.equals(connectingUs, r.connectingUs) && Arrays.equals(tlsHandshakingUs, r.tlsHandshakingUs)
          && Arrays.equals(sendingUs, r.sendingUs) && Arrays.equals(waitingUs, r.waitingUs)
          && Arrays.equals(receivingUs, r.receivingUs) && Arrays.equals(bytesSent, r.bytesSent)
          && Arrays.equals(bytesReceived, r.bytesReceived) && Arrays.equals(failed, r.failed)
          && Arrays.equals(vu, r.vu);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(offsetUs) * 31 + Arrays.hashCode(durationUs);
    }

    @Override
    public String toString() {
      return "HttpRequests[size=" + size() + "]";
    }
  }

  /** One entry per metric sample that is not an HTTP request; all columns have {@link #size()} entries. */
  public record MetricPoints(int[] metric, long[] offsetUs, int[] tagSet, double[] value) {
    public static final MetricPoints EMPTY = new MetricPoints(new int[0], new long[0], new int[0], new double[0]);

    public MetricPoints {
      int n = metric.length;
      if (offsetUs.length != n || tagSet.length != n || value.length != n) {
        throw new IllegalArgumentException("metric point columns differ in length (metric has " + n + ")");
      }
    }

    public int size() {
      return metric.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof MetricPoints p && Arrays.equals(metric, p.metric) && Arrays.equals(offsetUs, p.offsetUs)
          && Arrays.equals(tagSet, p.tagSet) && Arrays.equals(value, p.value);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(metric) * 31 + Arrays.hashCode(offsetUs);
    }

    @Override
    public String toString() {
      return "MetricPoints[size=" + size() + "]";
    }
  }
}
