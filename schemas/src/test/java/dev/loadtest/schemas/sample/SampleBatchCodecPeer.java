package dev.loadtest.schemas.sample;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/** Avro's own generic writer and reader on the sample-batch schema: the peer the codec is measured against. */
public final class SampleBatchCodecPeer {
  private SampleBatchCodecPeer() {}

  public static GenericRecord toGeneric(SampleBatch batch) {
    return SampleBatchCodec.toGeneric(batch);
  }

  public static GenericRecord genericRoundTrip(GenericRecord rec) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
      BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(SampleBatchCodec.SCHEMA).write(rec, enc);
      enc.flush();
      return new GenericDatumReader<GenericRecord>(SampleBatchCodec.SCHEMA)
          .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
