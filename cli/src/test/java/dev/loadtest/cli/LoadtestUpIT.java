package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.clickhouse.Migrations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** `loadtest up --exit` starts the real stack, finds every component healthy, and stops it. */
class LoadtestUpIT {
  @Test
  @Timeout(300)
  void upReportsEveryComponentHealthyWithItsVersion() {
    CliRun up = CliRun.of("up", "--exit", "--database", "up_it_" + ProcessHandle.current().pid());
    String text = up.out();
    int migrations = Migrations.bundled().size();
    assertEquals(0, up.code(), text + up.err());
    assertTrue(text.matches("(?s).*Kafka\\s+4\\.2\\.\\d+\\s+127\\.0\\.0\\.1:\\d+\\s+OK\\s+1 broker, 10/10 topics.*"), text);
    assertTrue(text.matches("(?s).*ClickHouse\\s+\\d+\\.\\d+\\S*\\s+http://\\S+\\s+OK\\s+database up_it_\\d+, " + migrations + "/"
        + migrations + " migrations.*"), text);
    assertTrue(text.matches("(?s).*Flink\\s+2\\.2\\.\\d+\\s+http://127\\.0\\.0\\.1:\\d+\\s+OK\\s+1 TaskManager, 4 slots, 2/2 jobs running.*"), text);
    assertTrue(text.matches("(?s).*Coordinator\\s+on 127\\.0\\.0\\.1:\\d+\\s+OK\\s+Kafka Streams RUNNING.*"), text);
    assertTrue(text.matches("(?s).*Query API\\s+v1\\s+http://127\\.0\\.0\\.1:\\d+/api/v1\\s+OK\\s+reads ClickHouse.*"), text);
    assertTrue(text.matches("(?s).*Query API:\\s+http://127\\.0\\.0\\.1:\\d+/api/v1 \\(Authorization: Bearer [0-9a-f]{48}\\).*"), text);
    assertTrue(text.matches("(?s).*Generators:\\s+2 \\(zones local:eu, local:us\\).*"), text);
    assertTrue(text.matches("(?s).*export LOADTEST_API=http://127\\.0\\.0\\.1:\\d+/api/v1 LOADTEST_API_TOKEN=[0-9a-f]{48}"
        + " .*LOADTEST_KAFKA_BOOTSTRAP=127\\.0\\.0\\.1:\\d+ LOADTEST_CLICKHOUSE_URL=http://\\S+ .*"), text);
    assertTrue(text.contains("All components healthy"), text);
  }
}
