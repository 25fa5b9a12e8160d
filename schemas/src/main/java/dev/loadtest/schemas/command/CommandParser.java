package dev.loadtest.schemas.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses and validates a command (JSON Schema {@code command.schema.json}). Like the plan parser it
 * reports every problem at once, each with its JSON path; a start command's plan errors have paths
 * under {@code $.plan}. Stateless and thread-safe.
 */
public final class CommandParser {
  /** Test run ids and command ids: safe in topic keys, file names and SQL literals. */
  public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
  private static final Set<String> COMMON = Set.of("type", "commandId", "testRunId");

  private CommandParser() {}

  /**
   * Parses command JSON.
   *
   * @throws InvalidPlanException listing every problem
   */
  public static Command parse(String json) {
    JsonNode root = PlanParser.readTree(json, "$");
    List<PlanError> errors = new ArrayList<>();
    Command c = parse(root, errors);
    if (!errors.isEmpty()) {
      throw new InvalidPlanException(errors);
    }
    return c;
  }

  private static Command parse(JsonNode root, List<PlanError> errors) {
    if (!root.isObject()) {
      errors.add(new PlanError("$", "a command must be a JSON object with \"type\", \"commandId\" and \"testRunId\""));
      return null;
    }
    String type = text(root, "type", true, errors);
    String commandId = id(root, "commandId", errors);
    if ("schedule".equals(type) || "unschedule".equals(type)) {
      return schedule(root, type, commandId, errors);
    }
    String testRunId = id(root, "testRunId", errors);
    if (type == null) {
      return null;
    }
    switch (type) {
      case "start" -> {
        allowOnly(root, Set.of("plan", "metadata"), "a start command", errors);
        JsonNode planNode = root.get("plan");
        TestPlan plan = null;
        if (planNode == null || planNode.isNull()) {
          errors.add(new PlanError("$.plan", "a start command needs a \"plan\""));
        } else {
          plan = PlanParser.parse(planNode, "$.plan", errors);
        }
        Command.Metadata meta = metadata(root.get("metadata"), errors);
        return errors.isEmpty() ? new Command.Start(commandId, testRunId, plan, planNode.toString(), meta) : null;
      }
      case "stop" -> {
        allowOnly(root, Set.of("reason"), "a stop command", errors);
        String reason = text(root, "reason", false, errors);
        return errors.isEmpty() ? new Command.Stop(commandId, testRunId, reason == null ? "" : reason) : null;
      }
      case "abort" -> {
        allowOnly(root, Set.of("reason", "source"), "an abort command", errors);
        String reason = text(root, "reason", false, errors);
        String src = text(root, "source", false, errors);
        Command.Source source = Command.Source.USER;
        if (src != null) {
          switch (src) {
            case "user" -> source = Command.Source.USER;
            case "threshold" -> source = Command.Source.THRESHOLD;
            case "system" -> source = Command.Source.SYSTEM;
            default -> errors.add(new PlanError("$.source", "\"source\" must be \"user\", \"threshold\" or \"system\", got \"" + src + "\""));
          }
        }
        return errors.isEmpty() ? new Command.Abort(commandId, testRunId, reason == null ? "" : reason, source) : null;
      }
      case "import" -> {
        allowOnly(root, Set.of("plan", "metadata", "source", "startedAtMs", "endedAtMs", "requests", "samples",
            "iterations"), "an import command", errors);
        JsonNode planNode = root.get("plan");
        TestPlan plan = null;
        if (planNode == null || planNode.isNull()) {
          errors.add(new PlanError("$.plan", "an import command needs a \"plan\" (at least its name)"));
        } else {
          plan = PlanParser.parse(planNode, "$.plan", errors);
        }
        Command.Metadata meta = metadata(root.get("metadata"), errors);
        String source = text(root, "source", true, errors);
        int before = errors.size();
        long started = count(root, "startedAtMs", errors);
        long ended = count(root, "endedAtMs", errors);
        if (errors.size() == before && ended < started) {
          errors.add(new PlanError("$.endedAtMs", "endedAtMs must not be before startedAtMs"));
        }
        long requests = count(root, "requests", errors);
        long samples = count(root, "samples", errors);
        long iterations = root.has("iterations") ? count(root, "iterations", errors) : 0;
        return errors.isEmpty() ? new Command.Import(commandId, testRunId, plan, planNode.toString(), meta,
            source, started, ended, requests, samples, iterations) : null;
      }
      default -> {
        errors.add(new PlanError("$.type", "unknown command type \"" + type + "\" (use start, stop, abort, schedule,"
            + " unschedule or import)"));
        return null;
      }
    }
  }

