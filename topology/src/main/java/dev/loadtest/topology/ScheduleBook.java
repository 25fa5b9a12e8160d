package dev.loadtest.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.command.CommandParser;
import dev.loadtest.schemas.command.ScheduleRule;
import dev.loadtest.schemas.run.RunStatus;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The schedules the coordinator keeps (state store {@link #STORE}, so in Kafka: they survive restarts), and
 * what is due: each due schedule becomes a start command of a new run whose id is the schedule's and the
 * start time's ({@code nightly-202701010300}: a replay after a crash makes the same id, which the command
 * processor refuses to start twice), with the schedule's id in the run's metadata tags ({@code schedule}).
 * A start is skipped, with the reason in the schedule's history, while the schedule's previous run has not
 * ended. Each change is published as the schedule's state ({@code loadtest.schedules}). Used by the control
 * processor only, on its one thread.
 */
final class ScheduleBook {
  static final String STORE = "schedules";
  /** How long a run the schedule started may be unknown to the lifecycle (its start on the way) before it counts as gone. */
  static final long STARTING_GRACE_MS = 5 * 60_000;
  static final int HISTORY = 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter RUN_SUFFIX = DateTimeFormatter.ofPattern("yyyyMMddHHmm").withZone(ZoneOffset.UTC);

  private final KeyValueStore<String, String> store;

  ScheduleBook(KeyValueStore<String, String> store) {
    this.store = store;
  }

  /** A new or replaced schedule (from the command processor's {@code schedule} event); returns its state. */
  ObjectNode put(JsonNode event, long now) {
    String id = event.path("scheduleId").asText();
    ObjectNode s = JSON.createObjectNode();
    s.put("scheduleId", id);
    s.put("plan", event.path("plan").asText());
    s.set("metadata", event.path("metadata"));
    s.put("rule", event.path("rule").asText());
    ScheduleRule rule = CommandParser.rule(event.path("rule").asText());
    s.put("describe", rule.describe());
    s.put("createdAtMs", now);
    String old = store.get(id);
    ArrayNode history = s.putArray("history");
    if (old != null) {
      JsonNode o = tree(old);
      s.put("createdAtMs", o.path("createdAtMs").asLong(now));
      if (o.hasNonNull("lastRunId")) {
        s.put("lastRunId", o.path("lastRunId").asText());
        s.put("lastFiredAtMs", o.path("lastFiredAtMs").asLong());
      }
      o.path("history").forEach(history::add);
    }
    s.put("updatedAtMs", now);
    s.put("nextAtMs", rule.next(now));
    store.put(id, s.toString());
    return s;
  }

  /** Removes a schedule; false when there was none. */
  boolean remove(String id) {
    return store.delete(id) != null;
  }

  /** What firing the due schedules made: start commands (key, JSON) and the schedules' new states. */
  record Fired(List<KeyValue<String, String>> starts, List<ObjectNode> states) {}

  /**
   * Fires every schedule due at {@code now}.
   *
   * @param statusOf a run's status in the lifecycle, or null when it is unknown there
   */
  Fired due(long now, Function<String, RunStatus> statusOf) {
    List<KeyValue<String, String>> starts = new ArrayList<>();
    List<ObjectNode> states = new ArrayList<>();
    List<ObjectNode> due = new ArrayList<>();
    try (KeyValueIterator<String, String> it = store.all()) {
      while (it.hasNext()) {
        ObjectNode s = (ObjectNode) tree(it.next().value);
        long at = s.path("nextAtMs").asLong(-1);
        if (at >= 0 && at <= now) {
          due.add(s);
        }
      }
    }
    for (ObjectNode s : due) {
      String id = s.path("scheduleId").asText();
      long at = s.path("nextAtMs").asLong();
      String last = s.hasNonNull("lastRunId") ? s.path("lastRunId").asText() : null;
      RunStatus lastStatus = last == null ? null : statusOf.apply(last);
      String skip = null;
      if (last != null && lastStatus == null && now - s.path("lastFiredAtMs").asLong() < STARTING_GRACE_MS) {
        skip = "run " + last + " of this schedule is still being started";
      } else if (lastStatus != null && !lastStatus.terminal()) {
        skip = "run " + last + " of this schedule still runs (" + lastStatus + ")";
      }
      ObjectNode h = JSON.createObjectNode().put("atMs", at);
      if (skip != null) {
        h.put("action", "skipped").put("reason", skip);
      } else {
        String runId = id + "-" + RUN_SUFFIX.format(Instant.ofEpochMilli(at));
        starts.add(KeyValue.pair(runId, startCommand(s, runId)));
        h.put("action", "started").put("testRunId", runId);
        s.put("lastRunId", runId);
        s.put("lastFiredAtMs", now);
      }
      ArrayNode history = (ArrayNode) s.path("history");
      history.add(h);
      while (history.size() > HISTORY) {
        history.remove(0);
      }
      // Starts missed while the coordinator was down are not made up for: the next is after now.
      s.put("nextAtMs", CommandParser.rule(s.path("rule").asText()).next(Math.max(at, now)));
      s.put("updatedAtMs", now);
      store.put(id, s.toString());
      states.add(s);
    }
    return new Fired(starts, states);
  }

  private static String startCommand(JsonNode s, String runId) {
    ObjectNode c = JSON.createObjectNode();
    c.put("type", "start");
    c.put("commandId", "schedule-" + runId);
    c.put("testRunId", runId);
    c.set("plan", tree(s.path("plan").asText()));
    ObjectNode meta = ((ObjectNode) s.path("metadata")).deepCopy();
    if (meta.path("name").asText("").isEmpty()) {
      meta.put("name", tree(s.path("plan").asText()).path("name").asText(s.path("scheduleId").asText()));
    }
    meta.put("who", "schedule " + s.path("scheduleId").asText());
    ((ObjectNode) meta.with("tags")).put("schedule", s.path("scheduleId").asText());
    c.set("metadata", meta);
    return c.toString();
  }

  private static JsonNode tree(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException("corrupt schedule entry", e);
    }
  }
}
