package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * compose/ is accepted by docker-compose's own `config` (the Docker engine is not needed for that), holds every
 * component, and its images build with the same command as `./loadtest` does on first use.
 */
class ComposeConfigIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  @Timeout(120)
  void dockerComposeAcceptsTheStackWithEveryComponent() throws Exception {
    String binary = Files.isExecutable(Path.of("/usr/bin/docker-compose")) ? "/usr/bin/docker-compose" : null;
    assertTrue(binary != null, "docker-compose is needed to check compose/: apt-get install -y docker-compose"
        + " (./run-tests installs it when it runs as root)");
    Path file = ROOT.resolve("compose/docker-compose.yml");
    Process p = new ProcessBuilder(binary, "-f", file.toString(), "config", "--services").redirectErrorStream(true).start();
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "docker-compose config did not finish");
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.exitValue(), out);
    Set<String> services = new TreeSet<>(out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
    assertEquals(new TreeSet<>(List.of("kafka-1", "kafka-2", "kafka-3", "clickhouse", "init", "coordinator-1",
        "coordinator-2", "generator", "api", "shop", "jobmanager", "taskmanager-1", "taskmanager-2", "flink-submit")),
        services, "the topology of scripts/cluster.sh: three brokers, a Flink session cluster, two coordinators");
  }

  @Test
  void composeAndTheLocalClusterTakeTheirSettingsFromOneFile() throws Exception {
    Path env = ROOT.resolve("compose/.env");
    assertTrue(Files.isSymbolicLink(env) && Files.readSymbolicLink(env).toString().equals("cluster.env"),
        "compose/.env links to cluster.env, so that docker compose substitutes its values");
    String settings = Files.readString(ROOT.resolve("compose/cluster.env"));
    String compose = Files.readString(ROOT.resolve("compose/docker-compose.yml"));
    String script = Files.readString(ROOT.resolve("scripts/cluster.sh"));
    assertTrue(script.contains(". \"$root/compose/cluster.env\""), "scripts/cluster.sh sources the settings");
    for (String key : List.of("KAFKA_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS", "KAFKA_CLUSTER_ID",
        "KAFKA_BROKER_SESSION_TIMEOUT_MS", "FLINK_TASK_SLOTS", "FLINK_TASKMANAGER_MEMORY")) {
      assertTrue(settings.lines().anyMatch(l -> l.startsWith(key + "=")), key + " is set in cluster.env");
      assertTrue(compose.contains("${" + key + "}"), key + " is used by compose");
      assertTrue(script.contains("$" + key), key + " is used by scripts/cluster.sh");
    }
  }

  @Test
  void theImagesBuildWithTheReadmesCommand() throws Exception {
    String launcher = Files.readString(ROOT.resolve("loadtest"));
    String build = "-q -B -DskipTests package -pl cli -am";
    assertTrue(launcher.contains("\"$root/mvnw\" " + build), "the launcher's build step");
    for (String dockerfile : List.of("compose/Dockerfile", "compose/flink.Dockerfile")) {
      assertTrue(Files.readString(ROOT.resolve(dockerfile)).contains("RUN ./mvnw " + build), dockerfile);
    }
  }
}
