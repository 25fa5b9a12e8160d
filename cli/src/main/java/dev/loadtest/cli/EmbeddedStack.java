package dev.loadtest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.topology.Coordinator;
import dev.loadtest.topology.CoordinatorConfig;
import java.nio.file.Path;
import org.apache.kafka.streams.KafkaStreams;
import dev.loadtest.embedded.FlinkMiniCluster;
import dev.loadtest.api.ApiConfig;
import dev.loadtest.api.ApiServer;
import dev.loadtest.api.Limits;
import dev.loadtest.flink.FlinkJobs;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.topics.Topics;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * The whole infrastructure on one machine: a Kafka broker with the system's topics, a ClickHouse server
 * with the schema migrated, a Flink MiniCluster running the aggregate and threshold jobs, and the coordinator on
 * that broker. Started by {@link #start}, stopped by
 * {@link #close()} in reverse order. Not thread-safe: one owner starts, checks and closes it.
 */
public final class EmbeddedStack implements AutoCloseable {
  private final EmbeddedKafka kafka;
  private final ClickHouseServer clickHouse;
  private final FlinkMiniCluster flink;
  private final List<JobClient> jobs;
  private final Coordinator coordinator;
  private final String database;
  private final ApiServer api;
  private final List<dev.loadtest.generator.agent.GeneratorAgent> generators = new java.util.concurrent.CopyOnWriteArrayList<>();

  private EmbeddedStack(EmbeddedKafka kafka, ClickHouseServer clickHouse, FlinkMiniCluster flink,
      Coordinator coordinator, String database, List<JobClient> jobs, ApiServer api) {
    this.api = api;
    this.jobs = List.copyOf(jobs);
    this.kafka = kafka;
    this.clickHouse = clickHouse;
    this.flink = flink;
    this.coordinator = coordinator;
    this.database = database;
  }

  /** Starts every component, printing one line per step to {@code progress}. */
  public static EmbeddedStack start(String database, PrintStream progress) {
    return start(database, progress, CoordinatorConfig.defaults());
  }

  /** As {@link #start(String, PrintStream)}, the coordinator with {@code coordinator} (e.g. other target hosts). */
  public static EmbeddedStack start(String database, PrintStream progress, CoordinatorConfig coordinatorConfig) {
    return start(database, progress, coordinatorConfig, java.util.Map.of());
  }

  /**
   * As {@link #start(String, PrintStream, CoordinatorConfig)}, the query API with {@code apiTokens} (empty: it
   * makes a write token, {@link #apiToken()}).
   */
  public static EmbeddedStack start(String database, PrintStream progress, CoordinatorConfig coordinatorConfig,
      java.util.Map<String, ApiConfig.Scope> apiTokens) {
    List<AutoCloseable> started = new ArrayList<>();
    List<JobClient> jobs = new ArrayList<>();
    try {
      progress.println("  starting Kafka broker (KRaft, in this JVM)...");
      EmbeddedKafka kafka = EmbeddedKafka.start(java.util.Map.of());
      started.add(kafka);
      kafka.createTopics(SystemTopics.all((short) 1));
      progress.println("  starting ClickHouse...");
      ClickHouseServer ch = ClickHouseServer.resolve();
      started.add(ch);
      ch.supervise(message -> progress.println("loadtest: " + message)); // a server started here is restarted
      Migrations.apply(client(ch), database);
      progress.println("  starting Flink MiniCluster...");
      FlinkMiniCluster flink = FlinkMiniCluster.start(FlinkMiniCluster.loopbackConfiguration(), 4);
      started.add(flink);
      progress.println("  starting the coordinator...");
      Path state = Path.of(System.getProperty("java.io.tmpdir"), "coordinator-" + java.util.UUID.randomUUID());
      Coordinator coordinator = Coordinator.start(kafka.bootstrapServers(), state, coordinatorConfig);
      started.add(coordinator);
      progress.println("  submitting the aggregate and threshold jobs...");
      for (String job : List.of("aggregate", "thresholds")) {
        FlinkJobs.Invocation inv = FlinkJobs.parse(List.of(job, "--bootstrap", kafka.bootstrapServers(),
            "--clickhouse-url", ch.httpUri().toString(), "--clickhouse-user", ch.user(), "--clickhouse-password",
            ch.password(), "--database", database, "--sink-staging-dir", flink.sinkStagingDirectory()),
            java.util.Map.of());
        // One task per operator: on this project's 2-core machine a second aggregate task made the 55,000-series
        // benchmark slower (15% of real time instead of 23%: the cores are busy with everything else already).
        StreamExecutionEnvironment env = flink.environment(1);
        inv.build(env);
        jobs.add(env.executeAsync("loadtest-" + job));
      }
      progress.println("  starting the query API...");
      ApiServer api = ApiServer.start(new ApiConfig("127.0.0.1", 0, ch.httpUri(), ch.user(), ch.password(), database,
          kafka.bootstrapServers(), apiTokens, List.of(), Limits.DEFAULT));
      started.add(api);
      return new EmbeddedStack(kafka, ch, flink, coordinator, database, jobs, api);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeAll(started, new IllegalStateException("interrupted while starting", e));
      throw new IllegalStateException("interrupted while starting", e);
    } catch (Exception e) {
      if (!(e instanceof RuntimeException)) {
        e = new IllegalStateException("cannot submit the Flink jobs: " + e.getMessage(), e);
      }
      for (int i = started.size() - 1; i >= 0; i--) {
        try {
          started.get(i).close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw (RuntimeException) e;
    }
  }

  public String kafkaBootstrap() {
    return kafka.bootstrapServers();
  }

  public URI clickHouseUri() {
    return clickHouse.httpUri();
  }

  public String clickHouseUser() {
    return clickHouse.user();
  }

  public String clickHousePassword() {
    return clickHouse.password();
  }

  /** The query API's base URL, e.g. {@code http://127.0.0.1:41234/api/v1}. */
  public String apiUrl() {
    return api.url();
  }

  /** The web app's address (served by the query API), e.g. {@code http://127.0.0.1:41234/}. */
  public String appUrl() {
    return api.appUrl();
  }

  /** The write token the query API made for this process. */
  public String apiToken() {
    return api.generatedToken();
  }

  public URI flinkRest() {
    return flink.restAddress();
  }

  /**
   * Starts a generator agent in this JVM in load zone {@code zone}, joined once the coordinator has seen
   * its first heartbeat; stopped with the stack.
   *
   * @param baseDir where the plans' feeder files are read from
   */
  public dev.loadtest.generator.agent.GeneratorAgent addGenerator(String id, String zone, Path baseDir)
      throws InterruptedException {
    dev.loadtest.generator.agent.GeneratorAgent agent = dev.loadtest.generator.agent.GeneratorAgent.join(
        dev.loadtest.generator.agent.GeneratorConfig.of(id, zone, kafka.bootstrapServers()), baseDir);
    generators.add(agent);
    return agent;
  }

  /** The load zones the examples distribute to; {@link #addGenerators} takes them by turns. */
  public static final List<String> EXAMPLE_ZONES = List.of("local:eu", "local:us");

  /** Starts {@code n} generators ({@code generator-1}...) in {@link #EXAMPLE_ZONES} by turns. */
  public void addGenerators(int n, Path baseDir) throws InterruptedException {
    for (int i = 0; i < n; i++) {
      addGenerator("generator-" + (i + 1), EXAMPLE_ZONES.get(i % EXAMPLE_ZONES.size()), baseDir);
    }
  }

  /** Checks that each component answers and holds what the system needs. */
  public List<Health> health() {
    List<Health> out = new ArrayList<>();
    try (Admin admin = kafka.admin()) {
      int nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
      Set<String> topics = admin.listTopics().names().get(10, TimeUnit.SECONDS);
      List<String> missing = Topics.all().stream().map(Topics.Spec::name).filter(t -> !topics.contains(t)).toList();
      out.add(new Health("Kafka", EmbeddedKafka.version(), kafka.bootstrapServers(),
          nodes + " broker, " + (Topics.all().size() - missing.size()) + "/" + Topics.all().size() + " topics"
              + (missing.isEmpty() ? "" : ", missing " + missing), nodes == 1 && missing.isEmpty()));
    } catch (Exception e) {
      out.add(new Health("Kafka", EmbeddedKafka.version(), kafka.bootstrapServers(), "unhealthy: " + e, false));
    }
    try {
      String applied = client(clickHouse).execute(database, "SELECT count() FROM schema_migrations FORMAT TabSeparated").strip();
      int expected = Migrations.bundled().size();
      out.add(new Health("ClickHouse", clickHouse.version(), clickHouse.httpUri().toString(),
          "database " + database + ", " + applied + "/" + expected + " migrations, " + clickHouse.origin(),
          applied.equals(Integer.toString(expected))));
    } catch (RuntimeException e) {
      out.add(new Health("ClickHouse", clickHouse.version(), clickHouse.httpUri().toString(), "unhealthy: " + e.getMessage(), false));
    }
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(flink.restAddress().resolve("/overview"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      JsonNode overview = new ObjectMapper().readTree(r.body());
      int slots = overview.path("slots-total").asInt();
      int running = overview.path("jobs-running").asInt();
      out.add(new Health("Flink", FlinkMiniCluster.version(), flink.restAddress().toString(),
          overview.path("taskmanagers").asInt() + " TaskManager, " + slots + " slots, " + running
              + "/2 jobs running (aggregate, thresholds)", r.statusCode() == 200 && slots > 0 && running == 2));
    } catch (Exception e) {
      out.add(new Health("Flink", FlinkMiniCluster.version(), flink.restAddress().toString(), "unhealthy: " + e, false));
    }
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api.url() + "/health"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      out.add(new Health("Query API", "v1", api.url(), r.statusCode() == 200 ? "reads ClickHouse "
          + new ObjectMapper().readTree(r.body()).path("clickhouse").asText() : "HTTP " + r.statusCode() + " "
          + r.body(), r.statusCode() == 200));
    } catch (Exception e) {
      out.add(new Health("Query API", "v1", api.url(), "unhealthy: " + e, false));
    }
    KafkaStreams.State state = coordinator.state();
    out.add(new Health("Coordinator", "", "on " + kafka.bootstrapServers(), "Kafka Streams " + state
        + ", exactly_once_v2, target hosts: loopback", state == KafkaStreams.State.RUNNING));
    return out;
  }

  private static void closeAll(List<AutoCloseable> started, RuntimeException e) {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
    }
  }

  @Override
  public void close() {
    for (dev.loadtest.generator.agent.GeneratorAgent g : generators) {
      try {
        g.close();
      } catch (Exception e) {
        // stopping anyway
      }
    }
    api.close();
    coordinator.close();
    for (JobClient job : jobs) {
      try {
        job.cancel().get(10, TimeUnit.SECONDS); // so that tasks end cleanly rather than fail with the cluster
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
      }
    }
    for (JobClient job : jobs) {
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!job.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState() && System.nanoTime() < deadline) {
          Thread.sleep(100); // polling the job's status until it has stopped, within the deadline
        }
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
      }
    }
    flink.close();
    clickHouse.close();
    kafka.close();
  }

  private static ClickHouseHttp client(ClickHouseServer ch) {
    return new ClickHouseHttp(ch.httpUri(), ch.user(), ch.password(), Duration.ofSeconds(60));
  }

  /** One component's state. */
  public record Health(String component, String version, String address, String detail, boolean ok) {}
}
