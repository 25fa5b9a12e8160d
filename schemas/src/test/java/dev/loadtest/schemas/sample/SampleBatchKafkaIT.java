package dev.loadtest.schemas.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loadtest.embedded.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Sample batches through a real Kafka broker come back equal, keyed by test run. */
class SampleBatchKafkaIT {
  @Test
  @Timeout(120)
  void batchesGoThroughTheBrokerAndComeBackEqual() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    String topic = "loadtest.samples." + UUID.randomUUID();
    kafka.createTopic(topic, 3);
    List<SampleBatch> sent = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      sent.add(SampleBatches.checkout(2_000 + i, 100 + i));
    }
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true"), new StringSerializer(), new ByteArraySerializer())) {
      for (SampleBatch b : sent) {
        producer.send(new ProducerRecord<>(topic, b.testRunId(), SampleBatchCodec.encode(b))).get();
      }
    }
    List<SampleBatch> received = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (received.size() < sent.size() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          SampleBatch b = SampleBatchCodec.decode(r.value());
          assertEquals(b.testRunId(), r.key());
          received.add(b);
        }
      }
    }
    received.sort((a, b) -> Long.compare(a.sequence(), b.sequence()));
    assertEquals(sent, received);
    System.out.println("Kafka under test: " + EmbeddedKafka.version() + " at " + kafka.bootstrapServers());
  }
}
