package dev.loadtest.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClickHouseServerIT {
  @Test
  void theSharedServerAnswersQueries() {
    ClickHouseServer server = ClickHouseServer.shared();
    assertEquals("2", server.query("SELECT 1 + 1").strip());
    assertFalse(server.version().isBlank());
    assertTrue(server.httpUri().getHost().equals("127.0.0.1") || server.origin().startsWith("configured")
        || server.origin().startsWith("Testcontainers"), server.origin());
  }

  @Test
  void aConfiguredUrlWinsOverStartingAServer() {
    ClickHouseServer running = ClickHouseServer.shared();
    try (ClickHouseServer configured = ClickHouseServer.resolve(
        Map.of("LOADTEST_CLICKHOUSE_URL", running.httpUri().toString(), "LOADTEST_USE_DOCKER", "false"), null,
        Optional.empty())) {
      assertTrue(configured.origin().startsWith("configured URL"), configured.origin());
      assertEquals(running.version(), configured.version());
    }
    assertEquals("1", running.query("SELECT 1").strip(), "closing a configured server leaves it running");
  }

  @Test
  void theLocalBinaryStartsOnItsOwnPortsAndStopsOnClose() {
    var command = LocalClickHouseProcess.findCommand();
    assertTrue(command.isPresent(), "clickhouse-server must be installed here: " + ClickHouseServer.INSTALL_HINT);
    ClickHouseServer own = ClickHouseServer.resolve(Map.of("LOADTEST_USE_DOCKER", "false"), null, command);
    String uri = own.httpUri().toString();
    assertTrue(own.origin().startsWith("local binary"), own.origin());
    assertNotEquals(ClickHouseServer.shared().httpUri().toString(), uri);
    own.close();
    IllegalStateException gone = assertThrows(IllegalStateException.class, () -> own.query("SELECT 1"));
    assertTrue(gone.getMessage().contains("unreachable"), gone.getMessage());
  }

  @Test
  void aSupervisedServerThatDiesIsRestartedOnItsDataAndSaysSo() throws Exception {
    try (ClickHouseServer own = ClickHouseServer.startLocal()) {
      java.util.List<String> said = new java.util.concurrent.CopyOnWriteArrayList<>();
      for (String sql : java.util.List.of("CREATE TABLE default.kept (x UInt32) ENGINE = MergeTree ORDER BY x",
          "INSERT INTO default.kept VALUES (1), (2), (3)")) {
        var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(own.httpUri())
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(sql)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
      }
      own.supervise(said::add);
      assertTrue(own.supervisable());
      own.kill(); // as kill -9 would
      long deadline = System.nanoTime() + 90_000_000_000L;
      while (said.stream().noneMatch(m -> m.startsWith("ClickHouse is back")) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(said.get(0).startsWith("ClickHouse exited (code "), said.toString());
      assertTrue(said.stream().anyMatch(m -> m.startsWith("ClickHouse is back after ")), said.toString());
      assertEquals("3", own.query("SELECT count() FROM default.kept").strip(), "its data is kept");
    }
  }

  @Test
  void withNothingAvailableItFailsAndSaysHowToGetClickHouse() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ClickHouseServer.resolve(Map.of("LOADTEST_USE_DOCKER", "false"), null, Optional.empty()));
    assertTrue(e.getMessage().contains("apt-get install -y clickhouse-server"), e.getMessage());
    assertTrue(e.getMessage().contains("LOADTEST_CLICKHOUSE_URL"), e.getMessage());
  }
}
