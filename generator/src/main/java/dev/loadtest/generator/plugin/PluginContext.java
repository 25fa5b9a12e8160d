package dev.loadtest.generator.plugin;

import dev.loadtest.generator.http.HttpEngine;
import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What a plug-in gets to run one segment of a plan.
 *
 * @param envOverrides env values given at launch, over the plan's
 * @param baseDir where relative files of the plan (feeders) are found
 * @param http the generator's shared HTTP client, created on first use
 * @param seed for reproducible randomness
 */
public record PluginContext(String testRunId, TestPlan plan, Map<String, String> envOverrides,
    ExecutionSegmentSequence sequence, int segment, BatchingSampleSink sink, Path baseDir, Supplier<HttpEngine> http,
    long seed) {

  /** The plan's env with the launch's overrides over it (what a tool gets as its environment or properties). */
  public Map<String, String> env() {
    Map<String, String> m = new java.util.LinkedHashMap<>(plan.env());
    m.putAll(envOverrides);
    return m;
  }
}
