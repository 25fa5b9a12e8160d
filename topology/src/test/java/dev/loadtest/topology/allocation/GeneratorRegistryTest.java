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
  void whenNoHeartbeatArrivesFromAnyoneTheGeneratorsGetSixTimesTheLimit() {
    // A coordinator (or broker) starved of CPU, or a broker failing over, lets nothing through from anyone:
    // that is not the generators' fault.
    GeneratorRegistry r = new GeneratorRegistry(Duration.ofSeconds(5));
    r.heartbeat(beat("a", 1_000), 1_000);
    r.heartbeat(beat("b", 1_200), 1_200);
    assertEquals(List.of(), r.expire(12_000));
    assertEquals(List.of(), r.expire(31_000));
    assertEquals(List.of("a"), r.expire(31_001));
    assertEquals(List.of("b"), r.expire(31_201));
  }

  @Test
  void silenceCountsOnlyFromWhenTheCoordinatorListens() {
    // A coordinator that took the generators over at 20 s (their last heartbeats from 1 s, before the other
    // coordinator died), or whose thread was held up until then, gives them the limit from 20 s on.
    GeneratorRegistry r = new GeneratorRegistry(Duration.ofSeconds(5));
    r.heartbeat(beat("a", 1_000), 1_000);
    r.heartbeat(beat("b", 1_000), 1_000);
    assertEquals(List.of(), r.expire(20_000, 20_000), "just taken over: nobody is lost for the time before");
    r.heartbeat(beat("b", 21_000), 21_000);
    assertEquals(List.of(), r.expire(25_000, 20_000), "a silent for 5 s since the coordinator listens: not yet");
    assertEquals(List.of("a"), r.expire(25_001, 20_000), "a stays silent while b beats: lost");
  }
}
