package dev.loadtest.flink;

import dev.loadtest.flink.aggregate.AggregateJob;
import dev.loadtest.flink.aggregate.AggregateJobConfig;
import dev.loadtest.flink.sink.ClickHouseTarget;
import dev.loadtest.flink.threshold.ThresholdJob;
import dev.loadtest.flink.threshold.ThresholdJobConfig;
import dev.loadtest.flink.replay.ReplayJob;
import dev.loadtest.schemas.command.CommandParser;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The jobs' entry point, the same on a Flink cluster ({@code flink run -c dev.loadtest.flink.FlinkJobs
 * flink-jobs.jar aggregate --bootstrap kafka:9092 --clickhouse-url http://clickhouse:8123/}) and embedded.
 *
 * <pre>
 * aggregate   [options]                       the live aggregate job
 * thresholds  [options]                       the live threshold job
 * replay RUN --analysis ID [--from MS] [--to MS] [--thresholds FILE] [options]
 *                                             re-aggregates one run's raw samples under an analysis id
 *                                             and judges the plan's thresholds, or those of FILE
 * options: --bootstrap HOST:PORT   --clickhouse-url URL   --clickhouse-user U   --clickhouse-password P
 *          --database NAME   --parallelism N   --samples-topic NAME (default loadtest.samples)
 *          --sink-staging-dir URI (the ClickHouse sinks stage each checkpoint's rows as files there instead of
 *          in the checkpoint; a file system every TaskManager reaches, e.g. the checkpoints' volume)
 * </pre>
 * Each option falls back to an environment variable ({@code LOADTEST_KAFKA_BOOTSTRAP},
 * {@code LOADTEST_CLICKHOUSE_URL}, {@code LOADTEST_CLICKHOUSE_USER}, {@code LOADTEST_CLICKHOUSE_PASSWORD},
 * {@code LOADTEST_DATABASE}, {@code LOADTEST_SINK_STAGING_DIR}), then to the embedded defaults (127.0.0.1:9092, http://127.0.0.1:8123/,
 * database {@code loadtest}).
 */
public final class FlinkJobs {
  static final Map<String, String> ENV_NAMES = Map.of("bootstrap", "LOADTEST_KAFKA_BOOTSTRAP",
      "clickhouse-url", "LOADTEST_CLICKHOUSE_URL", "clickhouse-user", "LOADTEST_CLICKHOUSE_USER",
      "clickhouse-password", "LOADTEST_CLICKHOUSE_PASSWORD", "database", "LOADTEST_DATABASE",
      "sink-staging-dir", "LOADTEST_SINK_STAGING_DIR");
  static final Map<String, String> DEFAULTS = Map.ofEntries(Map.entry("bootstrap", "127.0.0.1:9092"),
      Map.entry("clickhouse-url", "http://127.0.0.1:8123/"), Map.entry("clickhouse-user", "default"),
      Map.entry("clickhouse-password", ""), Map.entry("database", "loadtest"), Map.entry("parallelism", "1"),
      Map.entry("from", Long.toString(Long.MIN_VALUE)), Map.entry("to", Long.toString(Long.MAX_VALUE)),
      Map.entry("analysis", ""), Map.entry("thresholds", ""), Map.entry("samples-topic", Topics.SAMPLES),
      Map.entry("sink-staging-dir", ""));

  private FlinkJobs() {}

  /** A job's name, its positional argument (the replay's run) and options, read and checked. */
  public record Invocation(String job, String run, Map<String, String> options) {
    public String option(String name) {
      return options.get(name);
    }

    public AggregateJobConfig aggregateConfig() {
      AggregateJobConfig live = AggregateJobConfig.live(option("bootstrap"), URI.create(option("clickhouse-url")),
          option("clickhouse-user"), option("clickhouse-password"), option("database"));
      live = live.withTopics(option("samples-topic"), live.aggregatesTopic(), live.groupId())
          .withStaging(option("sink-staging-dir"));
      return job.equals("replay") ? live.replay(run, option("analysis"), Long.parseLong(option("from")),
          Long.parseLong(option("to"))) : live;
    }

    public ThresholdJobConfig thresholdConfig() {
      return ThresholdJobConfig.live(option("bootstrap")).withClickHouse(clickHouse());
    }

    public ClickHouseTarget clickHouse() {
      return new ClickHouseTarget(URI.create(option("clickhouse-url")), option("clickhouse-user"),
          option("clickhouse-password"), option("database"));
    }

    /**
     * What a replay judges: the stored run with the thresholds of {@code --thresholds FILE}, if given.
     *
     * @throws IllegalArgumentException when the run cannot be replayed so, or the file is unreadable or
     *     holds bad thresholds
     */
    public RunState replayState() {
      return replayState(ReplayJob.storedRun(clickHouse(), run));
    }

    /** What a replay of {@code stored} (the run as stored) judges, as {@link #replayState()}. */
    public RunState replayState(RunState stored) {
      String thresholds = null;
      if (!option("thresholds").isBlank()) {
        try {
          thresholds = Files.readString(Path.of(option("thresholds")));
        } catch (IOException e) {
          throw new IllegalArgumentException("cannot read the thresholds file " + option("thresholds") + ": " + e);
        }
      }
      return ReplayJob.replayState(stored, thresholds, Long.parseLong(option("from")),
          Long.parseLong(option("to")), System.currentTimeMillis());
    }

    /**
     * Adds this job to {@code env}. The live jobs restart after a failure with an exponential delay (1 s
     * doubling to 1 min, reset after 10 min without failure), wherever they run: a transient fault (Kafka or
     * ClickHouse away) heals, and no record can cause a failure, so no record can cause a restart loop. A
     * replay is bounded and run by a user, who is told when it fails: it does not restart.
     */
    public void build(StreamExecutionEnvironment env) {
      if (!job.equals("replay")) {
        env.configure(restartStrategy());
      }
      env.setParallelism(Integer.parseInt(option("parallelism")));
      if (job.equals("thresholds")) {
        ThresholdJob.build(env, thresholdConfig());
      } else if (job.equals("replay")) {
        ReplayJob.build(env, aggregateConfig(), replayState(), clickHouse());
      } else {
        AggregateJob.build(env, aggregateConfig());
      }
    }
  }

  /** The live jobs' restart strategy (see {@link Invocation#build}). */
  public static Configuration restartStrategy() {
    Configuration c = new Configuration();
    c.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
    c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, Duration.ofSeconds(1));
    c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, Duration.ofMinutes(1));
    c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER, 2.0);
    c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD, Duration.ofMinutes(10));
    c.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_JITTER_FACTOR, 0.1);
    return c;
  }

  /**
   * Reads the arguments.
   *
   * @throws IllegalArgumentException saying what is wrong with them
   */
  public static Invocation parse(List<String> args, Map<String, String> env) {
    if (args.isEmpty() || !List.of("aggregate", "thresholds", "replay").contains(args.get(0))) {
      throw new IllegalArgumentException("the first argument is the job: aggregate, thresholds or replay");
    }
    String job = args.get(0);
    String run = null;
    Map<String, String> options = new HashMap<>();
    for (int i = 1; i < args.size(); i++) {
      String a = args.get(i);
      if (a.startsWith("--")) {
        String name = a.substring(2);
        if (!DEFAULTS.containsKey(name)) {
          throw new IllegalArgumentException("unknown option " + a + "; options: --" + String.join(", --",
              DEFAULTS.keySet().stream().sorted().toList()));
        }
        if (i + 1 >= args.size()) {
          throw new IllegalArgumentException(a + " needs a value");
        }
        options.put(name, args.get(++i));
      } else if (job.equals("replay") && run == null) {
        run = a;
      } else {
        throw new IllegalArgumentException("unexpected argument \"" + a + "\"");
      }
    }
    for (Map.Entry<String, String> d : DEFAULTS.entrySet()) {
      String fromEnv = ENV_NAMES.containsKey(d.getKey()) ? env.get(ENV_NAMES.get(d.getKey())) : null;
      options.putIfAbsent(d.getKey(), fromEnv != null && !fromEnv.isBlank() ? fromEnv : d.getValue());
    }
    if (job.equals("replay") && (run == null || options.get("analysis").isBlank())) {
      throw new IllegalArgumentException("replay needs the run id and --analysis ID");
    }
    if (job.equals("replay") && !CommandParser.ID.matcher(options.get("analysis")).matches()) {
      throw new IllegalArgumentException("--analysis must be letters, digits and . _ : - (at most 128, starting"
          + " with a letter or digit), got \"" + options.get("analysis") + "\"");
    }
    for (String number : List.of("parallelism", "from", "to")) {
      try {
        Long.parseLong(options.get(number));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + number + " must be a whole number, got \"" + options.get(number) + "\"");
      }
    }
    Invocation inv = new Invocation(job, run, Map.copyOf(options));
    inv.aggregateConfig(); // checks the rest
    return inv;
  }

  public static void main(String[] args) throws Exception {
    Invocation inv;
    try {
      inv = parse(List.of(args), System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("flink-jobs: " + e.getMessage());
      System.exit(2);
      return;
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    inv.build(env);
    env.execute("loadtest-" + inv.job() + (inv.run() == null ? "" : "-" + inv.run()));
  }
}
