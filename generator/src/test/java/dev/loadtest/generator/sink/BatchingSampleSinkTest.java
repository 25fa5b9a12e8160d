package dev.loadtest.generator.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.testing.FakePublisher;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.TagSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Batching, back-pressure and delivery accounting of the sample sink, against a recording fake. */
@Timeout(60)
class BatchingSampleSinkTest {
  static final TagSet TAGS = TagSet.of(Map.of("name", "p", "status", "200"));
  static final SampleSink.RequestTimings T = new SampleSink.RequestTimings(1000, 0, 0, 0, 10, 900, 90, 100, 200);

  @Test
  void everySampleFromManyThreadsArrivesOnceInOrderedBatches() throws Exception {
    FakePublisher pub = new FakePublisher();
    BatchingSampleSink sink = new BatchingSampleSink("run-1", "g1", "z", pub, 500, 20, 10_000);
    List<Thread> vus = new ArrayList<>();
    for (int v = 0; v < 8; v++) {
      int vu = v;
      vus.add(Thread.ofVirtual().start(() -> {
        for (int i = 0; i < 5_000; i++) {
          try {
            sink.request(1_000_000L + i, TAGS, T, false, vu);
            if (i % 10 == 0) {
              sink.point("checks", MetricType.RATE, 1_000_000L + i, TAGS, 1);
            }
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
        }
      }));
    }
    for (Thread t : vus) {
      t.join();
    }
    BatchingSampleSink.Stats stats = sink.close(10_000);
    assertEquals(40_000, pub.deliveredRequests());
    assertEquals(40_000 + 4_000, stats.delivered());
    assertEquals(0, stats.undelivered());
    assertEquals(0, stats.pending());
    Set<Long> seq = new HashSet<>();
    for (SampleBatch b : pub.delivered) {
      assertTrue(b.size() <= 500, "a batch holds at most maxBatchSamples");
      assertTrue(seq.add(b.sequence()));
      assertEquals("run-1", b.testRunId());
    }
  }

  @Test
  void whenKafkaFallsBehindVusWaitAndTheWaitIsCountedAndNothingIsLost() throws Exception {
    FakePublisher pub = new FakePublisher();
    pub.hold(true);
    BatchingSampleSink sink = new BatchingSampleSink("run-2", "g1", "z", pub, 100, 5, 1_000);
    AtomicLong recorded = new AtomicLong();
    Thread vu = Thread.ofVirtual().start(() -> {
      for (int i = 0; i < 3_000; i++) {
        try {
          sink.request(i, TAGS, T, false, 1);
          recorded.incrementAndGet();
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    // The VU fills the bound (1,000 pending samples) and then waits.
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (recorded.get() < 1_000 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    vu.join(300);
    assertTrue(vu.isAlive(), "the VU waits while Kafka holds every batch");
    assertEquals(1_000, recorded.get(), "buffered within the bound");
    pub.hold(false);
    vu.join(10_000);
    BatchingSampleSink.Stats stats = sink.close(10_000);
    assertEquals(3_000, pub.deliveredRequests());
    assertTrue(stats.backpressureWaits() > 0 && stats.backpressureNanos() > 0, stats.toString());
  }

  @Test
  void batchesKafkaCannotTakeAreCountedAsUndeliveredNeverSilentlyDropped() throws Exception {
    FakePublisher pub = new FakePublisher();
    pub.fail(true);
    BatchingSampleSink sink = new BatchingSampleSink("run-3", "g1", "z", pub, 100, 5, 1_000);
    for (int i = 0; i < 2_500; i++) {
      sink.request(i, TAGS, T, true, 1);
    }
    BatchingSampleSink.Stats stats = sink.close(10_000);
    assertEquals(2_500, stats.recorded());
    assertEquals(2_500, stats.undelivered());
    assertEquals(0, stats.delivered());
    assertEquals(0, stats.pending());
  }

  @Test
  void aQuietRunStillFlushesWithinTheInterval() throws Exception {
    FakePublisher pub = new FakePublisher();
    BatchingSampleSink sink = new BatchingSampleSink("run-4", "g1", "z", pub, 10_000, 50, 20_000);
    sink.request(1, TAGS, T, false, 1);
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (pub.delivered.isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertEquals(1, pub.deliveredRequests(), "one sample left alone is sent after about flushIntervalMs");
    sink.close(1_000);
  }
}
