package dev.loadtest.generator.engine;

import dev.loadtest.schemas.plan.JsonPath;
import dev.loadtest.schemas.plan.Step;
import dev.loadtest.schemas.sample.TagSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A plan step prepared for running in one scenario: templates compiled, JSON paths and regexes
 * compiled, and the tag sets of its samples built once (per outcome, on first use). Immutable apart
 * from its tag-set cache, which is safe to share between VUs.
 */
sealed interface CompiledStep {
  double probability();

  /** An HTTP request with its checks and extractions. */
  record Request(Step.Request step, Template url, List<Map.Entry<String, Template>> headers, Template body,
      Duration timeout, List<CompiledCheck> checks, List<CompiledExtraction> extractions, TagSet tags,
      String group, boolean keepBody, ConcurrentHashMap<Integer, TagSet> byOutcome) implements CompiledStep {
    public double probability() {
      return step.probability();
    }

    /** The tags of a sample of this request with a given status and error code. */
    TagSet tagsFor(int status, int errorCode) {
      int key = status << 16 | errorCode;
      TagSet t = byOutcome.get(key);
      if (t == null) {
        TreeMap<String, String> m = tags.toMap();
        m.put("status", Integer.toString(status));
        m.put("expected_response", Boolean.toString(status >= 200 && status < 400));
        if (errorCode != 0) {
          m.put("error_code", Integer.toString(errorCode));
        }
        t = TagSet.of(m);
        byOutcome.putIfAbsent(key, t);
      }
      return t;
    }
  }

  record Think(Step.ThinkTime time, double probability) implements CompiledStep {}

  /** A user metric sample: its type from the plan's declaration, its value a template or a constant. */
  record Metric(String name, dev.loadtest.schemas.metrics.MetricType type, Template value, TagSet tags,
      double probability) implements CompiledStep {}

  record Group(String path, List<CompiledStep> steps, double probability, TagSet tags) implements CompiledStep {}

  /** A check with what it needs compiled, and the tags of its {@code checks} samples. */
  record CompiledCheck(Step.Check check, JsonPath path, TagSet tags) {}

  record CompiledExtraction(Step.Extraction extraction, JsonPath path, Pattern regex) {}

  /**
   * Compiles steps for a scenario.
   *
   * @param tags the run's and scenario's tags plus {@code scenario}
   * @param group the enclosing group's path in k6's form ({@code ""}, {@code "::cart"}, {@code "::a::b"})
   */
  static List<CompiledStep> compile(List<Step> steps, TagSet tags, String group, Set<String> feeders,
      Map<String, dev.loadtest.schemas.metrics.MetricType> metrics) {
    List<CompiledStep> out = new ArrayList<>(steps.size());
    for (Step s : steps) {
      out.add(switch (s) {
        case Step.Request r -> request(r, tags, group, feeders);
        case Step.Think t -> new Think(t.time(), t.probability());
        case Step.Metric m -> {
          TreeMap<String, String> t = tags.toMap();
          t.put("group", group);
          t.putAll(m.tags());
          yield new Metric(m.name(), metrics.get(m.name()), Template.compile(m.value(), feeders), TagSet.of(t),
              m.probability());
        }
        case Step.Group g -> {
          String path = group + "::" + g.name();
          yield new Group(path, compile(g.steps(), tags, path, feeders, metrics), g.probability(),
              tags.with("group", path));
        }
      });
    }
    return List.copyOf(out);
  }

  private static Request request(Step.Request r, TagSet scenarioTags, String group, Set<String> feeders) {
    TreeMap<String, String> m = scenarioTags.toMap();
    m.putAll(r.tags());
    m.put("name", r.name());
    m.put("method", r.method());
    m.put("group", group);
    TagSet tags = TagSet.of(m);
    List<Map.Entry<String, Template>> headers = new ArrayList<>();
    r.headers().forEach((k, v) -> headers.add(Map.entry(k, Template.compile(v, feeders))));
    TagSet checkBase = scenarioTags.with("group", group);
    List<CompiledCheck> checks = new ArrayList<>();
    boolean keepBody = false;
    for (Step.Check c : r.checks()) {
      JsonPath path = c instanceof Step.Check.JsonPath j ? JsonPath.compile(j.path()) : null;
      keepBody |= c instanceof Step.Check.JsonPath || c instanceof Step.Check.BodyContains;
      checks.add(new CompiledCheck(c, path, checkBase.with("check", c.name())));
    }
    List<CompiledExtraction> extractions = new ArrayList<>();
    for (Step.Extraction x : r.extract()) {
      JsonPath path = x.source() == Step.Extraction.Source.JSON_PATH ? JsonPath.compile(x.expression()) : null;
      Pattern regex = x.source() == Step.Extraction.Source.REGEX ? Pattern.compile(x.expression()) : null;
      keepBody |= x.source() != Step.Extraction.Source.HEADER;
      extractions.add(new CompiledExtraction(x, path, regex));
    }
    return new Request(r, Template.compile(r.url(), feeders), List.copyOf(headers),
        r.body().map(b -> Template.compile(b, feeders)).orElse(null), r.timeout().orElse(null), List.copyOf(checks),
        List.copyOf(extractions), tags, group, keepBody, new ConcurrentHashMap<>());
  }
}
