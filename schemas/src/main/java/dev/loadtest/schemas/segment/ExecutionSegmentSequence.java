package dev.loadtest.schemas.segment;

import java.util.ArrayList;
import java.util.List;

/**
 * How the work of one test is shared between generators: a partition of [0, 1] into consecutive
 * segments (k6's execution segment sequence, e.g. {@code 0,1/3,2/3,1}), and which VUs and iterations
 * belong to which segment.
 *
 * <p>Let L be the least common multiple of the bounds' denominators. One cycle of L slots is dealt to
 * the segments by smooth weighted round-robin, each segment getting exactly (length x L) slots spread
 * evenly over the cycle. Index i (a VU number, or the number of an iteration in the whole test's
 * schedule, counting from 0) belongs to the segment of slot {@code i mod L}. Hence:
 * <ul>
 *   <li>every index belongs to exactly one segment, so the shares of any count add up to it exactly;</li>
 *   <li>a segment's share of the first n indexes never decreases as n grows (ramping stays monotone);</li>
 *   <li>the indexes of a segment are interleaved with the others' (an arrival-rate schedule is spread
 *       over all generators all the time, not in bursts).</li>
 * </ul>
 * A generator needs only the sequence and its segment's position to compute its share, with no
 * coordinator in the loop. Immutable and thread-safe.
 */
public final class ExecutionSegmentSequence {
  /** The largest cycle accepted: finer sequences are refused. */
  public static final long MAX_CYCLE = 1_000_000;

  private final List<Fraction> bounds;
  private final int[] slotOwner;
  /** For each segment, the slots of a cycle it owns, ascending. */
  private final int[][] slotsOf;

  private ExecutionSegmentSequence(List<Fraction> bounds, int[] slotOwner) {
    this.bounds = List.copyOf(bounds);
    this.slotOwner = slotOwner;
    int segments = bounds.size() - 1;
    int[] counts = new int[segments];
    for (int owner : slotOwner) {
      counts[owner]++;
    }
    slotsOf = new int[segments][];
    for (int seg = 0; seg < segments; seg++) {
      slotsOf[seg] = new int[counts[seg]];
    }
    int[] filled = new int[segments];
    for (int k = 0; k < slotOwner.length; k++) {
      slotsOf[slotOwner[k]][filled[slotOwner[k]]++] = k;
    }
  }

  /** The whole test on one generator: {@code 0,1}. */
  public static ExecutionSegmentSequence whole() {
    return of(List.of(Fraction.ZERO, Fraction.ONE));
  }

  /** {@code n} equal segments. */
  public static ExecutionSegmentSequence split(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("a sequence needs at least one segment, got " + n);
    }
    List<Fraction> b = new ArrayList<>();
    for (int i = 0; i <= n; i++) {
      b.add(new Fraction(i, n));
    }
    return of(b);
  }

  /** Parses k6's form, bounds separated by commas: {@code 0,1/3,2/3,1} or {@code 0,25%,1}. */
  public static ExecutionSegmentSequence parse(String text) {
    List<Fraction> b = new ArrayList<>();
    for (String part : text.split(",")) {
      b.add(Fraction.parse(part));
    }
    return of(b);
  }

  /**
   * A sequence from its bounds.
   *
   * @throws IllegalArgumentException unless the bounds start at 0, end at 1 and strictly increase
   */
  public static ExecutionSegmentSequence of(List<Fraction> bounds) {
    if (bounds.size() < 2 || bounds.get(0).compareTo(Fraction.ZERO) != 0
        || bounds.get(bounds.size() - 1).compareTo(Fraction.ONE) != 0) {
      throw new IllegalArgumentException("an execution segment sequence runs from 0 to 1, got " + bounds);
    }
    long cycle = 1;
    for (int i = 1; i < bounds.size(); i++) {
      if (bounds.get(i).compareTo(bounds.get(i - 1)) <= 0) {
        throw new IllegalArgumentException("the bounds of an execution segment sequence must increase: "
            + bounds.get(i - 1) + " then " + bounds.get(i));
      }
      long d = bounds.get(i).denominator();
      cycle = Math.multiplyExact(cycle / Fraction.gcd(cycle, d), d);
      if (cycle > MAX_CYCLE) {
        throw new IllegalArgumentException("the sequence " + bounds + " is too fine: its cycle exceeds " + MAX_CYCLE);
      }
    }
    int segments = bounds.size() - 1;
    long[] weight = new long[segments];
    for (int s = 0; s < segments; s++) {
      weight[s] = bounds.get(s + 1).of(cycle) - bounds.get(s).of(cycle);
    }
    // Smooth weighted round-robin: over one cycle each segment is picked exactly weight[s] times, evenly.
    int[] owner = new int[(int) cycle];
    long[] current = new long[segments];
    for (int k = 0; k < cycle; k++) {
      int best = 0;
      for (int s = 0; s < segments; s++) {
        current[s] += weight[s];
        if (current[s] > current[best]) {
          best = s;
        }
      }
      current[best] -= cycle;
      owner[k] = best;
    }
    return new ExecutionSegmentSequence(bounds, owner);
  }

  public int segmentCount() {
    return bounds.size() - 1;
  }

  /** Segment {@code index} as k6 writes it, e.g. {@code 1/3:2/3}. */
  public String segment(int index) {
    return bounds.get(index) + ":" + bounds.get(index + 1);
  }

  /** The length of the cycle of slots (L). */
  public int cycle() {
    return slotOwner.length;
  }

  /** The segment that index {@code i} (a VU or an iteration of the whole test, from 0) belongs to. */
  public int ownerOf(long i) {
    if (i < 0) {
      throw new IllegalArgumentException("indexes start at 0: " + i);
    }
    return slotOwner[(int) (i % slotOwner.length)];
  }

  /** How many of the first {@code n} indexes segment {@code segment} gets: its share of a count of n. */
  public long scale(int segment, long n) {
    if (n < 0) {
      throw new IllegalArgumentException("cannot scale a negative count: " + n);
    }
    int l = slotOwner.length;
    int[] slots = slotsOf[segment];
    int rest = (int) (n % l);
    int before = java.util.Arrays.binarySearch(slots, rest);
    long inPartialCycle = before >= 0 ? before : -before - 1;
    return Math.addExact(Math.multiplyExact(n / l, (long) slots.length), inPartialCycle);
  }

  /** A segment's share of a rate: exactly rate x length (the iterations it runs are those it owns). */
  public double scaleRate(int segment, double rate) {
    Fraction from = bounds.get(segment);
    Fraction to = bounds.get(segment + 1);
    return rate * ((double) to.numerator() / to.denominator() - (double) from.numerator() / from.denominator());
  }

  /** k6's form: {@code 0,1/3,2/3,1}. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (Fraction f : bounds) {
      b.append(b.isEmpty() ? "" : ",").append(f);
    }
    return b.toString();
  }
}
