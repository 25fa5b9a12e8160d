package dev.loadtest.embedded;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Flink MiniCluster (JobManager, one TaskManager, REST endpoint) bound to 127.0.0.1 only, for
 * tests and the embedded stack. Jobs reach it through {@link #environment(int)}, the same
 * {@link StreamExecutionEnvironment} API they use against a standalone or Kubernetes cluster.
 *
 * <p>By default a failing job does not restart ({@code restart-strategy: none}): a MiniCluster job that
 * restarts forever would hang a test. Tests about restarts pass their own configuration to
 * {@link #start(Configuration, int)}. Requires flink-runtime, flink-clients and flink-streaming-java on
 * the classpath (optional dependencies of this module). Thread-safe.
 */
public final class FlinkMiniCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FlinkMiniCluster.class);
  private static FlinkMiniCluster shared;
  /** How long {@link #close} waits for the cluster to stop. */
  static final java.time.Duration CLOSE_TIMEOUT = java.time.Duration.ofSeconds(30);

  private final MiniCluster cluster;
  private final URI restAddress;
  private final Configuration configuration;
  private final Path checkpoints;
  private boolean closed;

  private FlinkMiniCluster(MiniCluster cluster, URI restAddress, Configuration configuration, Path checkpoints) {
    this.checkpoints = checkpoints;
    this.cluster = cluster;
    this.restAddress = restAddress;
    this.configuration = configuration;
  }

  /** The cluster of this JVM (4 slots, no restarts), started on first use and stopped at exit. */
  public static synchronized FlinkMiniCluster shared() {
    if (shared == null) {
      shared = start(loopbackConfiguration(), 4);
      FlinkMiniCluster c = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(c::close, "flink-minicluster-stop"));
    }
    return shared;
  }

  /**
   * Loopback-only addresses, no restarts, small memory, checkpoints on disk: the defaults for this
   * machine.
   */
  public static Configuration loopbackConfiguration() {
    Configuration c = new Configuration();
    c.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    c.set(RestOptions.ADDRESS, "127.0.0.1");
    c.set(RestOptions.BIND_PORT, "0");
    c.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
    c.set(JobManagerOptions.ADDRESS, "127.0.0.1");
    c.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
    c.set(TaskManagerOptions.HOST, "127.0.0.1");
    c.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    // Checkpoints on disk (a directory of the cluster's own, see start): the JobManager's in-memory
    // storage refuses state over 5 MB, and a sink's committables (rows waiting for their checkpoint) are
    // larger under load.
    c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    c.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("128m"));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.parse("64m"));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.parse("64m"));
    return c;
  }

  /**
   * Where the ClickHouse sinks may stage their rows: beside the checkpoints (a temporary checkpoint directory
   * is removed with them on {@link #close()}).
   */
  public String sinkStagingDirectory() {
    return configuration.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY).replaceAll("/+$", "") + "/sink-staging";
  }

  /**
   * Starts a cluster. Without a configured checkpoint directory, checkpoints go to a temporary one that
   * {@link #close()} removes.
   */
  public static FlinkMiniCluster start(Configuration configuration, int slots) {
    long t0 = System.nanoTime();
    configuration = new Configuration(configuration);
    Path checkpoints = null;
    if (!configuration.contains(CheckpointingOptions.CHECKPOINTS_DIRECTORY)) {
      checkpoints = TempDirs.create("flink-checkpoints-");
      configuration.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
    }
    MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
        .setConfiguration(configuration)
        .setNumTaskManagers(1)
        .setNumSlotsPerTaskManager(slots)
        .build());
    try {
      cluster.start();
      URI rest = cluster.getRestAddress().get(60, TimeUnit.SECONDS);
      LOG.info("Flink {} MiniCluster ready at {} with {} slots in {} ms", version(), rest, slots,
          (System.nanoTime() - t0) / 1_000_000);
      return new FlinkMiniCluster(cluster, rest, configuration, checkpoints);
    } catch (Exception e) {
      TempDirs.deleteQuietly(checkpoints);
      try {
        cluster.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new IllegalStateException("cannot start the Flink MiniCluster: " + e.getMessage(), e);
    }
  }

  /** The Flink version on the classpath. */
  public static String version() {
    return EnvironmentInformation.getVersion();
  }

  public URI restAddress() {
    return restAddress;
  }

  public MiniCluster cluster() {
    return cluster;
  }

  /** An environment whose jobs run on this cluster (submitted over its REST endpoint). */
  public StreamExecutionEnvironment environment(int parallelism) {
    Configuration c = new Configuration(configuration);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(
        restAddress.getHost(), restAddress.getPort(), c);
    env.setParallelism(parallelism);
    return env;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      // Bounded: a task that ignores its cancellation would otherwise hold the caller (a test's clean-up, a
      // Ctrl-C) until Flink's own watchdog, minutes later.
      cluster.closeAsync().get(CLOSE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      LOG.warn("the Flink MiniCluster did not stop within {} s; leaving it to the JVM's exit", CLOSE_TIMEOUT.toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("stopping the Flink MiniCluster was interrupted");
    } catch (Exception e) {
      LOG.warn("stopping the Flink MiniCluster failed: {}", e.toString());
    }
    TempDirs.deleteQuietly(checkpoints);
  }
}
