package dev.loadtest.schemas.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.metrics.MetricType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.junit.jupiter.api.Test;

class SampleBatchCodecTest {
  @Test
  void roundTripKeepsEverySample() {
    SampleBatch batch = SampleBatches.checkout(5_000, 1);
    SampleBatch back = SampleBatchCodec.decode(SampleBatchCodec.encode(batch));
    assertEquals(batch, back);
    assertEquals(5_000, back.requests().size());
    assertEquals(batch.tags(back.requests().tagSet()[7]).length, 10);
  }

  @Test
  void aReusedEncoderWithATinyBufferGrowsForExtremeValues() {
    SampleBatchBuilder b = new SampleBatchBuilder("r", "g", "z", 0, Long.MIN_VALUE / 2);
    int ts = b.tagSet("name", "x");
    SplittableRandom r = new SplittableRandom(8);
    for (int i = 0; i < 3_000; i++) {
      // the widest varints: offsets and VU numbers either side of zero, timings up to Long.MAX_VALUE (never below 0)
      long big = r.nextBoolean() ? Long.MAX_VALUE - r.nextInt(1000) : r.nextInt(1000);
      b.addRequest(r.nextLong(), ts, big, big / 2, 0, 1, big / 3, big / 7, 1, Long.MAX_VALUE, 0,
          i % 2 == 0, Integer.MIN_VALUE + i);
    }
    SampleBatch extreme = b.build();
    SampleBatchCodec.Encoder encoder = new SampleBatchCodec.Encoder(16);
    SampleBatch normal = SampleBatches.checkout(2_000, 9);
    assertEquals(extreme, SampleBatchCodec.decode(encoder.encode(extreme)));
    assertEquals(normal, SampleBatchCodec.decode(encoder.encode(normal)), "reuse after a large batch");
    assertArrayEquals(SampleBatchCodec.encode(normal), encoder.encode(normal));
  }

  /**
   * A tag for every sample (a generator's id, when the plan asks for it) joins each tag set in key order,
   * however the set is given, and a set with that key of its own keeps it.
   */
  @Test
  void aTagForEverySampleJoinsEachTagSetUnlessItHasThatKey() {
    SampleBatchBuilder b = new SampleBatchBuilder("r", "g-1", "z", 0, 0).tagEvery("generator", "g-1");
    int plain = b.tagSet("status", "200", "name", "home");
    int asMap = b.tagSet(java.util.Map.of("name", "home", "status", "200"));
    int prepared = b.tagSet(TagSet.of(java.util.Map.of("name", "home", "status", "200")));
    int own = b.tagSet("name", "cpu", "generator", "g-9");
    SampleBatch batch = b.build();
    assertEquals(plain, asMap);
    assertEquals(plain, prepared);
    assertArrayEquals(new String[] {"generator", "g-1", "name", "home", "status", "200"}, batch.tags(plain));
    assertArrayEquals(new String[] {"generator", "g-9", "name", "cpu"}, batch.tags(own));
    SampleBatchBuilder late = new SampleBatchBuilder("r", "g", "z", 0, 0);
    late.tagSet("name", "x");
    assertThrows(IllegalStateException.class, () -> late.tagEvery("generator", "g"));
  }

  @Test
  void emptyBatchRoundTrips() {
    SampleBatch empty = new SampleBatchBuilder("r", "g", "z", 0, 0).build();
    assertEquals(empty, SampleBatchCodec.decode(SampleBatchCodec.encode(empty)));
  }

  @Test
  void bodyIsByteForByteWhatAvrosOwnWriterWrites() throws IOException {
    SampleBatch batch = SampleBatches.checkout(700, 2);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(SampleBatchCodec.SCHEMA).write(SampleBatchCodec.toGeneric(batch), enc);
    enc.flush();
    assertArrayEquals(out.toByteArray(), SampleBatchCodec.encodeBody(batch));
  }

