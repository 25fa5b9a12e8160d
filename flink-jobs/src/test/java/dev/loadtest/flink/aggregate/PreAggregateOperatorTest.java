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
 * The first stage on Flink's operator harness (its processing time set by the test): quiet input moves event
 * time on with the clock, a task held up does not; the seconds it carries are kept in its checkpoint, not
 * handed over ahead of the barrier, and come back once after a restore.
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

  /** The requests of second {@code startMs} handed over so far (the http_reqs buckets' counts). */
  private static long requests(OneInputStreamOperatorTestHarness<AggregateJob.RawRecord, SeriesBucket> h, long startMs) {
    return h.extractOutputValues().stream().filter(b -> b.startMs == startMs && b.metric.equals("http_reqs"))
        .mapToLong(b -> b.count).sum();
  }

  @Test
  void carriedSecondsStayInTheCheckpointNotAheadOfTheBarrierAndComeBackOnceAfterARestore() throws Exception {
    long second = System.currentTimeMillis() / 1000 * 1000;
    org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
    try (var h = new OneInputStreamOperatorTestHarness<>(new PreAggregateOperator(CONFIG, 1_000))) {
      h.setProcessingTime(0);
      h.open();
      h.processElement(new StreamRecord<>(batch(second)));
      h.processElement(new StreamRecord<>(batch(second + 1_000)));
      h.prepareSnapshotPreBarrier(1);
      snapshot = h.snapshot(1, 1);
      assertEquals(0, requests(h, second), "the open seconds are not handed over ahead of the barrier");
      assertEquals(0, requests(h, second + 1_000));
    }
    try (var h = new OneInputStreamOperatorTestHarness<>(new PreAggregateOperator(CONFIG, 1_000))) {
      h.setProcessingTime(0);
      h.initializeState(snapshot);
      h.open();
      // The input after the checkpoint: a third batch of the second second, then one that closes both.
      h.processElement(new StreamRecord<>(batch(second + 1_000)));
      h.processElement(new StreamRecord<>(batch(second + 4_000)));
      assertEquals(1, requests(h, second), "restored and handed over once");
      assertEquals(2, requests(h, second + 1_000), "the restored part and the batch after the checkpoint");
      assertTrue(h.extractOutputValues().stream().filter(b -> b.startMs == second && b.metric.equals("http_reqs"))
          .allMatch(b -> b.writerId.startsWith("late:gen-1/")), "a carried bucket keeps its batch's name");
    }
    // Restored with no input after it: quiet input closes the restored seconds.
    try (var h = new OneInputStreamOperatorTestHarness<>(new PreAggregateOperator(CONFIG, 1_000))) {
      h.setProcessingTime(0);
      h.initializeState(snapshot);
      h.open();
      for (long t = 200; t <= 8_000; t += 200) {
        h.setProcessingTime(t);
      }
      assertEquals(1, requests(h, second));
      assertEquals(1, requests(h, second + 1_000));
      assertTrue(watermark(h) >= second + 1_999, "event time resumes from the restored seconds: " + (watermark(h) - second));
    }
  }
}
