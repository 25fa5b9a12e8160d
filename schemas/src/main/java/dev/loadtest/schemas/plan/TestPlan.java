package dev.loadtest.schemas.plan;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.threshold.Threshold;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated, immutable test plan in k6's vocabulary. Built only by {@link PlanParser}, which checks
 * every rule first; the runtime reads it and never re-validates.
 *
 * @param metrics user metrics the flows may emit, with their k6 types (thresholds may name them)
 * @param distribution load zones by label, with percentages adding up to 100 (empty: any zone)
 * @param generator the generator plug-in that runs the plan ({@code http} unless the plan says otherwise)
 */
public record TestPlan(String name, Map<String, String> env, Map<String, String> tags,
    Map<String, MetricType> metrics, Map<String, Feeder> feeders, Map<String, Scenario> scenarios,
    List<Threshold> thresholds, Map<String, Flow> flows, List<Step> setup, List<Step> teardown,
    Map<String, ZoneShare> distribution, GeneratorLossPolicy onGeneratorLoss, GeneratorSpec generator,
    List<String> disabledInsights) {

  /** A plan with every performance insight enabled. */
  public TestPlan(String name, Map<String, String> env, Map<String, String> tags, Map<String, MetricType> metrics,
      Map<String, Feeder> feeders, Map<String, Scenario> scenarios, List<Threshold> thresholds, Map<String, Flow> flows,
      List<Step> setup, List<Step> teardown, Map<String, ZoneShare> distribution, GeneratorLossPolicy onGeneratorLoss,
      GeneratorSpec generator) {
    this(name, env, tags, metrics, feeders, scenarios, thresholds, flows, setup, teardown, distribution, onGeneratorLoss,
        generator, List.of());
  }

  public TestPlan {
    disabledInsights = disabledInsights == null ? List.of() : List.copyOf(disabledInsights);
    env = ordered(env);
    tags = ordered(tags);
    metrics = ordered(metrics);
    feeders = ordered(feeders);
    scenarios = ordered(scenarios);
    thresholds = List.copyOf(thresholds);
    flows = ordered(flows);
    setup = List.copyOf(setup);
    teardown = List.copyOf(teardown);
    distribution = ordered(distribution);
  }

  static <K, V> Map<K, V> ordered(Map<K, V> m) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(m));
  }

  /**
   * Which generator plug-in runs the plan, and its options as JSON (checked by the plug-in, which
   * reports errors under {@code $.generator.options}).
   */
  /**
   * The plug-in that runs the plan, its options, the most generators a run of it may be spread over per
   * load zone ({@code maxGenerators}; 0: as many as are free, one per VU at most), and whether every sample is
   * tagged with the generator that made it ({@code tagGenerator}, {@link #GENERATOR_TAG}; off by default, as it
   * keeps each series once per generator).
   */
  public record GeneratorSpec(String plugin, String optionsJson, int maxGenerators, boolean tagGenerator) {
    public static final GeneratorSpec HTTP = new GeneratorSpec("http", "{}");
    /** The tag {@link #tagGenerator} adds to every sample: the id of the generator that made it. */
    public static final String GENERATOR_TAG = "generator";

    public GeneratorSpec(String plugin, String optionsJson) {
      this(plugin, optionsJson, 0, false);
    }
  }

  /** A load zone and its share of the load. */
  public record ZoneShare(String loadZone, int percent) {}

  /** What the coordinator does when a generator of a running test is lost. */
  public enum GeneratorLossPolicy {
    /** Go on with the generators that are left; the run is marked degraded. */
    CONTINUE,
    /** Abort the run (source: system). */
    ABORT
  }
}
