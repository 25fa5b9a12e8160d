package dev.loadtest.schemas.plan;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How large and how many: the limits every plan is held to before it is parsed, so that no plan can stop
 * the control plane (a run's state, its control event and each generator's assignment carry the plan
 * through Kafka, whose records are at most 1 MiB by default) or make a generator build millions of
 * objects. Exceeding one is a validation error like any other, with the limit and the JSON path.
 *
 * <p>The numbers are documented in the README ("Limits of a plan"); change both together.
 */
public final class PlanLimits {
  /** The plan as compact JSON, in UTF-8 bytes. */
  public static final int MAX_BYTES = 256 * 1024;
  public static final int MAX_SCENARIOS = 100;
  public static final int MAX_FLOWS = 100;
  /** Steps of all flows, setup and teardown together, those inside groups included. */
  public static final int MAX_STEPS = 2_000;
  /** Groups inside groups. */
  public static final int MAX_GROUP_DEPTH = 8;
  public static final int MAX_FEEDERS = 20;
  /** Inline rows of all feeders together. */
  public static final int MAX_FEEDER_ROWS = 50_000;
  /** Metrics with thresholds ({@code "metric{tags}"} keys). */
  public static final int MAX_THRESHOLD_METRICS = 100;
  /** Threshold expressions of all metrics together. */
  public static final int MAX_THRESHOLDS = 500;
  public static final int MAX_USER_METRICS = 100;
  public static final int MAX_ZONES = 50;
  /** Entries of the plan's {@code env} and {@code tags}, and of each scenario's. */
  public static final int MAX_MAP_ENTRIES = 500;
  /** Characters of {@code name}; {@code description} may be {@link #MAX_DESCRIPTION_CHARS}. */
  public static final int MAX_NAME_CHARS = 200;
  public static final int MAX_DESCRIPTION_CHARS = 10_000;

  private PlanLimits() {}

  /** The limits {@code plan} (at {@code path}) exceeds, each as an error; empty when it is within them. */
  public static List<PlanError> check(JsonNode plan, String path) {
    List<PlanError> errors = new ArrayList<>();
    if (plan == null || !plan.isObject()) {
      return errors;
    }
    int bytes = plan.toString().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      errors.add(new PlanError(path, "the plan is " + bytes + " bytes as compact JSON; at most " + MAX_BYTES
          + " are accepted (large feeder data belongs in a file next to the plan, not inline)"));
    }
    count(plan, path, "scenarios", MAX_SCENARIOS, "scenarios", errors);
    count(plan, path, "flows", MAX_FLOWS, "flows", errors);
    count(plan, path, "feeders", MAX_FEEDERS, "feeders", errors);
    count(plan, path, "thresholds", MAX_THRESHOLD_METRICS, "metrics with thresholds", errors);
    count(plan, path, "metrics", MAX_USER_METRICS, "user metrics", errors);
    count(plan, path, "distribution", MAX_ZONES, "load zones", errors);
    count(plan, path, "env", MAX_MAP_ENTRIES, "env values", errors);
    count(plan, path, "tags", MAX_MAP_ENTRIES, "tags", errors);
    text(plan, path, "name", MAX_NAME_CHARS, errors);
    text(plan, path, "description", MAX_DESCRIPTION_CHARS, errors);

    JsonNode scenarios = plan.get("scenarios");
    if (scenarios != null && scenarios.isObject() && scenarios.size() <= MAX_SCENARIOS) {
      for (Map.Entry<String, JsonNode> s : scenarios.properties()) {
        String at = JsonObjectReader.child(JsonObjectReader.child(path, "scenarios"), s.getKey());
        count(s.getValue(), at, "env", MAX_MAP_ENTRIES, "env values", errors);
        count(s.getValue(), at, "tags", MAX_MAP_ENTRIES, "tags", errors);
      }
    }
    int[] steps = {0};
    JsonNode flows = plan.get("flows");
    if (flows != null && flows.isObject()) {
      for (Map.Entry<String, JsonNode> f : flows.properties()) {
        String at = JsonObjectReader.child(JsonObjectReader.child(JsonObjectReader.child(path, "flows"), f.getKey()), "steps");
        steps(f.getValue().get("steps"), at, 0, steps, errors);
      }
    }
    for (String lifecycle : List.of("setup", "teardown")) {
      steps(plan.get(lifecycle), JsonObjectReader.child(path, lifecycle), 0, steps, errors);
    }
    if (steps[0] > MAX_STEPS) {
      errors.add(new PlanError(JsonObjectReader.child(path, "flows"), "the plan has " + steps[0]
          + " steps (in flows, groups, setup and teardown); at most " + MAX_STEPS + " are accepted"));
    }
    JsonNode feeders = plan.get("feeders");
    if (feeders != null && feeders.isObject()) {
      long rows = 0;
      for (JsonNode f : feeders) {
        JsonNode data = f.get("data");
        rows += data != null && data.isArray() ? data.size() : 0;
      }
      if (rows > MAX_FEEDER_ROWS) {
        errors.add(new PlanError(JsonObjectReader.child(path, "feeders"), "the feeders hold " + rows
            + " inline rows; at most " + MAX_FEEDER_ROWS + " are accepted"));
      }
    }
    JsonNode thresholds = plan.get("thresholds");
    if (thresholds != null && thresholds.isObject()) {
      long expressions = 0;
      for (JsonNode list : thresholds) {
        expressions += list.isArray() ? list.size() : 1;
      }
      if (expressions > MAX_THRESHOLDS) {
        errors.add(new PlanError(JsonObjectReader.child(path, "thresholds"), "the plan has " + expressions
            + " threshold expressions; at most " + MAX_THRESHOLDS + " are accepted"));
      }
    }
    return errors;
  }

  private static void count(JsonNode parent, String path, String field, int max, String what, List<PlanError> errors) {
    JsonNode v = parent.get(field);
    if (v != null && (v.isObject() || v.isArray()) && v.size() > max) {
      errors.add(new PlanError(JsonObjectReader.child(path, field), "the plan has " + v.size() + " " + what
          + "; at most " + max + " are accepted"));
    }
  }

  private static void text(JsonNode parent, String path, String field, int max, List<PlanError> errors) {
    JsonNode v = parent.get(field);
    if (v != null && v.isTextual() && v.asText().length() > max) {
      errors.add(new PlanError(JsonObjectReader.child(path, field), "\"" + field + "\" is " + v.asText().length()
          + " characters long; at most " + max + " are accepted"));
    }
  }

  /** Counts steps, groups' steps included, down to the deepest nesting allowed. */
  private static void steps(JsonNode list, String path, int depth, int[] count, List<PlanError> errors) {
    if (list == null || !list.isArray()) {
      return;
    }
    for (int i = 0; i < list.size(); i++) {
      count[0]++;
      JsonNode group = list.get(i).get("group");
      if (group != null && group.isObject()) {
        String at = JsonObjectReader.child(JsonObjectReader.child(JsonObjectReader.index(path, i), "group"), "steps");
        if (depth < MAX_GROUP_DEPTH) { // deeper nesting is reported by the parser
          steps(group.get("steps"), at, depth + 1, count, errors);
        }
      }
    }
  }
}
