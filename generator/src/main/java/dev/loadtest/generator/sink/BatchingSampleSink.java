package dev.loadtest.generator.sink;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchBuilder;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import dev.loadtest.schemas.sample.TagSet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.LoggerFactory;
import org.slf4j.Logger;

/**
 * Batches the samples of one run on one generator into {@link SampleBatch}es, about every
 * {@code flushIntervalMs} or every {@code maxBatchSamples} samples, encodes them off the VUs' threads and
 * hands them to a {@link Publisher}.
 *
 * <p>Back-pressure, never silent loss: at most {@code maxPendingSamples} samples may be recorded but not
 * yet delivered. A VU that records beyond that waits (the wait is counted in {@link Stats#backpressureNanos})
 * until deliveries free room. A batch the publisher finally fails to deliver is counted in
 * {@link Stats#undelivered}, and reported with the run's progress.
 *
 * <p>Thread-safety: {@link #request} and {@link #point} may be called from any number of threads; one
 * flusher thread and one sender thread of this sink do the rest. {@link #close} once, after the VUs stop.
 */
public final class BatchingSampleSink implements SampleSink, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BatchingSampleSink.class);
  public static final int DEFAULT_MAX_BATCH_SAMPLES = 10_000;
  public static final long DEFAULT_FLUSH_INTERVAL_MS = 100;
  public static final int DEFAULT_MAX_PENDING_SAMPLES = 2_000_000;

  private final String testRunId;
  private final String generatorId;
  private final String loadZone;
  private final Publisher publisher;
  private final int maxBatchSamples;
  private final long flushIntervalNanos;
  private final int maxPendingSamples;

  /** The tag every sample gets ({@link #tagEvery}): key and value, or null. */
  private volatile String[] everyTag;

  private final ReentrantLock lock = new ReentrantLock();
  private SampleBatchBuilder builder;
  private long builderOpenedNanos;
  private long sequence;

  private final Semaphore room;
  private final LinkedBlockingQueue<SampleBatch> toSend = new LinkedBlockingQueue<>();
  private static final SampleBatch END = new SampleBatchBuilder("-", "-", "-", -1, 0).build();

  private final AtomicLong recorded = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong undelivered = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong backpressureNanos = new AtomicLong();
  private final AtomicLong backpressureWaits = new AtomicLong();
  private volatile LocalStats localStats;
  private final Thread flusher;
  private final Thread sender;
  private volatile boolean closed;

  /** What happened to the samples of this sink so far. */
  public record Stats(long requests, long recorded, long delivered, long undelivered, long batches, long backpressureWaits,
      long backpressureNanos) {
    public long pending() {
      return recorded - delivered - undelivered;
    }
  }

  public BatchingSampleSink(String testRunId, String generatorId, String loadZone, Publisher publisher) {
    this(testRunId, generatorId, loadZone, publisher, DEFAULT_MAX_BATCH_SAMPLES, DEFAULT_FLUSH_INTERVAL_MS,
        DEFAULT_MAX_PENDING_SAMPLES);
  }

  public BatchingSampleSink(String testRunId, String generatorId, String loadZone, Publisher publisher,
      int maxBatchSamples, long flushIntervalMs, int maxPendingSamples) {
    if (maxBatchSamples < 1 || flushIntervalMs < 1 || maxPendingSamples < maxBatchSamples) {
      throw new IllegalArgumentException("need maxBatchSamples >= 1, flushIntervalMs >= 1 and maxPendingSamples"
          + " >= maxBatchSamples, got " + maxBatchSamples + ", " + flushIntervalMs + ", " + maxPendingSamples);
    }
    this.testRunId = testRunId;
    this.generatorId = generatorId;
    this.loadZone = loadZone;
    this.publisher = publisher;
    this.maxBatchSamples = maxBatchSamples;
    this.flushIntervalNanos = TimeUnit.MILLISECONDS.toNanos(flushIntervalMs);
    this.maxPendingSamples = maxPendingSamples;
    this.room = new Semaphore(maxPendingSamples);
    // Batches are counted once per (run, generator, sequence) downstream. A generator restarted into the same
    // run under the same id must not reuse its predecessor's numbers, so numbering starts at the clock (in
    // microseconds; a sink numbers far fewer than a million batches a second, so a later sink starts higher).
    this.sequence = System.currentTimeMillis() * 1000;
    this.builder = newBuilder();
    this.flusher = Thread.ofPlatform().daemon().name("samples-flush-" + testRunId).start(this::flushLoop);
    this.sender = Thread.ofPlatform().daemon().name("samples-send-" + testRunId).start(this::sendLoop);
  }

  @Override
  public void request(long startUs, TagSet tags, RequestTimings t, boolean failed, int vu) throws InterruptedException {
    acquire(1);
    SampleBatch full;
    lock.lock();
    try {
      builder.addRequest(startUs, builder.tagSet(tags), t.durationUs(), t.blockedUs(), t.connectingUs(),
          t.tlsHandshakingUs(), t.sendingUs(), t.waitingUs(), t.receivingUs(), t.bytesSent(), t.bytesReceived(),
          failed, vu);
      full = takeIfFull();
    } finally {
      lock.unlock();
    }
    requests.incrementAndGet();
    LocalStats ls = localStats;
    if (ls != null) {
      ls.request(tags, t, failed);
    }
    added(full);
  }

  @Override
  public void point(String metric, MetricType type, long timeUs, TagSet tags, double value) throws InterruptedException {
    acquire(1);
    SampleBatch full;
    lock.lock();
    try {
      builder.addPoint(builder.metric(metric, type), timeUs, builder.tagSet(tags), value);
      full = takeIfFull();
    } finally {
      lock.unlock();
    }
    added(full);
  }

  /** Under the lock: the current batch when it is full (a new one is opened), else null. */
  private SampleBatch takeIfFull() {
    return builder.size() >= maxBatchSamples ? swap() : null;
  }

  /** Outside the lock, after one sample was added: counts it and sends a batch it filled. */
  private void added(SampleBatch full) {
    recorded.incrementAndGet();
    if (full != null) {
      toSend.add(full);
    }
  }

  /**
   * Adds a whole batch built elsewhere (the synthetic plug-in builds its own), keeping this sink's
   * sequence numbers, back-pressure and delivery accounting.
   */
  public void batch(java.util.function.LongFunction<SampleBatch> build) throws InterruptedException {
    long seq;
    lock.lock();
    try {
      seq = sequence++;
    } finally {
      lock.unlock();
    }
    SampleBatch b = build.apply(seq);
    acquire(b.size());
    recorded.addAndGet(b.size());
    requests.addAndGet(b.requests().size());
    toSend.add(b);
  }

  /** Also tallies requests into {@code stats} (for a local run's closing line). */
  public void observe(LocalStats stats) {
    this.localStats = stats;
  }

  public String testRunId() {
    return testRunId;
  }

  public String generatorId() {
    return generatorId;
  }

  public String loadZone() {
    return loadZone;
  }

  private void acquire(int samples) throws InterruptedException {
    if (closed) {
      throw new IllegalStateException("the sample sink of run " + testRunId + " is closed");
    }
    if (!room.tryAcquire(samples)) {
      long t0 = System.nanoTime();
      room.acquire(samples);
      backpressureWaits.incrementAndGet();
      backpressureNanos.addAndGet(System.nanoTime() - t0);
    }
  }

  /** Under the lock: takes the current batch and opens a new one. */
  private SampleBatch swap() {
    SampleBatch b = builder.build();
    builder = newBuilder();
    return b;
  }

  private SampleBatchBuilder newBuilder() {
    builderOpenedNanos = System.nanoTime();
    long nowUs = System.currentTimeMillis() * 1000;
    return batchBuilder(sequence++, nowUs);
  }

  /**
   * Tags every sample of this sink with {@code key}={@code value} unless it has that key (the generator's id,
   * when the plan's {@code generator.tagGenerator} asks for it). Call it before the first sample.
   */
  public void tagEvery(String key, String value) {
    lock.lock();
    try {
      everyTag = new String[] {key, value};
      builder.tagEvery(key, value);
    } finally {
      lock.unlock();
    }
  }

  /** A batch of this sink's run, generator and zone, for a plug-in that builds its batches itself. */
  public SampleBatchBuilder batchBuilder(long sequence, long baseTimeUs) {
    SampleBatchBuilder b = new SampleBatchBuilder(testRunId, generatorId, loadZone, sequence, baseTimeUs);
    String[] every = everyTag;
    return every == null ? b : b.tagEvery(every[0], every[1]);
  }

  private void flushLoop() {
    while (!closed) {
      try {
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(flushIntervalNanos) / 2 + 1);
      } catch (InterruptedException e) {
        return;
      }
      flushIfOlderThan(flushIntervalNanos);
    }
  }

  private void flushIfOlderThan(long ageNanos) {
    SampleBatch b = null;
    lock.lock();
    try {
      if (builder.size() > 0 && System.nanoTime() - builderOpenedNanos >= ageNanos) {
        b = swap();
      }
    } finally {
      lock.unlock();
    }
    if (b != null) {
      toSend.add(b);
    }
  }

  private void sendLoop() {
    SampleBatchCodec.Encoder encoder = new SampleBatchCodec.Encoder(1 << 20);
    while (true) {
      SampleBatch b;
      try {
        b = toSend.take();
      } catch (InterruptedException e) {
        return;
      }
      if (b == END) {
        return;
      }
      int n = b.size();
      byte[] bytes;
      try {
        bytes = encoder.encode(b);
      } catch (RuntimeException e) {
        LOG.error("run {}: could not encode a batch of {} samples; counted as undelivered", testRunId, n, e);
        undelivered.addAndGet(n);
        room.release(n);
        continue;
      }
      batches.incrementAndGet();
      publisher.send(testRunId, bytes, e -> {
        if (e == null) {
          delivered.addAndGet(n);
        } else {
          undelivered.addAndGet(n);
          LOG.error("run {}: a batch of {} samples could not be delivered: {}", testRunId, n, e.toString());
        }
        room.release(n);
      });
    }
  }

  public Stats stats() {
    return new Stats(requests.get(), recorded.get(), delivered.get(), undelivered.get(), batches.get(), backpressureWaits.get(),
        backpressureNanos.get());
  }

  /**
   * Sends what is left and waits until every sample is delivered or counted as undelivered, at most
   * {@code timeoutMs}. Does not close the publisher, which may serve other runs.
   *
   * @return the final stats; {@link Stats#pending()} is 0 unless the wait timed out
   */
  public Stats close(long timeoutMs) throws InterruptedException {
    if (closed) {
      return stats();
    }
    flushIfOlderThan(0);
    closed = true;
    flusher.interrupt();
    toSend.add(END);
    sender.join(timeoutMs);
    publisher.flush();
    // Every callback releases its samples' room: all room back means every sample is accounted for.
    if (room.tryAcquire(maxPendingSamples, timeoutMs, TimeUnit.MILLISECONDS)) {
      room.release(maxPendingSamples);
    } else {
      LOG.warn("run {}: {} samples still pending delivery after {} ms", testRunId, stats().pending(), timeoutMs);
    }
    return stats();
  }

  @Override
  public void close() throws InterruptedException {
    close(KafkaPublisher.DEFAULT_DELIVERY_TIMEOUT_MS + 10_000L);
  }
}
