package dev.loadtest.generator.agent;

import dev.loadtest.generator.http.HttpEngine;
import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.sink.BatchingSampleSink;
import dev.loadtest.generator.sink.Publisher;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.sample.TagSet;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A load generator: runs segments of plans with the plug-in each plan names, publishes their samples,
 * watches itself, and describes itself in a {@link Heartbeat}. Runs may overlap. Used by the
 * {@link GeneratorAgent} (assignments from the coordinator) and directly for a local run of a whole plan
 * (segment 0:1, no coordinator).
 *
 * <p>Thread-safe. Each run has a thread of its own; {@link ActiveRun#stop} and {@link ActiveRun#abort}
 * may be called from anywhere.
 */
public final class Generator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Generator.class);

  private final GeneratorConfig config;
  private final Publisher publisher;
  private final Map<String, GeneratorPlugin> plugins = new TreeMap<>();
  /** Plug-ins on the classpath whose tool is missing here, with the reason. */
  private final Map<String, String> unavailable = new TreeMap<>();
  private final SelfMonitor monitor = new SelfMonitor().start();
  private final ConcurrentHashMap<String, ActiveRun> runs = new ConcurrentHashMap<>();
  private final List<Heartbeat.RunProgress> finished = new ArrayList<>();
  private volatile SelfMonitor.Reading lastReading = new SelfMonitor.Reading(0, 0, 0, 0, 0);
  private HttpEngine http;

  public Generator(GeneratorConfig config, Publisher publisher) {
    this.config = config;
    this.publisher = publisher;
    for (GeneratorPlugin p : ServiceLoader.load(GeneratorPlugin.class)) {
      java.util.Optional<String> missing = p.unavailable();
      if (missing.isEmpty()) {
        plugins.put(p.name(), p);
      } else {
        unavailable.put(p.name(), missing.get());
        LOG.info("generator plug-in {} is not offered here: {}", p.name(), missing.get());
      }
    }
  }

  public GeneratorConfig config() {
    return config;
  }

  public java.util.Set<String> plugins() {
    return plugins.keySet();
  }

  private synchronized HttpEngine http() {
    if (http == null) {
      try {
        http = new HttpEngine(config.http());
      } catch (Exception e) {
        throw new IllegalStateException("cannot start the HTTP client: " + e.getMessage(), e);
      }
    }
    return http;
  }

  /**
   * Starts a run of one segment of a plan at {@code startAtMs} (epoch ms; now if in the past).
   *
   * @param onEnd called once with the report when the run is over, from the run's thread
   * @throws InvalidPlanException when the plan or its plug-in's options are invalid (each error with
   *     its JSON path); nothing has started then
   */
  public ActiveRun start(String testRunId, String planJson, ExecutionSegmentSequence sequence, int segment,
      long startAtMs, Map<String, String> env, Path baseDir, Consumer<RunReport> onEnd) {
    return start(testRunId, planJson, sequence, segment, startAtMs, env, baseDir, null, onEnd);
  }

  ActiveRun start(String testRunId, String planJson, ExecutionSegmentSequence sequence, int segment,
      long startAtMs, Map<String, String> env, Path baseDir, dev.loadtest.generator.sink.LocalStats stats,
      Consumer<RunReport> onEnd) {
    return launch(testRunId, planJson, sequence, segment, startAtMs, env, baseDir, stats, publisher, true, onEnd);
  }

  /**
   * Warms this generator's request path up: runs {@link Warmup}'s plan against a responder of its own on
   * 127.0.0.1 until the request rate stops rising (at most {@code max}), its samples encoded as a run's
   * are and then dropped. The JIT compiles the path while nothing is measured, so a test's first seconds
   * are sent and timed by compiled code; until then a generator is slower and adds its own latency.
   * A warm-up is no run: it is not in heartbeats and publishes nothing.
   */
  public Warmup.Report warmUp(java.time.Duration max) throws InterruptedException {
    return Warmup.run(this, max);
  }

  /** A run of a whole plan from now that heartbeats do not list, its samples to {@code to}, not to this generator's publisher. */
  ActiveRun launchUnlisted(String testRunId, String planJson, dev.loadtest.generator.sink.LocalStats stats,
      Publisher to, Consumer<RunReport> onEnd) {
    return launch(testRunId, planJson, ExecutionSegmentSequence.whole(), 0, System.currentTimeMillis(), Map.of(),
        Path.of("."), stats, to, false, onEnd);
  }

  private ActiveRun launch(String testRunId, String planJson, ExecutionSegmentSequence sequence, int segment,
      long startAtMs, Map<String, String> env, Path baseDir, dev.loadtest.generator.sink.LocalStats stats,
      Publisher to, boolean listed, Consumer<RunReport> onEnd) {
    // Env values given at launch count as the plan's own, so that a ${ENV.X} they define is not undefined.
    TestPlan plan = PlanParser.parse(withEnv(planJson, env));
    GeneratorPlugin plugin = plugins.get(plan.generator().plugin());
    if (plugin == null) {
      String why = unavailable.get(plan.generator().plugin());
      throw new InvalidPlanException(List.of(new PlanError("$.generator.plugin", why != null
          ? "the plug-in \"" + plan.generator().plugin() + "\" cannot run on generator " + config.generatorId() + ": "
              + why
          : "no generator plug-in \"" + plan.generator().plugin() + "\" here; this generator has " + plugins.keySet())));
    }
    if (listed && runs.containsKey(testRunId)) {
      throw new IllegalStateException("run " + testRunId + " is already running here");
    }
    BatchingSampleSink sink = new BatchingSampleSink(testRunId, config.generatorId(), config.loadZone(), to);
    if (plan.generator().tagGenerator()) {
      sink.tagEvery(TestPlan.GeneratorSpec.GENERATOR_TAG, config.generatorId());
    }
    if (stats != null) {
      sink.observe(stats);
    }
    PluginRun run;
    try {
      run = plugin.prepare(new PluginContext(testRunId, plan, env, sequence, segment, sink, baseDir, this::http,
          testRunId.hashCode() * 31L + segment));
    } catch (RuntimeException e) {
      closeQuietly(sink);
      throw e;
    }
    long startNanos = System.nanoTime() + (startAtMs - System.currentTimeMillis()) * 1_000_000L;
    ActiveRun active = new ActiveRun(testRunId, sequence.segment(segment), run, sink, listed);
    if (listed) {
      runs.put(testRunId, active);
    }
    Thread.ofPlatform().name("run-" + testRunId).start(() -> {
      RunReport report = active.execute(startNanos);
      if (listed) {
        runs.remove(testRunId);
        synchronized (finished) {
          finished.add(report.progress());
        }
      }
      onEnd.accept(report);
    });
    return active;
  }

  /** {@code planJson} with {@code env} over its {@code env}; unchanged when there is none or it is not an object. */
  public static String withEnv(String planJson, Map<String, String> env) {
    if (env.isEmpty()) {
      return planJson;
    }
    try {
      com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(planJson);
      if (n instanceof com.fasterxml.jackson.databind.node.ObjectNode o && (!o.has("env") || o.get("env").isObject())) {
        env.forEach((k, v) -> o.with("env").put(k, v));
        return o.toString();
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // the parser says what is wrong with it
    }
    return planJson;
  }

  /** Runs a whole plan here (segment 0:1) from now, and returns when it is over. */
  public RunReport runLocal(String testRunId, String planJson, Map<String, String> env, Path baseDir)
      throws InterruptedException {
    return runLocal(testRunId, planJson, env, baseDir, null);
  }

  /** As {@link #runLocal(String, String, Map, Path)}, tallying requests into {@code stats} as they happen. */
  public RunReport runLocal(String testRunId, String planJson, Map<String, String> env, Path baseDir,
      dev.loadtest.generator.sink.LocalStats stats) throws InterruptedException {
    return runLocal(testRunId, planJson, env, baseDir, stats, new ExecutionSegmentSequence.Share(
        ExecutionSegmentSequence.whole(), 0));
  }

  /** As {@link #runLocal(String, String, Map, Path)} with {@code stats}, running only {@code part} of the plan. */
  public RunReport runLocal(String testRunId, String planJson, Map<String, String> env, Path baseDir,
      dev.loadtest.generator.sink.LocalStats stats, ExecutionSegmentSequence.Share part) throws InterruptedException {
    CompletableFuture<RunReport> done = new CompletableFuture<>();
    ActiveRun r = start(testRunId, planJson, part.sequence(), part.segment(), System.currentTimeMillis(), env,
        baseDir, stats, done::complete);
    try {
      return done.get();
    } catch (InterruptedException e) {
      r.abort();
      throw e;
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /** A run this generator could not start; it is reported once, as FAILED with the reason, in the next heartbeat. */
  public void refused(String testRunId, String why) {
    synchronized (finished) {
      finished.add(new Heartbeat.RunProgress(testRunId, "", Heartbeat.RunPhase.FAILED, 0, 0, 0, 0, 0, 0, why));
    }
  }

  public ActiveRun run(String testRunId) {
    return runs.get(testRunId);
  }

  /** What this generator is and does now; runs finished since the last heartbeat are reported once. */
  public Heartbeat heartbeat() {
    SelfMonitor.Reading r = monitor.read();
    lastReading = r;
    List<Heartbeat.RunProgress> progress = new ArrayList<>();
    synchronized (finished) {
      progress.addAll(finished);
      finished.clear();
    }
    long vus = 0;
    for (ActiveRun a : runs.values()) {
      progress.add(a.progress());
      vus += a.run.activeVus();
    }
    List<String> warnings = r.overloaded() ? List.of(r.warning()) : List.of();
    return new Heartbeat(config.generatorId(), config.loadZone(), SelfMonitor.cores(), config.capacityVus(),
        dev.loadtest.generator.http.Version.VERSION, vus, r.cpu(), r.heapUsedBytes(), r.heapMaxBytes(),
        r.schedulingDelayMs(), progress, warnings, System.currentTimeMillis(), List.copyOf(plugins.keySet()));
  }

  private static void closeQuietly(BatchingSampleSink sink) {
    try {
      sink.close(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() throws Exception {
    runs.values().forEach(ActiveRun::abort);
    monitor.close();
    synchronized (this) {
      if (http != null) {
        http.close();
      }
    }
  }

  /** A run in progress on this generator. */
  public final class ActiveRun {
    private final String testRunId;
    private final String segment;
    private final PluginRun run;
    private final BatchingSampleSink sink;
    private final boolean listed;
    private volatile Heartbeat.RunPhase phase = Heartbeat.RunPhase.WAITING;
    private volatile boolean aborted;
    private volatile boolean stopRequested;

    ActiveRun(String testRunId, String segment, PluginRun run, BatchingSampleSink sink, boolean listed) {
      this.testRunId = testRunId;
      this.segment = segment;
      this.run = run;
      this.sink = sink;
      this.listed = listed;
    }

    public void stop() {
      stopRequested = true;
      run.stop();
    }

    public void abort() {
      aborted = true;
      run.abort();
    }

    Heartbeat.RunProgress progress() {
      BatchingSampleSink.Stats s = sink.stats();
      return new Heartbeat.RunProgress(testRunId, segment, phase, run.iterations(), run.droppedIterations(),
          s.requests(), s.recorded(), s.undelivered(), s.backpressureNanos() / 1_000_000, "", run.failedIterations(),
          run.iterationErrors());
    }

    RunReport execute(long startNanos) {
      Thread selfMetrics = Thread.ofVirtual().name("self-metrics-" + testRunId).start(() -> reportSelf(startNanos));
      String message = "";
      boolean completed = false;
      try {
        // WAITING until the common start time, so that RUNNING means load is being sent.
        while (System.nanoTime() < startNanos && !aborted && !stopRequested) {
          java.util.concurrent.locks.LockSupport.parkNanos(Math.min(startNanos - System.nanoTime(), 20_000_000L));
        }
        phase = Heartbeat.RunPhase.RUNNING;
        completed = run.run(startNanos) && !aborted;
      } catch (InterruptedException e) {
        run.abort();
        message = "interrupted";
      } catch (RuntimeException e) {
        LOG.error("run {} failed on this generator", testRunId, e);
        message = "failed: " + e;
      }
      selfMetrics.interrupt();
      BatchingSampleSink.Stats stats;
      try {
        selfMetrics.join();
        stats = sink.close(dev.loadtest.generator.sink.KafkaPublisher.DEFAULT_DELIVERY_TIMEOUT_MS + 10_000L);
      } catch (InterruptedException e) {
        stats = sink.stats();
        message = "interrupted while delivering samples";
      }
      if (stats.undelivered() > 0 || stats.pending() > 0) {
        LOG.error("run {}: {} samples could not be delivered and {} are still pending; the run's results miss them",
            testRunId, stats.undelivered(), stats.pending());
        message = (message.isEmpty() ? "" : message + "; ") + (stats.undelivered() + stats.pending())
            + " samples undelivered";
      }
      phase = !message.isEmpty() && message.startsWith("failed") ? Heartbeat.RunPhase.FAILED
          : completed ? Heartbeat.RunPhase.FINISHED : Heartbeat.RunPhase.ABORTED;
      return new RunReport(testRunId, segment, phase, run.iterations(), run.droppedIterations(), stats, message,
          run.failedIterations(), run.iterationErrors());
    }

    /**
     * The generator's own CPU, its machine's (or container's) CPU, heap (bytes, and used over maximum) and
     * scheduling delay as metrics of the run, every second.
     */
    private void reportSelf(long startNanos) {
      TagSet tags = TagSet.of(Map.of("generator", config.generatorId()));
      try {
        while (System.nanoTime() < startNanos) {
          Thread.sleep(Math.max(1, (startNanos - System.nanoTime()) / 1_000_000));
        }
        while (true) {
          Thread.sleep(1000);
          SelfMonitor.Reading r = lastReading.heapUsedBytes() == 0 ? monitor.read() : lastReading;
          long now = dev.loadtest.generator.engine.EpochClock.nowMicros();
          sink.point("generator_cpu", MetricType.GAUGE, now, tags, r.cpu());
          sink.point("generator_host_cpu", MetricType.GAUGE, now, tags, r.hostCpu());
          sink.point("generator_heap_bytes", MetricType.GAUGE, now, tags, r.heapUsedBytes());
          if (r.heapMaxBytes() > 0) { // heap used over its maximum: the insight "high-generator-memory" reads it
            sink.point("generator_memory", MetricType.GAUGE, now, tags, (double) r.heapUsedBytes() / r.heapMaxBytes());
          }
          sink.point("generator_scheduling_delay", MetricType.TREND, now, tags, r.schedulingDelayMs());
          if (r.overloaded() && listed) { // a warm-up keeps the CPU busy on purpose
            LOG.warn("run {}: {}", testRunId, r.warning());
          }
        }
      } catch (InterruptedException e) {
        // the run is over
      }
    }
  }
}
