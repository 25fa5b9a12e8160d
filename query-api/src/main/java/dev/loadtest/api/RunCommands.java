package dev.loadtest.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.command.CommandParser;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Start, stop and abort as commands on {@code loadtest.commands}: the API never changes a run itself, the
 * coordinator does. A start is checked with the same parser the coordinator uses, so that an invalid plan
 * is answered at once with every error and its JSON path. Thread-safe.
 */
public final class RunCommands implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;

  public RunCommands(String bootstrapServers, String topic) {
    this.topic = topic;
    this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000,
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000), new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** What was sent (for a schedule's commands, {@code testRunId} is the schedule's id). */
  public record Sent(String testRunId, String commandId, String type) {}

  /** An invalid request body: every error with its JSON path. */
  public static final class Invalid extends RuntimeException {
    private final List<PlanError> errors;

    Invalid(List<PlanError> errors) {
      super(errors.size() + " error(s) in the request");
      this.errors = List.copyOf(errors);
    }

    public List<PlanError> errors() {
      return errors;
    }
  }

  /**
   * Starts a run: {@code body} is {@code {"plan": {...}, "metadata": {...}, "testRunId": "optional"}}.
   *
   * @throws Invalid listing what is wrong
   */
  public Sent start(String body) {
    JsonNode root = body(body, List.of("plan", "metadata", "testRunId"), "{\"plan\": {...}, \"metadata\": {...}}");
    String runId = root.hasNonNull("testRunId") ? root.get("testRunId").asText() : "run-" + UUID.randomUUID();
    ObjectNode command = JSON.createObjectNode();
    command.put("type", "start");
    command.put("commandId", "api-" + UUID.randomUUID());
    command.put("testRunId", runId);
    command.set("plan", root.get("plan"));
    if (root.has("metadata")) {
      command.set("metadata", root.get("metadata"));
    }
    // a run is named after its plan unless the metadata names it (the plan's name and project make its load test)
    if (root.path("plan").path("name").isTextual() && !command.path("metadata").path("name").isTextual()
        && (command.path("metadata").isObject() || command.path("metadata").isMissingNode())) {
      ObjectNode meta = command.path("metadata").isObject() ? (ObjectNode) command.get("metadata")
          : command.putObject("metadata");
      meta.put("name", root.path("plan").path("name").asText());
    }
    return send(command);
  }

  /** The plan of a start request's body as JSON text (null when there is none). */
  String planOf(String body) {
    try {
      JsonNode plan = JSON.readTree(body).get("plan");
      return plan == null ? null : plan.toString();
    } catch (java.io.IOException e) {
      return null;
    }
  }

  /**
   * Schedules a plan: {@code body} is {@code {"plan": {...}, "metadata": {...}, "cron": "0 3 * * *" or
   * "recurrence": {...}, "scheduleId": "optional"}}; the answer's id is the schedule's.
   *
   * @throws Invalid listing what is wrong
   */
  public Sent schedule(String body) {
    JsonNode root = body(body, List.of("plan", "metadata", "cron", "recurrence", "scheduleId"),
        "{\"plan\": {...}, \"cron\": ...}");
    ObjectNode command = ((ObjectNode) root).deepCopy();
    command.put("type", "schedule");
    command.put("commandId", "api-" + UUID.randomUUID());
    if (!root.hasNonNull("scheduleId")) {
      command.put("scheduleId", "schedule-" + UUID.randomUUID().toString().substring(0, 8));
    }
    return send(command);
  }

  /** Deletes a schedule (its runs are not touched). */
  public Sent unschedule(String scheduleId) {
    ObjectNode command = JSON.createObjectNode();
    command.put("type", "unschedule");
    command.put("commandId", "api-" + UUID.randomUUID());
    command.put("scheduleId", scheduleId);
    return send(command);
  }

  /** A request body: a JSON object of {@code allowed} fields only ({@code shape} says what one looks like). */
  private static JsonNode body(String body, List<String> allowed, String shape) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (Exception e) {
      throw new Invalid(List.of(new PlanError("$", "the body is not JSON: " + e.getMessage().lines().findFirst()
          .orElse(""))));
    }
    if (root == null || !root.isObject()) {
      throw new Invalid(List.of(new PlanError("$", "the body must be an object " + shape)));
    }
    List<String> unknown = iterable(root.fieldNames()).stream().filter(f -> !allowed.contains(f)).toList();
    if (!unknown.isEmpty()) {
      throw new Invalid(unknown.stream().map(f -> new PlanError("$." + f, "unknown field \"" + f
          + "\" (allowed: " + String.join(", ", allowed) + ")")).toList());
    }
    return root;
  }

  public Sent stop(String runId, String reason) {
    return send(control("stop", runId, reason));
  }

  public Sent abort(String runId, String reason) {
    ObjectNode command = control("abort", runId, reason);
    command.put("source", "user");
    return send(command);
  }

  private static ObjectNode control(String type, String runId, String reason) {
    ObjectNode command = JSON.createObjectNode();
    command.put("type", type);
    command.put("commandId", "api-" + UUID.randomUUID());
    command.put("testRunId", runId);
    command.put("reason", reason);
    return command;
  }

  private Sent send(ObjectNode command) {
    String json = command.toString();
    try {
      CommandParser.parse(json);
    } catch (InvalidPlanException e) {
      throw new Invalid(e.errors());
    }
    String runId = command.has("scheduleId") ? command.get("scheduleId").asText() : command.get("testRunId").asText();
    try {
      producer.send(new ProducerRecord<>(topic, runId.getBytes(StandardCharsets.UTF_8),
          json.getBytes(StandardCharsets.UTF_8))).get(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, null, "interrupted while sending the command");
    } catch (ExecutionException | TimeoutException e) {
      throw new ApiException(503, null, "Kafka did not take the command: " + e);
    }
    return new Sent(runId, command.get("commandId").asText(), command.get("type").asText());
  }

  private static <T> List<T> iterable(java.util.Iterator<T> it) {
    List<T> out = new java.util.ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  @Override
  public void close() {
    producer.close(java.time.Duration.ofSeconds(5));
  }
}
