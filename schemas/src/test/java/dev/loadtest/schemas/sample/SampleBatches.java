package dev.loadtest.schemas.sample;

import dev.loadtest.schemas.metrics.MetricType;
import java.util.SplittableRandom;

/** Realistic sample batches for tests and benchmarks: a checkout journey's requests plus checks and iterations. */
public final class SampleBatches {
  private static final String[] NAMES = {"home", "products", "product", "cart", "coupon", "checkout"};
  private static final String[] METHODS = {"GET", "GET", "GET", "POST", "POST", "POST"};

  private SampleBatches() {}

  public static SampleBatch checkout(int requests, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    long base = 1_760_000_000_000_000L + r.nextLong(1_000_000_000L);
    SampleBatchBuilder b = new SampleBatchBuilder("run-" + seed, "gen-1", "local:zone-a", seed, base);
    int checks = b.metric("checks", MetricType.RATE);
    int iterations = b.metric("iterations", MetricType.COUNTER);
    int iterationDuration = b.metric("iteration_duration", MetricType.TREND);
    int[] tagSets = new int[NAMES.length * 2];
    for (int i = 0; i < NAMES.length; i++) {
      tagSets[2 * i] = b.tagSet("name", NAMES[i], "method", METHODS[i], "status", "200", "scenario", "shop",
          "expected_response", "true");
      tagSets[2 * i + 1] = b.tagSet("name", NAMES[i], "method", METHODS[i], "status", "503", "scenario", "shop",
          "expected_response", "false");
    }
    int checkTags = b.tagSet("check", "status is 200", "scenario", "shop");
    int iterTags = b.tagSet("scenario", "shop");
    long t = base;
    for (int i = 0; i < requests; i++) {
      t += r.nextInt(2_000);
      int step = i % NAMES.length;
      boolean failed = r.nextInt(100) == 0;
      long waiting = 2_000 + r.nextInt(80_000);
      boolean fresh = r.nextInt(20) == 0;
      b.addRequest(t, tagSets[2 * step + (failed ? 1 : 0)], waiting + 300, fresh ? 900 : 0, fresh ? 400 : 0, 0,
          40, waiting, 260, 180 + r.nextInt(400), 800 + r.nextInt(20_000), failed, 1 + r.nextInt(500));
      if (step == NAMES.length - 1) {
        b.addPoint(checks, t, checkTags, failed ? 0 : 1);
        b.addPoint(iterations, t, iterTags, 1);
        b.addPoint(iterationDuration, t, iterTags, 1234.5 + r.nextInt(4000));
      }
    }
    return b.build();
  }
}
