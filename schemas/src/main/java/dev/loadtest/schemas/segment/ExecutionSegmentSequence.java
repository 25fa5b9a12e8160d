package dev.loadtest.schemas.segment;

import java.util.ArrayList;
import java.util.List;

/**
 * How the work of one test is shared between generators: a partition of [0, 1] into consecutive
 * segments (k6's execution segment sequence, e.g. {@code 0,1/3,2/3,1}), and which VUs and iterations
 * belong to which segment, exactly as k6 decides it, so that a run split over our generators and one
 * split over k6 instances with the same sequence do the same work in the same places.
 *
 * <p>k6's striping: let L be the least common multiple of the denominators of the segments' lengths.
 * Each segment of length n/L owns n of every L consecutive indexes. The indexes 0..L-1 are dealt in
 * order; the segments are tried from the longest to the shortest (ties in sequence order), and index i
 * goes to the first whose next index is due: a segment that has c indexes is due from
 * {@code i >= c * L / n} (the exact quotient; its floor when the division is not exact, i greater than
 * it). Index i (a VU number, or the number of an iteration in the whole test's schedule, counting from 0)
 * belongs to the segment that owns {@code i mod L}. Hence:
 * <ul>
 *   <li>every index belongs to exactly one segment, so the shares of any count add up to it exactly;</li>
 *   <li>a segment's share of the first n indexes never decreases as n grows (ramping stays monotone);</li>
 *   <li>the indexes of a segment are spread over the cycle, not in one block.</li>
 * </ul>
 * A sequence that does not cover [0, 1] ({@code 0.5,1}, {@code 1/3,2/3}) is completed with the missing
 * segments at either end, as k6 completes it. A generator needs only the sequence and its segment to
 * compute its share, with no coordinator in the loop. Immutable and thread-safe.
 */
public final class ExecutionSegmentSequence {
  /** The largest cycle accepted: finer sequences are refused. */
  public static final long MAX_CYCLE = 1_000_000;

  /** A segment of a sequence, by position: what a generator needs to know of its share. */
  public record Share(ExecutionSegmentSequence sequence, int segment) {}

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

  /**
   * Parses k6's form, bounds separated by commas: {@code 0,1/3,2/3,1}, {@code 0,25%,1}, or a part of
   * [0, 1] such as {@code 1/3,2/3} (completed to {@code 0,1/3,2/3,1}).
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static ExecutionSegmentSequence parse(String text) {
    if (text.isBlank()) {
      return whole();
    }
    String[] parts = text.split(",", -1);
    if (parts.length < 2) {
      throw new IllegalArgumentException("an execution segment sequence needs at least 2 bounds, got \"" + text + "\"");
    }
    List<Fraction> b = new ArrayList<>();
    for (String part : parts) {
      b.add(Fraction.parse(part));
    }
    return of(b);
  }

  /**
   * The share of a generator given a segment and a sequence as k6 takes them: either may be absent
   * ({@code null} or blank). Without a sequence, the segment is completed to a sequence around it
   * ({@code 0:1/5} alone is the first segment of {@code 0,1/5,1}).
   *
   * @throws IllegalArgumentException when either does not parse or the segment is not in the sequence
   */
  public static Share share(String segment, String sequence) {
    ExecutionSegment seg = segment == null ? ExecutionSegment.WHOLE : ExecutionSegment.parse(segment);
    ExecutionSegmentSequence seq;
    if (sequence == null || sequence.isBlank()) {
      List<Fraction> b = new ArrayList<>(List.of(seg.from(), seg.to()));
      seq = of(b);
    } else {
      seq = parse(sequence);
    }
    int index = seq.indexOf(seg);
    if (index < 0) {
      throw new IllegalArgumentException("the execution segment " + seg + " is not a segment of the sequence " + seq);
    }
    return new Share(seq, index);
  }

  /**
   * A sequence from its bounds, completed with 0 and 1 when it does not start or end there.
   *
   * @throws IllegalArgumentException unless the bounds strictly increase within [0, 1]
   */
  public static ExecutionSegmentSequence of(List<Fraction> given) {
    if (given.size() < 2) {
      throw new IllegalArgumentException("an execution segment sequence needs at least 2 bounds, got " + given);
    }
    List<Fraction> bounds = new ArrayList<>(given);
    for (int i = 1; i < bounds.size(); i++) {
      if (bounds.get(i).compareTo(bounds.get(i - 1)) <= 0) {
        throw new IllegalArgumentException("the bounds of an execution segment sequence must increase: "
            + bounds.get(i - 1) + " then " + bounds.get(i));
      }
    }
    if (bounds.get(0).compareTo(Fraction.ZERO) < 0 || bounds.get(bounds.size() - 1).compareTo(Fraction.ONE) > 0) {
      throw new IllegalArgumentException("an execution segment sequence lies within 0 and 1, got " + given);
    }
    if (bounds.get(0).compareTo(Fraction.ZERO) != 0) {
      bounds.add(0, Fraction.ZERO);
    }
    if (bounds.get(bounds.size() - 1).compareTo(Fraction.ONE) != 0) {
      bounds.add(Fraction.ONE);
    }
    int segments = bounds.size() - 1;
    long cycle = 1;
    Fraction[] lengths = new Fraction[segments];
    for (int s = 0; s < segments; s++) {
      lengths[s] = bounds.get(s + 1).minus(bounds.get(s));
      long d = lengths[s].denominator();
      cycle = Math.multiplyExact(cycle / Fraction.gcd(cycle, d), d);
      if (cycle > MAX_CYCLE) {
        throw new IllegalArgumentException("the sequence " + bounds + " is too fine: its cycle exceeds " + MAX_CYCLE);
      }
    }
    return new ExecutionSegmentSequence(bounds, stripe(lengths, (int) cycle));
  }

