package dev.loadtest.api.live;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * How far a job's consumer group is behind its topic, for {@code /health}: the records not yet committed
 * (the Flink jobs commit their offsets with each checkpoint) and, when there are any, the age of the oldest
 * of them by its Kafka timestamp. Reads offsets (through the caller's admin client) and at most one record per
 * lagging partition. Answers are kept for a second, so that a busy health check costs the broker nothing
 * more. Thread-safe; closes its own consumer.
 */
public final class IngestionLag implements AutoCloseable {
  /** Behind more than this, the lag is a warning. */
  public static final Duration WARN_AFTER = Duration.ofSeconds(10);

  private final Admin admin;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Duration timeout;
  private final Map<String, Cached> cache = new HashMap<>();

  private record Cached(long atMs, Map<String, Object> value) {}

  public IngestionLag(Admin admin, String bootstrapServers, Duration timeout) {
    this.admin = admin;
    this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.CLIENT_ID_CONFIG, "query-api-lag"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.timeout = timeout;
  }

  /**
   * {@code recordsBehind}, {@code secondsBehind} (0 when nothing is behind) and {@code warning} for
   * {@code group} on {@code topic}; {@code {"unknown": reason}} when the broker does not say (the group has
   * committed nothing yet, the broker is away).
   */
  public synchronized Map<String, Object> of(String group, String topic) {
    String key = group + "/" + topic;
    Cached c = cache.get(key);
    long now = System.currentTimeMillis();
    if (c != null && now - c.atMs() < 1_000) {
      return c.value();
    }
    Map<String, Object> v = read(group, topic, now);
    cache.put(key, new Cached(now, v));
    return v;
  }

  private Map<String, Object> read(String group, String topic, long now) {
    Map<String, Object> out = new LinkedHashMap<>();
    try {
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
          .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (TopicPartition tp : committed.keySet()) {
        if (tp.topic().equals(topic)) {
          latest.put(tp, OffsetSpec.latest());
        }
      }
      if (latest.isEmpty()) {
        out.put("unknown", "group " + group + " has committed no offsets of " + topic + " yet");
        return out;
      }
      var ends = admin.listOffsets(latest).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      long behind = 0;
      Map<TopicPartition, Long> lagging = new HashMap<>();
      for (var e : ends.entrySet()) {
        long at = committed.get(e.getKey()).offset();
        long lag = Math.max(0, e.getValue().offset() - at);
        behind += lag;
        if (lag > 0) {
          lagging.put(e.getKey(), at);
        }
      }
      java.util.Set<TopicPartition> markersOnly = new java.util.HashSet<>();
      long oldestMs = oldestTimestamp(lagging, markersOnly);
      for (TopicPartition tp : markersOnly) {
        behind -= ends.get(tp).offset() - lagging.get(tp); // transaction markers are not records behind
      }
      double seconds = behind == 0 || oldestMs == Long.MAX_VALUE ? 0 : Math.max(0, now - oldestMs) / 1000.0;
      out.put("recordsBehind", behind);
      out.put("secondsBehind", seconds);
      out.put("warning", seconds > WARN_AFTER.toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.put("unknown", "interrupted");
    } catch (Exception e) {
      out.put("unknown", String.valueOf(e.getMessage()));
    }
    return out;
  }

  /**
   * The oldest Kafka timestamp of the records at the given offsets, read from all partitions together within
   * one {@code timeout}; Long.MAX_VALUE when none can be read in time. A partition whose only lag is a
   * transaction marker (transactional writers leave one after each commit) has no record to read: it must
   * not cost a timeout of its own, or a topic of many partitions holds every caller for minutes.
   */
  private long oldestTimestamp(Map<TopicPartition, Long> offsets, java.util.Set<TopicPartition> markersOnly) {
    if (offsets.isEmpty()) {
      return Long.MAX_VALUE;
    }
    consumer.assign(offsets.keySet());
    offsets.forEach(consumer::seek);
    java.util.Set<TopicPartition> pending = new java.util.HashSet<>(offsets.keySet());
    long oldest = Long.MAX_VALUE;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
        if (pending.remove(new TopicPartition(r.topic(), r.partition()))) {
          oldest = Math.min(oldest, r.timestamp());
        }
      }
      // A partition read past its committed offset without giving a record held only markers (or aborted
      // records) there: nothing of it is waiting.
      pending.removeIf(tp -> {
        boolean skipped = consumer.position(tp, Duration.ofMillis(100)) > offsets.get(tp);
        if (skipped) {
          markersOnly.add(tp);
        }
        return skipped;
      });
    }
    return oldest;
  }

  @Override
  public synchronized void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
