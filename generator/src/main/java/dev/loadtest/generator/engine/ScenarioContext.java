package dev.loadtest.generator.engine;

import dev.loadtest.schemas.plan.Flow;
import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.plan.Step;
import dev.loadtest.schemas.sample.TagSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One scenario prepared for running: its env (plan env, then the scenario's, then launch overrides),
 * its tags, and its flows compiled with them, with the weights of {@code exec}. Immutable.
 */
public final class ScenarioContext {
  private final RunContext run;
  private final String name;
  private final Map<String, String> env;
  private final TagSet tags;
  private final TagSet iterationTags;
  private final List<List<CompiledStep>> flows = new ArrayList<>();
  private final int[] cumulativeWeights;

  public ScenarioContext(RunContext run, Scenario scenario) {
    this(run, scenario.name(), scenario.env(), scenario.tags(), scenario.exec());
  }

  private ScenarioContext(RunContext run, String name, Map<String, String> scenarioEnv, Map<String, String> scenarioTags,
      Map<String, Integer> exec) {
    this.run = run;
    this.name = name;
    Map<String, String> e = new LinkedHashMap<>(run.plan().env());
    e.putAll(scenarioEnv);
    e.putAll(run.envOverrides());
    this.env = Map.copyOf(e);
    TreeMap<String, String> t = new TreeMap<>(run.plan().tags());
    t.putAll(scenarioTags);
    t.put("scenario", name);
    this.tags = TagSet.of(t);
    this.iterationTags = tags.with("group", "");
    this.cumulativeWeights = new int[exec.size()];
    int sum = 0;
    int i = 0;
    for (Map.Entry<String, Integer> x : exec.entrySet()) {
      Flow flow = run.plan().flows().get(x.getKey());
      flows.add(CompiledStep.compile(flow.steps(), tags, "", run.feeders().names(), run.plan().metrics()));
      sum += x.getValue();
      cumulativeWeights[i++] = sum;
    }
  }

  /** The context of setup or teardown: steps of the plan run once, tagged as a scenario of that name. */
  public static ScenarioContext lifecycle(RunContext run, String name, List<Step> steps) {
    ScenarioContext c = new ScenarioContext(run, name, Map.of(), Map.of(), Map.of());
    c.flows.add(CompiledStep.compile(steps, c.tags, "", run.feeders().names(), run.plan().metrics()));
    return c;
  }

  public RunContext run() {
    return run;
  }

  public String name() {
    return name;
  }

  Map<String, String> env() {
    return env;
  }

  TagSet tags() {
    return tags;
  }

  /** The tags of {@code iterations} and {@code iteration_duration}: the scenario's, in the root group. */
  TagSet iterationTags() {
    return iterationTags;
  }

  /** The steps of the flow an iteration runs, chosen by the {@code exec} weights. */
  List<CompiledStep> pickFlow(VirtualUser vu) {
    if (flows.size() == 1) {
      return flows.get(0);
    }
    int r = vu.random().nextInt(cumulativeWeights[cumulativeWeights.length - 1]);
    for (int i = 0; i < cumulativeWeights.length; i++) {
      if (r < cumulativeWeights[i]) {
        return flows.get(i);
      }
    }
    throw new AssertionError("weights " + java.util.Arrays.toString(cumulativeWeights));
  }
}
