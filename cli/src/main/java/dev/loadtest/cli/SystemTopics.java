package dev.loadtest.cli;

import dev.loadtest.schemas.topics.Topics;
import java.util.List;
import org.apache.kafka.clients.admin.NewTopic;

/** The system's topics as Kafka admin requests, each with its partitions and configuration (retention...). */
final class SystemTopics {
  private SystemTopics() {}

  static List<NewTopic> all(short replication) {
    return Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), replication).configs(t.config()))
        .toList();
  }
}
