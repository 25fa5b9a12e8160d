package dev.loadtest.schemas.series;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeriesIdTest {
  @Test
  void fnv1aMatchesThePublishedTestVectors() {
    assertEquals(0xcbf29ce484222325L, SeriesId.fnv1a(""));
    assertEquals(0xaf63dc4c8601ec8cL, SeriesId.fnv1a("a"));
    assertEquals(0x85944171f73967e8L, SeriesId.fnv1a("foobar"));
  }

  @Test
  void theIdDoesNotDependOnTagOrder() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("status", "200");
    a.put("name", "checkout");
    a.put("method", "POST");
    Map<String, String> b = new LinkedHashMap<>();
    b.put("method", "POST");
    b.put("name", "checkout");
    b.put("status", "200");
    long id = SeriesId.of("run-1", "http_req_duration", a);
    assertEquals(id, SeriesId.of("run-1", "http_req_duration", b));
    assertEquals(id, SeriesId.ofSorted("run-1", "http_req_duration",
        new String[] {"method", "POST", "name", "checkout", "status", "200"}));
  }

  @Test
  void keysThatWouldRunTogetherWithoutSeparatorsStayApart() {
    Set<Long> ids = new HashSet<>();
    ids.add(SeriesId.of("run-1", "http_reqs", Map.of()));
    ids.add(SeriesId.of("run-", "1http_reqs", Map.of()));
    ids.add(SeriesId.of("run-1", "http_reqs", Map.of("a", "b")));
    ids.add(SeriesId.of("run-1", "http_reqs", Map.of("ab", "")));
    ids.add(SeriesId.of("run-1", "http_reqs", Map.of("a", "", "b", "")));
    ids.add(SeriesId.of("run-2", "http_reqs", Map.of("a", "b")));
    assertEquals(6, ids.size());
  }

  @Test
  void fiftyThousandSeriesOfOneRunHaveDistinctIds() {
    Set<Long> ids = new HashSet<>();
    for (int i = 0; i < 50_000; i++) {
      ids.add(SeriesId.of("run-1", "http_req_duration", Map.of("name", "/products/" + i, "status", "200")));
    }
    assertEquals(50_000, ids.size());
  }

  @Test
  void theAlgorithmIsFrozen() {
    // Stored data depends on these ids: a change of algorithm must fail here, and needs a migration.
    assertEquals(SeriesId.fnv1a("run-1\0http_reqs\0name\1home\0"),
        SeriesId.of("run-1", "http_reqs", Map.of("name", "home")));
    assertNotEquals(0L, SeriesId.of("", "", Map.of()));
  }
}
