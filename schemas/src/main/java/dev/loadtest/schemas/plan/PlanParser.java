package dev.loadtest.schemas.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.loadtest.schemas.metrics.BuiltinMetrics;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.Scenario.Executor;
import dev.loadtest.schemas.plan.Scenario.Stage;
import dev.loadtest.schemas.plan.TestPlan.GeneratorLossPolicy;
import dev.loadtest.schemas.plan.TestPlan.ZoneShare;
import dev.loadtest.schemas.threshold.MetricSelector;
import dev.loadtest.schemas.threshold.Threshold;
import dev.loadtest.schemas.threshold.ThresholdExpression;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import java.util.regex.Pattern;

/**
 * Parses and validates a test plan (JSON, k6 vocabulary; JSON Schema {@code test-plan.schema.json}).
 * Validation is strict and complete: unknown fields, wrong types, values out of range and broken
 * references (a flow that does not exist, a threshold on an unknown metric) are all collected, each
 * with its JSON path, and reported together in one {@link InvalidPlanException}. Stateless and
 * thread-safe.
 */
public final class PlanParser {
  /**
   * Longest JSON text read at all (a plan file, a command), in characters; what a plan may hold is up to
   * {@link PlanLimits}, checked on the parsed tree with a path for each limit.
   */
  public static final int MAX_JSON_CHARS = 4 << 20;
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,100}");
  /** Duplicate keys are an error: JSON parsers disagree on which one wins. */
  static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  private static final Set<String> PLAN_FIELDS = Set.of("name", "description", "env", "tags", "metrics",
      "feeders", "scenarios", "thresholds", "flows", "setup", "teardown", "distribution", "onGeneratorLoss", "generator", "insights",
      "vus", "duration", "iterations", "stages");
  private static final Set<String> COMMON = Set.of("executor", "startTime", "gracefulStop", "exec", "env", "tags");
  private static final Map<String, Set<String>> EXECUTOR_FIELDS = Map.of(
      "constant-vus", Set.of("vus", "duration"),
      "ramping-vus", Set.of("startVUs", "stages", "gracefulRampDown"),
      "constant-arrival-rate", Set.of("rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"),
      "ramping-arrival-rate", Set.of("startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs"),
      "per-vu-iterations", Set.of("vus", "iterations", "maxDuration"),
      "shared-iterations", Set.of("vus", "iterations", "maxDuration"));
  private static final List<String> EXECUTORS = List.of("constant-vus", "ramping-vus", "constant-arrival-rate",
      "ramping-arrival-rate", "per-vu-iterations", "shared-iterations");
  private static final int MAX_VUS = 1_000_000;

  private PlanParser() {}

  /** Parses plan JSON text. */
  public static TestPlan parse(String json) {
    return parse(readTree(json, "$"));
  }

  /**
   * The plan {@code planJson} with its thresholds replaced by those of {@code thresholdsJson} (for a
   * re-analysis judged by other thresholds): either a thresholds object as in a plan
   * ({@code {"http_req_duration": ["p(95)<300"]}}) or a document holding one under {@code "thresholds"}
   * (a whole plan, say). The result is checked as a plan, so that a bad threshold is reported at its path
   * ({@code $.thresholds.http_req_duration[0]}).
   *
   * @throws InvalidPlanException listing every problem
   */
  public static String withThresholds(String planJson, String thresholdsJson) {
    JsonNode plan = readTree(planJson, "$");
    JsonNode given = readTree(thresholdsJson, "$.thresholds");
    if (!plan.isObject() || !given.isObject()) {
      throw new InvalidPlanException(List.of(new PlanError(plan.isObject() ? "$.thresholds" : "$",
          "must be a JSON object, such as {\"http_req_duration\": [\"p(95)<500\"]}")));
    }
    JsonNode thresholds = given.has("thresholds") && given.get("thresholds").isObject() ? given.get("thresholds") : given;
    com.fasterxml.jackson.databind.node.ObjectNode out = ((com.fasterxml.jackson.databind.node.ObjectNode) plan).deepCopy();
    out.set("thresholds", thresholds);
    parse(out);
    return out.toString();
  }

  /** Reads JSON text, turning a syntax error into an {@link InvalidPlanException} at {@code path}. */
  public static JsonNode readTree(String json, String path) {
    if (json == null || json.isBlank()) {
      throw new InvalidPlanException(List.of(new PlanError(path, "the plan is empty")));
    }
    if (json.length() > MAX_JSON_CHARS) {
      throw new InvalidPlanException(List.of(new PlanError(path, "the JSON text is " + json.length()
          + " characters long; at most " + MAX_JSON_CHARS + " are read (a plan may be " + PlanLimits.MAX_BYTES
          + " bytes)")));
    }
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new InvalidPlanException(List.of(new PlanError(path, "not valid JSON: " + e.getOriginalMessage()
          + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr())));
    }
  }

  /** Parses a plan that is already a JSON tree. */
  public static TestPlan parse(JsonNode root) {
    List<PlanError> errors = new ArrayList<>();
    TestPlan plan = parse(root, "$", errors);
    if (!errors.isEmpty()) {
      throw new InvalidPlanException(errors);
    }
    return plan;
  }

  /**
   * Parses a plan at {@code path} of a larger document (a command), adding its problems to
   * {@code errors}; returns null when there were any.
   */
  public static TestPlan parse(JsonNode root, String path, List<PlanError> errors) {
    List<PlanError> overLimits = PlanLimits.check(root, path);
    if (!overLimits.isEmpty()) {
      errors.addAll(overLimits); // too large to be worth parsing: these errors are the answer
      return null;
    }
    Optional<JsonObjectReader> maybe = JsonObjectReader.of(root, path, errors, "a test plan");
    if (maybe.isEmpty()) {
      return null;
    }
    JsonObjectReader p = maybe.get();
    p.allowOnly(PLAN_FIELDS, "the plan");
    String name = p.string("name", false).orElse("");
    p.string("description", false);
    Map<String, String> env = p.stringMap("env");
    Map<String, String> tags = p.stringMap("tags");
    Map<String, MetricType> metrics = metrics(p);
    Map<String, Feeder> feeders = FlowParser.feeders(p, errors);
    // Env names from the JSON itself, so that a scenario with errors of its own does not make its env undefined too.
    Set<String> envNames = new java.util.HashSet<>();
    root.path("env").fieldNames().forEachRemaining(envNames::add);
    root.path("scenarios").forEach(sc -> sc.path("env").fieldNames().forEachRemaining(envNames::add));
    FlowParser.Refs refs = new FlowParser.Refs(feeders.keySet(), envNames);
    // A plug-in that runs another tool's script (jmeter, locust...) or makes its own samples has its own timeline:
    // its plan needs neither flows nor scenarios.
    boolean ownTimeline = !"http".equals(root.path("generator").path("plugin").asText("http"))
        && Stream.of("flows", "scenarios", "iterations", "duration", "stages").noneMatch(root::has);
    Map<String, Flow> flows = ownTimeline ? Map.of() : FlowParser.flows(p, refs, errors);
    List<Step> setup = p.has("setup") ? FlowParser.steps(p, "setup", refs, errors) : List.of();
    List<Step> teardown = p.has("teardown") ? FlowParser.steps(p, "teardown", refs, errors) : List.of();
    Map<String, Scenario> scenarios = ownTimeline ? Map.of() : shortcuts(p, flows.keySet(), errors)
        .orElseGet(() -> scenarios(p, flows.keySet(), errors));
    List<Threshold> thresholds = thresholds(p, metrics, errors);
    Map<String, ZoneShare> distribution = distribution(p, errors);
    GeneratorLossPolicy onLoss = GeneratorLossPolicy.CONTINUE;
    Optional<String> loss = p.string("onGeneratorLoss", false);
    if (loss.isPresent()) {
      switch (loss.get()) {
        case "continue" -> onLoss = GeneratorLossPolicy.CONTINUE;
        case "abort" -> onLoss = GeneratorLossPolicy.ABORT;
        default -> p.error("onGeneratorLoss", "\"onGeneratorLoss\" must be \"continue\" or \"abort\", got \""
            + loss.get() + "\"");
      }
    }
    TestPlan.GeneratorSpec generator = generator(p);
    List<String> disabledInsights = disabledInsights(p);
    declaredMetricSteps(root, path, metrics, errors);
    if (!errors.isEmpty()) {
      return null;
    }
    return new TestPlan(name, env, tags, metrics, feeders, scenarios, thresholds, flows, setup, teardown,
        distribution, onLoss, generator, disabledInsights);
  }

  /** {@code "insights": {"disabled": ["rule", ...]}}: performance insights the plan does not want. */
  private static List<String> disabledInsights(JsonObjectReader p) {
    if (!p.has("insights")) {
      return List.of();
    }
    Optional<JsonObjectReader> section = JsonObjectReader.of(p.get("insights"), p.at("insights"), p.errors(),
        "the insights section");
    if (section.isEmpty()) {
      return List.of();
    }
    JsonObjectReader r = section.get();
    r.allowOnly(Set.of("disabled"), "the insights section");
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : r.array("disabled", false, false)) {
      String rule = e.getValue().isTextual() ? e.getValue().asText() : null;
      if (rule == null || !dev.loadtest.schemas.insight.Insight.RULES.contains(rule)) {
        p.errors().add(new PlanError(e.getKey(), "unknown insight " + (rule == null ? JsonObjectReader.describe(
            e.getValue()) : "\"" + rule + "\"") + " (one of " + String.join(", ",
            dev.loadtest.schemas.insight.Insight.RULES) + ")"));
      } else if (!out.contains(rule)) {
        out.add(rule);
      }
    }
    return out;
  }

  /** Every metric step names a user metric the plan declares in {@code metrics} (built-ins are the generator's). */
  private static void declaredMetricSteps(JsonNode root, String path, Map<String, MetricType> metrics,
      List<PlanError> errors) {
    List<Map.Entry<String, JsonNode>> lists = new ArrayList<>();
    JsonNode flows = root.get("flows");
    if (flows != null && flows.isObject()) {
      flows.properties().forEach(f -> lists.add(Map.entry(JsonObjectReader.child(JsonObjectReader.child(
          JsonObjectReader.child(path, "flows"), f.getKey()), "steps"), f.getValue().path("steps"))));
    }
    for (String lifecycle : List.of("setup", "teardown")) {
      lists.add(Map.entry(JsonObjectReader.child(path, lifecycle), root.path(lifecycle)));
    }
    while (!lists.isEmpty()) {
      Map.Entry<String, JsonNode> l = lists.remove(lists.size() - 1);
      if (!l.getValue().isArray()) {
        continue;
      }
      for (int i = 0; i < l.getValue().size(); i++) {
        JsonNode step = l.getValue().get(i);
        String at = JsonObjectReader.index(l.getKey(), i);
        JsonNode name = step.path("metric").path("name");
        if (name.isTextual() && !metrics.containsKey(name.asText())) {
          errors.add(new PlanError(JsonObjectReader.child(JsonObjectReader.child(at, "metric"), "name"), "metric \""
              + name.asText() + "\" is not declared in \"metrics\" (declare it as counter, gauge, rate or trend)"));
        }
        if (step.path("group").path("steps").isArray()) {
          lists.add(Map.entry(JsonObjectReader.child(JsonObjectReader.child(at, "group"), "steps"),
              step.path("group").path("steps")));
        }
      }
    }
  }

  /**
   * {@code "generator": {"plugin": "synthetic", "options": {...}, "maxGenerators": 2, "tagGenerator": true}}; the
   * plug-in checks its own options.
   */
  private static TestPlan.GeneratorSpec generator(JsonObjectReader p) {
    if (!p.has("generator")) {
      return TestPlan.GeneratorSpec.HTTP;
    }
    Optional<JsonObjectReader> g = JsonObjectReader.of(p.get("generator"), p.at("generator"), p.errors(),
        "the generator section");
    if (g.isEmpty()) {
      return TestPlan.GeneratorSpec.HTTP;
    }
    JsonObjectReader r = g.get();
    r.allowOnly(Set.of("plugin", "options", "maxGenerators", "tagGenerator"), "the generator section");
    String plugin = r.string("plugin", true).orElse("http");
    if (!NAME.matcher(plugin).matches()) {
      r.error("plugin", "a plug-in name is letters, digits, - and _, got \"" + plugin + "\"");
    }
    String options = "{}";
    if (r.has("options")) {
      if (!r.get("options").isObject()) {
        r.error("options", "\"options\" must be an object, got " + JsonObjectReader.describe(r.get("options")));
      } else {
        options = r.get("options").toString();
      }
    }
    int max = r.integer("maxGenerators", 1, 10_000, 0L).orElse(0L).intValue();
    boolean tagGenerator = r.bool("tagGenerator", false).orElse(false);
    return new TestPlan.GeneratorSpec(plugin, options, max, tagGenerator);
  }

  private static Map<String, MetricType> metrics(JsonObjectReader p) {
    Map<String, MetricType> out = new LinkedHashMap<>();
    Map<String, String> declared = p.stringMap("metrics");
    declared.forEach((name, type) -> {
      String at = JsonObjectReader.child(p.at("metrics"), name);
      if (!BuiltinMetrics.NAME.matcher(name).matches()) {
        p.errors().add(new PlanError(at, "\"" + name + "\" is not a valid metric name (letters, digits and _,"
            + " not starting with a digit, at most 128 characters)"));
      } else if (BuiltinMetrics.typeOf(name).isPresent()) {
        p.errors().add(new PlanError(at, "\"" + name + "\" is a built-in metric and cannot be declared again"));
      } else {
        Optional<MetricType> t = MetricType.fromJsonName(type.toLowerCase(Locale.ROOT));
        if (t.isEmpty()) {
          p.errors().add(new PlanError(at, "metric type must be counter, gauge, rate or trend, got \"" + type + "\""));
        } else {
          out.put(name, t.get());
        }
      }
    });
    return out;
  }

  /**
   * k6's execution shortcuts, for a plan without {@code scenarios}: {@code iterations} (shared-iterations,
   * with {@code vus} and {@code duration} as its maxDuration), {@code duration} (constant-vus with
   * {@code vus}), {@code stages} (ramping-vus from {@code vus}), or none of them (1 VU, 1 iteration). The
   * scenario is named {@code default} and runs the flow {@code default} (or the plan's only flow). Used
   * together with {@code scenarios} or with each other as k6 forbids, they are errors.
   *
   * @return empty when the plan has scenarios of its own (and no shortcut)
   */
  private static Optional<Map<String, Scenario>> shortcuts(JsonObjectReader p, Set<String> flows,
      List<PlanError> errors) {
    boolean iterations = p.has("iterations") && !p.get("iterations").isNull();
    boolean duration = p.has("duration") && !p.get("duration").isNull();
    boolean stages = p.has("stages") && p.get("stages").isArray() && !p.get("stages").isEmpty();
    boolean scenarios = p.has("scenarios") && !p.get("scenarios").isNull();
    String shortcut = iterations ? "iterations" : duration ? "duration" : stages ? "stages" : null;
    if (shortcut == null) {
      if (p.has("stages") && !p.get("stages").isArray() && !p.get("stages").isNull()) {
        p.error("stages", "\"stages\" must be an array of {\"duration\", \"target\"}, got "
            + JsonObjectReader.describe(p.get("stages")));
      }
      if (scenarios) {
        return Optional.empty();
      }
    } else if (scenarios) {
      p.error(shortcut, "using an execution shortcut (\"" + shortcut + "\") and \"scenarios\" together is not"
          + " allowed: move it into a scenario");
      return Optional.of(Map.of());
    }
    if ((iterations || duration) && stages) {
      p.error("stages", "using \"" + (iterations ? "iterations" : "duration") + "\" and \"stages\" together is not"
          + " allowed (as in k6)");
      return Optional.of(Map.of());
    }
    ObjectNode sc = JSON.createObjectNode();
    JsonNode vus = p.get("vus");
    if (iterations) {
      sc.put("executor", "shared-iterations");
      sc.set("iterations", p.get("iterations"));
      if (vus != null) {
        sc.set("vus", vus);
      }
      if (duration) {
        sc.set("maxDuration", p.get("duration"));
      }
    } else if (duration) {
      sc.put("executor", "constant-vus");
      sc.set("duration", p.get("duration"));
      if (vus != null) {
        sc.set("vus", vus);
      }
    } else if (stages) {
      sc.put("executor", "ramping-vus");
      sc.set("stages", p.get("stages"));
      if (vus != null) {
        sc.set("startVUs", vus);
      }
    } else {
      sc.put("executor", "per-vu-iterations");
      sc.put("vus", 1);
      sc.put("iterations", 1);
    }
    if (!flows.contains("default") && flows.size() == 1) {
      sc.put("exec", flows.iterator().next());
    }
    // Errors in the shortcut's values point at the plan's own fields ($.vus, $.duration, ...).
    List<PlanError> found = new ArrayList<>();
    Scenario scenario = JsonObjectReader.of(sc, p.path(), found, "a scenario")
        .map(r -> scenario("default", r, flows, found)).orElse(null);
    for (PlanError e : found) {
      errors.add(new PlanError(e.path().replace(JsonObjectReader.child(p.path(), "maxDuration"),
          JsonObjectReader.child(p.path(), "duration")).replace(JsonObjectReader.child(p.path(), "startVUs"),
          JsonObjectReader.child(p.path(), "vus")), e.message()));
    }
    return Optional.of(scenario == null ? Map.of() : Map.of("default", scenario));
  }

  private static Map<String, Scenario> scenarios(JsonObjectReader p, Set<String> flows, List<PlanError> errors) {
    Map<String, Scenario> out = new LinkedHashMap<>();
    JsonNode node = p.get("scenarios");
    if (node == null || node.isNull()) {
      p.error("scenarios", "\"scenarios\" is required: a plan needs at least one scenario");
      return out;
    }
    Optional<JsonObjectReader> all = JsonObjectReader.of(node, p.at("scenarios"), errors, "\"scenarios\"");
    if (all.isEmpty()) {
      return out;
    }
    if (node.isEmpty()) {
      p.error("scenarios", "\"scenarios\" must define at least one scenario");
    }
    node.properties().forEach(e -> {
      String at = JsonObjectReader.child(p.at("scenarios"), e.getKey());
      if (!NAME.matcher(e.getKey()).matches()) {
        errors.add(new PlanError(at, "scenario name \"" + e.getKey() + "\" may only use letters, digits, _ and -"
            + " (1 to 100 characters)"));
      }
      JsonObjectReader.of(e.getValue(), at, errors, "a scenario").ifPresent(s -> {
        Scenario sc = scenario(e.getKey(), s, flows, errors);
        if (sc != null) {
          out.put(e.getKey(), sc);
        }
      });
    });
    return out;
  }

  private static Scenario scenario(String name, JsonObjectReader s, Set<String> flows, List<PlanError> errors) {
    int before = errors.size();
    Optional<String> type = s.string("executor", true);
    if (type.isEmpty()) {
      s.allowOnly(union(COMMON, allExecutorFields()), "a scenario");
      return null;
    }
    if (!EXECUTOR_FIELDS.containsKey(type.get())) {
      s.error("executor", "unknown executor \"" + type.get() + "\" (use one of " + String.join(", ", EXECUTORS) + ")");
      return null;
    }
    s.allowOnly(union(COMMON, EXECUTOR_FIELDS.get(type.get())), "a " + type.get() + " scenario");
    Duration startTime = s.duration("startTime", true, Duration.ZERO).orElse(Duration.ZERO);
    Duration gracefulStop = s.duration("gracefulStop", true, Duration.ofSeconds(30)).orElse(Duration.ZERO);
    Map<String, Integer> exec = exec(s, flows, errors);
    Map<String, String> env = s.stringMap("env");
    Map<String, String> tags = s.stringMap("tags");
    Executor executor = switch (type.get()) {
      case "constant-vus" -> new Scenario.ConstantVus(vus(s, "vus", 1L),
          s.duration("duration", false, null).orElse(Duration.ZERO));
      case "ramping-vus" -> new Scenario.RampingVus((int) s.integer("startVUs", 0, MAX_VUS, 1L).orElse(0L).longValue(),
          stages(s, MAX_VUS, errors), s.duration("gracefulRampDown", true, Duration.ofSeconds(30)).orElse(Duration.ZERO));
      case "constant-arrival-rate" -> {
        long rate = s.integer("rate", 1, Long.MAX_VALUE / 2, null).orElse(1L);
        Duration unit = s.duration("timeUnit", false, Duration.ofSeconds(1)).orElse(Duration.ofSeconds(1));
        Duration duration = s.duration("duration", false, null).orElse(Duration.ZERO);
        int[] vus = preAllocatedAndMax(s);
        yield new Scenario.ConstantArrivalRate(rate, unit, duration, vus[0], vus[1]);
      }
      case "ramping-arrival-rate" -> {
        long start = s.integer("startRate", 0, Long.MAX_VALUE / 2, 0L).orElse(0L);
        Duration unit = s.duration("timeUnit", false, Duration.ofSeconds(1)).orElse(Duration.ofSeconds(1));
        List<Stage> stages = stages(s, Long.MAX_VALUE / 2, errors);
        int[] vus = preAllocatedAndMax(s);
        yield new Scenario.RampingArrivalRate(start, unit, stages, vus[0], vus[1]);
      }
      case "per-vu-iterations" -> new Scenario.PerVuIterations(vus(s, "vus", 1L),
          s.integer("iterations", 1, Long.MAX_VALUE / 2, 1L).orElse(1L),
          s.duration("maxDuration", false, Duration.ofMinutes(10)).orElse(Duration.ZERO));
      case "shared-iterations" -> {
        int vus = vus(s, "vus", 1L);
        long iterations = s.integer("iterations", 1, Long.MAX_VALUE / 2, 1L).orElse(1L);
        if (iterations < vus && errors.size() == before) {
          s.error("iterations", "\"iterations\" (" + iterations + ") must not be less than \"vus\" (" + vus
              + "): every VU of a shared-iterations scenario needs at least one iteration");
        }
        yield new Scenario.SharedIterations(vus, iterations,
            s.duration("maxDuration", false, Duration.ofMinutes(10)).orElse(Duration.ZERO));
      }
      default -> throw new IllegalStateException(type.get());
    };
    if (executor instanceof Scenario.RampingVus r && errors.size() == before && r.startVUs() == 0
        && r.stages().stream().allMatch(st -> st.target() == 0)) {
      s.error("stages", "either \"startVUs\" or one of the stages' targets must be greater than 0 (as in k6):"
          + " this scenario would never run a VU");
    }
    return errors.size() == before ? new Scenario(name, executor, startTime, gracefulStop, exec, env, tags) : null;
  }

  private static int vus(JsonObjectReader s, String field, Long dflt) {
    return (int) s.integer(field, 1, MAX_VUS, dflt).orElse(1L).longValue();
  }

  private static int[] preAllocatedAndMax(JsonObjectReader s) {
    Optional<Long> pre = s.integer("preAllocatedVUs", 0, MAX_VUS, null);
    Optional<Long> max = s.integer("maxVUs", 0, MAX_VUS, pre.orElse(0L));
    if (pre.isPresent() && max.isPresent() && max.get() < pre.get()) {
      s.error("maxVUs", "\"maxVUs\" (" + max.get() + ") must be at least \"preAllocatedVUs\" (" + pre.get() + ")");
    }
    if (max.isPresent() && max.get() == 0) {
      s.error("maxVUs", "an arrival-rate scenario needs at least one VU: set \"preAllocatedVUs\" or \"maxVUs\" above 0");
    }
    return new int[] {pre.orElse(0L).intValue(), max.orElse(0L).intValue()};
  }

  private static List<Stage> stages(JsonObjectReader s, long maxTarget, List<PlanError> errors) {
    List<Stage> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : s.array("stages", true, true)) {
      JsonObjectReader.of(e.getValue(), e.getKey(), errors, "a stage").ifPresent(st -> {
        st.allowOnly(Set.of("duration", "target"), "a stage");
        Optional<Duration> d = st.duration("duration", true, null);
        Optional<Long> target = st.integer("target", 0, maxTarget, null);
        if (d.isPresent() && target.isPresent()) {
          out.add(new Stage(d.get(), target.get()));
        }
      });
    }
    return out;
  }

  private static Map<String, Integer> exec(JsonObjectReader s, Set<String> flows, List<PlanError> errors) {
    Map<String, Integer> out = new LinkedHashMap<>();
    JsonNode v = s.get("exec");
    if (v == null || v.isNull()) {
      if (!flows.contains("default")) {
        s.error(null, "the scenario has no \"exec\", so it runs the flow \"default\", which the plan does not define"
            + " (set \"exec\" to one of: " + String.join(", ", flows) + ")");
      }
      out.put("default", 1);
      return out;
    }
    if (v.isTextual()) {
      if (!flows.contains(v.asText())) {
        s.error("exec", "flow \"" + v.asText() + "\" does not exist (flows: " + String.join(", ", flows) + ")");
      }
      out.put(v.asText(), 1);
      return out;
    }
    if (v.isObject() && !v.isEmpty()) {
      v.properties().forEach(e -> {
        String at = JsonObjectReader.child(s.at("exec"), e.getKey());
        if (!flows.contains(e.getKey())) {
          errors.add(new PlanError(at, "flow \"" + e.getKey() + "\" does not exist (flows: " + String.join(", ", flows) + ")"));
        }
        JsonNode w = e.getValue();
        if (!w.isIntegralNumber() || w.asLong() < 1 || w.asLong() > 1_000_000) {
          errors.add(new PlanError(at, "a flow weight must be a whole number from 1 to 1000000, got "
              + JsonObjectReader.describe(w)));
        } else {
          out.put(e.getKey(), w.asInt());
        }
      });
      return out;
    }
    s.error("exec", "\"exec\" must be a flow name or an object of flow names to weights, got "
        + JsonObjectReader.describe(v));
    return out;
  }

  private static List<Threshold> thresholds(JsonObjectReader p, Map<String, MetricType> declared, List<PlanError> errors) {
    List<Threshold> out = new ArrayList<>();
    JsonNode node = p.get("thresholds");
    if (node == null || node.isNull()) {
      return out;
    }
    if (JsonObjectReader.of(node, p.at("thresholds"), errors, "\"thresholds\"").isEmpty()) {
      return out;
    }
    node.properties().forEach(e -> {
      String at = JsonObjectReader.child(p.at("thresholds"), e.getKey());
      MetricSelector selector;
      try {
        selector = MetricSelector.parse(e.getKey());
      } catch (IllegalArgumentException ex) {
        errors.add(new PlanError(at, "invalid threshold key: " + ex.getMessage()));
        return;
      }
      Optional<MetricType> type = BuiltinMetrics.typeOf(selector.metric())
          .or(() -> Optional.ofNullable(declared.get(selector.metric())));
      if (type.isEmpty()) {
        errors.add(new PlanError(at, "threshold on unknown metric \"" + selector.metric()
            + "\": use a built-in metric or declare it under \"metrics\""));
      }
      JsonNode list = e.getValue();
      if (!list.isArray()) {
        errors.add(new PlanError(at, "thresholds of a metric must be an array such as [\"p(95)<500\"], got "
            + JsonObjectReader.describe(list)));
        return;
      }
      for (int i = 0; i < list.size(); i++) {
        Threshold t = threshold(selector, type, list.get(i), JsonObjectReader.index(at, i), errors);
        if (t != null) {
          out.add(t);
        }
      }
    });
    return out;
  }

  private static Threshold threshold(MetricSelector selector, Optional<MetricType> type, JsonNode item, String at,
      List<PlanError> errors) {
    String source;
    boolean abortOnFail = false;
    Duration delay = Duration.ZERO;
    String exprPath = at;
    if (item.isTextual()) {
      source = item.asText();
    } else if (item.isObject()) {
      JsonObjectReader o = JsonObjectReader.of(item, at, errors, "a threshold").orElseThrow();
      o.allowOnly(Set.of("threshold", "abortOnFail", "delayAbortEval"), "a threshold");
      Optional<String> s = o.string("threshold", true);
      abortOnFail = o.bool("abortOnFail", false).orElse(false);
      delay = o.duration("delayAbortEval", true, Duration.ZERO).orElse(Duration.ZERO);
      if (s.isEmpty()) {
        return null;
      }
      source = s.get();
      exprPath = o.at("threshold");
    } else {
      errors.add(new PlanError(at, "a threshold must be a string such as \"p(95)<500\" or an object with"
          + " \"threshold\", got " + JsonObjectReader.describe(item)));
      return null;
    }
    ThresholdExpression expr;
    try {
      expr = ThresholdExpression.parse(source);
    } catch (IllegalArgumentException ex) {
      errors.add(new PlanError(exprPath, ex.getMessage()));
      return null;
    }
    if (type.isPresent() && !expr.aggregation().appliesTo(type.get())) {
      errors.add(new PlanError(exprPath, "\"" + expr.aggregationText() + "\" does not apply to " + selector.metric()
          + ", a " + type.get().jsonName() + " metric (use " + allowedAggregations(type.get()) + ")"));
      return null;
    }
    return new Threshold(selector, expr, abortOnFail, delay);
  }

  private static String allowedAggregations(MetricType type) {
    return switch (type) {
      case COUNTER -> "count or rate";
      case GAUGE -> "value";
      case RATE -> "rate";
      case TREND -> "avg, min, max, med or p(N)";
    };
  }

  private static Map<String, ZoneShare> distribution(JsonObjectReader p, List<PlanError> errors) {
    Map<String, ZoneShare> out = new LinkedHashMap<>();
    JsonNode node = p.get("distribution");
    if (node == null || node.isNull()) {
      return out;
    }
    if (JsonObjectReader.of(node, p.at("distribution"), errors, "\"distribution\"").isEmpty()) {
      return out;
    }
    long[] total = {0};
    node.properties().forEach(e -> {
      String at = JsonObjectReader.child(p.at("distribution"), e.getKey());
      JsonObjectReader.of(e.getValue(), at, errors, "a distribution entry").ifPresent(z -> {
        z.allowOnly(Set.of("loadZone", "percent"), "a distribution entry");
        Optional<String> zone = z.string("loadZone", true);
        Optional<Long> pct = z.integer("percent", 1, 100, null);
        pct.ifPresent(v -> total[0] += v);
        if (zone.isPresent() && pct.isPresent()) {
          out.put(e.getKey(), new ZoneShare(zone.get(), pct.get().intValue()));
        }
      });
    });
    if (out.size() == node.size() && total[0] != 100 && !node.isEmpty()) {
      p.error("distribution", "the percentages of \"distribution\" add up to " + total[0] + ", not 100");
    }
    return out;
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new LinkedHashSet<>(a);
    out.addAll(b);
    return out;
  }

  private static Set<String> allExecutorFields() {
    Set<String> out = new LinkedHashSet<>();
    EXECUTOR_FIELDS.values().forEach(out::addAll);
    return out;
  }
}
