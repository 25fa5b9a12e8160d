package dev.loadtest.flink.aggregate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What the jobs send to {@code loadtest.dlq} for a record they cannot use: the job, where the record was
 * (topic, partition, offset), why, and its first 64 KiB in base64 so that it can be looked at or produced
 * again. Keyed by the source topic, as the design's topic table says.
 */
public final class Rejections {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int VALUE_LIMIT = 64 * 1024;

  private Rejections() {}

  /** The DLQ record value (JSON) of a rejected record. */
  public static String json(String job, String topic, int partition, long offset, String reason, byte[] value) {
    ObjectNode dlq = JSON.createObjectNode();
    dlq.put("job", job);
    dlq.put("topic", topic);
    dlq.put("partition", partition);
    dlq.put("offset", offset);
    dlq.put("reason", reason);
    byte[] v = value == null ? new byte[0] : value;
    dlq.put("valueBytes", v.length);
    dlq.put("valueBase64", Base64.getEncoder().encodeToString(Arrays.copyOf(v, Math.min(v.length, VALUE_LIMIT))));
    dlq.put("atMs", System.currentTimeMillis());
    return dlq.toString();
  }

  /** A sink of rejections into the DLQ topic, keyed by {@code sourceTopic}. */
  public static KafkaSink<String> sink(String bootstrapServers, String sourceTopic) {
    byte[] key = sourceTopic.getBytes(StandardCharsets.UTF_8);
    return KafkaSink.<String>builder()
        .setBootstrapServers(bootstrapServers)
        .setRecordSerializer((KafkaRecordSerializationSchema<String>) (json, ctx, ts) -> new ProducerRecord<>(
            Topics.DLQ, key, json.getBytes(StandardCharsets.UTF_8)))
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE).build();
  }
}
