package dev.loadtest.generator.sink;

/**
 * Sends encoded sample batches on their way (Kafka in production). {@link #send} must call
 * {@code done} exactly once, from any thread, with null on delivery or the cause of a final failure.
 */
public interface Publisher extends AutoCloseable {
  void send(String key, byte[] value, java.util.function.Consumer<Exception> done);

  /** Blocks until every batch sent so far has been delivered or has failed. */
  void flush() throws InterruptedException;

  @Override
  void close();
}
