package dev.loadtest.api.live;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * How many records the components rejected to {@code loadtest.dlq} (what is still retained there), for
 * {@code /health}: a number operators watch, since a rejected record never stops anything and would go
 * unnoticed otherwise. Reads offsets only (the earliest and latest of each partition), never the records,
 * through the caller's admin client. Thread-safe.
 */
public final class DeadLetters {
  private final Admin admin;
  private final String topic;
  private final Duration timeout;

  public DeadLetters(Admin admin, String topic, Duration timeout) {
    this.admin = admin;
    this.topic = topic;
    this.timeout = timeout;
  }

  /**
   * The records retained in the DLQ topic, or -1 when the broker does not answer in time (or the topic does
   * not exist yet: 0 records then would be a guess).
   */
  public long records() {
    try {
      var partitions = admin.describeTopics(java.util.List.of(topic)).allTopicNames()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic).partitions();
      Map<TopicPartition, OffsetSpec> earliest = new java.util.HashMap<>();
      Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
      for (var p : partitions) {
        earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
        latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
      }
      var from = admin.listOffsets(earliest).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      var to = admin.listOffsets(latest).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      long total = 0;
      for (var e : to.entrySet()) {
        total += e.getValue().offset() - from.get(e.getKey()).offset();
      }
      return total;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    } catch (Exception e) {
      return -1;
    }
  }
}
