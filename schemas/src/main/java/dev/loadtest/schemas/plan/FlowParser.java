package dev.loadtest.schemas.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.schemas.plan.Step.Check;
import dev.loadtest.schemas.plan.Step.Extraction;
import dev.loadtest.schemas.plan.Step.ThinkTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The part of {@link PlanParser} that reads flows, steps, checks, extractions and feeders. */
final class FlowParser {
  private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");
  private static final Set<String> STEP_KINDS = Set.of("request", "think", "group", "metric");
  private static final Pattern VAR = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern TEMPLATE_REF = Pattern.compile("\\$\\{([^}]*)}");
  private static final int MAX_GROUP_DEPTH = PlanLimits.MAX_GROUP_DEPTH;

  private FlowParser() {}

  static Map<String, Flow> flows(JsonObjectReader p, Refs refs, List<PlanError> errors) {
    Map<String, Flow> out = new LinkedHashMap<>();
    JsonNode node = p.get("flows");
    if (node == null || node.isNull()) {
      p.error("flows", "\"flows\" is required: name at least one flow of steps for the scenarios to run");
      return out;
    }
    if (JsonObjectReader.of(node, p.at("flows"), errors, "\"flows\"").isEmpty()) {
      return out;
    }
    if (node.isEmpty()) {
      p.error("flows", "\"flows\" must define at least one flow");
    }
    node.properties().forEach(e -> {
      String at = JsonObjectReader.child(p.at("flows"), e.getKey());
      if (!PlanParser.NAME.matcher(e.getKey()).matches()) {
        errors.add(new PlanError(at, "flow name \"" + e.getKey() + "\" may only use letters, digits, _ and -"));
      }
      // Register the name even when the flow is broken, so that a scenario's exec is not reported twice.
      List<Step> steps = new ArrayList<>();
      JsonObjectReader.of(e.getValue(), at, errors, "a flow").ifPresent(f -> {
        f.allowOnly(Set.of("steps", "description"), "a flow");
        f.string("description", false);
        if (!f.has("steps")) {
          f.error("steps", "\"steps\" is required: a flow needs at least one step");
        } else {
          steps.addAll(steps(f, "steps", refs, errors));
        }
      });
      out.put(e.getKey(), new Flow(e.getKey(), steps));
    });
    return out;
  }

  static List<Step> steps(JsonObjectReader parent, String field, Refs refs, List<PlanError> errors) {
    return steps(parent, field, refs, errors, 0);
  }

