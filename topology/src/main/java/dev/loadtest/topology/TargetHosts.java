package dev.loadtest.topology;

import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.Step;
import dev.loadtest.schemas.plan.TestPlan;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks every request URL of a plan against the allowlist. A URL's host must be known before the run:
 * {@code ${ENV.NAME}} is resolved from the plan's env (and each scenario's); a host that depends on a
 * variable or feeder of the VU cannot be checked and is refused.
 */
final class TargetHosts {
  private static final Pattern ENV_REF = Pattern.compile("\\$\\{\\s*ENV\\.([A-Za-z_][A-Za-z0-9_]*)\\s*}");

  private TargetHosts() {}

  static List<PlanError> check(TestPlan plan, CoordinatorConfig config, String planPath) {
    List<PlanError> errors = new ArrayList<>();
    List<Map<String, String>> envs = new ArrayList<>();
    envs.add(plan.env());
    plan.scenarios().values().forEach(s -> {
      Map<String, String> merged = new java.util.HashMap<>(plan.env());
      merged.putAll(s.env());
      envs.add(merged);
    });
    plan.flows().forEach((name, flow) -> steps(flow.steps(), planPath + ".flows." + name + ".steps", envs, config, errors));
    steps(plan.setup(), planPath + ".setup", envs, config, errors);
    steps(plan.teardown(), planPath + ".teardown", envs, config, errors);
    return errors;
  }

  private static void steps(List<Step> steps, String path, List<Map<String, String>> envs, CoordinatorConfig config,
      List<PlanError> errors) {
    for (int i = 0; i < steps.size(); i++) {
      String at = path + "[" + i + "]";
      switch (steps.get(i)) {
        case Step.Request r -> {
          for (Map<String, String> env : envs) {
            PlanError e = checkUrl(r.url(), env, config, at + ".request.url");
            if (e != null) {
              errors.add(e);
              break;
            }
          }
        }
        case Step.Group g -> steps(g.steps(), at + ".group.steps", envs, config, errors);
        case Step.Think t -> { }
        case Step.Metric m -> { }
      }
    }
  }

  private static PlanError checkUrl(String template, Map<String, String> env, CoordinatorConfig config, String at) {
    Matcher m = ENV_REF.matcher(template);
    StringBuilder resolved = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      if (value == null) {
        return new PlanError(at, "the URL uses ${ENV." + m.group(1) + "}, which the plan's env does not define,"
            + " so its target host cannot be checked");
      }
      m.appendReplacement(resolved, Matcher.quoteReplacement(value));
    }
    m.appendTail(resolved);
    String url = resolved.toString();
    int schemeEnd = url.indexOf("://");
    String authority = schemeEnd < 0 ? "" : url.substring(schemeEnd + 3).split("[/?#]", 2)[0];
    if (schemeEnd < 0 || authority.contains("${")) {
      return new PlanError(at, "the target host of \"" + template + "\" is only known at run time; write the host"
          + " in the URL or in the plan's env so that it can be checked against the allowed hosts");
    }
    String host;
    try {
      host = new URI(url.substring(0, schemeEnd + 3) + authority).getHost();
    } catch (URISyntaxException e) {
      return new PlanError(at, "\"" + url + "\" is not a valid URL: " + e.getReason());
    }
    if (host == null || host.isEmpty()) {
      return new PlanError(at, "\"" + url + "\" has no host");
    }
    if (!config.allows(host)) {
      return new PlanError(at, "target host \"" + host + "\" is not in the coordinator's allowed hosts ("
          + String.join(", ", config.allowedHosts()) + ")");
    }
    return null;
  }
}
