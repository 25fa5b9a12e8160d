package dev.loadtest.generator.schedule;

import dev.loadtest.schemas.plan.Scenario;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * When each iteration of an open-model scenario (constant- or ramping-arrival-rate) is meant to start,
 * as a pure function of the scenario: no clock, no threads. The rate is piecewise linear in time (a
 * constant rate is one flat piece), A(t) is the number of arrivals it makes by time t, and iteration i
 * (counting from 0 over the whole test, all generators together) is due as k6 starts it:
 * <ul>
 *   <li>constant-arrival-rate: at A(t) = i, every {@code timeUnit / rate} from the start on (the first at
 *       once), every iteration due strictly before the scenario's end;</li>
 *   <li>ramping-arrival-rate: when i + 1 arrivals have accumulated, A(t) = i + 1 (k6 counts arrivals as
 *       the area under the rate), up to and including one due exactly at the end: floor(A(end))
 *       iterations.</li>
 * </ul>
 *
 * <p>A generator runs the iterations its execution segment owns and measures latency from
 * {@link #startNanos(long)}, the intended time, not from when a VU became free: a stalled system shows
 * in the percentiles instead of slowing the schedule (no coordinated omission). Immutable and
 * thread-safe.
 */
public final class ArrivalSchedule {
  private final List<Piece> pieces;
  private final long totalIterations;
  private final long durationNanos;

  /** One linear piece: from {@code startNanos} for {@code lengthNanos}, rate r0 -> r1 arrivals per nanosecond. */
  private record Piece(long startNanos, long lengthNanos, double r0PerNano, double r1PerNano, double arrivalsBefore) {
    double arrivals() {
      return (r0PerNano + r1PerNano) / 2 * lengthNanos;
    }
  }

  /** 0 when iteration i is due at A(t) = i, 1 when at A(t) = i + 1. */
  private final int lead;

  private ArrivalSchedule(List<Piece> pieces, long totalIterations, long durationNanos, int lead) {
    this.pieces = List.copyOf(pieces);
    this.lead = lead;
    this.totalIterations = totalIterations;
    this.durationNanos = durationNanos;
  }

  public static ArrivalSchedule of(Scenario.ConstantArrivalRate s) {
    return build(s.rate(), s.timeUnit(), List.of(new Scenario.Stage(s.duration(), s.rate())), 0);
  }

  public static ArrivalSchedule of(Scenario.RampingArrivalRate s) {
    return build(s.startRate(), s.timeUnit(), s.stages(), 1);
  }

  private static ArrivalSchedule build(long startRate, Duration timeUnit, List<Scenario.Stage> stages, int lead) {
    long unitNanos = timeUnit.toNanos();
    List<Piece> pieces = new ArrayList<>();
    long at = 0;
    long previousRate = startRate;
    double before = 0;
    // Exact total: sum over stages of (r0 + r1) * length / (2 * unit), a rational number.
    BigInteger num = BigInteger.ZERO;
    BigInteger den = BigInteger.valueOf(2).multiply(BigInteger.valueOf(unitNanos));
    for (Scenario.Stage stage : stages) {
      long length = stage.duration().toNanos();
      Piece p = new Piece(at, length, (double) previousRate / unitNanos, (double) stage.target() / unitNanos, before);
      if (length > 0) {
        pieces.add(p);
        before += p.arrivals();
        num = num.add(BigInteger.valueOf(previousRate + stage.target()).multiply(BigInteger.valueOf(length)));
      }
      at += length;
      previousRate = stage.target();
    }
    // Constant: iterations due strictly before the end, i < A(end), so ceil(A(end)). Ramping: i + 1 <= A(end),
    // so floor(A(end)).
    BigInteger[] qr = num.divideAndRemainder(den);
    long total = qr[0].longValueExact() + (lead == 0 && qr[1].signum() > 0 ? 1 : 0);
    return new ArrivalSchedule(pieces, total, at, lead);
  }

  /** Every iteration of the scenario, on all generators together. */
  public long totalIterations() {
    return totalIterations;
  }

  public long durationNanos() {
    return durationNanos;
  }

  /**
   * When iteration {@code i} is due, in nanoseconds from the scenario's start.
   *
   * @throws IllegalArgumentException when {@code i} is not an iteration of the scenario
   */
  public long startNanos(long i) {
    if (i < 0 || i >= totalIterations) {
      throw new IllegalArgumentException("iteration " + i + " is not in 0.." + (totalIterations - 1));
    }
    long arrivals = i + lead;
    Piece p = pieces.get(pieceOf(arrivals));
    double need = arrivals - p.arrivalsBefore();
    if (need <= 0) {
      return p.startNanos();
    }
    // Solve r0 t + (r1 - r0) t^2 / (2 L) = need for t in [0, L], in the form that stays exact when r1 == r0.
    double a = (p.r1PerNano() - p.r0PerNano()) / (2.0 * p.lengthNanos());
    double b = p.r0PerNano();
    double t = 2 * need / (b + Math.sqrt(Math.max(0, b * b + 4 * a * need)));
    long offset = (long) Math.ceil(t - 1e-6);
    return p.startNanos() + Math.min(Math.max(0, offset), p.lengthNanos() - 1 + lead);
  }

  /** The first piece by whose end A(t) reaches {@code arrivals} (the end counts never decrease). */
  private int pieceOf(long arrivals) {
    int lo = 0;
    int hi = pieces.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      Piece p = pieces.get(mid);
      if (p.arrivalsBefore() + p.arrivals() >= arrivals - 1e-9) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    // A piece with no arrivals at all (rate 0 -> 0) cannot hold an iteration: step back to the one that made it.
    while (lo > 0 && pieces.get(lo).arrivals() == 0) {
      lo--;
    }
    while (lo < pieces.size() - 1 && pieces.get(lo).arrivals() == 0) {
      lo++;
    }
    return lo;
  }
}
