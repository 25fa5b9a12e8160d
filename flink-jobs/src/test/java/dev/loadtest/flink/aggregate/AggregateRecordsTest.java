package dev.loadtest.flink.aggregate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.avro.AggregateBatch;
import dev.loadtest.schemas.avro.AggregateBucket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The aggregates records the job writes by hand are the bytes Avro's own writer gives, split within the limits. */
class AggregateRecordsTest {
  static final String[] TYPES = {"COUNTER", "GAUGE", "RATE", "TREND"};

  static SeriesBucket random(SplittableRandom r, int i) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = "run-\u00fc";
    b.analysisId = "";
    b.seriesId = r.nextLong();
    b.metric = i % 5 == 0 ? "m\u00e9trique_\u20ac" : "http_req_duration";
    b.type = TYPES[i % 4];
    int tags = r.nextInt(4);
    b.tagKeys = new String[tags];
    b.tagValues = new String[tags];
    for (int t = 0; t < tags; t++) {
      b.tagKeys[t] = "k" + t;
      b.tagValues[t] = t == 1 ? "GET /\u540d\u524d/" + i + "\ud83d\ude00" : "v" + r.nextInt(1000);
    }
    b.startMs = 1_796_000_000_000L + 1000L * i;
    b.widthMs = 1000;
    b.count = r.nextLong(1, Long.MAX_VALUE);
    b.sum = r.nextDouble() * 1e12 - 5e11;
    b.min = i % 7 == 0 ? Double.NaN : -r.nextDouble();
    b.max = i % 11 == 0 ? Double.POSITIVE_INFINITY : r.nextDouble() * 1e9;
    b.last = i % 3 == 0 ? Double.NaN : -0.0;
    b.nonZero = r.nextLong(-5, 1_000_000);
    int n = b.type.equals("TREND") ? r.nextInt(60) : 0;
    b.histIndexes = new int[n];
    b.histCounts = new long[n];
    int idx = -40;
    for (int k = 0; k < n; k++) {
      idx += 1 + r.nextInt(50);
      b.histIndexes[k] = idx;
      b.histCounts[k] = r.nextLong(1, 1L << 40);
    }
    b.writerId = "";
    return b;
  }

  static byte[] avro(AggregateBatch batch) throws Exception {
    ByteBuffer v = batch.toByteBuffer();
    byte[] bytes = new byte[v.remaining()];
    v.get(bytes);
    return bytes;
  }

  @Test
  void aRecordIsTheBytesOfAvrosWriterAndReadsBackAsItsBuckets() throws Exception {
    SplittableRandom r = new SplittableRandom(5);
    for (int round = 1; round < 40; round++) {
      List<SeriesBucket> buckets = new ArrayList<>();
      List<byte[]> encoded = new ArrayList<>();
      List<AggregateBucket> reference = new ArrayList<>();
      for (int i = 0; i < round; i++) {
        SeriesBucket b = random(r, i + round);
        buckets.add(b);
        encoded.add(AggregateRecords.encode(b));
        reference.add(AggregateRecords.bucket(b));
      }
      List<AggregateRecords.Published> records =
          AggregateRecords.batches("run-\u00fc", "replay-1", 1_796_000_000_000L, AggregateRecords.Kind.SERIES, encoded);
      assertEquals(1, records.size(), "round " + round);
      byte[] expected = avro(AggregateBatch.newBuilder().setTestRunId("run-\u00fc").setAnalysisId("replay-1")
          .setBuckets(reference).build());
      assertArrayEquals(expected, records.get(0).value, "round " + round);
      List<SeriesBucket> back = AggregateRecords.fromAvro(AggregateBatch.fromByteBuffer(ByteBuffer.wrap(records.get(0).value)));
      for (int i = 0; i < buckets.size(); i++) {
        assertEquals(buckets.get(i).seriesId, back.get(i).seriesId);
        assertArrayEquals(buckets.get(i).tagValues, back.get(i).tagValues);
        assertArrayEquals(buckets.get(i).histIndexes, back.get(i).histIndexes);
        assertEquals(Double.doubleToRawLongBits(buckets.get(i).last), Double.doubleToRawLongBits(back.get(i).last));
      }
    }
  }

  @Test
  void manyOrLargeBucketsSplitIntoRecordsWithinTheLimitsAndNoneIsLost() throws Exception {
    SplittableRandom r = new SplittableRandom(9);
    List<byte[]> encoded = new ArrayList<>();
    long ids = 0;
    for (int i = 0; i < 1_700; i++) {
      SeriesBucket b = random(r, 3); // a trend
      if (i % 100 == 0) { // a few very wide histograms, so that bytes, not only counts, split records
        b.histIndexes = new int[70_000];
        b.histCounts = new long[70_000];
        for (int k = 0; k < b.histIndexes.length; k++) {
          b.histIndexes[k] = k;
          b.histCounts[k] = 1L << 35;
        }
      }
      b.seriesId = i;
      ids += i;
      encoded.add(AggregateRecords.encode(b));
    }
    List<AggregateRecords.Published> records =
        AggregateRecords.batches("run-1", "", 1_796_000_000_000L, AggregateRecords.Kind.SERIES, encoded);
    long seen = 0;
    int buckets = 0;
    for (AggregateRecords.Published p : records) {
      assertTrue(p.value.length <= AggregateRecords.MAX_VALUE_BYTES, p.value.length + " bytes");
      List<SeriesBucket> in = AggregateRecords.fromAvro(AggregateBatch.fromByteBuffer(ByteBuffer.wrap(p.value)));
      assertTrue(in.size() <= AggregateRecords.MAX_BUCKETS, in.size() + " buckets");
      for (SeriesBucket b : in) {
        seen += b.seriesId;
        buckets++;
      }
    }
    assertEquals(1_700, buckets);
    assertEquals(ids, seen, "every bucket once, in order of records");
    assertTrue(records.size() > 1_700 / AggregateRecords.MAX_BUCKETS + 1, records.size() + " records: split by bytes too");
    assertTrue(AggregateRecords.batches("run-1", "", 0, AggregateRecords.Kind.SERIES, List.of()).isEmpty(),
        "no buckets, no record");
  }
}
