package dev.loadtest.schemas.plan;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One scenario of a plan: an executor with its parameters, when it starts, how it stops, and which
 * flow(s) its iterations run.
 *
 * @param exec flows by name with their weights; one entry of weight 1 for a plain {@code "exec": "name"}
 */
public record Scenario(String name, Executor executor, Duration startTime, Duration gracefulStop,
    Map<String, Integer> exec, Map<String, String> env, Map<String, String> tags) {

  public Scenario {
    exec = TestPlan.ordered(exec);
    env = TestPlan.ordered(env);
    tags = TestPlan.ordered(tags);
  }

  /** The k6 executors, each with its own parameters. */
  public sealed interface Executor {
    /** The executor's name as k6 writes it, e.g. {@code ramping-arrival-rate}. */
    String type();

    /** The most VUs the scenario may have at once, over all generators. */
    long maxVus();
  }

  public record ConstantVus(int vus, Duration duration) implements Executor {
    public long maxVus() {
      return vus;
    }

    public String type() {
      return "constant-vus";
    }
  }

  public record RampingVus(int startVUs, List<Stage> stages, Duration gracefulRampDown) implements Executor {
    public RampingVus {
      stages = List.copyOf(stages);
    }

    public long maxVus() {
      return Math.max(startVUs, stages.stream().mapToLong(Stage::target).max().orElse(0));
    }

    public String type() {
      return "ramping-vus";
    }
  }

  /** Open model: {@code rate} iterations per {@code timeUnit}, whatever the latency. */
  public record ConstantArrivalRate(long rate, Duration timeUnit, Duration duration, int preAllocatedVUs,
      int maxVUs) implements Executor {
    public long maxVus() {
      return maxVUs;
    }

    public String type() {
      return "constant-arrival-rate";
    }
  }

  public record RampingArrivalRate(long startRate, Duration timeUnit, List<Stage> stages, int preAllocatedVUs,
      int maxVUs) implements Executor {
    public RampingArrivalRate {
      stages = List.copyOf(stages);
    }

    public long maxVus() {
      return maxVUs;
    }

    public String type() {
      return "ramping-arrival-rate";
    }
  }

  public record PerVuIterations(int vus, long iterations, Duration maxDuration) implements Executor {
    public long maxVus() {
      return vus;
    }

    public String type() {
      return "per-vu-iterations";
    }
  }

  public record SharedIterations(int vus, long iterations, Duration maxDuration) implements Executor {
    public long maxVus() {
      return vus;
    }

    public String type() {
      return "shared-iterations";
    }
  }

  /** Ramp linearly to {@code target} (VUs, or iterations per time unit) over {@code duration}. */
  public record Stage(Duration duration, long target) {}
}
