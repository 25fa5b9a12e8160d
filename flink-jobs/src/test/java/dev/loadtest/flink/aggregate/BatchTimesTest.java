package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import org.junit.jupiter.api.Test;

class BatchTimesTest {
  static final long NOW_MS = 1_790_000_000_000L;

  static SampleBatch requestAt(long baseUs, long atUs) {
    SampleBatchBuilder b = new SampleBatchBuilder("run", "gen", "zone", 1, baseUs);
    b.addRequest(atUs, b.tagSet("name", "x"), 1_000, 0, 0, 0, 1, 998, 1, 10, 10, false, 1);
    return b.build();
  }

  @Test
  void acceptsTheRecentPastAndASmallSkew() {
    assertNull(BatchTimes.outOfRange(requestAt(NOW_MS * 1000, NOW_MS * 1000 - 3_600_000_000L), NOW_MS));
    assertNull(BatchTimes.outOfRange(requestAt(NOW_MS * 1000, (NOW_MS + BatchTimes.MAX_AHEAD_MS) * 1000), NOW_MS));
    assertNull(BatchTimes.outOfRange(new SampleBatchBuilder("run", "gen", "z", 1, 0).build(), NOW_MS), "no samples");
  }

  @Test
  void rejectsAFastClockTheEpochAndAMetricPointOutOfRange() {
    String ahead = BatchTimes.outOfRange(requestAt(NOW_MS * 1000, (NOW_MS + 7_200_000) * 1000), NOW_MS);
    assertTrue(ahead.contains("ahead of the job's clock") && ahead.contains("batch 1 of generator gen"), ahead);
    String epoch = BatchTimes.outOfRange(requestAt(0, 0), NOW_MS);
    assertTrue(epoch.contains("1970-01-01T00:00:00Z is before 2000-01-01T00:00:00Z"), epoch);
    SampleBatchBuilder b = new SampleBatchBuilder("run", "gen", "zone", 1, NOW_MS * 1000);
    b.addPoint(b.metric("vus", MetricType.GAUGE), -5_000_000L, b.tagSet(), 3);
    assertTrue(BatchTimes.outOfRange(b.build(), NOW_MS).contains("before 2000"));
  }

  @Test
  void offsetsAtTheLimitsOfALongDoNotOverflowIntoRange() {
    SampleBatchBuilder b = new SampleBatchBuilder("run", "gen", "zone", 1, Long.MAX_VALUE - 10);
    assertNull(BatchTimes.outOfRange(b.build(), NOW_MS));
    assertTrue(BatchTimes.outOfRange(requestAt(Long.MAX_VALUE - 10, Long.MAX_VALUE - 5), NOW_MS).contains("ahead"));
    assertTrue(BatchTimes.outOfRange(requestAt(Long.MIN_VALUE + 10, Long.MIN_VALUE + 5), NOW_MS).contains("before"));
  }
}
