package dev.loadtest.plugins.locust;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.generator.engine.EpochClock;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.ToolProcessRun;
import dev.loadtest.generator.plugin.RequestTags;
import dev.loadtest.generator.plugin.ToolTimings;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a locustfile on this generator: Locust headless in a process of its own (its output in
 * {@code locust.log} of the run's directory), its request events read from the listener's socket as they come
 * and written to the sink.
 */
final class LocustRun extends ToolProcessRun {
  private static final Logger LOG = LoggerFactory.getLogger(LocustRun.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** How long Locust may take to start and load the locustfile before the run is given up. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  /** A LoadTestShape class in a locustfile. */
  static final java.util.regex.Pattern SHAPE = java.util.regex.Pattern.compile(
      "(?m)^\\s*class\\s+\\w+\\s*\\([^)]*LoadTestShape[^)]*\\)");

  private final PluginContext c;
  private final String locustfile;
  private final long users;
  private final double spawnRate;
  private final Duration duration;
  private final String host;
  private final List<String> userClasses;
  private final Map<String, String> env;
  private final Map<String, TagSet> tagSets = new ConcurrentHashMap<>();
  private volatile int running;
  private volatile long requests;
  private volatile boolean started;

  LocustRun(PluginContext c, String locustfile, long users, double spawnRate, Duration duration, String host,
      List<String> userClasses, Map<String, String> env) {
    super(c.testRunId());
    this.c = c;
    this.locustfile = locustfile;
    this.users = users;
    this.spawnRate = spawnRate;
    this.duration = duration;
    this.host = host;
    this.userClasses = userClasses;
    this.env = env;
  }

  @Override
  public boolean run(long startNanos) throws InterruptedException {
    if (users == 0 && !SHAPE.matcher(locustfile).find()) {
      return !aborted; // this generator's share of the users is none (a shape sets its own, scaled by the listener)
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("locust-" + c.testRunId().replaceAll("[^A-Za-z0-9_-]", "_") + "-");
      Files.writeString(dir.resolve("locustfile.py"), locustfile);
      try (InputStream in = LocustRun.class.getResourceAsStream("loadtest_locust.py")) {
        Files.copy(in, dir.resolve("loadtest_locust.py"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the locustfile for Locust: " + e.getMessage(), e);
    }
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      while (!stopping && System.nanoTime() < startNanos) {
        LockSupport.parkNanos(Math.min(startNanos - System.nanoTime(), 10_000_000L));
      }
      if (stopping) {
        return !aborted;
      }
      List<String> cmd = new ArrayList<>(List.of(LocustPlugin.command(), "-f", dir.resolve("loadtest_locust.py")
          .toString(), "--headless", "--host", host, "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"));
      // A LoadTestShape sets the users and the end itself (Locust refuses --run-time beside one); the listener scales
      // its users, and `duration` is then a cap this run enforces.
      boolean shaped = SHAPE.matcher(locustfile).find();
      if (!shaped) {
        cmd.addAll(List.of("--users", Long.toString(users), "--spawn-rate", String.format(Locale.ROOT, "%.3f",
            spawnRate), "--run-time", Math.max(1, duration.toSeconds()) + "s"));
      }
      cmd.addAll(userClasses);
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(dir.resolve("locust.log").toFile());
      pb.environment().putAll(env);
      pb.environment().put("LOADTEST_LOCUSTFILE", dir.resolve("locustfile.py").toString());
      pb.environment().put("LOADTEST_SAMPLES_PORT", Integer.toString(server.getLocalPort()));
      dev.loadtest.schemas.segment.ExecutionSegment seg = c.sequence().segmentAt(c.segment());
      pb.environment().put("LOADTEST_SEGMENT_FROM", seg.from().numerator() + "/" + seg.from().denominator());
      pb.environment().put("LOADTEST_SEGMENT_TO", seg.to().numerator() + "/" + seg.to().denominator());
      Process p = pb.start();
      process = p;
      if (stopping) {
        p.destroy();
      }
      if (shaped) {
        Thread.ofVirtual().start(() -> {
          try {
            if (!p.waitFor(duration.toMillis(), TimeUnit.MILLISECONDS)) {
              stop();
            }
          } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
          }
        });
      }
      Socket events = accept(server, p);
      if (events == null) {
        problem("Locust ended before it ran the locustfile (exit code " + exitCode(p) + "): " + tail(dir.resolve("locust.log")));
        return !aborted;
      }
      try (events; BufferedReader in = new BufferedReader(new InputStreamReader(events.getInputStream(),
          StandardCharsets.UTF_8), 1 << 16)) {
        String line;
        while ((line = in.readLine()) != null) {
          forward(line);
        }
      }
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      int code = exitCode(p);
      // 1: some requests failed (Locust's --exit-code-on-error); a stop or an abort kills it
      if (!started && !stopping) {
        problem("Locust ended before its test started (exit code " + code + "): " + tail(dir.resolve("locust.log")));
      } else if (code > 1 && !stopping) {
        problem("Locust exited with code " + code + ": " + tail(dir.resolve("locust.log")));
      }
      LOG.info("run {}: Locust ended (exit code {}), {} requests; its output: {}", c.testRunId(), code, requests,
          dir.resolve("locust.log"));
      return !aborted;
    } catch (IOException e) {
      problem("cannot run Locust (" + LocustPlugin.command() + "): " + e.getMessage());
      return !aborted;
    } finally {
      Process p = process;
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }

  /** The listener's connection, or null when Locust ended (or did not connect in time) first. */
  private Socket accept(ServerSocket server, Process p) throws IOException {
    server.setSoTimeout(200);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        return server.accept();
      } catch (SocketTimeoutException e) {
        if (!p.isAlive()) {
          return null;
        }
      }
    }
    p.destroyForcibly();
    return null;
  }

  /** One line of the listener: a request event, or the running user count. */
  private void forward(String line) throws InterruptedException {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (IOException e) {
      problem("a line of Locust's listener is not JSON: " + (line.length() > 100 ? line.substring(0, 100) : line));
      return;
    }
    if (n.has("started")) {
      started = true;
      return;
    }
    if (n.has("users")) {
      running = n.path("users").asInt();
      c.sink().point("vus", MetricType.GAUGE, EpochClock.nowMicros(), TagSet.of(c.plan().tags()), running);
      return;
    }
    int status = n.path("s").asInt(0);
    boolean failed = n.hasNonNull("e");
    long durationUs = Math.max(0, Math.round(n.path("rt").asDouble(0) * 1000));
    long startUs = Math.round(n.path("t").asDouble(0) * 1e6);
    TagSet t = tagSet(n.path("n").asText(""), n.path("m").asText("GET"), status, failed);
    c.sink().request(startUs, t, ToolTimings.responseTime(durationUs, n.path("b").asLong(0)), failed, 0);
    requests++;
  }

  private TagSet tagSet(String name, String method, int status, boolean failed) {
    String key = name + '\n' + method + '\n' + status + '\n' + failed;
    return tagSets.computeIfAbsent(key, k -> RequestTags.of(c.plan().tags(), name, method, status, "locust", "",
        !failed));
  }

  private static int exitCode(Process p) {
    try {
      return p.isAlive() ? -1 : p.exitValue();
    } catch (IllegalThreadStateException e) {
      return -1;
    }
  }

  @Override
  public long iterations() {
    return requests;
  }

  @Override
  public int activeVus() {
    return running;
  }
}
