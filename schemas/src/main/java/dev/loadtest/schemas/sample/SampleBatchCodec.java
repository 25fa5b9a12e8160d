package dev.loadtest.schemas.sample;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.SampleBatch.HttpRequests;
import dev.loadtest.schemas.sample.SampleBatch.MetricDef;
import dev.loadtest.schemas.sample.SampleBatch.MetricPoints;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;

/**
 * The wire format of {@code loadtest.samples} values: Avro single-object encoding of
 * {@code SampleBatch.avsc}, that is the two bytes {@code C3 01}, the schema's 64-bit CRC-64-AVRO
 * fingerprint (little-endian), then the Avro binary body. Any Avro library can read it with the schema.
 *
 * <p>The current version is written and read by hand from primitive columns (no boxing, one array per
 * column), and tests hold its bytes equal to Avro's own writer. Batches written with an older version
 * of the schema (kept under {@code avro-history/}) are read through Avro's schema resolution.
 *
 * <p>Stateless and thread-safe.
 */
public final class SampleBatchCodec {
  /** The schema this code writes. */
  public static final Schema SCHEMA = load("/avro/SampleBatch.avsc");
  /** Every older schema this code still reads, oldest first. */
  public static final List<Schema> HISTORY = List.of(load("/avro-history/SampleBatch.v1.avsc"));

  private static final long FINGERPRINT = SchemaNormalization.parsingFingerprint64(SCHEMA);
  private static final Map<Long, Schema> OLDER = olderByFingerprint();
  private static final int HEADER_BYTES = 10;
  private static final MetricType[] TYPES = MetricType.values();

  private SampleBatchCodec() {}

  public static long fingerprint() {
    return FINGERPRINT;
  }

  /** Encodes {@code batch} with header, in the current schema. For many batches, reuse an {@link Encoder}. */
  public static byte[] encode(SampleBatch batch) {
    return new Encoder(256 + 32 * batch.requests().size() + 24 * batch.points().size()).encode(batch);
  }

  /**
   * Encodes batch after batch into one buffer that it keeps and grows, so that a steady stream of
   * batches costs no buffer allocation or regrowth, only the copy of each result. Not thread-safe: one
   * per producing thread.
   */
  public static final class Encoder {
    private final AvroBinaryWriter w;

    public Encoder() {
      this(1 << 16);
    }

    /** An encoder whose buffer starts at {@code initialBytes} (it grows as needed). */
    public Encoder(int initialBytes) {
      w = new AvroBinaryWriter(initialBytes);
    }

    public byte[] encode(SampleBatch batch) {
      w.reset();
      w.rawByte(0xC3);
      w.rawByte(0x01);
      w.rawLongLe(FINGERPRINT);
      writeBody(w, batch);
      return w.toByteArray();
    }
  }

  /** The Avro binary body alone (no header), as Avro's GenericDatumWriter would write it. */
  static byte[] encodeBody(SampleBatch batch) {
    AvroBinaryWriter w = new AvroBinaryWriter(64 + batch.size() * 24);
    writeBody(w, batch);
    return w.toByteArray();
  }

  /**
   * Decodes a record of loadtest.samples written with the current or an older schema.
   *
   * @throws MalformedSampleBatchException saying what is wrong and at which byte or field
   */
  public static SampleBatch decode(byte[] bytes) {
    if (bytes == null || bytes.length < HEADER_BYTES) {
      throw new MalformedSampleBatchException("a sample batch needs at least " + HEADER_BYTES + " bytes, got "
          + (bytes == null ? "null" : bytes.length));
    }
    if ((bytes[0] & 0xFF) != 0xC3 || bytes[1] != 0x01) {
      throw new MalformedSampleBatchException(String.format(
          "not an Avro single-object encoded sample batch: header is %02X %02X, expected C3 01",
          bytes[0] & 0xFF, bytes[1] & 0xFF));
    }
    AvroBinaryReader r = new AvroBinaryReader(bytes, 0, bytes.length);
    r.rawByte();
    r.rawByte();
    long fp = r.rawLongLe();
    SampleBatch batch;
    if (fp == FINGERPRINT) {
      batch = readBody(r);
      if (!r.atEnd()) {
        throw new MalformedSampleBatchException((bytes.length - r.position()) + " bytes left after the batch");
      }
    } else if (OLDER.containsKey(fp)) {
      batch = readOlder(OLDER.get(fp), bytes);
    } else {
      throw new MalformedSampleBatchException(String.format(
          "sample batch written with an unknown schema (fingerprint %016X); this reader knows %016X and %d older",
          fp, FINGERPRINT, OLDER.size()));
    }
    checkReferences(batch);
    return batch;
  }

