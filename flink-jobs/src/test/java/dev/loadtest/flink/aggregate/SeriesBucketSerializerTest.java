package dev.loadtest.flink.aggregate;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.SplittableRandom;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** The compact serializer of buckets: every field survives, and a histogram takes a fraction of the POJO's bytes. */
class SeriesBucketSerializerTest {
  static SeriesBucket trend(int buckets) {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = "run-1";
    b.seriesId = -42L;
    b.metric = "http_req_duration";
    b.type = "TREND";
    b.tagKeys = new String[] {"name", "status"};
    b.tagValues = new String[] {"GET /products/{id}", "200"};
    b.startMs = 1_796_000_000_000L;
    b.widthMs = 10_000;
    b.count = 12_345;
    b.sum = 1.5e9;
    b.min = 812;
    b.max = 2_500_000;
    b.last = Double.NaN;
    b.lastTimeUs = -1;
    b.nonZero = 3;
    SplittableRandom r = new SplittableRandom(7);
    b.histIndexes = new int[buckets];
    b.histCounts = new long[buckets];
    int idx = 600;
    for (int i = 0; i < buckets; i++) {
      idx += 1 + r.nextInt(3);
      b.histIndexes[i] = idx;
      b.histCounts[i] = 1 + r.nextInt(200);
    }
    b.writerId = "late:gen-1/17@1796000001000";
    return b;
  }

  static byte[] bytes(TypeSerializer<SeriesBucket> s, SeriesBucket b) throws Exception {
    DataOutputSerializer out = new DataOutputSerializer(256);
    s.serialize(b, out);
    return out.getCopyOfBuffer();
  }

