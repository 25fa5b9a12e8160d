package dev.loadtest.plugins.gatling;

import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.ToolProcessRun;
import dev.loadtest.importers.GatlingLogReader;
import dev.loadtest.importers.ResultFollower;
import dev.loadtest.importers.ResultLines;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a simulation on this generator: compiled, started in its own JVM ({@code inside.Main}) which loads
 * Gatling and waits; told to go at the run's start time; its simulation.log followed as Gatling writes it, each
 * record read as the importer reads Gatling's logs ({@link GatlingLogReader}) into the sink.
 */
final class GatlingRun extends ToolProcessRun {
  private static final Logger LOG = LoggerFactory.getLogger(GatlingRun.class);
  static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final PluginContext c;
  private final GatlingPlugin.Source source;
  private final Duration maxDuration;
  private volatile long requests;

  GatlingRun(PluginContext c, GatlingPlugin.Source source, Duration maxDuration) {
    super(c.testRunId());
    this.c = c;
    this.source = source;
    this.maxDuration = maxDuration;
  }

  @Override
  public boolean run(long startNanos) throws InterruptedException {
    Path dir;
    try {
      dir = Files.createTempDirectory("gatling-" + c.testRunId().replaceAll("[^A-Za-z0-9_-]", "_") + "-");
      List<String> errors = GatlingPlugin.compile(source, dir);
      if (!errors.isEmpty()) {
        problem("the simulation does not compile: " + String.join("; ", errors));
        return !aborted;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path results = dir.resolve("results");
    Path log = dir.resolve("gatling.log");
    try {
      // Gatling's own console logging, at WARN (its bundle's default; its jars alone log at DEBUG)
      Files.writeString(dir.resolve("logback.xml"), """
          <configuration>
            <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
              <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n</pattern></encoder>
            </appender>
            <root level="WARN"><appender-ref ref="CONSOLE"/></root>
          </configuration>
          """);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx768m", "-XX:+UseParallelGC", "-Dlogback.configurationFile=" + dir.resolve("logback.xml"),
        "-cp", GatlingLib.classpath(dir.resolve("classes")),
        "-Dloadtest.sequence=" + c.sequence(), "-Dloadtest.segment=" + c.segment(),
        "-Dloadtest.maxDurationSeconds=" + maxDuration.toSeconds()));
    Map<String, String> env = c.env();
    // Java DSL simulations read settings as system properties (-DBASE_URL=...) or the environment: both are there
    env.forEach((k, v) -> {
      if (k.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
        cmd.add("-D" + k + "=" + v);
      }
    });
    cmd.addAll(List.of("dev.loadtest.plugins.gatling.inside.Main", source.qualified("LoadtestScaled"
        + source.className()), results.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    CountDownLatch ready = new CountDownLatch(1);
    try {
      Process p = pb.start();
      process = p;
      Thread.ofPlatform().daemon().name("gatling-output-" + c.testRunId()).start(() -> copyOutput(p, log, ready));
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (!ready.await(100, TimeUnit.MILLISECONDS)) {
        if (!p.isAlive() || System.nanoTime() > deadline || stopping) {
          p.destroyForcibly();
          if (!stopping) {
            problem("Gatling's JVM ended before it was ready (exit code " + exit(p) + "): " + tail(log));
          }
          return !aborted;
        }
      }
      while (!stopping && System.nanoTime() < startNanos) {
        LockSupport.parkNanos(Math.min(startNanos - System.nanoTime(), 10_000_000L));
      }
      if (stopping) {
        p.destroy();
        return !aborted;
      }
      try (OutputStream in = p.getOutputStream()) {
        in.write("go\n".getBytes(StandardCharsets.UTF_8));
      }
      follow(p, results);
      int code = exit(p);
      // 0 passed, 2 Gatling's own assertions failed: both ran; a stop or an abort kills it
      if (code != 0 && code != 2 && !stopping) {
        problem("Gatling exited with code " + code + ": " + tail(log));
      }
      LOG.info("run {}: Gatling ended (exit code {}), {} requests; its output: {}", c.testRunId(), code, requests, log);
      return !aborted;
    } catch (IOException e) {
      problem("cannot run Gatling: " + e.getMessage());
      return !aborted;
    } finally {
      Process p = process;
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }

  /** Reads the simulation's log as it grows, until Gatling's JVM has ended and the log is read to its end. */
  private void follow(Process p, Path results) throws IOException, InterruptedException {
    ResultLines lines = GatlingLogReader.lines(c.sink(), c.plan().tags());
    Thread counter = Thread.ofVirtual().start(() -> {
      try {
        while (p.isAlive()) {
          requests = lines.requests();
          Thread.sleep(1000);
        }
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    });
    try {
      ResultFollower.follow(p, () -> find(results), "simulation.log", lines, this::problem);
    } finally {
      counter.interrupt();
    }
    requests = lines.requests();
  }

  private static Optional<Path> find(Path results) {
    try {
      return findLog(results);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<Path> findLog(Path results) throws IOException {
    if (!Files.isDirectory(results)) {
      return Optional.empty();
    }
    try (Stream<Path> s = Files.walk(results, 2)) {
      return s.filter(p -> p.getFileName().toString().equals("simulation.log")).findFirst();
    }
  }

  private static void copyOutput(Process p, Path log, CountDownLatch ready) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
         Writer out = Files.newBufferedWriter(log)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.equals("ready")) {
          ready.countDown();
        }
        out.write(line);
        out.write('\n');
        out.flush();
      }
    } catch (IOException e) {
      LOG.debug("Gatling's output: {}", e.toString());
    }
  }

  private static int exit(Process p) {
    try {
      return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  @Override
  public long iterations() {
    return requests;
  }

  @Override
  public int activeVus() {
    return 0;
  }
}
