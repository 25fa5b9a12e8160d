package dev.loadtest.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

class ErrorHandlersTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static ErrorHandlerContext context(byte[] key, byte[] value) {
    return new ErrorHandlerContext() {
      public String topic() { return Topics.COMMANDS; }
      public int partition() { return 2; }
      public long offset() { return 41; }
      public Headers headers() { return new RecordHeaders(); }
      public String processorNodeId() { return "command-processor"; }
      public TaskId taskId() { return new TaskId(0, 2); }
      public long timestamp() { return 0; }
      public byte[] sourceRawKey() { return key; }
      public byte[] sourceRawValue() { return value; }
    };
  }

  @Test
  void aRecordTooLargeToProduceIsAnsweredOnTheDlqWithItsSourceAndTheApplicationGoesOn() throws Exception {
    byte[] command = "{\"type\":\"start\"}".getBytes(StandardCharsets.UTF_8);
    var response = new ErrorHandlers.Production().handleError(context("run-1".getBytes(StandardCharsets.UTF_8), command),
        new ProducerRecord<>(Topics.RUNS, new byte[1], new byte[2_000_000]), new RecordTooLargeException("too large"));
    assertEquals(ProductionExceptionHandler.Result.RESUME, response.result());
    ProducerRecord<byte[], byte[]> dlq = response.deadLetterQueueRecords().get(0);
    assertEquals(Topics.DLQ, dlq.topic());
    assertEquals(Topics.COMMANDS, new String(dlq.key(), StandardCharsets.UTF_8));
    JsonNode d = JSON.readTree(dlq.value());
    assertEquals(2, d.path("partition").asInt());
    assertEquals(41, d.path("offset").asLong());
    assertEquals("run-1", d.path("key").asText());
    assertTrue(d.path("reason").asText().contains("produce the answer to loadtest.runs (2000000 bytes)"), d.toString());
    assertTrue(d.path("reason").asText().contains("RecordTooLargeException"), d.toString());
    assertEquals("{\"type\":\"start\"}", new String(Base64.getDecoder().decode(d.path("valueBase64").asText()),
        StandardCharsets.UTF_8));
  }

  @Test
  void aTransientProductionErrorIsRetried() {
    var response = new ErrorHandlers.Production().handleError(context(null, null),
        new ProducerRecord<>(Topics.RUNS, new byte[1], new byte[1]), new NotEnoughReplicasException("later"));
    assertEquals(ProductionExceptionHandler.Result.RETRY, response.result());
  }

  @Test
  void aProcessorThatThrowsHasItsRecordAnsweredOnTheDlq() throws Exception {
    var response = new ErrorHandlers.Processing().handleError(context(null, new byte[] {1}), null,
        new IllegalStateException("a bug"));
    JsonNode d = JSON.readTree(response.deadLetterQueueRecords().get(0).value());
    assertTrue(d.path("reason").asText().contains("could not process this record: java.lang.IllegalStateException: a bug"));
    assertTrue(d.path("key").isNull());
  }
}
