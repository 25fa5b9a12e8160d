package dev.loadtest.topology.allocation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loadtest.schemas.generator.Heartbeat;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When a generator is lost: silent while others' heartbeats arrive, or silent for long whatever the others do. */
class GeneratorRegistryTest {
  static Heartbeat beat(String id, long sentAtMs) {
    return new Heartbeat(id, "z", 2, 100, "test", 0, 0.99, 1, 2, 0.1, List.of(), List.of(), sentAtMs);
  }

  @Test
  void aGeneratorSilentWhileTheOthersBeatIsLostAfterTheLimit() {
    GeneratorRegistry r = new GeneratorRegistry(Duration.ofSeconds(5));
    r.heartbeat(beat("busy", 1_000), 1_000);
    for (long t = 2_000; t <= 7_000; t += 1_000) {
      r.heartbeat(beat("other", t), t);
    }
    assertEquals(List.of(), r.expire(6_000), "silent for 5 s: not yet");
    assertEquals(List.of("busy"), r.expire(6_001), "silent for more than 5 s while others' heartbeats arrive");
  }

  @Test
  void whenNoHeartbeatArrivesFromAnyoneTheGeneratorsGetThreeTimesTheLimit() {
    // A coordinator (or broker) starved of CPU receives nothing from anyone: that is not the generators' fault.
    GeneratorRegistry r = new GeneratorRegistry(Duration.ofSeconds(5));
    r.heartbeat(beat("a", 1_000), 1_000);
    r.heartbeat(beat("b", 1_200), 1_200);
    assertEquals(List.of(), r.expire(12_000));
    assertEquals(List.of(), r.expire(16_000));
    assertEquals(List.of("a"), r.expire(16_001));
    assertEquals(List.of("b"), r.expire(16_201));
  }
}