  static SeriesBucket roundTrip(SeriesBucket b) throws Exception {
    return SeriesBucketSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes(SeriesBucketSerializer.INSTANCE, b)));
  }

  @Test
  void stringsKeepFlinksStringValueFormatSoThatCheckpointsOfEarlierVersionsStillRead() throws Exception {
    SeriesBucket b = trend(3);
    b.testRunId = "run-\u00fc\u20ac\ud83d\ude00-" + "x".repeat(300); // 2-, 3- and 4-byte chars, a long length
    b.tagValues = new String[] {"GET /\u00e9t\u00e9", null};
    byte[] ours = bytes(SeriesBucketSerializer.INSTANCE, b);
    DataOutputSerializer flinks = new DataOutputSerializer(512);
    org.apache.flink.types.StringValue.writeString(b.testRunId, flinks);
    byte[] prefix = flinks.getCopyOfBuffer();
    assertArrayEquals(prefix, java.util.Arrays.copyOf(ours, prefix.length), "the run id is written first, as Flink writes it");
    assertEquals(b.testRunId, org.apache.flink.types.StringValue.readString(new DataInputDeserializer(ours)));
    SeriesBucket c = roundTrip(b);
    assertEquals(b.testRunId, c.testRunId);
    assertArrayEquals(b.tagValues, c.tagValues);
  }

  @Test
  void itsBytesAreTheFieldByFieldFormatCheckpointsWereWrittenIn() throws Exception {
    SeriesBucket b = trend(40);
    b.testRunId = "run-\u00fc\u20ac-" + "x".repeat(200);
    b.analysisId = null;
    b.tagValues = new String[] {"GET /\u00e9t\u00e9", null};
    assertArrayEquals(fieldByField(b), bytes(SeriesBucketSerializer.INSTANCE, b));
    SeriesBucket g = new SeriesBucket();
    g.type = "GAUGE";
    g.gauge("gen-1", 10, 5);
    g.gauge("gen-2", -3.5, Long.MAX_VALUE);
    assertArrayEquals(fieldByField(g), bytes(SeriesBucketSerializer.INSTANCE, g));
  }

  /** The format as the serializer wrote it field by field before it encoded into one array. */
  private static byte[] fieldByField(SeriesBucket b) throws Exception {
    DataOutputSerializer out = new DataOutputSerializer(256);
    org.apache.flink.types.StringValue.writeString(b.testRunId, out);
    org.apache.flink.types.StringValue.writeString(b.analysisId, out);
    out.writeLong(b.seriesId);
    org.apache.flink.types.StringValue.writeString(b.metric, out);
    org.apache.flink.types.StringValue.writeString(b.type, out);
    strings(out, b.tagKeys);
    strings(out, b.tagValues);
    varLong(out, SeriesBucketSerializer.zigzag(b.startMs));
    varLong(out, b.widthMs & 0xffffffffL);
    varLong(out, SeriesBucketSerializer.zigzag(b.count));
    out.writeDouble(b.sum);
    out.writeDouble(b.min);
    out.writeDouble(b.max);
    out.writeDouble(b.last);
    varLong(out, SeriesBucketSerializer.zigzag(b.lastTimeUs));
    varLong(out, SeriesBucketSerializer.zigzag(b.nonZero));
    if (b.histIndexes == null) {
      varLong(out, 0);
    } else {
      varLong(out, b.histIndexes.length + 1L);
      int prev = 0;
      for (int i : b.histIndexes) {
        varLong(out, SeriesBucketSerializer.zigzag((long) i - prev));
        prev = i;
      }
      for (long c : b.histCounts) {
        varLong(out, SeriesBucketSerializer.zigzag(c));
      }
    }
    org.apache.flink.types.StringValue.writeString(b.writerId, out);
    strings(out, b.gaugeWriters);
    if (b.gaugeWriters != null) {
      for (int i = 0; i < b.gaugeWriters.length; i++) {
        out.writeDouble(b.gaugeLasts[i]);
        varLong(out, SeriesBucketSerializer.zigzag(b.gaugeTimesUs[i]));
      }
    }
    return out.getCopyOfBuffer();
  }

  private static void strings(DataOutputSerializer out, String[] s) throws Exception {
    varLong(out, s == null ? 0 : s.length + 1L);
    if (s != null) {
      for (String x : s) {
        org.apache.flink.types.StringValue.writeString(x, out);
      }
    }
  }

  private static void varLong(DataOutputSerializer out, long v) throws Exception {
    while ((v & ~0x7FL) != 0) {
      out.writeByte((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.writeByte((int) v);
  }

  /**
   * Decoded strings are shared by content: the second bucket with the same run, metric and tags gets the very
   * strings of the first (no new String, its hash kept), and strings that fill the decoder's table many times
   * over, collide in it, or are too long to keep still decode to exactly what was written.
   */
  @Test
  void equalStringsDecodeToOneStringAndManyDistinctOnesStayExact() throws Exception {
    SeriesBucket first = roundTrip(trend(3));
    SeriesBucket second = roundTrip(trend(5));
    assertTrue(first.metric == second.metric && first.testRunId == second.testRunId, "one string per content");
    assertTrue(first.tagValues[0] == second.tagValues[0] && first.tagKeys[1] == second.tagKeys[1]);
    SplittableRandom r = new SplittableRandom(11);
    for (int i = 0; i < 3 * SeriesBucketSerializer.Strings.SLOTS; i++) {
      SeriesBucket b = trend(1);
      b.tagValues = new String[] {"GET /item/" + i, i % 7 == 0 ? "\u00e9\u20ac" + i : "", "x".repeat(250 + r.nextInt(20))};
      b.metric = i % 2 == 0 ? "Aa" : "BB"; // the same String#hashCode: one slot, two strings
      SeriesBucket c = roundTrip(b);
      assertArrayEquals(b.tagValues, c.tagValues, "bucket " + i);
      assertEquals(b.metric, c.metric);
    }
  }

  @Test
  void everyFieldSurvives() throws Exception {
    SeriesBucket b = trend(150);
    SeriesBucket c = roundTrip(b);
    assertEquals(b.toString(), c.toString());
    assertArrayEquals(b.histIndexes, c.histIndexes);
    assertArrayEquals(b.histCounts, c.histCounts);
    assertArrayEquals(b.tagValues, c.tagValues);
    assertEquals(b.lastTimeUs, c.lastTimeUs);
    assertEquals(b.writerId, c.writerId);
    assertTrue(Double.isNaN(c.last));

    SeriesBucket g = new SeriesBucket();
    g.type = "GAUGE";
    g.gauge("gen-1", 10, 5);
    g.gauge("gen-2", -3.5, Long.MAX_VALUE);
    SeriesBucket h = roundTrip(g);
    assertArrayEquals(g.gaugeWriters, h.gaugeWriters);
    assertArrayEquals(g.gaugeLasts, h.gaugeLasts);
    assertArrayEquals(g.gaugeTimesUs, h.gaugeTimesUs);
    assertNull(h.testRunId);
    assertNull(h.tagKeys);
    assertNull(h.histIndexes);
  }

  @Test
  void flinkUsesItForTheBucketsAndItIsAFractionOfThePojoSize() throws Exception {
    TypeSerializer<SeriesBucket> chosen = TypeInformation.of(SeriesBucket.class).createSerializer(new SerializerConfigImpl());
    assertInstanceOf(SeriesBucketSerializer.class, chosen);
    @SuppressWarnings("unchecked")
    TypeSerializer<SeriesBucket> pojo = (TypeSerializer<SeriesBucket>) new org.apache.flink.api.java.typeutils.PojoTypeInfo<>(
        SeriesBucket.class, java.util.Arrays.stream(SeriesBucket.class.getFields()).filter(f -> !java.lang.reflect.Modifier
            .isStatic(f.getModifiers())).map(f -> new org.apache.flink.api.java.typeutils.PojoField(f,
                org.apache.flink.api.java.typeutils.TypeExtractor.createTypeInfo(f.getGenericType()))).toList())
        .createSerializer(new SerializerConfigImpl());
    assertInstanceOf(PojoSerializer.class, pojo);
    SeriesBucket b = trend(200);
    int ours = bytes(chosen, b).length;
    int theirs = bytes(pojo, b).length;
    assertTrue(ours * 3 < theirs, "ours " + ours + " bytes, the POJO serializer's " + theirs);
  }

  /**
   * A checkpoint's chunks: every bucket back in order and whole, each chunk about the size asked, none split,
   * each string written once a chunk (smaller than the serializer's bytes); a chunk written before chunks had
   * a dictionary (the serializer's bytes back to back) still reads.
   */
  @Test
  void chunksHoldEveryBucketInOrderEachStringOnceAndOldChunksStillRead() throws Exception {
    SeriesBucketSerializer.Chunks chunks = new SeriesBucketSerializer.Chunks(4096);
    java.util.List<SeriesBucket> written = new java.util.ArrayList<>();
    String[] keys = {"name", "status"};
    for (int i = 0; i < 500; i++) {
      SeriesBucket b = trend(1 + i % 40);
      b.seriesId = i;
      b.tagKeys = keys;
      b.tagValues = new String[] {"GET /item/" + i / 3, i % 7 == 0 ? null : "200"};
      b.writerId = i % 5 == 0 ? "late:gen-1/" + i : "";
      b.analysisId = i % 2 == 0 ? "" : "~name";
      written.add(b);
      chunks.accept(b);
    }
    java.util.List<byte[]> bytes = chunks.chunks();
    assertTrue(bytes.size() > 3, bytes.size() + " chunks");
    java.util.List<SeriesBucket> read = new java.util.ArrayList<>();
    long chunkBytes = 0;
    for (byte[] chunk : bytes) {
      assertTrue(chunk.length < 4096 + 1024, chunk.length + " bytes");
      SeriesBucketSerializer.decode(chunk, read::add);
      chunkBytes += chunk.length;
    }
    assertEquals(written.size(), read.size());
    java.io.ByteArrayOutputStream old = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < written.size(); i++) {
      assertEquals(written.get(i), read.get(i), "bucket " + i);
      assertEquals(written.get(i).writerId, read.get(i).writerId);
      assertEquals(written.get(i).analysisId, read.get(i).analysisId);
      assertArrayEquals(written.get(i).tagValues, read.get(i).tagValues);
      old.write(bytes(SeriesBucketSerializer.INSTANCE, written.get(i)));
    }
    // Strings are about a quarter of these buckets (the rest: histograms of up to 40 buckets), written once a chunk.
    assertTrue(chunkBytes * 5 < old.size() * 4, chunkBytes + " bytes in chunks, " + old.size() + " serialized");
    java.util.List<SeriesBucket> readOld = new java.util.ArrayList<>();
    SeriesBucketSerializer.decode(old.toByteArray(), readOld::add);
    assertEquals(written, readOld, "a chunk of the serializer's bytes back to back, as written before");
    assertTrue(new SeriesBucketSerializer.Chunks(4096).chunks().isEmpty(), "no buckets, no chunk");
    byte[] future = bytes.get(0).clone();
    future[2] = 9;
    IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> SeriesBucketSerializer.decode(future, b -> { }));
    assertTrue(e.getMessage().contains("format 9"), e.getMessage());
    // A damaged chunk is refused with a reason, never read as other strings: a number past the strings so far,
    // a string longer than any, a chunk cut short.
    byte[] dangling = {(byte) 0x80, 0x00, 0x01, 7};
    e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> SeriesBucketSerializer.decode(dangling, b -> { }));
    assertTrue(e.getMessage().contains("string 3 of a chunk that has 0"), e.getMessage());
    byte[] huge = {(byte) 0x80, 0x00, 0x01, (byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01};
    e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> SeriesBucketSerializer.decode(huge, b -> { }));
    assertTrue(e.getMessage().contains("malformed"), e.getMessage());
    byte[] cut = java.util.Arrays.copyOf(bytes.get(0), bytes.get(0).length / 2);
    org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> SeriesBucketSerializer.decode(cut, b -> { }));
  }
}
