package dev.loadtest.api.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schedules as the coordinator keeps them, read from their compacted topic ({@code loadtest.schedules})
 * from its beginning and followed: the API's view of them, a second or so behind the coordinator. Thread-safe.
 */
public final class SchedulesView implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SchedulesView.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, JsonNode> schedules = new ConcurrentSkipListMap<>();
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;

  public SchedulesView(String bootstrapServers, String topic) {
    this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.CLIENT_ID_CONFIG, "query-api-schedules"), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = Thread.ofPlatform().name("schedules-view").daemon().start(() -> loop(topic));
  }

  private void loop(String topic) {
    try {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos == null || infos.isEmpty()) {
        LOG.warn("topic {} does not exist: no schedules to show (loadtest init creates it)", topic);
        caughtUp.countDown();
        return;
      }
      List<TopicPartition> parts = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      while (running.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          String id = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
          if (id == null) {
            continue;
          }
          if (r.value() == null) {
            schedules.remove(id);
            continue;
          }
          try {
            schedules.put(id, JSON.readTree(r.value()));
          } catch (java.io.IOException e) {
            LOG.warn("skipped an unreadable schedule {} at offset {}", id, r.offset());
          }
        }
        if (caughtUp.getCount() > 0 && end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
          caughtUp.countDown();
        }
      }
    } catch (org.apache.kafka.common.errors.WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOG.error("the schedules view stopped: {}", e.toString());
    } finally {
      caughtUp.countDown();
      consumer.close(Duration.ofSeconds(2));
    }
  }

  /** Waits until what the topic held at start has been read. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Every schedule, by id; each as the API shows it. */
  public List<Map<String, Object>> list() {
    List<Map<String, Object>> out = new ArrayList<>();
    schedules.values().forEach(s -> out.add(body(s)));
    return out;
  }

  public Optional<Map<String, Object>> get(String id) {
    JsonNode s = schedules.get(id);
    return s == null ? Optional.empty() : Optional.of(body(s));
  }

  /** A schedule's state as the API shows it: its plan parsed, env values redacted ({@code PlanSecrets}). */
  private static Map<String, Object> body(JsonNode s) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("scheduleId", s.path("scheduleId").asText());
    m.put("rule", s.path("describe").asText());
    m.put("metadata", JSON.convertValue(s.path("metadata"), TreeMap.class));
    long next = s.path("nextAtMs").asLong(-1);
    m.put("nextAt", next < 0 ? null : next);
    m.put("lastRunId", s.hasNonNull("lastRunId") ? s.path("lastRunId").asText() : null);
    m.put("createdAt", s.path("createdAtMs").asLong());
    m.put("history", JSON.convertValue(s.path("history"), List.class));
    try {
      JsonNode plan = JSON.readTree(s.path("plan").asText());
      dev.loadtest.schemas.plan.PlanSecrets.redact(plan);
      m.put("plan", plan);
    } catch (java.io.IOException e) {
      m.put("plan", null);
    }
    return m;
  }

  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
