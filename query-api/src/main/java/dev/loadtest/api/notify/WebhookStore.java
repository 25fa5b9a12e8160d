package dev.loadtest.api.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Webhooks per project and their deliveries (tables {@code webhooks} and {@code webhook_deliveries}, migration
 * V012). A webhook's secret is kept to sign its deliveries and never shown or logged. Thread-safe.
 */
public final class WebhookStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A webhook: where a project's run events go, which events, in which form. */
  public record Webhook(String id, String project, String url, List<String> events, String format, String secret,
      long createdAtSec) {
    /** Whether this webhook wants {@code event}. */
    public boolean wants(String event) {
      return events.isEmpty() || events.contains(event);
    }
  }

  /** One attempt to deliver an event ({@code eventId}: the same for every attempt of it, in any process). */
  public record Delivery(String webhookId, String testRunId, String event, int attempt, int statusCode, String error,
      boolean delivered, long atMs, String eventId) {}

  private final ClickHouseHttp ch;
  private final String database;
  private final AtomicLong versions = new AtomicLong();
  private final SecureRandom random = new SecureRandom();

  public WebhookStore(ClickHouseHttp ch, String database) {
    this.ch = ch;
    this.database = database;
  }

  /** Stores a new webhook and returns it. */
  public Webhook create(String project, String url, List<String> events, String format, String secret) {
    byte[] b = new byte[8];
    random.nextBytes(b);
    Webhook w = new Webhook("wh-" + HexFormat.of().formatHex(b), project, url, List.copyOf(events), format,
        secret == null ? "" : secret, System.currentTimeMillis() / 1000);
    write(w, false);
    return w;
  }

  /** Marks {@code id} deleted; false when there is no such webhook. */
  public boolean delete(String id) {
    Optional<Webhook> w = get(id);
    w.ifPresent(x -> write(x, true));
    return w.isPresent();
  }

  private void write(Webhook w, boolean deleted) {
    long version = versions.updateAndGet(last -> Math.max(last + 1, System.currentTimeMillis() * 1000));
    ch.execute(database, "INSERT INTO webhooks (id, project, url, events, format, secret, created_at, deleted, version)"
        + " VALUES (" + q(w.id()) + ", " + q(w.project()) + ", " + q(w.url()) + ", [" + w.events().stream()
        .map(WebhookStore::q).collect(Collectors.joining(", ")) + "], " + q(w.format()) + ", " + q(w.secret())
        + ", toDateTime(" + w.createdAtSec() + "), " + (deleted ? 1 : 0) + ", " + version + ")");
  }

  public Optional<Webhook> get(String id) {
    List<Webhook> l = read(" WHERE id = " + q(id));
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  /** The webhooks of {@code project} (null: every project's), oldest first. */
  public List<Webhook> list(String project) {
    return read(project == null ? "" : " WHERE project = " + q(project));
  }

  private List<Webhook> read(String where) {
    List<Webhook> out = new ArrayList<>();
    String sql = "SELECT id, project, url, events, format, secret, toUInt32(created_at) AS c FROM (SELECT * FROM"
        + " webhooks FINAL" + where + ") WHERE deleted = 0 ORDER BY created_at, id FORMAT JSONEachRow";
    for (String line : ch.execute(database, sql).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode n = tree(line);
      List<String> events = new ArrayList<>();
      n.path("events").forEach(e -> events.add(e.asText()));
      out.add(new Webhook(n.path("id").asText(), n.path("project").asText(), n.path("url").asText(), events,
          n.path("format").asText(), n.path("secret").asText(), n.path("c").asLong()));
    }
    return out;
  }

  public void record(Delivery d) {
    ch.execute(database, "INSERT INTO webhook_deliveries (webhook_id, test_run_id, event, attempt, status_code, error,"
        + " delivered, at_ms, event_id) VALUES (" + q(d.webhookId()) + ", " + q(d.testRunId()) + ", " + q(d.event())
        + ", " + d.attempt() + ", " + d.statusCode() + ", " + q(d.error() == null ? "" : d.error()) + ", "
        + (d.delivered() ? 1 : 0) + ", " + d.atMs() + ", " + q(d.eventId()) + ")");
  }

  /** Whether event {@code eventId} reached webhook {@code webhookId} already (from this process or another). */
  public boolean delivered(String webhookId, String eventId) {
    return !ch.execute(database, "SELECT count() FROM webhook_deliveries WHERE webhook_id = " + q(webhookId)
        + " AND event_id = " + q(eventId) + " AND delivered = 1 FORMAT TabSeparated").strip().equals("0");
  }

  /** A webhook's delivery attempts, newest first. */
  public List<Delivery> deliveries(String webhookId, int limit) {
    List<Delivery> out = new ArrayList<>();
    for (String line : ch.execute(database, "SELECT webhook_id, test_run_id, event, attempt, status_code, error,"
        + " delivered, at_ms, event_id FROM webhook_deliveries WHERE webhook_id = " + q(webhookId) + " ORDER BY at_ms DESC,"
        + " attempt DESC LIMIT " + limit + " FORMAT JSONEachRow").split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode n = tree(line);
      out.add(new Delivery(n.path("webhook_id").asText(), n.path("test_run_id").asText(), n.path("event").asText(),
          n.path("attempt").asInt(), n.path("status_code").asInt(), n.path("error").asText(),
          n.path("delivered").asInt() == 1, n.path("at_ms").asLong(), n.path("event_id").asText()));
    }
    return out;
  }

  private static String q(String s) {
    return ClickHouseHttp.quote(s);
  }

  private static JsonNode tree(String line) {
    try {
      return JSON.readTree(line);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("ClickHouse answered a line that is not JSON: " + e.getMessage(), e);
    }
  }
}
