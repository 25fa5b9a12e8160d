package dev.loadtest.topology;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The coordinator as a running Kafka Streams application: the topology of {@link CoordinatorTopology}
 * with exactly-once processing (exactly_once_v2) and its state in a directory of its own, restored
 * from Kafka's changelogs when it starts again. Creates its one-partition control topic if missing.
 * Start with {@link #start}; {@link #close} stops it cleanly.
 */
public final class Coordinator implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Coordinator.class);
  public static final String APPLICATION_ID = "loadtest-coordinator";

  private final KafkaStreams streams;

  private Coordinator(KafkaStreams streams) {
    this.streams = streams;
  }

  /**
   * Starts the coordinator and returns once it is processing.
   *
   * @throws IllegalStateException when it is not running within 60 s
   */
  public static Coordinator start(String bootstrapServers, Path stateDir, CoordinatorConfig config)
      throws InterruptedException {
    createControlTopic(bootstrapServers);
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, APPLICATION_ID);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    // A coordinator that dies without leaving (kill -9, a lost host) hands its runs to another after this,
    // not after the client's default 45 s: runs' deadlines and generators' losses must not wait that long.
    p.put(StreamsConfig.consumerPrefix(org.apache.kafka.clients.consumer.ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
    p.put(StreamsConfig.consumerPrefix(org.apache.kafka.clients.consumer.ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 2_000);
    ErrorHandlers.configure(p);
    KafkaStreams streams = new KafkaStreams(CoordinatorTopology.build(config), p);
    java.util.concurrent.CompletableFuture<KafkaStreams.State> settled = new java.util.concurrent.CompletableFuture<>();
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) {
        logTasks(streams);
      }
      if (now == KafkaStreams.State.RUNNING || now == KafkaStreams.State.ERROR
          || now == KafkaStreams.State.NOT_RUNNING) {
        settled.complete(now);
      }
    });
    streams.start();
    KafkaStreams.State state;
    try {
      state = settled.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      state = streams.state();
    }
    if (state != KafkaStreams.State.RUNNING) {
      streams.close(Duration.ofSeconds(10));
      throw new IllegalStateException("the coordinator was not running within 60 s (" + state + ")");
    }
    return new Coordinator(streams);
  }

  /**
   * Says which partitions this instance now works on (after each rebalance): with several coordinators,
   * the log tells which one holds a run's partition, and that another took it over when one died.
   */
  private static void logTasks(KafkaStreams streams) {
    try {
      java.util.TreeSet<String> active = new java.util.TreeSet<>();
      java.util.TreeSet<String> standby = new java.util.TreeSet<>();
      for (org.apache.kafka.streams.ThreadMetadata t : streams.metadataForLocalThreads()) {
        t.activeTasks().forEach(task -> task.topicPartitions().forEach(tp -> active.add(tp.toString())));
        t.standbyTasks().forEach(task -> task.topicPartitions().forEach(tp -> standby.add(tp.toString())));
      }
      LOG.info("coordinator running; active partitions {}; standby partitions {}", active, standby);
    } catch (RuntimeException e) {
      LOG.info("coordinator running; its partitions cannot be listed now: {}", e.toString());
    }
  }

  private static void createControlTopic(String bootstrapServers) {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      admin.createTopics(List.of(new NewTopic(CoordinatorTopology.CONTROL_TOPIC, Optional.of(1), Optional.empty())))
          .all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("cannot create " + CoordinatorTopology.CONTROL_TOPIC + ": " + e.getCause(), e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating " + CoordinatorTopology.CONTROL_TOPIC, e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out creating " + CoordinatorTopology.CONTROL_TOPIC, e);
    }
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  /** Stops, leaving the consumer group so that a successor takes over at once, not after a session timeout. */
  @Override
  public void close() {
    streams.close(org.apache.kafka.streams.CloseOptions.groupMembershipOperation(
        org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP).withTimeout(Duration.ofSeconds(30)));
  }
}
