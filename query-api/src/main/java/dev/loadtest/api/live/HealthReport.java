package dev.loadtest.api.live;

import dev.loadtest.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * What {@code GET /health} answers: the ClickHouse version, live listeners, the records any component
 * rejected to the DLQ ({@link DeadLetters}), how far the jobs are behind ({@link IngestionLag}: samples not yet
 * aggregated, buckets not yet judged), and a warning for each job more than {@link IngestionLag#WARN_AFTER}
 * behind. Thread-safe; owns its Kafka clients.
 */
public final class HealthReport implements AutoCloseable {
  private final Supplier<String> clickHouseVersion;
  private final LiveHub live;
  private final Admin admin;
  private final DeadLetters deadLetters;
  private final IngestionLag lag;

  public HealthReport(String bootstrapServers, Supplier<String> clickHouseVersion, LiveHub live) {
    Duration timeout = Duration.ofSeconds(3);
    this.clickHouseVersion = clickHouseVersion;
    this.live = live;
    this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis()));
    this.deadLetters = new DeadLetters(admin, Topics.DLQ, timeout);
    this.lag = new IngestionLag(admin, bootstrapServers, timeout);
  }

  public Map<String, Object> now() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", "ok");
    m.put("clickhouse", clickHouseVersion.get());
    m.put("liveListeners", live.listenerCount());
    m.put("deadLetters", deadLetters.records()); // kept 7 days; -1: the broker did not answer
    Map<String, Object> ingestion = ingestion();
    m.put("ingestion", ingestion);
    List<String> warnings = new ArrayList<>();
    ingestion.forEach((what, v) -> {
      if (v instanceof Map<?, ?> l && Boolean.TRUE.equals(l.get("warning"))) {
        warnings.add("ingestion of " + what + " is " + l.get("secondsBehind") + " s (" + l.get("recordsBehind")
            + " records) behind");
      }
    });
    m.put("warnings", warnings);
    return m;
  }

  /**
   * How far the jobs are behind: {@code samples} (the aggregate job on the raw samples) and {@code aggregates}
   * (the threshold job on the buckets), each with {@code recordsBehind}, {@code secondsBehind} and
   * {@code warning}. Shared by {@code /health}, a running run's state and the live stream.
   */
  public Map<String, Object> ingestion() {
    Map<String, Object> ingestion = new LinkedHashMap<>();
    ingestion.put("samples", lag.of(Topics.AGGREGATE_JOB_GROUP, Topics.SAMPLES));
    ingestion.put("aggregates", lag.of(Topics.THRESHOLD_JOB_GROUP, Topics.AGGREGATES));
    return ingestion;
  }

  @Override
  public void close() {
    lag.close();
    admin.close(Duration.ofSeconds(5));
  }
}