  private static List<Step> steps(JsonObjectReader parent, String field, Refs refs, List<PlanError> errors,
      int depth) {
    List<Step> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : parent.array(field, true, true)) {
      JsonObjectReader.of(e.getValue(), e.getKey(), errors, "a step").ifPresent(s -> {
        Step step = step(s, refs, errors, depth);
        if (step != null) {
          out.add(step);
        }
      });
    }
    return out;
  }

  private static Step step(JsonObjectReader s, Refs refs, List<PlanError> errors, int depth) {
    List<String> kinds = new ArrayList<>();
    s.node().fieldNames().forEachRemaining(f -> {
      if (STEP_KINDS.contains(f)) {
        kinds.add(f);
      }
    });
    if (kinds.size() != 1) {
      s.allowOnly(Set.of("request", "think", "group", "metric", "probability"), "a step");
      s.error(null, kinds.isEmpty()
          ? "a step must have exactly one of \"request\", \"think\", \"group\" or \"metric\""
          : "a step must have exactly one of \"request\", \"think\", \"group\" or \"metric\", this one has "
              + String.join(" and ", kinds));
      return null;
    }
    s.allowOnly(Set.of(kinds.get(0), "probability"), "a " + kinds.get(0) + " step");
    double probability = s.number("probability", 0, 1, 1.0).orElse(1.0);
    int before = errors.size();
    Step step = switch (kinds.get(0)) {
      case "request" -> JsonObjectReader.of(s.get("request"), s.at("request"), errors, "\"request\"")
          .map(r -> request(r, refs, probability, errors)).orElse(null);
      case "think" -> think(s.get("think"), s.at("think"), errors).map(t -> new Step.Think(t, probability)).orElse(null);
      case "metric" -> JsonObjectReader.of(s.get("metric"), s.at("metric"), errors, "\"metric\"")
          .map(m -> metric(m, refs, probability)).orElse(null);
      default -> JsonObjectReader.of(s.get("group"), s.at("group"), errors, "\"group\"").map(g -> {
        g.allowOnly(Set.of("name", "steps"), "a group");
        Optional<String> name = g.string("name", true);
        if (name.isPresent() && name.get().contains("::")) {
          g.error("name", "a group name must not contain \"::\" (it separates nested groups in the group tag)");
        }
        if (depth >= MAX_GROUP_DEPTH) {
          g.error(null, "groups are nested more than " + MAX_GROUP_DEPTH + " deep");
          return null;
        }
        List<Step> inner = steps(g, "steps", refs, errors, depth + 1);
        return (Step) new Step.Group(name.orElse(""), inner, probability);
      }).orElse(null);
    };
    return errors.size() == before ? step : null;
  }

  private static Step metric(JsonObjectReader m, Refs refs, double probability) {
    m.allowOnly(Set.of("name", "value", "tags"), "a metric step");
    Optional<String> name = m.string("name", true);
    name.ifPresent(n -> {
      if (!dev.loadtest.schemas.metrics.BuiltinMetrics.NAME.matcher(n).matches()) {
        m.error("name", "\"" + n + "\" is not a metric name (letters, digits and _, not starting with a digit)");
      }
    });
    String value = "1";
    if (m.has("value")) {
      JsonNode v = m.get("value");
      if (v.isNumber() || v.isBoolean()) {
        value = v.asText();
      } else if (v.isTextual()) {
        value = v.asText();
        template(value, m.at("value"), refs, m.errors());
      } else {
        m.error("value", "a metric value is a number, true/false or a template, got " + JsonObjectReader.describe(v));
      }
    }
    Map<String, String> tags = m.stringMap("tags");
    String v = value;
    return name.map(n -> (Step) new Step.Metric(n, v, tags, probability)).orElse(null);
  }

  private static Step.Request request(JsonObjectReader r, Refs refs, double probability, List<PlanError> errors) {
    r.allowOnly(Set.of("method", "url", "name", "headers", "body", "timeout", "checks", "extract", "tags"), "a request");
    String method = r.string("method", false).orElse("GET").toUpperCase(Locale.ROOT);
    if (!METHODS.contains(method)) {
      r.error("method", "unknown HTTP method \"" + method + "\" (use " + String.join(", ", METHODS.stream().sorted().toList()) + ")");
    }
    Optional<String> url = r.string("url", true);
    url.ifPresent(u -> {
      template(u, r.at("url"), refs, errors);
      String literal = u.startsWith("${") ? null : u.toLowerCase(Locale.ROOT);
      if (literal != null && !literal.startsWith("http://") && !literal.startsWith("https://")) {
        r.error("url", "the URL must start with http:// or https:// (or a ${...} template), got \"" + u + "\"");
      }
    });
    Optional<String> name = r.string("name", false);
    Map<String, String> headers = r.stringMap("headers");
    headers.forEach((k, v) -> template(v, JsonObjectReader.child(r.at("headers"), k), refs, errors));
    Optional<String> body = Optional.empty();
    JsonNode b = r.get("body");
    if (b != null && !b.isNull()) {
      if (b.isTextual()) {
        body = Optional.of(b.asText());
      } else if (b.isContainerNode()) {
        try {
          body = Optional.of(PlanParser.JSON.writeValueAsString(b));
        } catch (JsonProcessingException e) {
          r.error("body", "the body cannot be written as JSON: " + e.getOriginalMessage());
        }
      } else {
        r.error("body", "\"body\" must be a string or a JSON object or array, got " + JsonObjectReader.describe(b));
      }
      body.ifPresent(t -> template(t, r.at("body"), refs, errors));
    }
    Optional<Duration> timeout = r.has("timeout") ? r.duration("timeout", false, null) : Optional.empty();
    List<Check> checks = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : r.array("checks", false, false)) {
      JsonObjectReader.of(e.getValue(), e.getKey(), errors, "a check").flatMap(c -> check(c, errors)).ifPresent(checks::add);
    }
    List<Extraction> extract = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : r.array("extract", false, false)) {
      JsonObjectReader.of(e.getValue(), e.getKey(), errors, "an extraction").flatMap(FlowParser::extraction).ifPresent(extract::add);
    }
    Map<String, String> tags = r.stringMap("tags");
    return new Step.Request(method, url.orElse(""), name.orElse(url.orElse("")), headers, body, timeout, checks,
        extract, tags, probability);
  }

  private static Optional<Check> check(JsonObjectReader c, List<PlanError> errors) {
    c.allowOnly(Set.of("name", "status", "header", "equals", "contains", "bodyContains", "jsonPath"), "a check");
    List<String> kinds = new ArrayList<>();
    for (String k : List.of("status", "header", "bodyContains", "jsonPath")) {
      if (c.has(k)) {
        kinds.add(k);
      }
    }
    if (kinds.size() != 1) {
      c.error(null, "a check must have exactly one of \"status\", \"header\", \"bodyContains\" or \"jsonPath\""
          + (kinds.isEmpty() ? "" : ", this one has " + String.join(" and ", kinds)));
      return Optional.empty();
    }
    Optional<String> name = c.string("name", false);
    int before = errors.size();
    Check check = switch (kinds.get(0)) {
      case "status" -> {
        JsonNode v = c.get("status");
        List<Integer> codes = new ArrayList<>();
        for (JsonNode code : v.isArray() ? v : List.of(v)) {
          if (!code.isIntegralNumber() || code.asInt() < 100 || code.asInt() > 599) {
            c.error("status", "\"status\" must be an HTTP status code (100-599) or an array of them, got "
                + JsonObjectReader.describe(code));
          } else {
            codes.add(code.asInt());
          }
        }
        if (v.isArray() && v.isEmpty()) {
          c.error("status", "\"status\" must list at least one code");
        }
        yield new Check.Status(name.orElse("status is " + (codes.size() == 1 ? codes.get(0) : codes)), codes);
      }
      case "header" -> {
        String h = c.string("header", true).orElse("");
        Optional<String> eq = c.string("equals", false);
        Optional<String> contains = c.string("contains", false);
        yield new Check.Header(name.orElse("header " + h + eq.map(x -> " is " + x).or(() -> contains.map(x -> " contains " + x))
            .orElse(" exists")), h, eq, contains);
      }
      case "bodyContains" -> {
        String t = c.string("bodyContains", true).orElse("");
        yield new Check.BodyContains(name.orElse("body contains " + t), t);
      }
      default -> {
        String path = c.string("jsonPath", true).orElse("");
        if (!path.isEmpty()) {
          jsonPath(path, "jsonPath", c);
        }
        Optional<String> eq = c.has("equals") ? Optional.of(c.get("equals").toString()) : Optional.empty();
        yield new Check.JsonPath(name.orElse(path + eq.map(x -> " == " + x).orElse(" exists")), path, eq);
      }
    };
    if (!kinds.get(0).equals("header") && c.has("contains")) {
      c.error("contains", "\"contains\" belongs to a header check");
    }
    if (kinds.get(0).equals("status") && c.has("equals")) {
      c.error("equals", "a status check lists its codes in \"status\"; \"equals\" does not apply");
    }
    return errors.size() == before ? Optional.of(check) : Optional.empty();
  }

  private static void jsonPath(String path, String field, JsonObjectReader r) {
    try {
      JsonPath.compile(path);
    } catch (IllegalArgumentException e) {
      r.error(field, e.getMessage());
    }
  }

  private static Optional<Extraction> extraction(JsonObjectReader x) {
    x.allowOnly(Set.of("var", "jsonPath", "header", "regex", "group"), "an extraction");
    int before = x.errors().size();
    Optional<String> var = x.string("var", true);
    var.ifPresent(v -> {
      if (!VAR.matcher(v).matches()) {
        x.error("var", "variable name \"" + v + "\" must be letters, digits and _, not starting with a digit");
      } else if (v.equals("ENV")) {
        x.error("var", "\"ENV\" is reserved for ${ENV.NAME}");
      }
    });
    List<String> kinds = new ArrayList<>();
    for (String k : List.of("jsonPath", "header", "regex")) {
      if (x.has(k)) {
        kinds.add(k);
      }
    }
    if (kinds.size() != 1) {
      x.error(null, "an extraction must have exactly one of \"jsonPath\", \"header\" or \"regex\"");
      return Optional.empty();
    }
    String kind = kinds.get(0);
    String expr = x.string(kind, true).orElse("");
    int group = 0;
    if (kind.equals("regex") && !expr.isEmpty()) {
      try {
        int groups = Pattern.compile(expr).matcher("").groupCount();
        group = (int) x.integer("group", 0, groups, groups > 0 ? 1L : 0L).orElse(0L).longValue();
      } catch (PatternSyntaxException e) {
        x.error("regex", "\"" + expr + "\" is not a valid regular expression: " + e.getDescription());
      }
    } else if (x.has("group")) {
      x.error("group", "\"group\" applies only to a regex extraction");
    }
    if (kind.equals("jsonPath") && !expr.isEmpty()) {
      jsonPath(expr, "jsonPath", x);
    }
    if (x.errors().size() != before) {
      return Optional.empty();
    }
    Extraction.Source source = switch (kind) {
      case "jsonPath" -> Extraction.Source.JSON_PATH;
      case "header" -> Extraction.Source.HEADER;
      default -> Extraction.Source.REGEX;
    };
    return Optional.of(new Extraction(var.orElseThrow(), source, expr, group));
  }

  private static Optional<ThinkTime> think(JsonNode v, String at, List<PlanError> errors) {
    if (v != null && (v.isTextual() || v.isNumber())) {
      return JsonObjectReader.durationValue(v, at, "a think time", true, errors).map(ThinkTime.Fixed::new);
    }
    Optional<JsonObjectReader> maybe = JsonObjectReader.of(v, at, errors, "\"think\" (a duration, or an object with \"uniform\" or \"normal\")");
    if (maybe.isEmpty()) {
      return Optional.empty();
    }
    JsonObjectReader t = maybe.get();
    t.allowOnly(Set.of("uniform", "normal"), "a think time");
    if (t.has("uniform") == t.has("normal")) {
      t.error(null, "a think time must have exactly one of \"uniform\" or \"normal\"");
      return Optional.empty();
    }
    if (t.has("uniform")) {
      JsonNode u = t.get("uniform");
      if (!u.isArray() || u.size() != 2) {
        t.error("uniform", "\"uniform\" must be [min, max], e.g. [\"1s\", \"3s\"], got " + JsonObjectReader.describe(u));
        return Optional.empty();
      }
      Optional<Duration> min = JsonObjectReader.durationValue(u.get(0), JsonObjectReader.index(t.at("uniform"), 0), "min", true, errors);
      Optional<Duration> max = JsonObjectReader.durationValue(u.get(1), JsonObjectReader.index(t.at("uniform"), 1), "max", true, errors);
      if (min.isEmpty() || max.isEmpty()) {
        return Optional.empty();
      }
      if (max.get().compareTo(min.get()) < 0) {
        t.error("uniform", "the uniform think time's max is less than its min");
        return Optional.empty();
      }
      return Optional.of(new ThinkTime.Uniform(min.get(), max.get()));
    }
    return JsonObjectReader.of(t.get("normal"), t.at("normal"), errors, "\"normal\"").flatMap(n -> {
      n.allowOnly(Set.of("mean", "stddev"), "a normal think time");
      Optional<Duration> mean = n.duration("mean", true, null);
      Optional<Duration> sd = n.duration("stddev", true, null);
      return mean.isPresent() && sd.isPresent() ? Optional.of(new ThinkTime.Normal(mean.get(), sd.get())) : Optional.empty();
    });
  }

  static Map<String, Feeder> feeders(JsonObjectReader p, List<PlanError> errors) {
    Map<String, Feeder> out = new LinkedHashMap<>();
    JsonNode node = p.get("feeders");
    if (node == null || node.isNull() || JsonObjectReader.of(node, p.at("feeders"), errors, "\"feeders\"").isEmpty()) {
      return out;
    }
    node.properties().forEach(e -> {
      String at = JsonObjectReader.child(p.at("feeders"), e.getKey());
      if (!VAR.matcher(e.getKey()).matches() || e.getKey().equals("ENV")) {
        errors.add(new PlanError(at, "feeder name \"" + e.getKey() + "\" must be letters, digits and _ (and not ENV):"
            + " templates use it as ${" + e.getKey() + ".field}"));
        return;
      }
      JsonObjectReader.of(e.getValue(), at, errors, "a feeder").ifPresent(f -> {
        int before = errors.size();
        f.allowOnly(Set.of("file", "data", "format", "pick"), "a feeder");
        Optional<String> file = f.string("file", false);
        List<Map<String, String>> data = new ArrayList<>();
        for (Map.Entry<String, JsonNode> row : f.array("data", false, false)) {
          JsonObjectReader.of(row.getValue(), row.getKey(), errors, "a data row").ifPresent(r -> {
            Map<String, String> values = new LinkedHashMap<>();
            r.node().properties().forEach(c -> values.put(c.getKey(), c.getValue().isValueNode() ? c.getValue().asText() : c.getValue().toString()));
            data.add(values);
          });
        }
        if (file.isPresent() == f.has("data")) {
          f.error(null, "a feeder needs exactly one of \"file\" (a CSV or JSON file) or \"data\" (inline rows)");
        } else if (f.has("data") && data.isEmpty()) {
          f.error("data", "\"data\" must hold at least one row");
        }
        String fmt = f.string("format", false).orElse(file.map(x -> x.toLowerCase(Locale.ROOT).endsWith(".json") ? "json" : "csv").orElse("json"));
        Feeder.Format format = switch (fmt) {
          case "csv" -> Feeder.Format.CSV;
          case "json" -> Feeder.Format.JSON;
          default -> {
            f.error("format", "\"format\" must be \"csv\" or \"json\", got \"" + fmt + "\"");
            yield Feeder.Format.CSV;
          }
        };
        String pickText = f.string("pick", false).orElse("sequential");
        Feeder.Pick pick = switch (pickText) {
          case "random" -> Feeder.Pick.RANDOM;
          case "sequential" -> Feeder.Pick.SEQUENTIAL;
          case "unique" -> Feeder.Pick.UNIQUE;
          default -> {
            f.error("pick", "\"pick\" must be \"random\", \"sequential\" or \"unique\" (one row per VU), got \"" + pickText + "\"");
            yield Feeder.Pick.SEQUENTIAL;
          }
        };
        if (errors.size() == before) {
          out.put(e.getKey(), new Feeder(e.getKey(), file, data, format, pick));
        }
      });
    });
    return out;
  }

  /** Checks the ${...} references of a template: closed, non-empty, and naming a feeder that exists. */
  /**
   * The names a template may refer to besides its flow's variables: the plan's feeders, and its env values
   * (the plan's {@code env} and every scenario's, after {@code -e} values are applied).
   */
  record Refs(Set<String> feeders, Set<String> env) {}

  static void template(String text, String at, Refs refs, List<PlanError> errors) {
    int open = text.indexOf("${");
    while (open >= 0) {
      int close = text.indexOf('}', open);
      if (close < 0) {
        errors.add(new PlanError(at, "template reference \"" + text.substring(open) + "\" is not closed with '}'"));
        return;
      }
      open = text.indexOf("${", close);
    }
    Matcher m = TEMPLATE_REF.matcher(text);
    while (m.find()) {
      String ref = m.group(1).strip();
      String[] parts = ref.split("\\.", -1);
      boolean ok = parts.length == 1 ? VAR.matcher(ref).matches()
          : parts.length == 2 && VAR.matcher(parts[0]).matches() && !parts[1].isEmpty();
      if (!ok) {
        errors.add(new PlanError(at, "\"${" + m.group(1) + "}\" is not a reference: write ${var}, ${ENV.NAME} or ${feeder.field}"));
      } else if (parts.length == 2 && parts[0].equals("ENV") && !refs.env().contains(parts[1])) {
        // Found here, before any generator starts, not as an empty URL or header in every request.
        errors.add(new PlanError(at, "\"${" + ref + "}\" names env value \"" + parts[1] + "\", which the plan does"
            + " not define: add it to \"env\" or give it with -e " + parts[1] + "=..."));
      } else if (parts.length == 2 && !parts[0].equals("ENV") && !refs.feeders().contains(parts[0])) {
        errors.add(new PlanError(at, "\"${" + ref + "}\" names feeder \"" + parts[0] + "\", which the plan does not define"));
      }
    }
  }
}
