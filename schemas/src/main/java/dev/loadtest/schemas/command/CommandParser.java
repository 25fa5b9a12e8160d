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
      default -> {
        errors.add(new PlanError("$.type", "unknown command type \"" + type + "\" (use start, stop or abort)"));
        return null;
      }
    }
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
      if (!Set.of("name", "project", "tags", "notes", "who").contains(f)) {
        errors.add(new PlanError("$.metadata." + f, "unknown field \"" + f + "\" in metadata (allowed: name, project, tags, notes, who)"));
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
    return new Command.Metadata(sub(m, "name", errors), sub(m, "project", errors), tags, sub(m, "notes", errors),
        sub(m, "who", errors));
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
