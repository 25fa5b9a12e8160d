package dev.loadtest.generator.engine;

import dev.loadtest.generator.http.HttpEngine;
import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.sample.TagSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything the VUs of one run on one generator share, read-only once the run starts, except the
 * setup variables, set once by setup before any VU starts.
 *
 * @param envOverrides values given at launch (e.g. {@code --env K=V}) over the plan's env
 * @param seed makes probabilities, weights, think times and random feeders reproducible
 * @param failures why iterations failed for a reason of ours (reported, never silent)
 * @param hosts the distinct hosts the run's requests went to
 */
public record RunContext(String testRunId, TestPlan plan, Map<String, String> envOverrides, Feeders feeders,
    HttpEngine http, SampleSink sink, long seed, SetupData setup, IterationFailures failures, RequestHosts hosts) {

  public RunContext {
    envOverrides = Map.copyOf(envOverrides);
  }

  public RunContext(String testRunId, TestPlan plan, Map<String, String> envOverrides, Feeders feeders,
      HttpEngine http, SampleSink sink, long seed, SetupData setup) {
    this(testRunId, plan, envOverrides, feeders, http, sink, seed, setup, new IterationFailures(), new RequestHosts());
  }

  /** The plan's env with the overrides applied. */
  public Map<String, String> env() {
    Map<String, String> m = new LinkedHashMap<>(plan.env());
    m.putAll(envOverrides);
    return m;
  }

  public Map<String, String> setupVars() {
    return setup.vars();
  }

  /** The plan's tags, on every sample of the run. */
  public TagSet baseTags() {
    return TagSet.of(plan.tags());
  }

  /** What setup left for the VUs: its variables. Written once, before the VUs start. */
  public static final class SetupData {
    private volatile Map<String, String> vars = Map.of();

    public Map<String, String> vars() {
      return vars;
    }

    public void set(Map<String, String> values) {
      vars = Map.copyOf(values);
    }
  }
}
