package dev.loadtest.topology;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator survives any record: what it cannot read, process or produce is answered on
 * {@code loadtest.dlq} (with the source topic, partition, offset, the record's key, its first 64 KiB and
 * the reason) and the application goes on. Kafka Streams' own error handlers, set by {@link #configure}.
 * The command processor answers everything it can itself; these are the last line behind it: a record
 * larger than the producer allows, a record that cannot be deserialised, a bug that throws.
 */
public final class ErrorHandlers {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorHandlers.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int VALUE_LIMIT = 64 * 1024;

  private ErrorHandlers() {}

  /** Sets the three handlers on a Streams configuration. */
  public static void configure(Properties p) {
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, Deserialization.class);
    p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, Production.class);
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, Processing.class);
  }

  /** The DLQ record that answers a record the coordinator could not handle. */
  static ProducerRecord<byte[], byte[]> dlqRecord(ErrorHandlerContext ctx, String stage, byte[] key, byte[] value,
      Exception e) {
    ObjectNode out = JSON.createObjectNode();
    String source = ctx.topic() == null ? "(none)" : ctx.topic();
    out.put("topic", source);
    out.put("partition", ctx.partition());
    out.put("offset", ctx.offset());
    out.put("key", key == null ? null : new String(key, StandardCharsets.UTF_8));
    byte[] v = value == null ? new byte[0] : value;
    out.put("valueBytes", v.length);
    out.put("valueBase64", Base64.getEncoder().encodeToString(Arrays.copyOf(v, Math.min(v.length, VALUE_LIMIT))));
    out.put("reason", "the coordinator could not " + stage + " this record: " + e);
    out.put("atMs", System.currentTimeMillis());
    LOG.warn("record of {} at {}/{} answered on the DLQ: could not {}: {}", source, ctx.partition(), ctx.offset(),
        stage, e.toString());
    return new ProducerRecord<>(Topics.DLQ, source.getBytes(StandardCharsets.UTF_8),
        out.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** A record that cannot be read as strings. */
  public static final class Deserialization implements DeserializationExceptionHandler {
    @Override
    public Response handleError(ErrorHandlerContext ctx, ConsumerRecord<byte[], byte[]> record, Exception e) {
      return Response.resume(List.of(dlqRecord(ctx, "read", record.key(), record.value(), e)));
    }

    @Override
    public void configure(Map<String, ?> configs) {}
  }

  /**
   * A record the coordinator made and could not produce (too large for the broker, ...): the source record
   * that led to it is answered on the DLQ. Retriable errors are retried.
   */
  public static final class Production implements ProductionExceptionHandler {
    @Override
    public Response handleError(ErrorHandlerContext ctx, ProducerRecord<byte[], byte[]> record, Exception e) {
      if (e instanceof RetriableException) {
        return Response.retry();
      }
      return Response.resume(List.of(dlqRecord(ctx, "produce the answer to " + record.topic() + " ("
          + (record.value() == null ? 0 : record.value().length) + " bytes) for", ctx.sourceRawKey(),
          ctx.sourceRawValue(), e)));
    }

    @Override
    public Response handleSerializationError(ErrorHandlerContext ctx, ProducerRecord record, Exception e,
        SerializationExceptionOrigin origin) {
      return Response.resume(List.of(dlqRecord(ctx, "serialise the answer for", ctx.sourceRawKey(),
          ctx.sourceRawValue(), e)));
    }

    @Override
    public void configure(Map<String, ?> configs) {}
  }

  /** A processor that threw on a record (a bug of ours): the record is answered on the DLQ. */
  public static final class Processing implements ProcessingExceptionHandler {
    @Override
    public Response handleError(ErrorHandlerContext ctx, Record<?, ?> record, Exception e) {
      return Response.resume(List.of(dlqRecord(ctx, "process", ctx.sourceRawKey(), ctx.sourceRawValue(), e)));
    }

    @Override
    public void configure(Map<String, ?> configs) {}
  }
}
