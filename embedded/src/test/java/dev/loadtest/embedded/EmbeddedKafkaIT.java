package dev.loadtest.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class EmbeddedKafkaIT {
  @Test
  @Timeout(120)
  void theSharedBrokerListensOnLoopbackAndCreatesTopicsOnce() throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    assertTrue(kafka.bootstrapServers().startsWith("127.0.0.1:"), kafka.bootstrapServers());
    String topic = "t-" + UUID.randomUUID();
    kafka.createTopic(topic, 2);
    kafka.createTopic(topic, 2);
    try (Admin admin = kafka.admin()) {
      Set<String> names = admin.listTopics().names().get(10, TimeUnit.SECONDS);
      assertTrue(names.contains(topic));
      assertEquals(2, admin.describeTopics(Set.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS)
          .get(topic).partitions().size());
    }
  }
}
