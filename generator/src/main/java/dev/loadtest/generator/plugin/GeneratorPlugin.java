package dev.loadtest.generator.plugin;

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
}
