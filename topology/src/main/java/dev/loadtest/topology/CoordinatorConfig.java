package dev.loadtest.topology;

import java.util.List;
import java.util.Locale;

/**
 * What the coordinator is allowed to do, fixed when the topology is built.
 *
 * @param allowedHosts target hosts a plan may send load to: exact names or addresses ({@code 127.0.0.1},
 *     {@code shop.internal}) or {@code *.suffix} for a domain and its subdomains. A load generator must not
 *     become anyone's attack tool, so the default is loopback only.
 * @param maxCommandBytes a command larger than this is rejected unread
 * @param lostAfter a generator silent this long is lost
 * @param maxConcurrentRuns more runs than this wait in QUEUED until one ends
 * @param maxQueueTime a run queued this long ends FAILED with the reason it waited for
 */
public record CoordinatorConfig(List<String> allowedHosts, int maxCommandBytes, java.time.Duration lostAfter,
    int maxConcurrentRuns, java.time.Duration maxQueueTime) {
  public static final int DEFAULT_MAX_CONCURRENT_RUNS = 20;
  public static final java.time.Duration DEFAULT_MAX_QUEUE_TIME = java.time.Duration.ofMinutes(30);

  public static final List<String> DEFAULT_ALLOWED_HOSTS = List.of("127.0.0.1", "localhost", "::1");
  public static final int DEFAULT_MAX_COMMAND_BYTES = 2 * 1024 * 1024;

  /** The defaults, but only these target hosts. */
  public CoordinatorConfig(List<String> allowedHosts, int maxCommandBytes) {
    this(allowedHosts, maxCommandBytes, dev.loadtest.topology.allocation.GeneratorRegistry.DEFAULT_LOST_AFTER,
        DEFAULT_MAX_CONCURRENT_RUNS, DEFAULT_MAX_QUEUE_TIME);
  }

  public CoordinatorConfig {
    allowedHosts = allowedHosts.stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).toList();
    if (allowedHosts.isEmpty()) {
      throw new IllegalArgumentException("allowedHosts is empty: no plan could ever run");
    }
    if (maxConcurrentRuns < 1) {
      throw new IllegalArgumentException("maxConcurrentRuns must be at least 1, got " + maxConcurrentRuns);
    }
    if (maxCommandBytes < 1024) {
      throw new IllegalArgumentException("maxCommandBytes must be at least 1024, got " + maxCommandBytes);
    }
  }

  public static CoordinatorConfig defaults() {
    return new CoordinatorConfig(DEFAULT_ALLOWED_HOSTS, DEFAULT_MAX_COMMAND_BYTES,
        dev.loadtest.topology.allocation.GeneratorRegistry.DEFAULT_LOST_AFTER, DEFAULT_MAX_CONCURRENT_RUNS,
        DEFAULT_MAX_QUEUE_TIME);
  }

  /** Whether load may be sent to {@code host}. */
  public boolean allows(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    for (String a : allowedHosts) {
      if (a.startsWith("*.") ? h.equals(a.substring(2)) || h.endsWith(a.substring(1)) : h.equals(a)) {
        return true;
      }
    }
    return false;
  }
}