  /** Who wrote a batch and which of theirs it is: the first fields of every schema version. */
  public record Identity(String testRunId, String generatorId, long sequence) {}

  /**
   * Reads only the identity of a batch (run, generator, sequence), without decoding its samples: what a
   * stage needs to route, filter or deduplicate batches before they are decoded in parallel.
   *
   * @throws MalformedSampleBatchException when the header or those fields cannot be read
   */
  public static Identity identity(byte[] bytes) {
    if (bytes == null || bytes.length < HEADER_BYTES || (bytes[0] & 0xFF) != 0xC3 || bytes[1] != 0x01) {
      return identityOf(decode(bytes)); // throws, saying what is wrong
    }
    AvroBinaryReader r = new AvroBinaryReader(bytes, 0, bytes.length);
    r.rawByte();
    r.rawByte();
    long fp = r.rawLongLe();
    if (fp != FINGERPRINT) {
      return identityOf(decode(bytes));
    }
    String testRunId = r.readString();
    String generatorId = r.readString();
    r.readString();
    return new Identity(testRunId, generatorId, r.readLong());
  }

  private static Identity identityOf(SampleBatch b) {
    return new Identity(b.testRunId(), b.generatorId(), b.sequence());
  }

  private static void writeBody(AvroBinaryWriter w, SampleBatch b) {
    w.writeString(b.testRunId());
    w.writeString(b.generatorId());
    w.writeString(b.loadZone());
    w.writeLong(b.sequence());
    w.writeLong(b.baseTimeUs());
    w.arrayStart(b.strings().size());
    for (String s : b.strings()) {
      w.writeString(s);
    }
    w.arrayEnd();
    w.arrayStart(b.tagSets().size());
    for (int[] ts : b.tagSets()) {
      w.writeInts(ts, ts.length);
    }
    w.arrayEnd();
    w.arrayStart(b.metrics().size());
    for (MetricDef m : b.metrics()) {
      w.writeInt(m.name());
      w.writeInt(m.type().ordinal());
    }
    w.arrayEnd();
    HttpRequests q = b.requests();
    int n = q.size();
    w.writeLongs(q.offsetUs(), n);
    w.writeInts(q.tagSet(), n);
    w.writeLongs(q.durationUs(), n);
    w.writeLongs(q.blockedUs(), n);
    w.writeLongs(q.connectingUs(), n);
    w.writeLongs(q.tlsHandshakingUs(), n);
    w.writeLongs(q.sendingUs(), n);
    w.writeLongs(q.waitingUs(), n);
    w.writeLongs(q.receivingUs(), n);
    w.writeLongs(q.bytesSent(), n);
    w.writeLongs(q.bytesReceived(), n);
    w.writeBooleans(q.failed(), n);
    w.writeInts(q.vu(), q.vu().length);
    MetricPoints p = b.points();
    int m = p.size();
    w.writeInts(p.metric(), m);
    w.writeLongs(p.offsetUs(), m);
    w.writeInts(p.tagSet(), m);
    w.arrayStart(m);
    for (double v : p.value()) {
      w.writeDouble(v);
    }
    w.arrayEnd();
  }

