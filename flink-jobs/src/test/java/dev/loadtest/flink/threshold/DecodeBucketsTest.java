package dev.loadtest.flink.threshold;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.flink.aggregate.SeriesBucket;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecodeBucketsTest {
  private static final long NOW = 1_800_000_000_000L;

  private static SeriesBucket bucket(int[] indexes, long[] counts) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = "run-1";
    b.seriesId = 12;
    b.metric = "http_req_duration";
    b.type = "TREND";
    b.startMs = NOW - 5_000;
    b.widthMs = 1_000;
    b.histIndexes = indexes;
    b.histCounts = counts;
    return b;
  }

  /** Merges downstream trust histograms, so a record whose histogram is not one never reaches them. */
  @Test
  void aBucketWithAnInvalidHistogramIsRejectedWithWhereAndWhy() {
    assertNull(DecodeBuckets.reasonToReject("run-1",
        List.of(bucket(new int[] {1, 5}, new long[] {2, 3})), NOW));
    String unordered = DecodeBuckets.reasonToReject("run-1",
        List.of(bucket(new int[] {1, 5}, new long[] {2, 3}), bucket(new int[] {5, 1}, new long[] {2, 3})), NOW);
    assertTrue(unordered.contains("series 12") && unordered.contains("ascending at 1"), unordered);
    String negative = DecodeBuckets.reasonToReject("run-1",
        List.of(bucket(new int[] {1}, new long[] {-4})), NOW);
    assertTrue(negative.contains("positive"), negative);
    String lengths = DecodeBuckets.reasonToReject("run-1",
        List.of(bucket(new int[] {1, 2}, new long[] {4})), NOW);
    assertTrue(lengths.contains("differ in length"), lengths);
  }
}