  @Test
  void anyAvroLibraryReadsTheRecordThroughSingleObjectEncoding() throws IOException {
    SampleBatch batch = SampleBatches.checkout(300, 3);
    BinaryMessageDecoder<GenericRecord> decoder = new BinaryMessageDecoder<>(GenericData.get(), SampleBatchCodec.SCHEMA);
    GenericRecord rec = decoder.decode(SampleBatchCodec.encode(batch));
    assertEquals(batch, SampleBatchCodec.fromGeneric(rec));
  }

  @Test
  void readerOfVersion2ReadsBatchesWrittenWithVersion1() throws IOException {
    Schema v1 = SampleBatchCodec.HISTORY.get(0);
    SampleBatch batch = SampleBatches.checkout(200, 4);
    GenericRecord current = SampleBatchCodec.toGeneric(batch);
    GenericRecord old = toVersion1(current, v1);
    byte[] bytes = singleObject(v1, old);

    SampleBatch read = SampleBatchCodec.decode(bytes);
    assertEquals(0, read.requests().vu().length, "v1 has no vu column: it reads as empty (unknown)");
    assertArrayEquals(batch.requests().durationUs(), read.requests().durationUs());
    assertArrayEquals(batch.requests().waitingUs(), read.requests().waitingUs());
    assertEquals(batch.strings(), read.strings());
    assertEquals(batch.points(), read.points());
  }

  @Test
  void identityIsReadFromTheHeaderOfEveryVersionAndFailsAsDecodeDoes() throws IOException {
    SampleBatchBuilder b = new SampleBatchBuilder("run-\u00e9", "gen-7", "zone", 1_764_000_000_000_123L, 5_000_000);
    b.addRequest(5_000_100, b.tagSet("name", "x"), 1_000, 0, 0, 0, 1, 998, 1, 10, 10, false, 1);
    byte[] bytes = SampleBatchCodec.encode(b.build());
    assertEquals(new SampleBatchCodec.Identity("run-\u00e9", "gen-7", 1_764_000_000_000_123L),
        SampleBatchCodec.identity(bytes));
    try (InputStream in = getClass().getResourceAsStream("/fixtures/sample-batch-v1.bin")) {
      byte[] v1 = in.readAllBytes();
      SampleBatch read = SampleBatchCodec.decode(v1);
      assertEquals(new SampleBatchCodec.Identity(read.testRunId(), read.generatorId(), read.sequence()),
          SampleBatchCodec.identity(v1));
    }
    assertThrows(MalformedSampleBatchException.class, () -> SampleBatchCodec.identity(new byte[] {1, 2, 3}));
    assertThrows(MalformedSampleBatchException.class, () -> SampleBatchCodec.identity(null));
    byte[] cut = Arrays.copyOf(bytes, 14);
    assertThrows(MalformedSampleBatchException.class, () -> SampleBatchCodec.identity(cut));
  }

  @Test
  void readsTheSavedVersion1Fixture() throws IOException {
    byte[] bytes;
    try (InputStream in = getClass().getResourceAsStream("/fixtures/sample-batch-v1.bin")) {
      bytes = in.readAllBytes();
    }
    SampleBatch read = SampleBatchCodec.decode(bytes);
    assertEquals("fixture-run", read.testRunId());
    assertEquals(3, read.requests().size());
    assertArrayEquals(new long[] {12_000, 250_000, 1_800}, read.requests().durationUs());
    assertArrayEquals(new boolean[] {false, true, false}, read.requests().failed());
    assertEquals("checkout", read.tags(read.requests().tagSet()[1])[1]);
    assertEquals(MetricType.RATE, read.metrics().get(0).type());
    assertEquals(1, read.points().size());
  }

  @Test
  void rejectsWhatIsNotASampleBatchWithAReason() {
    byte[] good = SampleBatchCodec.encode(SampleBatches.checkout(50, 5));
    assertMessage("at least 10 bytes", new byte[3]);
    assertMessage("header is 7B 22", "{\"not\":\"avro\"}".getBytes());
    byte[] unknown = good.clone();
    unknown[5] ^= 0x5A;
    assertMessage("unknown schema", unknown);
    assertMessage("ends early", Arrays.copyOf(good, good.length - 1));
    assertMessage("larger than the rest of the record", Arrays.copyOf(good, good.length - 7));
    byte[] extra = Arrays.copyOf(good, good.length + 2);
    assertMessage("bytes left after the batch", extra);
  }

