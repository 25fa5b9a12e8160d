package dev.loadtest.embedded;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * A real ClickHouse server, found in this order:
 * <ol>
 *   <li>a URL from configuration: {@code LOADTEST_CLICKHOUSE_URL} (environment) or
 *       {@code loadtest.clickhouse.url} (system property), with optional {@code LOADTEST_CLICKHOUSE_USER}
 *       and {@code LOADTEST_CLICKHOUSE_PASSWORD};</li>
 *   <li>else a {@code clickhouse/clickhouse-server} container through Testcontainers, when a Docker
 *       engine answers;</li>
 *   <li>else the local {@code clickhouse-server} binary, started on free loopback ports with a temporary
 *       data directory and stopped when the JVM exits.</li>
 * </ol>
 * When none is there it fails, saying how to get one: a test never skips because ClickHouse is absent.
 * {@code LOADTEST_USE_DOCKER=false} skips the Testcontainers step.
 *
 * <p>{@link #shared()} resolves one server per JVM; tests isolate themselves with
 * {@link #newDatabaseName(String)}. Thread-safe.
 */
public final class ClickHouseServer implements AutoCloseable {
  /** Image used when Docker is available; any current release works. */
  public static final String DEFAULT_IMAGE = "clickhouse/clickhouse-server:25.8";
  public static final String INSTALL_HINT = "Install the server (Debian/Ubuntu: apt-get install -y clickhouse-server),"
      + " or run one and set LOADTEST_CLICKHOUSE_URL=http://HOST:8123/";
  private static final Logger LOG = LoggerFactory.getLogger(ClickHouseServer.class);
  private static final AtomicLong DATABASES = new AtomicLong();
  private static ClickHouseServer shared;

  private final URI httpUri;
  private final String user;
  private final String password;
  private final String origin;
  private final String version;
  private final AutoCloseable owned;
  private boolean closed;

  private ClickHouseServer(URI httpUri, String user, String password, String origin, AutoCloseable owned) {
    this.httpUri = httpUri;
    this.user = user;
    this.password = password;
    this.origin = origin;
    this.owned = owned;
    this.version = query(httpUri, user, password, "SELECT version()").strip();
  }

  /** The server of this JVM, resolved on first use. */
  public static synchronized ClickHouseServer shared() {
    if (shared == null) {
      shared = resolve();
      ClickHouseServer s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::close, "clickhouse-stop"));
    }
    return shared;
  }

  /** Resolves a server as the class comment describes; the caller closes it. */
  public static ClickHouseServer resolve() {
    return resolve(System.getenv(), System.getProperty("loadtest.clickhouse.url"), LocalClickHouseProcess.findCommand());
  }

  /**
   * Resolves with the given environment, URL property and local server command (empty: no binary), so
   * that each branch can be tested.
   */
  static ClickHouseServer resolve(java.util.Map<String, String> env, String urlProperty,
      Optional<List<String>> localCommand) {
    String url = Optional.ofNullable(urlProperty).orElse(env.get("LOADTEST_CLICKHOUSE_URL"));
    String user = Optional.ofNullable(env.get("LOADTEST_CLICKHOUSE_USER")).orElse("default");
    String password = Optional.ofNullable(env.get("LOADTEST_CLICKHOUSE_PASSWORD")).orElse("");
    if (url != null && !url.isBlank()) {
      URI uri = URI.create(url.endsWith("/") ? url : url + "/");
      return log(new ClickHouseServer(uri, user, password, "configured URL " + uri, () -> { }));
    }
    if (dockerAvailable(env)) {
      GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(DEFAULT_IMAGE))
          .withExposedPorts(8123)
          .withEnv("CLICKHOUSE_USER", "default")
          .withEnv("CLICKHOUSE_PASSWORD", "loadtest")
          .waitingFor(Wait.forHttp("/ping").forStatusCode(200));
      c.start();
      URI uri = URI.create("http://" + c.getHost() + ":" + c.getMappedPort(8123) + "/");
      return log(new ClickHouseServer(uri, "default", "loadtest", "Testcontainers " + DEFAULT_IMAGE, c::stop));
    }
    List<String> command = localCommand.orElseThrow(() -> new IllegalStateException(
        "ClickHouse is not available: LOADTEST_CLICKHOUSE_URL is not set, no Docker engine answers, and no"
            + " clickhouse-server binary is installed. " + INSTALL_HINT));
    long t0 = System.nanoTime();
    LocalClickHouseProcess p = LocalClickHouseProcess.start(command, Duration.ofSeconds(60));
    ClickHouseServer s = new ClickHouseServer(p.httpUri(), "default", "", "local binary " + p.binary()
        + " (started in " + (System.nanoTime() - t0) / 1_000_000 + " ms)", p);
    return log(s);
  }

  private static boolean dockerAvailable(java.util.Map<String, String> env) {
    if ("false".equals(env.get("LOADTEST_USE_DOCKER"))) {
      return false;
    }
    // Without an endpoint there is no engine to ask; Testcontainers would log an error while finding out.
    boolean endpoint = env.get("DOCKER_HOST") != null
        || java.nio.file.Files.exists(java.nio.file.Path.of("/var/run/docker.sock"))
        || java.nio.file.Files.exists(java.nio.file.Path.of(System.getProperty("user.home"), ".docker", "run", "docker.sock"))
        || java.nio.file.Files.exists(java.nio.file.Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
    if (!endpoint) {
      return false;
    }
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static ClickHouseServer log(ClickHouseServer s) {
    LOG.info("ClickHouse {} at {} ({})", s.version, s.httpUri, s.origin);
    return s;
  }

  /**
   * A server of the caller's own from the local binary, which it may kill and restart (outage tests);
   * fails, saying how to install one, when there is no binary.
   */
  public static ClickHouseServer startLocal() {
    List<String> command = LocalClickHouseProcess.findCommand().orElseThrow(() -> new IllegalStateException(
        "this test stops and restarts a ClickHouse server of its own and needs the local binary. " + INSTALL_HINT));
    LocalClickHouseProcess p = LocalClickHouseProcess.start(command, Duration.ofSeconds(60));
    return log(new ClickHouseServer(p.httpUri(), "default", "", "local binary " + p.binary() + " (private)", p));
  }

  /**
   * Restarts this server whenever it exits, telling {@code say} (a server this process started; one given by
   * URL or a container is not ours to restart, and this does nothing).
   */
  public void supervise(java.util.function.Consumer<String> say) {
    if (owned instanceof LocalClickHouseProcess p) {
      p.supervise(say);
    }
  }

  /** Whether {@link #supervise} watches this server (it was started here from the local binary). */
  public boolean supervisable() {
    return owned instanceof LocalClickHouseProcess;
  }

  /** Kills a server started by {@link #startLocal()}, keeping its data. */
  public void kill() {
    local().kill();
  }

  /** Restarts a server killed by {@link #kill()} on the same port and data, and waits until it answers. */
  public void restart() {
    local().restart(Duration.ofSeconds(60));
  }

  private LocalClickHouseProcess local() {
    if (!(owned instanceof LocalClickHouseProcess p)) {
      throw new UnsupportedOperationException("only a server from startLocal() can be killed and restarted");
    }
    return p;
  }

  /** e.g. {@code http://127.0.0.1:41234/} */
  public URI httpUri() {
    return httpUri;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  /** The server's own version string, e.g. {@code 18.16.1}. */
  public String version() {
    return version;
  }

  /** Where this server came from: a configured URL, Testcontainers, or the local binary. */
  public String origin() {
    return origin;
  }

  /** A database name unique in this JVM and run, for a test to create and own. */
  public static String newDatabaseName(String prefix) {
    return prefix.replaceAll("[^A-Za-z0-9_]", "_") + "_" + ProcessHandle.current().pid() + "_"
        + DATABASES.incrementAndGet();
  }

  /** Runs one statement and returns the body (for health checks; real clients live in the modules). */
  public String query(String sql) {
    return query(httpUri, user, password, sql);
  }

  private static String query(URI uri, String user, String password, String sql) {
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              uri.resolve("/?query=" + URLEncoder.encode(sql, StandardCharsets.UTF_8)))
          .header("X-ClickHouse-User", user).header("X-ClickHouse-Key", password)
          .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("ClickHouse at " + uri + " answered HTTP " + r.statusCode() + ": " + r.body());
      }
      return r.body();
    } catch (IOException e) {
      throw new IllegalStateException("ClickHouse at " + uri + " is unreachable: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      owned.close();
    } catch (Exception e) {
      LOG.warn("stopping ClickHouse ({}) failed: {}", origin, e.toString());
    }
  }
}
