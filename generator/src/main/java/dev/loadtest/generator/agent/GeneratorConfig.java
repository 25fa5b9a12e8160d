package dev.loadtest.generator.agent;

import dev.loadtest.generator.http.HttpOptions;
import java.time.Duration;
import java.util.Map;

/**
 * How a generator runs: who it is, where Kafka is, what it takes on.
 *
 * @param capacityVus the VUs it offers the coordinator (default: 20,000 per core, from the ~20 KB a VU
 *     costs and a quarter of a core per 5,000 VUs of mostly-thinking users)
 * @param producerOverrides Kafka producer settings over the defaults of {@link dev.loadtest.generator.sink.KafkaPublisher}
 */
public record GeneratorConfig(String generatorId, String loadZone, String bootstrapServers, long capacityVus,
    Duration heartbeatInterval, HttpOptions http, Map<String, Object> producerOverrides) {
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(1);

  public GeneratorConfig {
    producerOverrides = Map.copyOf(producerOverrides);
    if (!generatorId.matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")) {
      throw new IllegalArgumentException("generator id \"" + generatorId
          + "\" must be letters, digits, '.', '_', ':' or '-' (at most 128)");
    }
  }

  public static GeneratorConfig of(String generatorId, String loadZone, String bootstrapServers) {
    return new GeneratorConfig(generatorId, loadZone, bootstrapServers, 20_000L * SelfMonitor.cores(),
        DEFAULT_HEARTBEAT, HttpOptions.defaults(), Map.of());
  }
}
