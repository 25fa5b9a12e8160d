package dev.loadtest.flink.aggregate;

import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink's serializer of {@link SeriesBucket}, in checkpoints and on the wire between tasks: histograms as
 * varint-coded index deltas and counts (one or two bytes per bucket where the POJO serializer wrote
 * twelve), counts and times as varints. The open buckets of the rollups are most of the aggregate job's
 * checkpoint, and their size grows with the series, so this is what keeps a checkpoint of 50,000 series
 * small enough to take every second.
 */
public class SeriesBucketSerializer extends TypeSerializerSingleton<SeriesBucket> {
  private static final long serialVersionUID = 1L;
  public static final SeriesBucketSerializer INSTANCE = new SeriesBucketSerializer();

  @Override
  public boolean isImmutableType() {
    return false;
  }

  @Override
  public SeriesBucket createInstance() {
    return new SeriesBucket();
  }

  @Override
  public SeriesBucket copy(SeriesBucket from) {
    return from.copy();
  }

  @Override
  public SeriesBucket copy(SeriesBucket from, SeriesBucket reuse) {
    return from.copy();
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(SeriesBucket b, DataOutputView out) throws IOException {
    // Encoded into one array and written at once: a checkpoint's stream takes each write through four
    // wrappers, so a call per byte (a histogram's varints) was most of a snapshot's time.
    Encoder e = new Encoder(estimate(b));
    e.bucket(b);
    out.write(e.buf, 0, e.k);
  }

  /**
   * Buckets encoded one after another into chunks of about {@code chunkBytes} (a checkpoint's copy of an
   * operator's open buckets: bytes that later changes to the buckets cannot touch, written by the checkpoint
   * as they are). {@link #decode} reads a chunk back.
   *
   * <p>A chunk numbers its strings: a string met again lately in the same chunk (the run id, metric and type
   * of every bucket; the tags the eleven metrics of a request share) is written as the number it got when it
   * was written out ({@link #DICTIONARY_CHUNK}). Strings were about a third of a checkpoint's bytes, and most
   * of the first stage's carried buckets (their tags).
   */
  public static final class Chunks implements java.util.function.Consumer<SeriesBucket> {
    private final int chunkBytes;
    private final java.util.List<byte[]> chunks = new java.util.ArrayList<>();
    private final Encoder e;

    public Chunks(int chunkBytes) {
      this.chunkBytes = chunkBytes;
      this.e = new Encoder(Math.min(chunkBytes, 1 << 16) + 1024);
      start();
    }

    private void start() {
      e.k = 0;
      e.startDictionary();
      e.room(DICTIONARY_CHUNK.length);
      for (byte b : DICTIONARY_CHUNK) {
        e.buf[e.k++] = b;
      }
    }

    @Override
    public void accept(SeriesBucket b) {
      e.bucket(b);
      if (e.k >= chunkBytes) {
        chunks.add(java.util.Arrays.copyOf(e.buf, e.k));
        start();
      }
    }

    /** The chunks, the last one included. */
    public java.util.List<byte[]> chunks() {
      if (e.k > DICTIONARY_CHUNK.length) {
        chunks.add(java.util.Arrays.copyOf(e.buf, e.k));
        start();
      }
      return chunks;
    }
  }

  /**
   * How a chunk with a dictionary begins: a varint 0 written in two bytes, which the encoder never writes, so
   * a chunk without it (written before) still reads as it was written.
   */
  static final byte[] DICTIONARY_CHUNK = {(byte) 0x80, 0x00, 0x01};
  /** The slots of a chunk's table of strings (a power of two). */
  static final int DICTIONARY_SLOTS = 1 << 12;

  /** Every bucket of a chunk {@link Chunks} wrote, in order (also a chunk written before they had a dictionary). */
  public static void decode(byte[] chunk, java.util.function.Consumer<SeriesBucket> each) throws IOException {
    org.apache.flink.core.memory.DataInputDeserializer in = new org.apache.flink.core.memory.DataInputDeserializer(chunk);
    java.util.List<String> dictionary = null;
    if (chunk.length >= DICTIONARY_CHUNK.length && chunk[0] == DICTIONARY_CHUNK[0] && chunk[1] == DICTIONARY_CHUNK[1]) {
      if (chunk[2] != DICTIONARY_CHUNK[2]) {
        throw new IOException("a chunk of open buckets of format " + chunk[2] + ", not one this build reads");
      }
      in.skipBytesToRead(DICTIONARY_CHUNK.length);
      dictionary = new java.util.ArrayList<>();
    }
    while (in.available() > 0) {
      each.accept(INSTANCE.read(in, dictionary));
    }
  }

  /** An upper bound of what {@code b} takes serialized (the encoder grows past it if it must). */
  private static int estimate(SeriesBucket b) {
    int n = 128 + 3 * (len(b.testRunId) + len(b.analysisId) + len(b.metric) + len(b.type) + len(b.writerId));
    n += lens(b.tagKeys) + lens(b.tagValues) + lens(b.gaugeWriters);
    n += b.histIndexes == null ? 0 : 15 * b.histIndexes.length;
    n += b.gaugeWriters == null ? 0 : 18 * b.gaugeWriters.length;
    return n;
  }

  private static int len(String s) {
    return s == null ? 0 : s.length();
  }

  private static int lens(String[] s) {
    if (s == null) {
      return 0;
    }
    int n = 0;
    for (String x : s) {
      n += 10 + 3 * len(x);
    }
    return n;
  }

  /** The serialized form built in one array: the same bytes the {@code DataOutputView} calls would write. */
  private static final class Encoder {
    byte[] buf;
    int k;
    /**
     * In a chunk ({@link Chunks}): the strings written lately, each in the slot of its hash, by identity (the
     * buckets share their strings), and their numbers; a string not found is written out again, under a new
     * number. A table rather than a map of every string: no resizing, two array reads a string (a map of
     * every string cost the 220,000-series ladder more than the bytes it saved). Null on the wire.
     */
    String[] dictionary;
    int[] numbers;
    int strings;

    void startDictionary() {
      if (dictionary == null) {
        dictionary = new String[DICTIONARY_SLOTS];
        numbers = new int[DICTIONARY_SLOTS];
      } else {
        java.util.Arrays.fill(dictionary, null);
      }
      strings = 0;
    }

    Encoder(int capacity) {
      buf = new byte[capacity];
    }

    /** Appends {@code b}'s serialized form. */
    void bucket(SeriesBucket b) {
      string(b.testRunId);
      string(b.analysisId);
      fixedLong(b.seriesId);
      string(b.metric);
      string(b.type);
      strings(b.tagKeys);
      strings(b.tagValues);
      varLong(zigzag(b.startMs));
      varLong(b.widthMs & 0xffffffffL);
      varLong(zigzag(b.count));
      fixedLong(Double.doubleToLongBits(b.sum));
      fixedLong(Double.doubleToLongBits(b.min));
      fixedLong(Double.doubleToLongBits(b.max));
      fixedLong(Double.doubleToLongBits(b.last));
      varLong(zigzag(b.lastTimeUs));
      varLong(zigzag(b.nonZero));
      if (b.histIndexes == null) {
        varLong(0);
      } else {
        int n = b.histIndexes.length;
        varLong(n + 1L);
        int prev = 0;
        for (int i = 0; i < n; i++) {
          varLong(zigzag((long) b.histIndexes[i] - prev)); // ascending: small positive deltas
          prev = b.histIndexes[i];
        }
        for (int i = 0; i < n; i++) {
          varLong(zigzag(b.histCounts[i]));
        }
      }
      string(b.writerId);
      strings(b.gaugeWriters);
      if (b.gaugeWriters != null) {
        for (int i = 0; i < b.gaugeWriters.length; i++) {
          fixedLong(Double.doubleToLongBits(b.gaugeLasts[i]));
          varLong(zigzag(b.gaugeTimesUs[i]));
        }
      }
    }

    private void room(int n) {
      if (k + n > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, k + n));
      }
    }

