package dev.loadtest.topology.allocation;

import dev.loadtest.schemas.plan.Scenario;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import dev.loadtest.schemas.segment.Fraction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides which generators run a plan and which execution segment each one gets.
 *
 * <p>The plan needs {@link #vusNeeded} VUs (the sum of every scenario's most VUs: scenarios may overlap).
 * With a {@code distribution}, each load zone takes its percentage of the run; without one, any zone will
 * do. A zone's share is spread over as many of its free generators as can take an even part of it (most
 * free capacity first, at most one per VU and at most the plan's {@code generator.maxGenerators}), as k6
 * Cloud sizes load generators by capacity, and the zone's part of [0, 1] is split evenly between them. The segments are the
 * bounds of one {@link ExecutionSegmentSequence}, so the generators' shares add up to the whole run
 * exactly. Pure and stateless; the caller passes the generators that are free.
 */
public final class ExecutionPlanner {
  private ExecutionPlanner() {}

  /** The outcome: either an allocation, or why the run has to wait. */
  public sealed interface Decision {}

  /** Generator {@code assignments.get(i)} runs segment i of {@code sequence}. */
  public record Allocation(String sequence, List<Assigned> assignments) implements Decision {}

  public record Assigned(String generatorId, String loadZone, int segmentIndex, String segment, long vus) {}

  /** Not enough free generators now; {@code reason} says where capacity is missing. */
  public record Wait(String reason) implements Decision {}

  /** The most VUs a plan can have at once: every scenario's most VUs, added up. */
  public static long vusNeeded(TestPlan plan) {
    long sum = 0;
    for (Scenario s : plan.scenarios().values()) {
      sum += s.executor().maxVus();
    }
    return sum;
  }

  /**
   * Plans a run on the free generators.
   *
   * @param busy generators already running another test (they are not used)
   */
  public static Decision plan(TestPlan plan, GeneratorRegistry registry, Set<String> busy) {
    long vus = Math.max(1, vusNeeded(plan));
    Map<String, Integer> zones = new LinkedHashMap<>();
    if (plan.distribution().isEmpty()) {
      zones.put(null, 100);
    } else {
      plan.distribution().values().forEach(z -> zones.merge(z.loadZone(), z.percent(), Integer::sum));
    }
    Map<String, List<GeneratorRegistry.Entry>> chosen = new LinkedHashMap<>();
    List<String> missing = new ArrayList<>();
    int cap = plan.generator() == null || plan.generator().maxGenerators() <= 0 ? Integer.MAX_VALUE
        : plan.generator().maxGenerators();
    String plugin = plan.generator() == null ? "http" : plan.generator().plugin();
    // A plug-in that runs another tool's script sizes its own load (thread groups, users): the coordinator cannot
    // count its VUs, so it is spread over every free generator that has the plug-in, up to the plan's cap.
    boolean ownTimeline = plan.scenarios().isEmpty();
    for (Map.Entry<String, Integer> z : zones.entrySet()) {
      long need = (vus * z.getValue() + 99) / 100;
      String where = z.getKey() == null ? "any zone" : "zone " + z.getKey();
      List<GeneratorRegistry.Entry> live = registry.live(z.getKey()).stream()
          .filter(g -> !busy.contains(g.generatorId()) && g.capacityVus() > 0).toList(); // most capacity first
      List<GeneratorRegistry.Entry> free = live.stream().filter(g -> g.offers(plugin)).toList();
      if (free.isEmpty() && !live.isEmpty()) {
        missing.add(where + " has no free generator with the plug-in \"" + plugin + "\" (its free generators have "
            + live.stream().flatMap(g -> (g.plugins() == null ? dev.loadtest.schemas.generator.Heartbeat.BUILT_IN_PLUGINS
                : g.plugins()).stream()).distinct().sorted().toList() + ")");
        chosen.put(z.getKey(), List.of());
        continue;
      }
      List<GeneratorRegistry.Entry> picked = ownTimeline
          ? (free.isEmpty() ? null : List.copyOf(free.subList(0, Math.min(free.size(), cap))))
          : spread(free, need, cap);
      if (picked == null) {
        long have = free.stream().limit(cap).mapToLong(GeneratorRegistry.Entry::capacityVus).sum();
        missing.add(ownTimeline ? where + " has no free generator for the plug-in \"" + plugin + "\""
            : where + " needs " + need + " VUs, its free generators offer " + have
            + (cap < free.size() ? " (the plan allows " + cap + " generator(s) per zone)" : ""));
        picked = List.of();
      }
      chosen.put(z.getKey(), picked);
    }
    if (!missing.isEmpty()) {
      return new Wait(String.join("; ", missing));
    }
    // Common denominator: 100 (zone percentages) times the lcm of the generator counts per zone.
    long lcm = 1;
    for (List<GeneratorRegistry.Entry> gs : chosen.values()) {
      lcm = lcm(lcm, gs.size());
    }
    long denominator = 100 * lcm;
    List<Fraction> bounds = new ArrayList<>();
    bounds.add(Fraction.ZERO);
    List<Assigned> out = new ArrayList<>();
    long at = 0;
    for (Map.Entry<String, List<GeneratorRegistry.Entry>> z : chosen.entrySet()) {
      int percent = zones.get(z.getKey());
      long each = percent * lcm / z.getValue().size();
      for (GeneratorRegistry.Entry g : z.getValue()) {
        long from = at;
        at += each;
        bounds.add(fraction(at, denominator));
        out.add(new Assigned(g.generatorId(), g.loadZone(), out.size(),
            fraction(from, denominator) + ":" + fraction(at, denominator), (vus * each + denominator - 1) / denominator));
      }
    }
    ExecutionSegmentSequence sequence = ExecutionSegmentSequence.of(bounds);
    return new Allocation(sequence.toString(), out);
  }

  /**
   * The generators of a zone that share its {@code need} VUs evenly: as many of the {@code free} ones (most
   * capacity first) as the plan's cap and one VU each allow, such that none gets more VUs than it has room
   * for; failing that, the fewest whose room adds up to the need (the one with least room runs over, as it
   * would alone); null when even all of them, within the cap, have too little room.
   */
  static List<GeneratorRegistry.Entry> spread(List<GeneratorRegistry.Entry> free, long need, int cap) {
    int most = (int) Math.min(Math.min(free.size(), cap), Math.max(1, need));
    for (int n = most; n >= 1; n--) {
      if ((need + n - 1) / n <= free.get(n - 1).capacityVus()) {
        return List.copyOf(free.subList(0, n));
      }
    }
    long have = 0;
    for (int n = 1; n <= Math.min(free.size(), cap); n++) {
      have += free.get(n - 1).capacityVus();
      if (have >= need) {
        return List.copyOf(free.subList(0, n));
      }
    }
    return null;
  }

  private static Fraction fraction(long n, long d) {
    long g = gcd(n, d);
    return new Fraction(n / g, d / g);
  }

  private static long gcd(long a, long b) {
    return b == 0 ? Math.max(a, 1) : gcd(b, a % b);
  }

  private static long lcm(long a, long b) {
    return a / gcd(a, b) * b;
  }
}
