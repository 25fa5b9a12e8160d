package dev.loadtest.cli;

import dev.loadtest.api.ApiConfig;
import dev.loadtest.api.ApiServer;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.topics.Topics;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/** The commands that run one component of a cluster (compose/, Kubernetes): init and api. */
final class ServiceCommands {
  private ServiceCommands() {}

  /** {@code loadtest init}: the system's topics on a broker and the schema in ClickHouse; safe to repeat. */
  @Command(name = "init", mixinStandardHelpOptions = true,
      header = "Prepare a cluster: create missing Kafka topics, apply ClickHouse migrations.",
      description = {"Prepare a cluster: create the system's Kafka topics (with their partitions and retention)",
          "that are missing, and apply the ClickHouse migrations that are not applied yet. Safe to run again."})
  static final class Init implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT", description = "Kafka bootstrap servers.")
    String bootstrap;

    @Option(names = "--clickhouse-url", required = true, paramLabel = "URL", description = "ClickHouse HTTP, e.g. http://clickhouse:8123/.")
    String clickHouseUrl;

    @Option(names = "--clickhouse-user", defaultValue = "default", description = "ClickHouse user (default: ${DEFAULT-VALUE}).")
    String user;

    @Option(names = "--clickhouse-password", defaultValue = "", description = "ClickHouse password (default: none;"
        + " or $LOADTEST_CLICKHOUSE_PASSWORD).")
    String password;

    @Option(names = "--database", defaultValue = "loadtest", description = "ClickHouse database (default: ${DEFAULT-VALUE}).")
    String database;

    @Option(names = "--replication-factor", defaultValue = "1", description = "Of new topics (default: ${DEFAULT-VALUE}).")
    short replication;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
        List<NewTopic> missing = SystemTopics.all(replication).stream().filter(t -> !existing.contains(t.name())).toList();
        if (!missing.isEmpty()) {
          admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
        }
        out.printf("Kafka %s: %d topics created, %d there already%n", bootstrap, missing.size(),
            Topics.all().size() - missing.size());
      }
      String pw = password.isEmpty() ? System.getenv().getOrDefault("LOADTEST_CLICKHOUSE_PASSWORD", "") : password;
      ClickHouseHttp ch = new ClickHouseHttp(URI.create(clickHouseUrl), user, pw, Duration.ofSeconds(60));
      Migrations.Result r = Migrations.apply(ch, database);
      out.printf("ClickHouse %s: database %s, %d migrations applied, %d there already%n", clickHouseUrl, r.database(),
          r.applied().size(), r.alreadyApplied().size());
      out.flush();
      return 0;
    }
  }

  /** {@code loadtest api}: the query API on its own. */
  @Command(name = "api", mixinStandardHelpOptions = true,
      header = "Run the query API and the web app until Ctrl-C.",
      description = {"Run the query API until Ctrl-C. Options (or LOADTEST_API_* environment variables):",
          "  --host H --port P --clickhouse-url URL --clickhouse-user U --clickhouse-password P --database D",
          "  --bootstrap HOST:PORT --token read|write:TOKEN (repeatable) --cors-origin ORIGIN (repeatable)",
          "  --retention-days N (LOADTEST_RETENTION_DAYS: ended runs older than that are deleted hourly, baselines kept)",
          "Without a token a write token is made and printed: the API is never open."})
  static final class Api implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      ApiConfig config;
      try {
        config = ApiConfig.parse(args, System.getenv());
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("loadtest api: " + e.getMessage());
        return 2;
      }
      ApiServer s = ApiServer.start(config);
      PrintWriter out = spec.commandLine().getOut();
      out.println("Query API at " + s.url() + (s.generatedToken() == null ? "" : " (write token: " + s.generatedToken() + ")"));
      out.println("Web app at " + s.appUrl());
      out.flush();
      LoadtestCli.awaitShutdown(s::close);
      return 0;
    }
  }
}
