package dev.loadtest.generator.testing;

import dev.loadtest.generator.engine.Feeders;
import dev.loadtest.generator.engine.RunContext;
import dev.loadtest.generator.executor.RunExecution;
import dev.loadtest.generator.http.HttpEngine;
import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.nio.file.Path;
import java.util.Map;

/** Builds runs of plans for tests. */
public final class Runs {
  private Runs() {}

  public static RunContext context(String planJson, Map<String, String> env, HttpEngine http, SampleSink sink,
      long seed) {
    TestPlan plan = PlanParser.parse(planJson);
    return new RunContext("test-run", plan, env, Feeders.load(plan.feeders(), Path.of(".")), http, sink, seed,
        new RunContext.SetupData());
  }

  /** Runs a plan on the whole segment at once and returns the execution after it ended. */
  public static RunExecution runWhole(String planJson, Map<String, String> env, HttpEngine http, SampleSink sink)
      throws InterruptedException {
    RunExecution ex = new RunExecution(context(planJson, env, http, sink, 42), ExecutionSegmentSequence.whole(), 0);
    ex.run(System.nanoTime());
    return ex;
  }
}
