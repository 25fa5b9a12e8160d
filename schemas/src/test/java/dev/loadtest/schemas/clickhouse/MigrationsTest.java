package dev.loadtest.schemas.clickhouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationsTest {
  @Test
  void bundledMigrationsAreNumberedFromOneWithoutGaps() {
    List<Migrations.Migration> all = Migrations.bundled();
    assertTrue(all.size() >= 3);
    for (int i = 0; i < all.size(); i++) {
      assertEquals(i + 1, all.get(i).version());
      assertFalse(all.get(i).statements().isEmpty());
      assertEquals(64, all.get(i).checksum().length());
    }
  }

  @Test
  void noMigrationUsesSqlThatClickHouse1816Refuses() {
    // From shared/reference/clickhouse-18.16/sql-features-checked.txt: refused by 18.16.
    List<String> refused = List.of("Map(", "TTL ", "LowCardinality", "DateTime64", "CODEC(", "toStartOfInterval",
        "SimpleAggregateFunction", "WITH FILL", "{", "Bool");
    for (Migrations.Migration m : Migrations.bundled()) {
      for (String statement : m.statements()) {
        for (String bad : refused) {
          assertFalse(statement.contains(bad), "V" + m.version() + " uses " + bad + ": " + statement);
        }
      }
    }
  }

  @Test
  void statementsSplitAtLineEndSemicolonsAndDropComments() {
    assertEquals(List.of("CREATE TABLE a (x UInt8) ENGINE = Memory", "SELECT 'a;b'"),
        Migrations.statements("-- comment\nCREATE TABLE a (x UInt8)\nENGINE = Memory;\n\nSELECT 'a;b'\n").stream()
            .map(s -> s.replace("\n", " ")).toList());
  }

  @Test
  void valuesAreQuotedAndIdentifiersWhitelisted() {
    assertEquals("'it\\'s \\\\ ok\\n'", ClickHouseHttp.quote("it's \\ ok\n"));
    assertEquals("runs_1", ClickHouseHttp.identifier("runs_1"));
    assertThrows(IllegalArgumentException.class, () -> ClickHouseHttp.identifier("x; DROP TABLE runs"));
    assertThrows(IllegalArgumentException.class, () -> ClickHouseHttp.identifier("`x`"));
  }

  @Test
  void addColumnClausesOfExistingColumnsAreLeftOut() {
    String alter = "ALTER TABLE metric_1s\n    ADD COLUMN bucket_p50 UInt16 MATERIALIZED f(a, b),\n"
        + "    ADD COLUMN bucket_p90 UInt16 MATERIALIZED f(a, c)";
    assertEquals(alter, Migrations.withoutExistingColumns(alter, t -> java.util.Set.of()));
    assertEquals("ALTER TABLE metric_1s ADD COLUMN bucket_p90 UInt16 MATERIALIZED f(a, c)",
        Migrations.withoutExistingColumns(alter, t -> java.util.Set.of("bucket_p50")));
    assertEquals(null, Migrations.withoutExistingColumns(alter, t -> java.util.Set.of("bucket_p50", "bucket_p90")));
    assertEquals(null, Migrations.withoutExistingColumns("ALTER TABLE runs ADD COLUMN state_json String",
        t -> t.equals("runs") ? java.util.Set.of("state_json") : java.util.Set.of()));
    String create = "CREATE TABLE IF NOT EXISTS x (a UInt8) ENGINE = Memory";
    assertEquals(create, Migrations.withoutExistingColumns(create, t -> { throw new AssertionError("not an ALTER"); }));
  }
}