  static SampleBatch readBody(AvroBinaryReader r) {
    String testRunId = r.readString();
    String generatorId = r.readString();
    String loadZone = r.readString();
    long sequence = r.readLong();
    long baseTimeUs = r.readLong();
    List<String> strings = new ArrayList<>();
    for (int n = r.blockCount(1); n > 0; n = r.blockCount(1)) {
      for (int i = 0; i < n; i++) {
        strings.add(r.readString());
      }
    }
    List<int[]> tagSets = new ArrayList<>();
    for (int n = r.blockCount(1); n > 0; n = r.blockCount(1)) {
      for (int i = 0; i < n; i++) {
        tagSets.add(r.readIntArray());
      }
    }
    List<MetricDef> metrics = new ArrayList<>();
    for (int n = r.blockCount(2); n > 0; n = r.blockCount(2)) {
      for (int i = 0; i < n; i++) {
        int name = r.readInt();
        int type = r.readInt();
        if (type < 0 || type >= TYPES.length) {
          throw new MalformedSampleBatchException("metrics[" + metrics.size() + "].type is " + type
              + ", not one of COUNTER, GAUGE, RATE, TREND");
        }
        metrics.add(new MetricDef(name, TYPES[type]));
      }
    }
    HttpRequests requests;
    MetricPoints points;
    try {
      requests = new HttpRequests(r.readLongArray(), r.readIntArray(), r.readLongArray(), r.readLongArray(),
          r.readLongArray(), r.readLongArray(), r.readLongArray(), r.readLongArray(), r.readLongArray(), r.readLongArray(), r.readLongArray(),
          r.readBooleanArray(), r.readIntArray());
      points = new MetricPoints(r.readIntArray(), r.readLongArray(), r.readIntArray(), readDoubles(r));
    } catch (MalformedSampleBatchException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new MalformedSampleBatchException(e.getMessage(), e);
    }
    return new SampleBatch(testRunId, generatorId, loadZone, sequence, baseTimeUs, strings, tagSets,
        metrics, requests, points);
  }




  private static double[] readDoubles(AvroBinaryReader r) {
    int n = r.blockCount(8);
    double[] out = new double[n];
    int size = 0;
    while (n > 0) {
      if (size + n > out.length) {
        out = Arrays.copyOf(out, size + n);
      }
      for (int i = 0; i < n; i++) {
        out[size++] = r.readDouble();
      }
      n = r.blockCount(8);
    }
    return size == out.length ? out : Arrays.copyOf(out, size);
  }

