package dev.loadtest.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A ClickHouse server started from the local binary ({@code clickhouse-server}, or {@code clickhouse
 * server}) with a temporary data directory and free loopback ports. Stopped and removed by
 * {@link #close()}.
 */
final class LocalClickHouseProcess implements AutoCloseable {
  /**
   * System property: when true, the server logs every statement to {@code system.query_log} (the test suite
   * sets it, so that what the code sent can be run again on another ClickHouse version).
   */
  static final String LOG_QUERIES = "loadtest.clickhouse.logQueries";
  private static final List<String> CANDIDATES = List.of("/usr/bin/clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/local/bin/clickhouse-server",
      "/usr/bin/clickhouse", "/usr/local/bin/clickhouse");

  private final List<String> command;
  private final Path dataDir;
  private final URI httpUri;
  private final String binary;
  private volatile Process process;
  /** Stops the server when the JVM exits without closing it (a benchmark or test stopped by a signal). */
  private final Thread exitHook = new Thread(this::stop, "clickhouse-exit");

  private LocalClickHouseProcess(List<String> command, Process process, Path dataDir, URI httpUri, String binary) {
    this.command = command;
    this.process = process;
    this.dataDir = dataDir;
    this.httpUri = httpUri;
    this.binary = binary;
    Runtime.getRuntime().addShutdownHook(exitHook);
  }

  /** The command that starts a server, or empty when no ClickHouse binary is installed. */
  static Optional<List<String>> findCommand() {
    String path = System.getenv().getOrDefault("PATH", "");
    List<String> dirs = new ArrayList<>();
    for (String d : path.split(":")) {
      if (!d.isEmpty()) {
        dirs.add(d + "/clickhouse-server");
      }
    }
    dirs.addAll(CANDIDATES);
    for (String candidate : dirs) {
      Path p = Path.of(candidate);
      if (Files.isExecutable(p)) {
        return Optional.of(p.getFileName().toString().equals("clickhouse")
            ? List.of(candidate, "server") : List.of(candidate));
      }
    }
    return Optional.empty();
  }

  static LocalClickHouseProcess start(List<String> command, Duration timeout) {
    Path dir = TempDirs.create("clickhouse-");
    int httpPort = Ports.freeLoopbackPort();
    int tcpPort = Ports.freeLoopbackPort();
    try {
      for (String sub : List.of("log", "tmp", "user_files", "format_schemas")) {
        Files.createDirectories(dir.resolve(sub));
      }
      String config = resource("/clickhouse/config.xml").replace("DATA_DIR", dir.toString())
          .replace("HTTP_PORT", Integer.toString(httpPort)).replace("TCP_PORT", Integer.toString(tcpPort));
      Files.writeString(dir.resolve("config.xml"), config);
      Files.writeString(dir.resolve("users.xml"), resource("/clickhouse/users.xml").replace("LOG_QUERIES",
          Boolean.getBoolean(LOG_QUERIES) ? "1" : "0"));
      List<String> cmd = new ArrayList<>(command);
      cmd.add("--config-file=" + dir.resolve("config.xml"));
      URI uri = URI.create("http://127.0.0.1:" + httpPort + "/");
      LocalClickHouseProcess ch = new LocalClickHouseProcess(cmd, launch(cmd, dir), dir, uri, String.join(" ", command));
      ch.awaitPing(timeout);
      return ch;
    } catch (IOException e) {
      TempDirs.deleteQuietly(dir);
      throw new UncheckedIOException("cannot start ClickHouse with " + command, e);
    }
  }

  private static Process launch(List<String> cmd, Path dir) throws IOException {
    return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("log/stdout.log").toFile())).start();
  }

  private volatile boolean closing;
  private volatile Thread supervisor;

  /**
   * Watches the server from now on: when it exits (a crash, an OOM kill, someone's kill -9), it is started
   * again on its data and ports, and {@code say} is told what happened and how long the restart took. After
   * 5 restarts within 10 minutes it gives up and says so (something is wrong that restarting cannot fix).
   */
  synchronized void supervise(java.util.function.Consumer<String> say) {
    if (supervisor != null) {
      return;
    }
    supervisor = Thread.ofPlatform().daemon().name("clickhouse-supervisor").start(() -> {
      java.util.ArrayDeque<Long> restarts = new java.util.ArrayDeque<>();
      while (!closing) {
        try {
          Process p = process;
          if (p.waitFor(1, java.util.concurrent.TimeUnit.SECONDS) && !closing && p == process) {
            long now = System.nanoTime();
            restarts.removeIf(t -> now - t > Duration.ofMinutes(10).toNanos());
            if (restarts.size() >= 5) {
              say.accept("ClickHouse exited (code " + p.exitValue() + ") for the 6th time in 10 minutes; not restarting"
                  + " it again. Its log: " + dataDir.resolve("log/server.err.log"));
              return;
            }
            restarts.add(now);
            say.accept("ClickHouse exited (code " + p.exitValue() + "); restarting it on the same data and port...");
            try {
              restart(Duration.ofSeconds(60));
              say.accept("ClickHouse is back after " + (System.nanoTime() - now) / 1_000_000 + " ms; writes it missed are"
                  + " retried by the jobs");
            } catch (RuntimeException e) {
              if (!closing) {
                say.accept("ClickHouse did not come back: " + e.getMessage().lines().findFirst().orElse(""));
              }
            }
          }
        } catch (InterruptedException e) {
          return;
        }
      }
    });
  }

  /** Kills the server (as a crash would), keeping its data for {@link #restart}. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts the server again on its data directory and ports, and waits until it answers. */
  void restart(Duration timeout) {
    try {
      process = launch(command, dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restart ClickHouse", e);
    }
    awaitPing(timeout);
  }

  URI httpUri() {
    return httpUri;
  }

  String binary() {
    return binary;
  }

  private void awaitPing(Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        String log = tail(dataDir.resolve("log/server.err.log")) + tail(dataDir.resolve("log/stdout.log"));
        close();
        throw new IllegalStateException("clickhouse-server exited with code " + process.exitValue()
            + " while starting:\n" + log);
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(httpUri.resolve("/ping"))
            .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new IllegalStateException("interrupted while waiting for ClickHouse", e);
      }
      try {
        process.waitFor(50, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new IllegalStateException("interrupted while waiting for ClickHouse", e);
      }
    }
    String log = tail(dataDir.resolve("log/server.err.log"));
    close();
    throw new IllegalStateException("ClickHouse did not answer /ping within " + timeout + ":\n" + log);
  }

  /**
   * Stops the server at once (SIGKILL) and removes its data directory: the data is temporary, so a
   * graceful shutdown, which takes ClickHouse several seconds, would only slow every test JVM's exit.
   */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(exitHook);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hook runs stop() itself, or already has
    }
    stop();
  }

  private void stop() {
    closing = true;
    Thread t = supervisor;
    if (t != null) {
      t.interrupt();
    }
    process.destroyForcibly();
    try {
      process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    TempDirs.deleteQuietly(dataDir);
  }

  private static String tail(Path log) {
    try {
      if (!Files.exists(log)) {
        return "";
      }
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())) + "\n";
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")\n";
    }
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = LocalClickHouseProcess.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
