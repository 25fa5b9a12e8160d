package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.loadtest.schemas.histogram.SparseHistogram;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SeriesBucketTest {

  private static SeriesBucket trend(TreeMap<Integer, Long> counts) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = "run";
    b.metric = "http_req_duration";
    b.type = "TREND";
    b.seriesId = 7;
    b.startMs = 1_000;
    b.widthMs = 1_000;
    b.histIndexes = counts.keySet().stream().mapToInt(Integer::intValue).toArray();
    b.histCounts = counts.values().stream().mapToLong(Long::longValue).toArray();
    b.count = counts.values().stream().mapToLong(Long::longValue).sum();
    b.sum = b.count;
    b.min = 1;
    b.max = 1;
    return b;
  }

  private static TreeMap<Integer, Long> randomCounts(Random r, int size, int spread) {
    TreeMap<Integer, Long> m = new TreeMap<>();
    while (m.size() < size) {
      m.put(r.nextInt(spread) - spread / 4, 1 + (long) r.nextInt(1_000));
    }
    return m;
  }

  /**
   * Wide into narrow, narrow into wide (the binary-search path), equal index sets (in place) and disjoint
   * ones: always the bucket-by-bucket sum that {@link SparseHistogram#merge} gives.
   */
  @Test
  void histogramsMergeToTheirBucketByBucketSumWhateverTheirWidths() {
    Random r = new Random(42);
    int[][] sizes = {{1, 1}, {1, 900}, {900, 1}, {3, 200}, {200, 3}, {50, 50}, {0, 5}, {5, 0}, {400, 400}};
    for (int round = 0; round < 300; round++) {
      int[] s = sizes[round % sizes.length];
      int spread = round % 3 == 0 ? 64 : 4_000;
      SeriesBucket a = trend(randomCounts(r, Math.min(s[0], spread), spread));
      SeriesBucket b = trend(randomCounts(r, Math.min(s[1], spread), spread));
      SparseHistogram expected = a.histogram().merge(b.histogram());
      int[] bIdx = b.histIndexes.clone();
      long[] bCnt = b.histCounts.clone();
      a.merge(b);
      assertArrayEquals(expected.indexes(), a.histIndexes == null ? new int[0] : a.histIndexes, "round " + round);
      assertArrayEquals(expected.counts(), a.histCounts == null ? new long[0] : a.histCounts, "round " + round);
      assertArrayEquals(bIdx, b.histIndexes, "the merged-in bucket is left as it was");
      assertArrayEquals(bCnt, b.histCounts);
    }
  }

  @Test
  void aMergeAddingNoNewIndexAddsInPlaceAndSharesNothingWithTheOther() {
    TreeMap<Integer, Long> wide = new TreeMap<>();
    for (int i = 0; i < 100; i++) {
      wide.put(i * 3, 1L);
    }
    SeriesBucket acc = trend(wide);
    long[] before = acc.histCounts;
    SeriesBucket narrow = trend(new TreeMap<>(java.util.Map.of(3, 5L, 297, 2L)));
    acc.merge(narrow);
    assertSame(before, acc.histCounts, "no new index: counts added in place");
    assertEquals(6, acc.histCounts[1]);
    assertEquals(3, acc.histCounts[99]);
    assertEquals(107, acc.count);

    SeriesBucket empty = trend(new TreeMap<>());
    empty.merge(narrow);
    narrow.histCounts[0] = 1_000;
    assertEquals(5, empty.histCounts[0], "a first histogram is copied, not shared");
  }
}
