package dev.loadtest.api.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.EmbeddedKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ingestion lag on a real broker with transactional writers (as the generators' and Flink's): the
 * transaction markers left after a commit are not records behind, and a topic of many partitions each
 * ending in a marker answers at once instead of holding every caller for a timeout per partition (that
 * blocked `GET /runs/ID` for over a minute at the end of a run).
 */
class IngestionLagIT {
  @Test
  @Timeout(120)
  void transactionMarkersAreNotRecordsBehindAndRecordsAreCounted() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    String topic = "lag-" + UUID.randomUUID();
    String group = "g-" + UUID.randomUUID();
    kafka.createTopic(topic, 8);
    Map<String, Object> p = new HashMap<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + topic));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 8; i++) {
        producer.send(new ProducerRecord<>(topic, i, null, new byte[] {1}));
      }
      producer.commitTransaction();
    }
    // The group has read every record: its offsets stop just before each partition's commit marker.
    Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
    for (int i = 0; i < 8; i++) {
      done.put(new TopicPartition(topic, i), new OffsetAndMetadata(1));
    }
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
         IngestionLag lag = new IngestionLag(admin, kafka.bootstrapServers(), Duration.ofSeconds(3))) {
      admin.alterConsumerGroupOffsets(group, done).all().get();
      Map<String, Object> caughtUp = lag.of(group, topic);
      assertEquals(0L, caughtUp.get("recordsBehind"), "8 commit markers are not 8 records behind: " + caughtUp);
      assertEquals(0.0, caughtUp.get("secondsBehind"), caughtUp.toString());
      assertFalse((Boolean) caughtUp.get("warning"));

      // Two records written later and not read: 2 behind, as old as they are.
      Map<TopicPartition, OffsetAndMetadata> before = new HashMap<>(done);
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
          new ByteArraySerializer())) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 3, System.currentTimeMillis() - 30_000, null, new byte[] {2}));
        producer.send(new ProducerRecord<>(topic, 5, System.currentTimeMillis() - 30_000, null, new byte[] {3}));
        producer.commitTransaction();
      }
      before.put(new TopicPartition(topic, 3), new OffsetAndMetadata(2)); // past the first marker, before the record
      before.put(new TopicPartition(topic, 5), new OffsetAndMetadata(2));
      admin.alterConsumerGroupOffsets(group, before).all().get();
      Map<String, Object> behind;
      try (IngestionLag fresh = new IngestionLag(admin, kafka.bootstrapServers(), Duration.ofSeconds(3))) {
        behind = fresh.of(group, topic); // a new reader: the first one keeps its answer for a second
      }
      long records = (Long) behind.get("recordsBehind");
      // Offsets behind: the 2 records, and the commit marker after each where a record waits.
      assertTrue(records >= 2 && records <= 4, behind.toString());
      assertTrue((Double) behind.get("secondsBehind") >= 29, "the oldest waiting record is 30 s old: " + behind);
      assertTrue((Boolean) behind.get("warning"), behind.toString());
    }
  }
}
