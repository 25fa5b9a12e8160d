package dev.loadtest.schemas.generator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON of {@link Heartbeat} and {@link Assignment}, the contract between generators and the
 * coordinator. Reading is strict: a missing or mistyped field is an {@link IllegalArgumentException}
 * that names it. Stateless and thread-safe.
 */
public final class GeneratorJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private GeneratorJson() {}

  public static String heartbeat(Heartbeat h) {
    try {
      return JSON.writeValueAsString(h);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Bounds on what a heartbeat says about failed iterations (a generator sends 5 reasons of 300 characters). */
  static final int MAX_ITERATION_ERRORS = 20;
  static final int MAX_ITERATION_ERROR_CHARS = 1000;
  static final int MAX_PLUGINS = 64;

  public static Heartbeat parseHeartbeat(String json) {
    Heartbeat h;
    try {
      h = JSON.readValue(json, Heartbeat.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a heartbeat: " + e.getOriginalMessage(), e);
    }
    if (h == null || h.generatorId() == null || h.generatorId().isBlank() || h.loadZone() == null
        || h.capacityVus() < 0) {
      throw new IllegalArgumentException("not a heartbeat: it needs generatorId, loadZone and capacityVus >= 0");
    }
    if (h.plugins() != null && (h.plugins().size() > MAX_PLUGINS
        || h.plugins().stream().anyMatch(p -> p == null || !p.matches("[A-Za-z0-9_-]{1,64}")))) {
      throw new IllegalArgumentException("not a heartbeat: plugins must be at most " + MAX_PLUGINS
          + " names of letters, digits, - and _ (at most 64 characters each)");
    }
    for (int i = 0; i < h.runs().size(); i++) {
      Heartbeat.RunProgress p = h.runs().get(i);
      if (p == null || p.testRunId() == null || p.phase() == null) {
        throw new IllegalArgumentException("not a heartbeat: runs[" + i + "] needs testRunId and phase");
      }
      if (p.failedIterations() < 0 || p.iterationErrors().size() > MAX_ITERATION_ERRORS
          || p.iterationErrors().stream().anyMatch(e -> e == null || e.length() > MAX_ITERATION_ERROR_CHARS)) {
        throw new IllegalArgumentException("not a heartbeat: runs[" + i + "] (" + p.testRunId() + ") needs"
            + " failedIterations >= 0 and at most " + MAX_ITERATION_ERRORS + " iterationErrors of at most "
            + MAX_ITERATION_ERROR_CHARS + " characters");
      }
    }
    return h;
  }

  public static String assignment(Assignment a) {
    ObjectNode o = JSON.createObjectNode();
    o.put("testRunId", a.testRunId());
    o.put("generatorId", a.generatorId());
    switch (a) {
      case Assignment.Start s -> {
        o.put("type", "start");
        o.put("sequence", s.sequence());
        o.put("segmentIndex", s.segmentIndex());
        o.put("startAtMs", s.startAtMs());
        try {
          o.set("plan", JSON.readTree(s.planJson()));
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException("the plan of an assignment must be JSON", e);
        }
      }
      case Assignment.Stop s -> o.put("type", "stop");
      case Assignment.Abort ab -> {
        o.put("type", "abort");
        o.put("reason", ab.reason());
      }
    }
    return o.toString();
  }

  public static Assignment parseAssignment(String json) {
    JsonNode o;
    try {
      o = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("an assignment must be JSON: " + e.getOriginalMessage(), e);
    }
    if (o == null || !o.isObject()) {
      throw new IllegalArgumentException("an assignment must be a JSON object");
    }
    List<String> missing = new ArrayList<>();
    String type = text(o, "type", missing);
    String run = text(o, "testRunId", missing);
    String gen = text(o, "generatorId", missing);
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("assignment lacks " + String.join(", ", missing));
    }
    return switch (type) {
      case "start" -> {
        JsonNode plan = o.get("plan");
        if (plan == null || !plan.isObject() || !o.path("sequence").isTextual()
            || !o.path("segmentIndex").canConvertToInt() || !o.path("startAtMs").canConvertToLong()) {
          throw new IllegalArgumentException(
              "a start assignment needs plan (object), sequence (text), segmentIndex and startAtMs (numbers)");
        }
        yield new Assignment.Start(run, gen, plan.toString(), o.get("sequence").asText(),
            o.get("segmentIndex").asInt(), o.get("startAtMs").asLong());
      }
      case "stop" -> new Assignment.Stop(run, gen);
      case "abort" -> new Assignment.Abort(run, gen, o.path("reason").asText(""));
      default -> throw new IllegalArgumentException("assignment type must be start, stop or abort, got \"" + type + "\"");
    };
  }

  private static String text(JsonNode o, String field, List<String> missing) {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual()) {
      missing.add("\"" + field + "\" (text)");
      return null;
    }
    return n.asText();
  }
}
