package dev.loadtest.generator.plugin;

import dev.loadtest.generator.engine.Feeders;
import dev.loadtest.generator.engine.RunContext;
import dev.loadtest.generator.executor.RunExecution;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.TestPlan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The {@code http} plug-in: VUs on virtual threads run the plan's flows with k6's executors. */
public final class HttpPlugin implements GeneratorPlugin {
  @Override
  public String name() {
    return "http";
  }

  @Override
  public List<PlanError> check(TestPlan plan, Path baseDir) {
    List<PlanError> errors = new ArrayList<>();
    if (!plan.generator().optionsJson().equals("{}")) {
      errors.add(new PlanError("$.generator.options", "the http plug-in takes no options"));
    }
    // Each feeder on its own, so that every broken one is named at its path.
    plan.feeders().forEach((name, f) -> {
      if (baseDir == null && f.file().isPresent()) {
        return; // no directory to read it from here: the generators read it (submit, the API)
      }
      try {
        Feeders.load(Map.of(name, f), baseDir != null ? baseDir : Path.of(""));
      } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
        String at = "$.feeders." + name + (f.file().isPresent() ? ".file" : "");
        errors.add(new PlanError(at, e.getMessage()));
      }
    });
    return errors;
  }

  @Override
  public PluginRun prepare(PluginContext c) {
    if (!c.plan().generator().optionsJson().equals("{}")) {
      throw new InvalidPlanException(List.of(new PlanError("$.generator.options",
          "the http plug-in takes no options")));
    }
    Feeders feeders;
    try {
      feeders = Feeders.load(c.plan().feeders(), c.baseDir());
    } catch (IllegalArgumentException e) {
      throw new InvalidPlanException(List.of(new PlanError("$.feeders", e.getMessage())));
    }
    RunContext run = new RunContext(c.testRunId(), c.plan(), c.envOverrides(), feeders, c.http().get(), c.sink(),
        c.seed(), new RunContext.SetupData());
    RunExecution ex = new RunExecution(run, c.sequence(), c.segment());
    return new PluginRun() {
      @Override
      public boolean run(long startNanos) throws InterruptedException {
        return ex.run(startNanos);
      }

      @Override
      public void stop() {
        ex.stop();
      }

      @Override
      public void abort() {
        ex.abort();
      }

      @Override
      public long iterations() {
        return ex.iterations();
      }

      @Override
      public long droppedIterations() {
        return ex.droppedIterations();
      }

      @Override
      public int activeVus() {
        return ex.activeVus();
      }

      @Override
      public long failedIterations() {
        return ex.failedIterations();
      }

      @Override
      public List<String> iterationErrors() {
        return run.failures().reasons();
      }
    };
  }
}
