package dev.loadtest.schemas.histogram;

import java.util.SplittableRandom;

/** Realistic latencies for tests and benchmarks: log-normal around 20 ms with a long tail, in microseconds. */
public final class Latencies {
  private Latencies() {}

  public static long[] logNormal(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      double gaussian = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
      out[i] = Math.max(1, (long) (20_000 * Math.exp(1.2 * gaussian)));
    }
    return out;
  }
}