  @Test
  void rejectsBatchesWhoseIndexesPointOutside() {
    SampleBatchBuilder b = new SampleBatchBuilder("r", "g", "z", 0, 0);
    int ts = b.tagSet("name", "x");
    b.addRequest(5, ts, 1, 0, 0, 0, 0, 1, 0, 1, 1, false, 1);
    SampleBatch ok = b.build();
    int[] bad = {7};
    SampleBatch broken = new SampleBatch("r", "g", "z", 0, 0, ok.strings(), ok.tagSets(), ok.metrics(),
        new SampleBatch.HttpRequests(ok.requests().offsetUs(), bad, ok.requests().durationUs(), ok.requests().blockedUs(),
            ok.requests().connectingUs(), ok.requests().tlsHandshakingUs(), ok.requests().sendingUs(),
            ok.requests().waitingUs(), ok.requests().receivingUs(), ok.requests().bytesSent(),
            ok.requests().bytesReceived(), ok.requests().failed(), ok.requests().vu()), ok.points());
    assertMessage("requests.tagSet[0] = 7 but the batch has 1 tag sets", SampleBatchCodec.encode(broken));
  }

  @Test
  void rejectsNegativeTimingsAndValuesThatAreNotNumbers() {
    SampleBatchBuilder neg = new SampleBatchBuilder("r", "g", "z", 0, 0);
    int ts = neg.tagSet("name", "x");
    neg.addRequest(5, ts, 1, 0, 0, 0, 0, 1, 0, 1, 1, false, 1);
    neg.addRequest(6, ts, 1, 0, 0, 0, 0, -40, 0, 1, 1, false, 1);
    assertMessage("requests.waitingUs[1] = -40: request timings and byte counts cannot be negative",
        SampleBatchCodec.encode(neg.build()));
    for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      SampleBatchBuilder b = new SampleBatchBuilder("r", "g", "z", 0, 0);
      int m = b.metric("balance", MetricType.TREND);
      b.addPoint(m, 10, b.tagSet(), -12.5); // below zero is a value like any other for a user Trend
      b.addPoint(m, 11, b.tagSet(), v);
      assertMessage("points.value[1] = " + v + ": a metric sample must be a finite number", SampleBatchCodec.encode(b.build()));
    }
  }

  @Test
  void corruptedRecordsFailCleanlyNeverWithAnotherException() {
    byte[] good = SampleBatchCodec.encode(SampleBatches.checkout(40, 6));
    SplittableRandom r = new SplittableRandom(99);
    int rejected = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] bad = good.clone();
      int flips = 1 + r.nextInt(4);
      for (int f = 0; f < flips; f++) {
        bad[10 + r.nextInt(bad.length - 10)] = (byte) r.nextInt(256);
      }
      try {
        SampleBatchCodec.decode(bad);
      } catch (MalformedSampleBatchException e) {
        rejected++;
      } catch (RuntimeException e) {
        throw new AssertionError("mutation " + i + " threw " + e, e);
      }
    }
    assertTrue(rejected > 1_000, "most corruptions are detected: " + rejected);
  }

  private static void assertMessage(String expected, byte[] bytes) {
    MalformedSampleBatchException e = assertThrows(MalformedSampleBatchException.class, () -> SampleBatchCodec.decode(bytes));
    assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' should say '" + expected + "'");
  }

  /** The same batch as a version-1 record: version 2 only added requests.vu. */
  static GenericRecord toVersion1(GenericRecord current, Schema v1) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(SampleBatchCodec.SCHEMA).write(current, enc);
    enc.flush();
    // Resolve current -> v1 (drops the new field), as a v1 writer would have produced it.
    return new GenericDatumReader<GenericRecord>(SampleBatchCodec.SCHEMA, v1)
        .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
  }

  static byte[] singleObject(Schema schema, GenericRecord rec) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new org.apache.avro.message.BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(rec, out);
    return out.toByteArray();
  }
}