  /**
   * k6's striping of one cycle (see the class comment): the owner of each slot. A segment waits in a queue
   * by the slot its next index is due at, then among the due ones by rank (longest first), so a cycle costs
   * O(L log n), not O(L n), for n segments.
   */
  private static int[] stripe(Fraction[] lengths, int cycle) {
    int segments = lengths.length;
    long[] share = new long[segments];
    Integer[] order = new Integer[segments];
    for (int s = 0; s < segments; s++) {
      share[s] = lengths[s].numerator() * (cycle / lengths[s].denominator());
      order[s] = s;
    }
    java.util.Arrays.sort(order, (a, b) -> Long.compare(share[b], share[a])); // stable: ties keep sequence order
    int[] rank = new int[segments];
    for (int k = 0; k < segments; k++) {
      rank[order[k]] = k;
    }
    long[] taken = new long[segments];
    // Segment s with c indexes taken is due from slot ceil(c * L / share[s]); its first index at slot 0.
    java.util.PriorityQueue<long[]> waiting = new java.util.PriorityQueue<>(
        (x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Integer.compare(rank[(int) x[1]], rank[(int) y[1]]));
    java.util.TreeSet<Integer> due = new java.util.TreeSet<>(java.util.Comparator.comparingInt(s -> rank[s]));
    for (int s = 0; s < segments; s++) {
      due.add(s);
    }
    int[] owner = new int[cycle];
    for (int i = 0; i < cycle; i++) {
      while (!waiting.isEmpty() && waiting.peek()[0] <= i) {
        due.add((int) waiting.poll()[1]);
      }
      if (due.isEmpty()) {
        throw new IllegalStateException("striping left slot " + i + " of " + cycle + " without a segment");
      }
      int s = due.pollFirst();
      owner[i] = s;
      taken[s]++;
      if (taken[s] < share[s]) {
        long next = taken[s] * cycle;
        waiting.add(new long[] {next / share[s] + (next % share[s] == 0 ? 0 : 1), s});
      }
    }
    return owner;
  }

  /** The position of {@code segment} in this sequence, -1 if it is not one of its segments. */
  public int indexOf(ExecutionSegment segment) {
    for (int i = 0; i + 1 < bounds.size(); i++) {
      if (bounds.get(i).equals(segment.from()) && bounds.get(i + 1).equals(segment.to())) {
        return i;
      }
    }
    return -1;
  }

  /**
   * k6's re-division of the sequence by a count (an arrival-rate scenario's maxVUs, a shared-iterations
   * scenario's VUs): each segment's new length is its share of {@code value} over {@code value}, segments
   * with no share are dropped, and the segments' order is kept. Iterations are then dealt by the new
   * sequence, so a segment runs iterations in proportion to the VUs it has.
   *
   * @return the new sequence and where {@code segment} is in it; empty when {@code segment} has no share
   *     of {@code value} (it runs nothing)
   */
  public java.util.Optional<Share> redivide(int segment, long value) {
    if (value < 1) {
      return java.util.Optional.empty();
    }
    if (value % cycle() == 0) {
      return java.util.Optional.of(new Share(this, segment));
    }
    List<Fraction> b = new ArrayList<>(List.of(Fraction.ZERO));
    long at = 0;
    int index = -1;
    for (int s = 0; s < segmentCount(); s++) {
      long mine = scale(s, value);
      if (mine == 0) {
        continue;
      }
      at += mine;
      if (s == segment) {
        index = b.size() - 1;
      }
      b.add(new Fraction(at, value));
    }
    return index < 0 ? java.util.Optional.empty() : java.util.Optional.of(new Share(of(b), index));
  }

  public int segmentCount() {
    return bounds.size() - 1;
  }

  /** Segment {@code index} as k6 writes it, e.g. {@code 1/3:2/3}. */
  public String segment(int index) {
    return bounds.get(index) + ":" + bounds.get(index + 1);
  }

  /** The segment at {@code index}. */
  public ExecutionSegment segmentAt(int index) {
    return new ExecutionSegment(bounds.get(index), bounds.get(index + 1));
  }

  /**
   * k6's striped offsets of a segment: the first index it owns and the distances from each owned
   * index to the next over one cycle (the last wraps to the first of the next cycle).
   */
  public long[] stripedOffsets(int segment) {
    int[] slots = slotsOf[segment];
    long[] out = new long[slots.length + 1];
    out[0] = slots[0];
    for (int k = 1; k < slots.length; k++) {
      out[k] = slots[k] - slots[k - 1];
    }
    out[slots.length] = slots[0] + slotOwner.length - slots[slots.length - 1];
    return out;
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
    return rate * segmentAt(segment).length();
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
