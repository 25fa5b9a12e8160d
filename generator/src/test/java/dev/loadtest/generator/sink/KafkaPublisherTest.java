package dev.loadtest.generator.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loadtest.schemas.sample.TagSet;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** With no broker to take them, the real producer's failures reach the sink's count of undelivered samples. */
@Timeout(60)
class KafkaPublisherTest {
  @Test
  void samplesThatCannotReachKafkaAreCountedAsUndelivered() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    Map<String, Object> fast = Map.of(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 2_000,
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1_000, ProducerConfig.LINGER_MS_CONFIG, 0,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_000);
    try (KafkaPublisher pub = new KafkaPublisher("127.0.0.1:" + port, "test", fast)) {
      BatchingSampleSink sink = new BatchingSampleSink("run-k", "g1", "z", pub, 100, 10, 10_000);
      TagSet tags = TagSet.of(Map.of("name", "x"));
      for (int i = 0; i < 350; i++) {
        sink.request(i, tags, new SampleSink.RequestTimings(1, 0, 0, 0, 0, 1, 0, 1, 1), false, 1);
      }
      BatchingSampleSink.Stats stats = sink.close(30_000);
      assertEquals(350, stats.recorded());
      assertEquals(350, stats.undelivered(), stats.toString());
      assertEquals(0, stats.pending());
    }
  }
}