  /** Reads a batch written with an older schema, resolving it to the current one (new fields get their defaults). */
  private static SampleBatch readOlder(Schema writer, byte[] bytes) {
    GenericRecord rec;
    try {
      rec = new GenericDatumReader<GenericRecord>(writer, SCHEMA)
          .read(null, DecoderFactory.get().binaryDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, null));
    } catch (IOException | RuntimeException e) {
      // Avro's reader fails in many ways on corrupt input (its own exceptions, index and array-size errors).
      throw new MalformedSampleBatchException("unreadable sample batch of an older schema version: " + e, e);
    }
    try {
      return fromGeneric(rec);
    } catch (IllegalArgumentException e) {
      throw new MalformedSampleBatchException(e.getMessage(), e);
    }
  }

  /** Converts a record of the current schema, as Avro's generic API returns it, to a batch. */
  static SampleBatch fromGeneric(GenericRecord rec) {
    List<String> strings = new ArrayList<>();
    for (Object s : (List<?>) rec.get("strings")) {
      strings.add(s.toString());
    }
    List<int[]> tagSets = new ArrayList<>();
    for (Object ts : (List<?>) rec.get("tagSets")) {
      tagSets.add(ints(ts));
    }
    List<MetricDef> metrics = new ArrayList<>();
    for (Object o : (List<?>) rec.get("metrics")) {
      GenericRecord m = (GenericRecord) o;
      metrics.add(new MetricDef((Integer) m.get("name"), MetricType.valueOf(m.get("type").toString())));
    }
    GenericRecord q = (GenericRecord) rec.get("requests");
    List<?> failedList = (List<?>) q.get("failed");
    boolean[] failed = new boolean[failedList.size()];
    for (int i = 0; i < failed.length; i++) {
      failed[i] = (Boolean) failedList.get(i);
    }
    HttpRequests requests = new HttpRequests(longs(q.get("offsetUs")), ints(q.get("tagSet")),
        longs(q.get("durationUs")), longs(q.get("blockedUs")), longs(q.get("connectingUs")),
        longs(q.get("tlsHandshakingUs")), longs(q.get("sendingUs")), longs(q.get("waitingUs")),
        longs(q.get("receivingUs")), longs(q.get("bytesSent")), longs(q.get("bytesReceived")), failed,
        ints(q.get("vu")));
    GenericRecord p = (GenericRecord) rec.get("points");
    List<?> valueList = (List<?>) p.get("value");
    double[] values = new double[valueList.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (Double) valueList.get(i);
    }
    MetricPoints points = new MetricPoints(ints(p.get("metric")), longs(p.get("offsetUs")),
        ints(p.get("tagSet")), values);
    return new SampleBatch(rec.get("testRunId").toString(), rec.get("generatorId").toString(),
        rec.get("loadZone").toString(), (Long) rec.get("sequence"), (Long) rec.get("baseTimeUs"), strings,
        tagSets, metrics, requests, points);
  }

  /** The batch as an Avro generic record of the current schema (for tools and tests; not the hot path). */
  static GenericRecord toGeneric(SampleBatch b) {
    Schema reqSchema = SCHEMA.getField("requests").schema();
    Schema ptsSchema = SCHEMA.getField("points").schema();
    Schema defSchema = SCHEMA.getField("metrics").schema().getElementType();
    GenericRecord rec = new GenericData.Record(SCHEMA);
    rec.put("testRunId", b.testRunId());
    rec.put("generatorId", b.generatorId());
    rec.put("loadZone", b.loadZone());
    rec.put("sequence", b.sequence());
    rec.put("baseTimeUs", b.baseTimeUs());
    rec.put("strings", new ArrayList<>(b.strings()));
    List<List<Integer>> tagSets = new ArrayList<>();
    for (int[] ts : b.tagSets()) {
      tagSets.add(Arrays.stream(ts).boxed().toList());
    }
    rec.put("tagSets", tagSets);
    List<GenericRecord> defs = new ArrayList<>();
    for (MetricDef m : b.metrics()) {
      GenericRecord d = new GenericData.Record(defSchema);
      d.put("name", m.name());
      d.put("type", new GenericData.EnumSymbol(defSchema.getField("type").schema(), m.type().name()));
      defs.add(d);
    }
    rec.put("metrics", defs);
    HttpRequests q = b.requests();
    GenericRecord qr = new GenericData.Record(reqSchema);
    qr.put("offsetUs", boxed(q.offsetUs()));
    qr.put("tagSet", Arrays.stream(q.tagSet()).boxed().toList());
    qr.put("durationUs", boxed(q.durationUs()));
    qr.put("blockedUs", boxed(q.blockedUs()));
    qr.put("connectingUs", boxed(q.connectingUs()));
    qr.put("tlsHandshakingUs", boxed(q.tlsHandshakingUs()));
    qr.put("sendingUs", boxed(q.sendingUs()));
    qr.put("waitingUs", boxed(q.waitingUs()));
    qr.put("receivingUs", boxed(q.receivingUs()));
    qr.put("bytesSent", boxed(q.bytesSent()));
    qr.put("bytesReceived", boxed(q.bytesReceived()));
    List<Boolean> failed = new ArrayList<>();
    for (boolean f : q.failed()) {
      failed.add(f);
    }
    qr.put("failed", failed);
    qr.put("vu", Arrays.stream(q.vu()).boxed().toList());
    rec.put("requests", qr);
    MetricPoints p = b.points();
    GenericRecord pr = new GenericData.Record(ptsSchema);
    pr.put("metric", Arrays.stream(p.metric()).boxed().toList());
    pr.put("offsetUs", boxed(p.offsetUs()));
    pr.put("tagSet", Arrays.stream(p.tagSet()).boxed().toList());
    pr.put("value", Arrays.stream(p.value()).boxed().toList());
    rec.put("points", pr);
    return rec;
  }

  private static List<Long> boxed(long[] a) {
    return Arrays.stream(a).boxed().toList();
  }

  private static long[] longs(Object list) {
    List<?> l = (List<?>) list;
    long[] out = new long[l.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (Long) l.get(i);
    }
    return out;
  }

  private static int[] ints(Object list) {
    List<?> l = (List<?>) list;
    int[] out = new int[l.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (Integer) l.get(i);
    }
    return out;
  }

  /** The request columns that cannot be negative, in the order {@link #checkReferences} reads them. */
  private static final String[] NON_NEGATIVE = {"durationUs", "blockedUs", "connectingUs", "tlsHandshakingUs",
      "sendingUs", "waitingUs", "receivingUs", "bytesSent", "bytesReceived"};

  /**
   * Every index must point inside the batch (a consumer can then resolve tags without checks), request
   * timings and byte counts must not be negative, and metric values must be finite numbers.
   */
  private static void checkReferences(SampleBatch b) {
    int strings = b.strings().size();
    for (int t = 0; t < b.tagSets().size(); t++) {
      int[] ids = b.tagSets().get(t);
      if (ids.length % 2 != 0) {
        throw new MalformedSampleBatchException("tagSets[" + t + "] has an odd number of entries (" + ids.length
            + "): tags are key, value pairs");
      }
      for (int i = 0; i < ids.length; i++) {
        if (ids[i] < 0 || ids[i] >= strings) {
          throw new MalformedSampleBatchException("tagSets[" + t + "][" + i + "] = " + ids[i]
              + " but the dictionary has " + strings + " strings");
        }
      }
    }
    for (int m = 0; m < b.metrics().size(); m++) {
      int name = b.metrics().get(m).name();
      if (name < 0 || name >= strings) {
        throw new MalformedSampleBatchException("metrics[" + m + "].name = " + name + " but the dictionary has "
            + strings + " strings");
      }
    }
    checkIndexes("requests.tagSet", b.requests().tagSet(), b.tagSets().size(), "tag sets");
    checkIndexes("points.tagSet", b.points().tagSet(), b.tagSets().size(), "tag sets");
    checkIndexes("points.metric", b.points().metric(), b.metrics().size(), "metrics");
    SampleBatch.HttpRequests q = b.requests();
    long[][] columns = {q.durationUs(), q.blockedUs(), q.connectingUs(), q.tlsHandshakingUs(), q.sendingUs(),
        q.waitingUs(), q.receivingUs(), q.bytesSent(), q.bytesReceived()};
    for (int c = 0; c < columns.length; c++) {
      for (int i = 0; i < columns[c].length; i++) {
        if (columns[c][i] < 0) {
          throw new MalformedSampleBatchException("requests." + NON_NEGATIVE[c] + "[" + i + "] = " + columns[c][i]
              + ": request timings and byte counts cannot be negative");
        }
      }
    }
    double[] values = b.points().value();
    for (int i = 0; i < values.length; i++) {
      if (!Double.isFinite(values[i])) {
        throw new MalformedSampleBatchException("points.value[" + i + "] = " + values[i]
            + ": a metric sample must be a finite number");
      }
    }
  }

  private static void checkIndexes(String column, int[] values, int limit, String what) {
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= limit) {
        throw new MalformedSampleBatchException(column + "[" + i + "] = " + values[i] + " but the batch has "
            + limit + " " + what);
      }
    }
  }

  private static Map<Long, Schema> olderByFingerprint() {
    Map<Long, Schema> m = new java.util.HashMap<>();
    for (Schema s : HISTORY) {
      m.put(SchemaNormalization.parsingFingerprint64(s), s);
    }
    return Map.copyOf(m);
  }

  private static Schema load(String resource) {
    try (InputStream in = SampleBatchCodec.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("schema resource missing from the jar: " + resource);
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
