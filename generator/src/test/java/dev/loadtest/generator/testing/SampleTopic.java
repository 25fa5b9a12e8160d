package dev.loadtest.generator.testing;

import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import dev.loadtest.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The real broker's loadtest topics, and reading a run's sample batches back from it. */
public final class SampleTopic {
  private SampleTopic() {}

  public static EmbeddedKafka kafkaWithTopics() {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    return kafka;
  }

  /** Every batch of a run on the samples topic, read until {@code requests} request samples have come. */
  public static List<SampleBatch> read(EmbeddedKafka kafka, String testRunId, long requests, Duration timeout) {
    List<SampleBatch> out = new ArrayList<>();
    long seen = 0;
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(Topics.SAMPLES));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (seen < requests && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(300))) {
          if (testRunId.equals(r.key())) {
            SampleBatch b = SampleBatchCodec.decode(r.value());
            out.add(b);
            seen += b.requests().size();
          }
        }
      }
    }
    return out;
  }
}
