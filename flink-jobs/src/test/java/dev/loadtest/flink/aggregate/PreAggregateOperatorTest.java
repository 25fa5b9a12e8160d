package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import java.net.URI;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The first stage's watermark on Flink's operator harness (its processing time set by the test): quiet
 * input moves event time on with the clock, a task held up does not.
 */
class PreAggregateOperatorTest {
  private static final AggregateJobConfig CONFIG = AggregateJobConfig.live("127.0.0.1:1", URI.create("http://127.0.0.1:1"),
      "default", "", "loadtest"); // outOfOrderness 1 s, idleness 5 s

  private static AggregateJob.RawRecord batch(long timeMs) {
    SampleBatchBuilder b = new SampleBatchBuilder("run-w", "gen-1", "zone", 1, timeMs * 1000);
    b.addRequest(timeMs * 1000, b.tagSet("name", "a"), 1_000, 0, 0, 0, 10, 900, 90, 10, 10, false, 1);
    AggregateJob.RawRecord r = new AggregateJob.RawRecord();
    r.value = SampleBatchCodec.encode(b.build());
    return r;
  }

  private static long watermark(OneInputStreamOperatorTestHarness<AggregateJob.RawRecord, SeriesBucket> h) {
    long w = Long.MIN_VALUE;
    for (Object o : h.getOutput()) {
      if (o instanceof Watermark m) {
        w = Math.max(w, m.getTimestamp());
      }
    }
    return w;
  }

  @Test
  void aTaskHeldUpDoesNotMoveEventTimeOnButQuietInputDoes() throws Exception {
    long second = System.currentTimeMillis() / 1000 * 1000;
    try (var h = new OneInputStreamOperatorTestHarness<>(new PreAggregateOperator(CONFIG, 1_000))) {
      h.setProcessingTime(0);
      h.open();
      h.processElement(new StreamRecord<>(batch(second)));
      long afterBatch = watermark(h);
      assertEquals(second - 1_000 - 1, afterBatch, "the latest second minus the out-of-orderness");
      // The task was held up for 30 s (back-pressure, a long checkpoint): its first tick after that is not
      // 30 s of quiet input, and a batch waiting for it is on time.
      h.setProcessingTime(30_000);
      assertEquals(afterBatch, watermark(h), "30 s held up is not quiet input");
      h.processElement(new StreamRecord<>(batch(second + 1_000)));
      assertEquals(second - 1, watermark(h));
      // Then the input goes quiet, with the task free: after the idleness (5 s), event time goes on with the clock.
      for (long t = 30_200; t <= 37_000; t += 200) {
        h.setProcessingTime(t);
      }
      assertTrue(watermark(h) > second + 1_000, "quiet input closes the last seconds: " + (watermark(h) - second));
      assertTrue(h.extractOutputValues().stream().anyMatch(b -> b.startMs == second + 1_000 && b.writerId.startsWith("late:")
          && b.metric.equals("http_reqs")), "the last second handed over once the watermark passed it");
    }
  }
}
