package dev.loadtest.schemas.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A plan as it may be stored or shown: its env values (the plan's and each scenario's), which may hold
 * secrets, replaced by {@value #REDACTED}. The one rule for a run's stored plan and a schedule's shown one.
 */
public final class PlanSecrets {
  public static final String REDACTED = "<redacted>";

  private PlanSecrets() {}

  /** Replaces {@code plan}'s env values in place (a JSON value that is not a plan is left as it is). */
  public static void redact(JsonNode plan) {
    redactEnv(plan);
    JsonNode scenarios = plan == null ? null : plan.get("scenarios");
    if (scenarios != null && scenarios.isObject()) {
      scenarios.forEach(PlanSecrets::redactEnv);
    }
  }

  private static void redactEnv(JsonNode node) {
    if (node instanceof ObjectNode o && o.get("env") instanceof ObjectNode env) {
      env.properties().forEach(e -> e.setValue(env.textNode(REDACTED)));
    }
  }
}