  /** A schedule's rule from its JSON: a cron expression (a string) or a recurrence (an object). */
  public static ScheduleRule rule(String ruleJson) {
    JsonNode n = PlanParser.readTree(ruleJson, "$.rule");
    if (n.isTextual()) {
      return ScheduleRule.Cron.parse(n.asText());
    }
    List<PlanError> errors = new ArrayList<>();
    ScheduleRule.Recurrence r = recurrence(n, errors);
    if (r == null) {
      throw new IllegalArgumentException(errors.toString());
    }
    return r;
  }

  /** A whole number >= 0 at {@code $.field} (required). */
  private static long count(JsonNode root, String field, List<PlanError> errors) {
    JsonNode v = root.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      errors.add(new PlanError("$." + field, "\"" + field + "\" must be a whole number >= 0"));
      return 0;
    }
    return v.asLong();
  }

  /** A schedule or unschedule command: keyed by {@code scheduleId} instead of a test run id. */
  private static Command schedule(JsonNode root, String type, String commandId, List<PlanError> errors) {
    String scheduleId = id(root, "scheduleId", errors);
    if (type.equals("unschedule")) {
      allowOnlyFields(root, Set.of("type", "commandId", "scheduleId"), "an unschedule command", errors);
      return errors.isEmpty() ? new Command.Unschedule(commandId, scheduleId) : null;
    }
    allowOnlyFields(root, Set.of("type", "commandId", "scheduleId", "plan", "metadata", "cron", "recurrence"),
        "a schedule command", errors);
    JsonNode planNode = root.get("plan");
    TestPlan plan = null;
    if (planNode == null || planNode.isNull()) {
      errors.add(new PlanError("$.plan", "a schedule command needs a \"plan\""));
    } else {
      plan = PlanParser.parse(planNode, "$.plan", errors);
    }
    Command.Metadata meta = metadata(root.get("metadata"), errors);
    ScheduleRule rule = null;
    JsonNode cron = root.get("cron");
    JsonNode rec = root.get("recurrence");
    if ((cron == null) == (rec == null)) {
      errors.add(new PlanError("$", "a schedule needs exactly one of \"cron\" (e.g. \"0 3 * * *\") and \"recurrence\""
          + " (e.g. {\"frequency\": \"daily\", \"interval\": 1, \"startsAt\": \"2027-01-01T03:00:00Z\"})"));
    } else if (cron != null) {
      try {
        rule = ScheduleRule.Cron.parse(cron.isTextual() ? cron.asText() : null);
      } catch (IllegalArgumentException e) {
        errors.add(new PlanError("$.cron", e.getMessage()));
      }
    } else {
      rule = recurrence(rec, errors);
    }
    if (!errors.isEmpty()) {
      return null;
    }
    return new Command.Schedule(commandId, scheduleId, plan, planNode.toString(), meta, rule,
        (cron != null ? cron : rec).toString());
  }

  private static ScheduleRule.Recurrence recurrence(JsonNode r, List<PlanError> errors) {
    if (!r.isObject()) {
      errors.add(new PlanError("$.recurrence", "\"recurrence\" must be an object"));
      return null;
    }
    allowOnlyFields(r, Set.of("frequency", "interval", "startsAt", "until", "count"), "a recurrence", errors);
    try {
      long starts = java.time.Instant.parse(r.path("startsAt").asText("")).toEpochMilli();
      long until = r.has("until") ? java.time.Instant.parse(r.path("until").asText()).toEpochMilli() : 0;
      return new ScheduleRule.Recurrence(r.path("frequency").asText(""), r.path("interval").asInt(1), starts, until,
          r.path("count").asInt(0));
    } catch (java.time.format.DateTimeParseException e) {
      errors.add(new PlanError("$.recurrence", "startsAt and until are ISO-8601 instants, e.g. \"2027-01-01T03:00:00Z\""));
    } catch (IllegalArgumentException e) {
      errors.add(new PlanError("$.recurrence", e.getMessage()));
    }
    return null;
  }

  private static void allowOnlyFields(JsonNode node, Set<String> allowed, String what, List<PlanError> errors) {
    node.fieldNames().forEachRemaining(f -> {
      if (!allowed.contains(f)) {
        errors.add(new PlanError("$." + f, "unknown field \"" + f + "\" in " + what + " (allowed: "
            + String.join(", ", new java.util.TreeSet<>(allowed)) + ")"));
      }
    });
  }

  private static Command.Metadata metadata(JsonNode m, List<PlanError> errors) {
    if (m == null || m.isNull()) {
      return new Command.Metadata("", "", Map.of(), "", "");
    }
    if (!m.isObject()) {
      errors.add(new PlanError("$.metadata", "\"metadata\" must be an object, got " + m.getNodeType().name().toLowerCase()));
      return null;
    }
    Iterator<String> names = m.fieldNames();
    while (names.hasNext()) {
      String f = names.next();
      if (!Set.of("name", "project", "tags", "notes", "who", "loadTest").contains(f)) {
        errors.add(new PlanError("$.metadata." + f, "unknown field \"" + f + "\" in metadata (allowed: name, project,"
            + " tags, notes, who, loadTest)"));
      }
    }
    Map<String, String> tags = new LinkedHashMap<>();
    JsonNode t = m.get("tags");
    if (t != null && !t.isNull()) {
      if (!t.isObject()) {
        errors.add(new PlanError("$.metadata.tags", "\"tags\" must be an object of names to strings"));
      } else {
        t.properties().forEach(e -> {
          if (e.getValue().isTextual()) {
            tags.put(e.getKey(), e.getValue().asText());
          } else {
            errors.add(new PlanError("$.metadata.tags." + e.getKey(), "a tag value must be a string"));
          }
        });
      }
    }
    String loadTest = sub(m, "loadTest", errors);
    if (!loadTest.isEmpty() && Command.Metadata.loadTestIdProblem(loadTest) != null) {
      errors.add(new PlanError("$.metadata.loadTest", Command.Metadata.loadTestIdProblem(loadTest)));
    }
    return new Command.Metadata(sub(m, "name", errors), sub(m, "project", errors), tags, sub(m, "notes", errors),
        sub(m, "who", errors), loadTest);
  }

  private static String sub(JsonNode m, String field, List<PlanError> errors) {
    JsonNode v = m.get(field);
    if (v == null || v.isNull()) {
      return "";
    }
    if (!v.isTextual()) {
      errors.add(new PlanError("$.metadata." + field, "\"" + field + "\" must be a string"));
      return "";
    }
    return v.asText();
  }

  private static String id(JsonNode root, String field, List<PlanError> errors) {
    String v = text(root, field, true, errors);
    if (v != null && !ID.matcher(v).matches()) {
      errors.add(new PlanError("$." + field, "\"" + field + "\" must be 1 to 128 letters, digits, '.', '_', ':' or '-',"
          + " starting with a letter or digit"));
      return null;
    }
    return v;
  }

  private static String text(JsonNode root, String field, boolean required, List<PlanError> errors) {
    JsonNode v = root.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        errors.add(new PlanError("$." + field, "\"" + field + "\" is required"));
      }
      return null;
    }
    if (!v.isTextual()) {
      errors.add(new PlanError("$." + field, "\"" + field + "\" must be a string"));
      return null;
    }
    return v.asText();
  }

  private static void allowOnly(JsonNode root, Set<String> extra, String context, List<PlanError> errors) {
    Iterator<String> names = root.fieldNames();
    while (names.hasNext()) {
      String f = names.next();
      if (!COMMON.contains(f) && !extra.contains(f)) {
        errors.add(new PlanError("$." + f, "unknown field \"" + f + "\" in " + context));
      }
    }
  }
}
