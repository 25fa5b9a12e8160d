package dev.loadtest.schemas.plan;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One step of a flow. Every step has a {@code probability} (0..1, default 1) of being run in an
 * iteration, so that "apply a coupon 30% of the time" is one line of the plan.
 */
public sealed interface Step {
  double probability();

  /**
   * An HTTP request. {@code url}, header values and {@code body} are templates: {@code ${var}} (a
   * variable of the VU, e.g. an extraction), {@code ${ENV.NAME}} and {@code ${feeder.field}}.
   *
   * @param name the {@code name} tag (URL template), so that /products/17 and /products/18 are one series
   * @param timeout empty: the generator's default (60s, as k6)
   */
  record Request(String method, String url, String name, Map<String, String> headers, Optional<String> body,
      Optional<Duration> timeout, List<Check> checks, List<Extraction> extract, Map<String, String> tags,
      double probability) implements Step {
    public Request {
      headers = TestPlan.ordered(headers);
      checks = List.copyOf(checks);
      extract = List.copyOf(extract);
      tags = TestPlan.ordered(tags);
    }
  }

  /** A pause of a VU between steps, as a user reading a page. */
  record Think(ThinkTime time, double probability) implements Step {}

  /** Steps reported under a {@code group} tag (nested groups join names with "::", as k6). */
  record Group(String name, List<Step> steps, double probability) implements Step {
    public Group {
      steps = List.copyOf(steps);
    }
  }

  /**
   * Adds a sample to a user metric the plan declares (k6's {@code Counter.add}, {@code Gauge.add},
   * {@code Rate.add}, {@code Trend.add}), tagged like the VU's other samples plus {@code tags}.
   *
   * @param value a number, {@code true}/{@code false} (1/0, for rates), or a template that renders to one;
   *     default 1
   */
  record Metric(String name, String value, Map<String, String> tags, double probability) implements Step {
    public Metric {
      tags = TestPlan.ordered(tags);
    }
  }

  /** How long a think step waits. */
  sealed interface ThinkTime {
    record Fixed(Duration duration) implements ThinkTime {}

    record Uniform(Duration min, Duration max) implements ThinkTime {}

    record Normal(Duration mean, Duration stddev) implements ThinkTime {}
  }

  /** A check of a response; its result feeds the {@code checks} rate with a {@code check} tag of its name. */
  sealed interface Check {
    String name();

    record Status(String name, List<Integer> anyOf) implements Check {
      public Status {
        anyOf = List.copyOf(anyOf);
      }
    }

    /** A header exists, and, if given, equals or contains a value. */
    record Header(String name, String header, Optional<String> equals, Optional<String> contains) implements Check {}

    record BodyContains(String name, String text) implements Check {}

    /** A JSON path exists in the body, and, if given, its value equals {@code equals} (compared as JSON). */
    record JsonPath(String name, String path, Optional<String> equalsJson) implements Check {}
  }

  /**
   * Takes a value from a response into a VU variable.
   *
   * @param group the regex group to take (default 1, or 0 when the regex has no group)
   */
  record Extraction(String var, Source source, String expression, int group) {
    public enum Source { JSON_PATH, HEADER, REGEX }
  }
}
