package dev.loadtest.generator.plugin;

import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.TestPlan;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * A way of generating load, found with {@link java.util.ServiceLoader}: a plan names its plug-in in
 * {@code "generator": {"plugin": "...", "options": {...}}} (default {@code http}). Built in: {@code http}
 * (VUs running the plan's flows over Jetty HttpClient) and {@code synthetic} (samples with a configured
 * rate, latency distribution, status mix and tag cardinality, without any system under test, to
 * load-test the pipeline itself). A plug-in jar on the classpath with a
 * {@code META-INF/services/dev.loadtest.generator.plugin.GeneratorPlugin} entry adds another.
 *
 * <p>Implementations must be stateless and thread-safe: one instance serves every run of a generator.
 */
public interface GeneratorPlugin {
  /** The name plans use. */
  String name();

  /**
   * Prepares a run of the plan's segment: checks the plug-in's options and loads what it needs.
   *
   * @throws dev.loadtest.schemas.plan.InvalidPlanException with every error and its JSON path
   */
  PluginRun prepare(PluginContext context);

  /**
   * Checks what {@link #prepare} would find wrong with {@code plan} (options, files relative to
   * {@code baseDir}; null when the files are the generators' to read, e.g. a plan submitted to a cluster) without
   * running anything, so that a plan is refused before any generator starts.
   *
   * @return every error with its JSON path; empty when the plan can run
   */
  default List<PlanError> check(TestPlan plan, Path baseDir) {
    return List.of();
  }

  /**
   * {@code optionsJson} with the files they name (a test script) embedded, read under {@code baseDir}, so that a
   * plan can travel to generators that do not share this machine's files; called on a plan that {@link #check}
   * found valid. Unchanged by default.
   */
  default String embedFiles(String optionsJson, Path baseDir) {
    return optionsJson;
  }

  /**
   * Why this plug-in cannot run on this machine (its tool is not installed), or empty when it can. A generator
   * lists only the plug-ins it can run in its heartbeats, so the coordinator never gives it a run of another,
   * and refuses an assignment of one with this reason.
   */
  default java.util.Optional<String> unavailable() {
    return java.util.Optional.empty();
  }

  /** The plug-in called {@code name} on this classpath, if there is one. */
  static java.util.Optional<GeneratorPlugin> find(String name) {
    for (GeneratorPlugin p : ServiceLoader.load(GeneratorPlugin.class)) {
      if (p.name().equals(name)) {
        return java.util.Optional.of(p);
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * The plug-in {@code plan} names, found with {@link ServiceLoader} as generators find it, and its
   * {@link #check}: an unknown plug-in is an error at {@code $.generator.plugin} naming the ones there are.
   */
  static List<PlanError> checkPlan(TestPlan plan, Path baseDir) {
    Map<String, GeneratorPlugin> plugins = new TreeMap<>();
    for (GeneratorPlugin p : ServiceLoader.load(GeneratorPlugin.class)) {
      plugins.put(p.name(), p);
    }
    GeneratorPlugin plugin = plugins.get(plan.generator().plugin());
    if (plugin == null) {
      return List.of(new PlanError("$.generator.plugin", "unknown plug-in \"" + plan.generator().plugin()
          + "\": the generators have " + String.join(", ", plugins.keySet())));
    }
    return plugin.check(plan, baseDir);
  }
}
