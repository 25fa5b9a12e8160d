package dev.loadtest.schemas.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.schemas.time.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the fields of one JSON object for a parser, recording a {@link PlanError} for every value that
 * is missing, of the wrong type or out of range, and returning a usable default so that parsing goes
 * on and every problem of a plan is reported at once. Not thread-safe; one per object being read.
 */
final class JsonObjectReader {
  private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final JsonNode node;
  private final String path;
  private final List<PlanError> errors;

  private JsonObjectReader(JsonNode node, String path, List<PlanError> errors) {
    this.node = node;
    this.path = path;
    this.errors = errors;
  }

  /** A reader of {@code node}, or empty (with an error recorded) when it is not an object. */
  static Optional<JsonObjectReader> of(JsonNode node, String path, List<PlanError> errors, String what) {
    if (node == null || !node.isObject()) {
      errors.add(new PlanError(path, what + " must be a JSON object, got " + describe(node)));
      return Optional.empty();
    }
    return Optional.of(new JsonObjectReader(node, path, errors));
  }

  static String child(String path, String key) {
    return SIMPLE_KEY.matcher(key).matches() ? path + "." + key : path + "['" + key.replace("'", "\\'") + "']";
  }

  static String index(String path, int i) {
    return path + "[" + i + "]";
  }

  static String describe(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return "nothing";
    }
    if (n.isNull()) {
      return "null";
    }
    if (n.isTextual()) {
      String t = n.asText();
      return "the string \"" + (t.length() > 40 ? t.substring(0, 40) + "..." : t) + "\"";
    }
    if (n.isNumber()) {
      return "the number " + n.asText();
    }
    if (n.isBoolean()) {
      return n.asText();
    }
    return n.isArray() ? "an array" : "an object";
  }

  String path() {
    return path;
  }

  List<PlanError> errors() {
    return errors;
  }

  JsonNode node() {
    return node;
  }

  String at(String field) {
    return child(path, field);
  }

  void error(String field, String message) {
    errors.add(new PlanError(field == null ? path : at(field), message));
  }

  boolean has(String field) {
    return node.has(field) && !node.get(field).isNull();
  }

  JsonNode get(String field) {
    return node.get(field);
  }

  /** Records an error for each field not in {@code allowed}, suggesting the allowed field it may be a typo of. */
  void allowOnly(Set<String> allowed, String context) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String f = names.next();
      if (!allowed.contains(f)) {
        String hint = allowed.stream().filter(a -> a.toLowerCase(Locale.ROOT).equals(f.toLowerCase(Locale.ROOT)))
            .findFirst().map(a -> " (did you mean \"" + a + "\"?)").orElse(" (allowed: " + String.join(", ", allowed) + ")");
        errors.add(new PlanError(at(f), "unknown field \"" + f + "\" in " + context + hint));
      }
    }
  }

  Optional<String> string(String field, boolean required) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        error(field, "\"" + field + "\" is required");
      }
      return Optional.empty();
    }
    if (!v.isTextual()) {
      error(field, "\"" + field + "\" must be a string, got " + describe(v));
      return Optional.empty();
    }
    if (required && v.asText().isBlank()) {
      error(field, "\"" + field + "\" must not be empty");
      return Optional.empty();
    }
    return Optional.of(v.asText());
  }

  /** A whole number within [min, max]; {@code dflt} when absent (null default: required). */
  Optional<Long> integer(String field, long min, long max, Long dflt) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (dflt == null) {
        error(field, "\"" + field + "\" is required");
      }
      return Optional.ofNullable(dflt);
    }
    if (!v.isNumber() || (!v.isIntegralNumber() && v.asDouble() != Math.rint(v.asDouble()))) {
      error(field, "\"" + field + "\" must be a whole number, got " + describe(v));
      return Optional.empty();
    }
    if (!v.canConvertToLong()) {
      error(field, "\"" + field + "\" is too large: " + v.asText());
      return Optional.empty();
    }
    long n = v.asLong();
    if (n < min) {
      error(field, "\"" + field + "\" must be at least " + min + ", got " + n);
      return Optional.empty();
    }
    if (n > max) {
      error(field, "\"" + field + "\" must be at most " + max + ", got " + n);
      return Optional.empty();
    }
    return Optional.of(n);
  }

  Optional<Double> number(String field, double min, double max, Double dflt) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (dflt == null) {
        error(field, "\"" + field + "\" is required");
      }
      return Optional.ofNullable(dflt);
    }
    if (!v.isNumber()) {
      error(field, "\"" + field + "\" must be a number, got " + describe(v));
      return Optional.empty();
    }
    double d = v.asDouble();
    if (d < min || d > max) {
      error(field, "\"" + field + "\" must be between " + fmt(min) + " and " + fmt(max) + ", got " + v.asText());
      return Optional.empty();
    }
    return Optional.of(d);
  }

  Optional<Boolean> bool(String field, boolean dflt) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return Optional.of(dflt);
    }
    if (!v.isBoolean()) {
      error(field, "\"" + field + "\" must be true or false, got " + describe(v));
      return Optional.empty();
    }
    return Optional.of(v.asBoolean());
  }

  /** A k6 duration string ("30s", "1m30s", "500ms") or a number of milliseconds; {@code dflt} when absent. */
  Optional<Duration> duration(String field, boolean allowZero, Duration dflt) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (dflt == null) {
        error(field, "\"" + field + "\" is required (a duration such as \"30s\" or \"1m30s\")");
      }
      return Optional.ofNullable(dflt);
    }
    return durationValue(v, at(field), "\"" + field + "\"", allowZero, errors);
  }

  static Optional<Duration> durationValue(JsonNode v, String path, String what, boolean allowZero,
      List<PlanError> errors) {
    if (!v.isTextual() && !v.isNumber()) {
      errors.add(new PlanError(path, what + " must be a duration such as \"30s\", got " + describe(v)));
      return Optional.empty();
    }
    try {
      Duration d = Durations.parseNonNegative(v.asText(), allowZero);
      return Optional.of(d);
    } catch (IllegalArgumentException e) {
      errors.add(new PlanError(path, what + ": " + e.getMessage()));
      return Optional.empty();
    }
  }

  /** An object of string values (numbers and booleans are accepted and kept as text). */
  Map<String, String> stringMap(String field) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return out;
    }
    if (!v.isObject()) {
      error(field, "\"" + field + "\" must be an object of names to strings, got " + describe(v));
      return out;
    }
    v.properties().forEach(e -> {
      JsonNode val = e.getValue();
      if (val.isTextual()) {
        out.put(e.getKey(), val.asText());
      } else {
        // k6 sends env, header and tag values as strings; a number here would be sent as nothing at all.
        errors.add(new PlanError(child(at(field), e.getKey()), "must be a string, got " + describe(val)
            + (val.isNumber() || val.isBoolean() ? " (write it in quotes: \"" + val.asText() + "\")" : "")));
      }
    });
    return out;
  }

  /** The elements of an array field with their paths; records an error when it is not an array. */
  List<Map.Entry<String, JsonNode>> array(String field, boolean required, boolean nonEmpty) {
    List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        error(field, "\"" + field + "\" is required");
      }
      return out;
    }
    if (!v.isArray()) {
      error(field, "\"" + field + "\" must be an array, got " + describe(v));
      return out;
    }
    if (nonEmpty && v.isEmpty()) {
      error(field, "\"" + field + "\" must not be empty");
    }
    for (int i = 0; i < v.size(); i++) {
      out.add(Map.entry(index(at(field), i), v.get(i)));
    }
    return out;
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
