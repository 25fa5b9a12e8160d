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
  void withNothingAvailableItFailsAndSaysHowToGetClickHouse() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ClickHouseServer.resolve(Map.of("LOADTEST_USE_DOCKER", "false"), null, Optional.empty()));
    assertTrue(e.getMessage().contains("apt-get install -y clickhouse-server"), e.getMessage());
    assertTrue(e.getMessage().contains("LOADTEST_CLICKHOUSE_URL"), e.getMessage());
  }
}
