package dev.loadtest.api.store;

import java.util.ArrayList;
import java.util.List;

/**
 * Which stored resolution serves which part of a time range. The aggregate job writes every bucket at
 * 1 s, 10 s and 1 min; a rollup row exists only once its whole interval has closed. A range is tiled
 * with the coarsest table that both divides the answer's step and has its rows written for that part
 * ({@code coverage}), and finer tables for the edges and for the newest part of a live run. The tiles do
 * not overlap, so sums over them are exact and a long run costs about as many rows as a short one.
 */
public final class Slices {
  /** Table widths in seconds, coarsest first. */
  public static final int[] WIDTHS = {60, 10, 1};

  private Slices() {}

  /** One tile: rows of the table of {@code width} seconds with ts in [fromSec, toSec). */
  public record Slice(int width, long fromSec, long toSec) {
    public String table() {
      return switch (width) {
        case 60 -> "metric_1m";
        case 10 -> "metric_10s";
        case 1 -> "metric_1s";
        default -> throw new IllegalStateException("no table of width " + width);
      };
    }

    public long seconds() {
      return toSec - fromSec;
    }
  }

  /** Where each rollup's rows end: rows with ts below {@code endOf60} exist in metric_1m, and so on. */
  public record Coverage(long endOf60, long endOf10) {
    public static final Coverage NONE = new Coverage(Long.MIN_VALUE, Long.MIN_VALUE);

    long end(int width) {
      return switch (width) {
        case 60 -> endOf60;
        case 10 -> endOf10;
        default -> Long.MAX_VALUE;
      };
    }
  }

  /**
   * Tiles [fromSec, toSec) for answers in steps of {@code step} seconds: only tables whose width divides the
   * step are used, so that no row straddles two steps. Step 0: one answer for the whole range (a summary),
   * any table.
   */
  public static List<Slice> plan(long fromSec, long toSec, int step, Coverage coverage) {
    List<Integer> widths = new ArrayList<>();
    for (int w : WIDTHS) {
      if (step % w == 0 || step == 0) {
        widths.add(w);
      }
    }
    List<Slice> out = new ArrayList<>();
    tile(fromSec, toSec, widths, 0, coverage, out);
    out.sort((a, b) -> Long.compare(a.fromSec(), b.fromSec()));
    return out;
  }

  private static void tile(long from, long to, List<Integer> widths, int level, Coverage c, List<Slice> out) {
    if (from >= to) {
      return;
    }
    int w = widths.get(level);
    if (w == 1 || level == widths.size() - 1 && w == 1) {
      out.add(new Slice(1, from, to));
      return;
    }
    long covered = c.end(w);
    long a = ceil(from, w);
    long b = Math.min(floor(to, w), covered == Long.MIN_VALUE ? Long.MIN_VALUE : floor(covered, w));
    if (a >= b) {
      tile(from, to, widths, level + 1, c, out);
      return;
    }
    out.add(new Slice(w, a, b));
    tile(from, a, widths, level + 1, c, out);
    tile(b, to, widths, level + 1, c, out);
  }

  static long floor(long v, long w) {
    return Math.floorDiv(v, w) * w;
  }

  static long ceil(long v, long w) {
    return -Math.floorDiv(-v, w) * w;
  }
}
