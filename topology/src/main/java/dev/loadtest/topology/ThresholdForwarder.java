package dev.loadtest.topology;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.threshold.ThresholdResult;
import dev.loadtest.schemas.topics.Topics;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Passes threshold results from {@code loadtest.thresholds} to the control processor's one-partition
 * topic; a record that is not a threshold result goes to the DLQ with the reason. Stateless.
 */
final class ThresholdForwarder implements Processor<String, String, String, String> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private ProcessorContext<String, String> context;

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, String> record) {
    try {
      ThresholdResult r = ThresholdResult.fromJson(record.value() == null ? "null" : record.value());
      ObjectNode event = JSON.createObjectNode().put("event", "threshold").put("testRunId", r.testRunId());
      event.put("result", r.toJson());
      context.forward(new Record<>(r.testRunId(), event.toString(), record.timestamp()), "threshold-control-sink");
    } catch (IllegalArgumentException e) {
      ObjectNode out = JSON.createObjectNode().put("topic", Topics.THRESHOLDS).put("key", record.key())
          .put("value", record.value()).put("reason", e.getMessage());
      context.forward(new Record<>(Topics.THRESHOLDS, out.toString(), record.timestamp()), "threshold-dlq-sink");
    }
  }
}