    void varLong(long v) {
      room(10);
      k = put(buf, k, v);
    }

    /** Big-endian, as {@code DataOutput#writeLong}. */
    void fixedLong(long v) {
      room(8);
      for (int shift = 56; shift >= 0; shift -= 8) {
        buf[k++] = (byte) (v >>> shift);
      }
    }

    /**
     * {@link org.apache.flink.types.StringValue#writeString}'s format, which is {@link #varLong}'s: the
     * length plus one (0 for null), then each char.
     */
    void string(String s) {
      if (s == null) {
        room(1);
        buf[k++] = 0;
        return;
      }
      int n = s.length();
      room(10 + 3 * n);
      if (dictionary != null) { // 0: null; 2i+1: the i-th string of the chunk; 2(n+1): n chars, then the string's number
        int h = s.hashCode();
        int slot = (h ^ (h >>> 16)) & (DICTIONARY_SLOTS - 1);
        if (dictionary[slot] == s) {
          k = put(buf, k, 2L * numbers[slot] + 1);
          return;
        }
        dictionary[slot] = s;
        numbers[slot] = strings++;
        k = put(buf, k, 2 * (n + 1L));
      } else {
        k = put(buf, k, n + 1L);
      }
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          buf[k++] = (byte) c;
        } else {
          k = put(buf, k, c);
        }
      }
    }

    void strings(String[] s) {
      varLong(s == null ? 0 : s.length + 1L);
      if (s != null) {
        for (String x : s) {
          string(x);
        }
      }
    }
  }

  @Override
  public SeriesBucket deserialize(DataInputView in) throws IOException {
    return read(in, null);
  }

  /** A bucket, its strings numbered in {@code dictionary} (in a chunk, {@link Chunks}) or written out (null). */
  private SeriesBucket read(DataInputView in, java.util.List<String> dictionary) throws IOException {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = string(in, dictionary);
    b.analysisId = string(in, dictionary);
    b.seriesId = in.readLong();
    b.metric = string(in, dictionary);
    b.type = string(in, dictionary);
    b.tagKeys = strings(in, dictionary);
    b.tagValues = strings(in, dictionary);
    b.startMs = unzigzag(varLong(in));
    b.widthMs = (int) varLong(in);
    b.count = unzigzag(varLong(in));
    b.sum = in.readDouble();
    b.min = in.readDouble();
    b.max = in.readDouble();
    b.last = in.readDouble();
    b.lastTimeUs = unzigzag(varLong(in));
    b.nonZero = unzigzag(varLong(in));
    int n = (int) varLong(in) - 1;
    if (n >= 0) {
      b.histIndexes = new int[n];
      b.histCounts = new long[n];
      int prev = 0;
      for (int i = 0; i < n; i++) {
        prev += (int) unzigzag(varLong(in));
        b.histIndexes[i] = prev;
      }
      for (int i = 0; i < n; i++) {
        b.histCounts[i] = unzigzag(varLong(in));
      }
    }
    b.writerId = string(in, dictionary);
    b.gaugeWriters = strings(in, dictionary);
    if (b.gaugeWriters != null) {
      b.gaugeLasts = new double[b.gaugeWriters.length];
      b.gaugeTimesUs = new long[b.gaugeWriters.length];
      for (int i = 0; i < b.gaugeWriters.length; i++) {
        b.gaugeLasts[i] = in.readDouble();
        b.gaugeTimesUs[i] = unzigzag(varLong(in));
      }
    }
    return b;
  }

  @Override
  public SeriesBucket deserialize(SeriesBucket reuse, DataInputView in) throws IOException {
    return deserialize(in);
  }

  @Override
  public void copy(DataInputView in, DataOutputView out) throws IOException {
    serialize(deserialize(in), out);
  }

  @Override
  public TypeSerializerSnapshot<SeriesBucket> snapshotConfiguration() {
    return new Snapshot();
  }

  /** The serializer's snapshot in checkpoints: it has no configuration. */
  public static final class Snapshot extends SimpleTypeSerializerSnapshot<SeriesBucket> {
    public Snapshot() {
      super(() -> INSTANCE);
    }
  }

  /** Makes {@code TypeInformation.of(SeriesBucket.class)} use this serializer (see {@link SeriesBucket}). */
  public static final class Factory extends TypeInfoFactory<SeriesBucket> {
    @Override
    public TypeInformation<SeriesBucket> createTypeInfo(Type t, Map<String, TypeInformation<?>> params) {
      return new Info();
    }
  }

  /** The type information of {@link SeriesBucket}: one opaque field, serialized by this class. */
  public static class Info extends TypeInformation<SeriesBucket> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean isBasicType() {
      return false;
    }

    @Override
    public boolean isTupleType() {
      return false;
    }

    @Override
    public int getArity() {
      return 1;
    }

    @Override
    public int getTotalFields() {
      return 1;
    }

    @Override
    public Class<SeriesBucket> getTypeClass() {
      return SeriesBucket.class;
    }

    @Override
    public boolean isKeyType() {
      return false;
    }

    @Override
    public org.apache.flink.api.common.typeutils.TypeSerializer<SeriesBucket> createSerializer(SerializerConfig c) {
      return INSTANCE;
    }

    @Override
    public String toString() {
      return "SeriesBucket";
    }

    @Override
    public boolean equals(Object o) {
      return o != null && o.getClass() == getClass();
    }

    @Override
    public int hashCode() {
      return getClass().hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
      return o != null && o.getClass() == getClass();
    }
  }

  /**
   * The type of a stream whose records their producer hands over and does not touch again while a chained
   * consumer runs (the {@link BucketLadder}'s rows: its chained ClickHouse sink encodes each row as it takes
   * it, and a network output serializes it). With object reuse off, Flink copies every record it passes to a
   * chained operator; that copy was a tenth of the ladder's time at 55,000 series. The same bytes as
   * {@link #INSTANCE}; only {@code copy} returns the record itself.
   */
  public static final TypeInformation<SeriesBucket> HANDED_OVER = new HandedOverInfo();

  /** {@link #HANDED_OVER}. */
  static final class HandedOverInfo extends Info {
    private static final long serialVersionUID = 1L;

    @Override
    public org.apache.flink.api.common.typeutils.TypeSerializer<SeriesBucket> createSerializer(SerializerConfig c) {
      return HandedOver.HANDED;
    }

    @Override
    public String toString() {
      return "SeriesBucket (handed over)";
    }
  }

  /**
   * {@link #HANDED_OVER}'s serializer: {@link SeriesBucketSerializer}'s bytes (equality is by class, so it is
   * not taken for the copying one), with a {@code copy} that returns the record itself.
   */
  public static final class HandedOver extends SeriesBucketSerializer {
    private static final long serialVersionUID = 1L;
    static final HandedOver HANDED = new HandedOver();

    @Override
    public SeriesBucket copy(SeriesBucket from) {
      return from;
    }

    @Override
    public SeriesBucket copy(SeriesBucket from, SeriesBucket reuse) {
      return from;
    }

    @Override
    public TypeSerializerSnapshot<SeriesBucket> snapshotConfiguration() {
      return new HandedOverSnapshot();
    }
  }

  /** {@link HandedOver}'s snapshot: no configuration. */
  public static final class HandedOverSnapshot extends SimpleTypeSerializerSnapshot<SeriesBucket> {
    public HandedOverSnapshot() {
      super(() -> HandedOver.HANDED);
    }
  }

  static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  static long varLong(DataInputView in) throws IOException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = in.readByte();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw new IOException("a malformed varint in a serialized SeriesBucket");
  }

  /** A varint (7 bits a byte, low first) into {@code buf} at {@code k}; returns the end. */
  private static int put(byte[] buf, int k, long v) {
    while ((v & ~0x7FL) != 0) {
      buf[k++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[k++] = (byte) v;
    return k;
  }

  private static String string(DataInputView in, java.util.List<String> dictionary) throws IOException {
    if (dictionary == null) {
      return STRINGS.get().read(in, varLong(in) - 1);
    }
    long tag = varLong(in);
    if (tag == 0) {
      return null;
    }
    if ((tag & 1) == 1) {
      long i = tag >>> 1;
      if (i >= dictionary.size()) {
        throw new IOException("string " + i + " of a chunk that has " + dictionary.size() + " so far: malformed");
      }
      return dictionary.get((int) i);
    }
    String s = STRINGS.get().read(in, (tag >>> 1) - 1);
    dictionary.add(s);
    return s;
  }

  /** Each thread's {@link Strings}: a serializer is shared by every task of the JVM. */
  private static final ThreadLocal<Strings> STRINGS = ThreadLocal.withInitial(Strings::new);

  /**
   * The strings this thread decoded, by content. Buckets repeat a few thousand strings (run and analysis ids,
   * metric and type names, tag keys and values) millions of times; returning the one already decoded saves
   * building a new one each time, and its hash, which every map the ladder keys by them would compute again
   * (a fifth of the ladder's time went to decoding strings and hashing them at 55,000 series). A table slot
   * holds the last string that hashed to it, so a table too small costs only decoding again, never a wrong
   * string: a hit compares every char.
   */
  static final class Strings {
    static final int SLOTS = 1 << 15;
    static final int LONGEST = 256;
    final String[] table = new String[SLOTS];
    char[] chars = new char[LONGEST];

    /** A string of {@code n} chars (-1: null), its length read already. */
    String read(DataInputView in, long n) throws IOException {
      if (n < 0) {
        return null;
      }
      if (n > Integer.MAX_VALUE - 8) {
        throw new IOException("a string of " + n + " chars in a serialized SeriesBucket: malformed");
      }
      int length = (int) n;
      char[] c = length <= chars.length ? chars : new char[length];
      int h = 0;
      for (int i = 0; i < length; i++) {
        byte b = in.readByte();
        char x = b >= 0 ? (char) b : (char) (b & 0x7F | varLong(in) << 7);
        c[i] = x;
        h = 31 * h + x; // String#hashCode
      }
      if (length > LONGEST) {
        return new String(c, 0, length);
      }
      int slot = (h ^ (h >>> 15)) & (SLOTS - 1);
      String s = table[slot];
      if (s != null && s.length() == length && s.hashCode() == h && same(s, c, length)) {
        return s;
      }
      s = new String(c, 0, length);
      table[slot] = s;
      return s;
    }

    private static boolean same(String s, char[] c, int length) {
      for (int i = 0; i < length; i++) {
        if (s.charAt(i) != c[i]) {
          return false;
        }
      }
      return true;
    }
  }

  private static String[] strings(DataInputView in, java.util.List<String> dictionary) throws IOException {
    int n = (int) varLong(in) - 1;
    if (n < 0) {
      return null;
    }
    String[] s = new String[n];
    for (int i = 0; i < n; i++) {
      s[i] = string(in, dictionary);
    }
    return s;
  }
}
