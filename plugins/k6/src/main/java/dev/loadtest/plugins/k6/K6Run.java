package dev.loadtest.plugins.k6;

import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.ToolProcessRun;
import dev.loadtest.importers.K6Reader;
import dev.loadtest.importers.ResultFollower;
import dev.loadtest.importers.ResultLines;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One run of a k6 script on this generator: k6 in a process of its own, its JSON output followed. */
final class K6Run extends ToolProcessRun {
  private static final Logger LOG = LoggerFactory.getLogger(K6Run.class);

  private final PluginContext c;
  private final String script;
  private final Map<String, String> env;
  private final Duration maxDuration;
  private final String k6;
  private volatile long requests;

  K6Run(PluginContext c, String script, Map<String, String> env, Duration maxDuration, String k6) {
    super(c.testRunId());
    this.k6 = k6;
    this.c = c;
    this.script = script;
    this.env = env;
    this.maxDuration = maxDuration;
  }

  @Override
  public boolean run(long startNanos) throws InterruptedException {
    Path dir;
    try {
      dir = Files.createTempDirectory("k6-" + c.testRunId().replaceAll("[^A-Za-z0-9_-]", "_") + "-");
      Files.writeString(dir.resolve("script.js"), script);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    while (!stopping && System.nanoTime() < startNanos) {
      LockSupport.parkNanos(Math.min(startNanos - System.nanoTime(), 10_000_000L));
    }
    if (stopping) {
      return !aborted;
    }
    Path out = dir.resolve("results.json");
    Path log = dir.resolve("k6.log");
    ProcessBuilder pb = new ProcessBuilder(K6Plugin.commandLine(k6,
        c.sequence().segment(c.segment()), c.sequence().toString(), out, env, dir.resolve("script.js")))
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    try {
      Process p = pb.start();
      process = p;
      Thread watchdog = Thread.ofVirtual().start(() -> {
        try {
          if (!p.waitFor(maxDuration.toMillis(), TimeUnit.MILLISECONDS)) {
            problem("k6 still ran after maxDuration " + maxDuration.toSeconds() + " s: stopped");
            stop();
          }
        } catch (InterruptedException ignored) {
          Thread.currentThread().interrupt();
        }
      });
      ResultLines lines = K6Reader.jsonLines(c.sink(), c.plan().tags());
      ResultFollower.follow(p, () -> Files.exists(out) ? Optional.of(out) : Optional.empty(), "k6's JSON output",
          lines, this::problem);
      watchdog.interrupt();
      requests = lines.requests();
      int code = p.waitFor();
      // 0 passed, 99 k6's own thresholds failed (judged here on the merged data): both ran
      if (code != 0 && code != 99 && !stopping) {
        problem("k6 exited with code " + code + ": " + tail(log));
      }
      LOG.info("run {}: k6 ended (exit code {}), {} requests; its output: {}", c.testRunId(), code, requests, log);
      return !aborted;
    } catch (IOException e) {
      problem("cannot run k6 (" + k6 + "): " + e.getMessage());
      return !aborted;
    } finally {
      Process p = process;
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
      }
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
