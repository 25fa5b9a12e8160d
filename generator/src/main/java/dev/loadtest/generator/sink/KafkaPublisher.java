package dev.loadtest.generator.sink;

import dev.loadtest.schemas.topics.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces sample batches to {@code loadtest.samples}, keyed by test run id, with an idempotent,
 * lz4-compressed producer: retries after a broker hiccup never duplicate a batch, and batches of one
 * run stay in order. A batch that still fails after {@code delivery.timeout.ms} is reported to its
 * callback as failed, and counted by the caller; nothing is dropped silently.
 */
public final class KafkaPublisher implements Publisher {
  public static final int DEFAULT_DELIVERY_TIMEOUT_MS = 120_000;

  private final KafkaProducer<String, byte[]> producer;
  private final String topic;

  public KafkaPublisher(String bootstrapServers, String clientId, Map<String, Object> overrides) {
    this(bootstrapServers, clientId, Topics.SAMPLES, overrides);
  }

  public KafkaPublisher(String bootstrapServers, String clientId, String topic, Map<String, Object> overrides) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, DEFAULT_DELIVERY_TIMEOUT_MS);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
    p.putAll(overrides);
    this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    this.topic = topic;
  }

  @Override
  public void send(String key, byte[] value, Consumer<Exception> done) {
    try {
      producer.send(new ProducerRecord<>(topic, key, value), (meta, e) -> done.accept(e));
    } catch (RuntimeException e) {
      // send() throws when the producer cannot even queue the record (closed, record too large).
      done.accept(e);
    }
  }

  @Override
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(30));
  }
}
