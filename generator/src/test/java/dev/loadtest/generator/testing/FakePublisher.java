package dev.loadtest.generator.testing;

import dev.loadtest.generator.sink.Publisher;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A publisher that records what it is sent and can be told to hold deliveries (Kafka falling behind)
 * or to fail them (Kafka gone). A fake that records, for the sink's unit tests.
 */
public final class FakePublisher implements Publisher {
  public final List<SampleBatch> delivered = new CopyOnWriteArrayList<>();
  private final List<Runnable> held = new ArrayList<>();
  private volatile boolean hold;
  private volatile boolean fail;

  public synchronized void hold(boolean on) {
    hold = on;
    if (!on) {
      held.forEach(Runnable::run);
      held.clear();
    }
  }

  public void fail(boolean on) {
    fail = on;
  }

  public synchronized int heldBatches() {
    return held.size();
  }

  @Override
  public void send(String key, byte[] value, Consumer<Exception> done) {
    Runnable deliver = () -> {
      if (fail) {
        done.accept(new org.apache.kafka.common.errors.TimeoutException("expired in the fake"));
      } else {
        delivered.add(SampleBatchCodec.decode(value));
        done.accept(null);
      }
    };
    synchronized (this) {
      if (hold) {
        held.add(deliver);
        return;
      }
    }
    deliver.run();
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}

  public long deliveredRequests() {
    return delivered.stream().mapToLong(b -> b.requests().size()).sum();
  }
}
