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
public final class SeriesBucketSerializer extends TypeSerializerSingleton<SeriesBucket> {
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
    string(out, b.testRunId);
    string(out, b.analysisId);
    out.writeLong(b.seriesId);
    string(out, b.metric);
    string(out, b.type);
    strings(out, b.tagKeys);
    strings(out, b.tagValues);
    varLong(out, zigzag(b.startMs));
    varLong(out, b.widthMs & 0xffffffffL);
    varLong(out, zigzag(b.count));
    out.writeDouble(b.sum);
    out.writeDouble(b.min);
    out.writeDouble(b.max);
    out.writeDouble(b.last);
    varLong(out, zigzag(b.lastTimeUs));
    varLong(out, zigzag(b.nonZero));
    if (b.histIndexes == null) {
      varLong(out, 0);
    } else {
      int n = b.histIndexes.length;
      varLong(out, n + 1L);
      int prev = 0;
      for (int i = 0; i < n; i++) {
        varLong(out, zigzag((long) b.histIndexes[i] - prev)); // ascending: small positive deltas
        prev = b.histIndexes[i];
      }
      for (int i = 0; i < n; i++) {
        varLong(out, zigzag(b.histCounts[i]));
      }
    }
    string(out, b.writerId);
    strings(out, b.gaugeWriters);
    if (b.gaugeWriters != null) {
      for (int i = 0; i < b.gaugeWriters.length; i++) {
        out.writeDouble(b.gaugeLasts[i]);
        varLong(out, zigzag(b.gaugeTimesUs[i]));
      }
    }
  }

  @Override
  public SeriesBucket deserialize(DataInputView in) throws IOException {
    SeriesBucket b = new SeriesBucket();
    b.testRunId = string(in);
    b.analysisId = string(in);
    b.seriesId = in.readLong();
    b.metric = string(in);
    b.type = string(in);
    b.tagKeys = strings(in);
    b.tagValues = strings(in);
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
    b.writerId = string(in);
    b.gaugeWriters = strings(in);
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
  public static final class Info extends TypeInformation<SeriesBucket> {
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
      return o instanceof Info;
    }

    @Override
    public int hashCode() {
      return Info.class.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
      return o instanceof Info;
    }
  }

  static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  static void varLong(DataOutputView out, long v) throws IOException {
    while ((v & ~0x7FL) != 0) {
      out.writeByte((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.writeByte((int) v);
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

  /**
   * {@link org.apache.flink.types.StringValue#writeString}'s format, which is {@link #varLong}'s: the length
   * plus one (0 for null), then each char. Written here because {@code StringValue}'s own reader looks up a
   * thread-local buffer per string, which showed in profiles at 50,000 buckets a second.
   */
  private static void string(DataOutputView out, String s) throws IOException {
    if (s == null) {
      out.writeByte(0);
      return;
    }
    // Encoded here and written at once: a checkpoint's stream takes each write through four wrappers, so a
    // call per char was most of a snapshot's time.
    int n = s.length();
    byte[] buf = new byte[10 + 3 * n];
    int k = put(buf, 0, n + 1L);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        buf[k++] = (byte) c;
      } else {
        k = put(buf, k, c);
      }
    }
    out.write(buf, 0, k);
  }

  /** {@link #varLong(DataOutputView, long)} into {@code buf} at {@code k}; returns the end. */
  private static int put(byte[] buf, int k, long v) {
    while ((v & ~0x7FL) != 0) {
      buf[k++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[k++] = (byte) v;
    return k;
  }

  private static String string(DataInputView in) throws IOException {
    long n = varLong(in) - 1;
    if (n < 0) {
      return null;
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw new IOException("a string of " + n + " chars in a serialized SeriesBucket: malformed");
    }
    char[] chars = new char[(int) n];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = (char) varLong(in);
    }
    return new String(chars);
  }

  private static void strings(DataOutputView out, String[] s) throws IOException {
    varLong(out, s == null ? 0 : s.length + 1L);
    if (s != null) {
      for (String x : s) {
        string(out, x);
      }
    }
  }

  private static String[] strings(DataInputView in) throws IOException {
    int n = (int) varLong(in) - 1;
    if (n < 0) {
      return null;
    }
    String[] s = new String[n];
    for (int i = 0; i < n; i++) {
      s[i] = string(in);
    }
    return s;
  }
}
