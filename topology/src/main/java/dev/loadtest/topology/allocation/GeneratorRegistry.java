package dev.loadtest.topology.allocation;

import dev.loadtest.schemas.generator.Heartbeat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The generators the coordinator knows, from their heartbeats: live while heartbeats keep coming, lost
 * once none came for {@code lostAfter} while others' did come, or none for {@link #STARVED_FACTOR} times
 * {@code lostAfter} at all. When the coordinator (or the broker between) is starved of CPU, no heartbeat
 * arrives from anyone, and a generator is not blamed for that silence until the longer limit; a generator
 * that stops while the others' heartbeats still arrive is lost after {@code lostAfter}. Silence is counted only
 * while the coordinator was listening ({@link #expire(long, long)}): a coordinator that has just taken the
 * registry over from another, or was itself held up (a broker failing over under its transactions), first
 * gives the heartbeats time to come through. A pure value kept in
 * the coordinator's state; time is passed in, never read, so that the rules are tested without waiting.
 * Not thread-safe (one stream thread owns it).
 */
public final class GeneratorRegistry {
  public static final Duration DEFAULT_LOST_AFTER = Duration.ofSeconds(5);
  /**
   * Silent this many times {@code lostAfter}, a generator is lost whether or not others' heartbeats arrive
   * (a broker failing over holds every heartbeat for a few seconds up to its session timeout, and more on a
   * machine short of CPU).
   */
  public static final int STARVED_FACTOR = 6;

  /**
   * What the registry keeps of a generator.
   *
   * @param plugins the plug-ins it runs; null when its heartbeat does not say (it runs the built-in ones)
   */
  public record Entry(String generatorId, String loadZone, long capacityVus, long activeVus, double cpu,
      long lastSeenMs, boolean lost, List<String> plugins) {

    public Entry(String generatorId, String loadZone, long capacityVus, long activeVus, double cpu, long lastSeenMs,
        boolean lost) {
      this(generatorId, loadZone, capacityVus, activeVus, cpu, lastSeenMs, lost, null);
    }

    /** Whether the generator runs {@code plugin}. */
    public boolean offers(String plugin) {
      return (plugins == null ? Heartbeat.BUILT_IN_PLUGINS : plugins).contains(plugin);
    }
  }

  private final Duration lostAfter;
  private final TreeMap<String, Entry> generators = new TreeMap<>();

  public GeneratorRegistry(Duration lostAfter) {
    this.lostAfter = lostAfter;
  }

  /** Records a heartbeat received at {@code nowMs}; a lost generator that beats again is live again. */
  public void heartbeat(Heartbeat h, long nowMs) {
    generators.put(h.generatorId(), new Entry(h.generatorId(), h.loadZone(), h.capacityVus(), h.activeVus(), h.cpu(),
        nowMs, false, h.plugins()));
  }

  /**
   * Marks as lost the generators silent for {@code lostAfter} while some heartbeat arrived within the last
   * {@code lostAfter} (heartbeats do get through), and those silent for {@link #STARVED_FACTOR} times
   * {@code lostAfter}.
   *
   * @return the ids that became lost now
   */
  public List<String> expire(long nowMs) {
    return expire(nowMs, Long.MIN_VALUE);
  }

  /**
   * As {@link #expire(long)}, counting silence only from {@code listeningSinceMs} on: the time from which the
   * coordinator was able to receive heartbeats (when it took over, or came back after it was held up).
   */
  public List<String> expire(long nowMs, long listeningSinceMs) {
    long latest = Math.max(listeningSinceMs,
        generators.values().stream().mapToLong(Entry::lastSeenMs).max().orElse(Long.MIN_VALUE));
    long limit = lostAfter.toMillis();
    boolean heartbeatsArrive = nowMs - latest <= limit;
    List<String> lost = new ArrayList<>();
    for (Map.Entry<String, Entry> e : generators.entrySet()) {
      Entry g = e.getValue();
      long silent = nowMs - Math.max(g.lastSeenMs(), listeningSinceMs);
      if (!g.lost() && silent > limit && (heartbeatsArrive || silent > limit * STARVED_FACTOR)) {
        e.setValue(new Entry(g.generatorId(), g.loadZone(), g.capacityVus(), g.activeVus(), g.cpu(), g.lastSeenMs(),
            true, g.plugins()));
        lost.add(g.generatorId());
      }
    }
    return lost;
  }

  /** Live generators, in a zone or in any zone ({@code null}), most free capacity first, then by id. */
  public List<Entry> live(String loadZone) {
    return generators.values().stream()
        .filter(g -> !g.lost() && (loadZone == null || g.loadZone().equals(loadZone)))
        .sorted(Comparator.comparingLong(Entry::capacityVus).reversed().thenComparing(Entry::generatorId))
        .toList();
  }

  public Entry get(String generatorId) {
    return generators.get(generatorId);
  }

  public List<Entry> all() {
    return List.copyOf(generators.values());
  }
}
