package dev.loadtest.schemas.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class GeneratorJsonTest {

  static Heartbeat heartbeat(Heartbeat.RunProgress p) {
    return new Heartbeat("g-1", "local", 2, 100, "test", 3, 0.5, 1, 2, 0.1, List.of(p), List.of(), 1_000);
  }

  @Test
  void failedIterationsAndTheirReasonsGoThroughAHeartbeat() {
    Heartbeat h = heartbeat(new Heartbeat.RunProgress("r-1", "0:1", Heartbeat.RunPhase.RUNNING, 10, 0, 5, 20, 0, 0, "",
        4, List.of("scenario s: ${x}: the VU has no variable x")));
    assertEquals(h, GeneratorJson.parseHeartbeat(GeneratorJson.heartbeat(h)));
  }

  @Test
  void aHeartbeatOfAnEarlierGeneratorWithoutFailedIterationsStillReads() {
    String old = "{\"generatorId\":\"g-1\",\"loadZone\":\"local\",\"cores\":2,\"capacityVus\":100,\"version\":\"0\","
        + "\"runs\":[{\"testRunId\":\"r-1\",\"segment\":\"0:1\",\"phase\":\"RUNNING\",\"iterations\":10,"
        + "\"requests\":5,\"samples\":20,\"message\":\"\"}],\"warnings\":[],\"sentAtMs\":1}";
    Heartbeat.RunProgress p = GeneratorJson.parseHeartbeat(old).runs().get(0);
    assertEquals(0, p.failedIterations());
    assertEquals(List.of(), p.iterationErrors());
  }

  @Test
  void aHeartbeatWhoseFailureReasonsAreUnboundedIsRejectedWithWhatIsWrong() {
    Heartbeat many = heartbeat(new Heartbeat.RunProgress("r-1", "0:1", Heartbeat.RunPhase.RUNNING, 10, 0, 5, 20, 0, 0,
        "", 4, Collections.nCopies(21, "x")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GeneratorJson.parseHeartbeat(GeneratorJson.heartbeat(many)));
    assertTrue(e.getMessage().contains("runs[0] (r-1) needs failedIterations >= 0 and at most 20 iterationErrors"),
        e.getMessage());
    Heartbeat negative = heartbeat(new Heartbeat.RunProgress("r-1", "0:1", Heartbeat.RunPhase.RUNNING, 10, 0, 5, 20, 0,
        0, "", -1, List.of()));
    assertThrows(IllegalArgumentException.class, () -> GeneratorJson.parseHeartbeat(GeneratorJson.heartbeat(negative)));
    Heartbeat longReason = heartbeat(new Heartbeat.RunProgress("r-1", "0:1", Heartbeat.RunPhase.RUNNING, 10, 0, 5, 20,
        0, 0, "", 1, List.of("y".repeat(1001))));
    assertThrows(IllegalArgumentException.class, () -> GeneratorJson.parseHeartbeat(GeneratorJson.heartbeat(longReason)));
  }

  @Test
  void aHeartbeatListsItsPlugInsAndAnEarlierOneOffersTheBuiltInOnes() {
    Heartbeat h = new Heartbeat("g-1", "local", 2, 100, "test", 3, 0.5, 1, 2, 0.1, List.of(), List.of(), 1_000,
        List.of("http", "jmeter", "synthetic"));
    Heartbeat read = GeneratorJson.parseHeartbeat(GeneratorJson.heartbeat(h));
    assertEquals(h, read);
    assertTrue(read.offers("jmeter") && !read.offers("locust"));
    Heartbeat old = GeneratorJson.parseHeartbeat("{\"generatorId\":\"g-1\",\"loadZone\":\"local\",\"cores\":2,"
        + "\"capacityVus\":100,\"version\":\"0\",\"runs\":[],\"warnings\":[],\"sentAtMs\":1}");
    assertEquals(null, old.plugins());
    assertTrue(old.offers("http") && old.offers("synthetic") && !old.offers("jmeter"));

    Heartbeat hostile = new Heartbeat("g-1", "local", 2, 100, "test", 3, 0.5, 1, 2, 0.1, List.of(), List.of(), 1_000,
        List.of("http", "<script>"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GeneratorJson.parseHeartbeat(GeneratorJson.heartbeat(hostile)));
    assertTrue(e.getMessage().contains("plugins must be at most 64 names"), e.getMessage());
  }
}
