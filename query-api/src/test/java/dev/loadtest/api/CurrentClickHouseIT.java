package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our SQL on a current ClickHouse: every statement this module's tests sent to ClickHouse 18.16 (taken from
 * the server's {@code system.query_log}, where the test suite has it log every statement) runs again on a
 * current engine (chDB 26.x, in-process through node, no server needed) over the same data, and answers the
 * same. Per database the tests used: the project's migrations, then each table's rows (exported from 18.16
 * as RowBinary and loaded with the column list the sink's own INSERT used), then every SELECT the tests
 * made, answered by both engines as JSONEachRow and compared row by row (as sets: ORDER BY ties may come in
 * either order; 64-bit integers, quoted by 18.16, compared as numbers; floats to 1e-9 relative).
 *
 * <p>Runs after every other test class of the module ({@code @Order}, with the class orderer of
 * {@code junit-platform.properties}), so it sees all their statements. Fails, never skips, when chDB or node
 * is missing, saying how to get them ({@code scripts/ensure-test-tools.sh} installs both).
 */
@Order(Integer.MAX_VALUE)
@Timeout(900)
class CurrentClickHouseIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Pattern TRAILING_FORMAT = Pattern.compile("(?is)\\s+FORMAT\\s+\\w+\\s*;?\\s*$");
  static final Pattern INSERT = Pattern.compile("(?is)\\s*INSERT\\s+INTO\\s+(\\w+)\\s*\\(([^)]*)\\)\\s*FORMAT\\s+RowBinary\\s*");

  @Test
  void everyStatementTheTestsSentAnswersAlikeOnACurrentClickHouse() throws Exception {
    Path module = chdbModule();
    ClickHouseServer server = ClickHouseServer.shared();
    ClickHouseHttp ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(120));
    ch.execute(null, "SYSTEM FLUSH LOGS");
    Set<String> databases = new LinkedHashSet<>(List.of(ch.execute(null,
        "SELECT name FROM system.databases FORMAT TabSeparated").strip().split("\n")));

    // What the tests sent, by database (the query id names it: see ClickHouseHttp).
    Map<String, Set<String>> selects = new TreeMap<>();
    Map<String, Map<String, String>> insertColumns = new TreeMap<>();
    Set<String> insertStatements = new LinkedHashSet<>();
    for (String line : ch.execute(null, "SELECT query_id, query FROM system.query_log WHERE type = 2 AND is_initial_query"
        + " AND position(query_id, '" + ClickHouseHttp.QUERY_ID_SEPARATOR + "') > 0 ORDER BY event_time FORMAT JSONEachRow")
        .split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = JSON.readTree(line);
      String id = n.path("query_id").asText();
      String db = id.substring(0, id.lastIndexOf(ClickHouseHttp.QUERY_ID_SEPARATOR));
      String sql = n.path("query").asText().strip();
      if (!databases.contains(db) || sql.contains("system.")) {
        continue;
      }
      Matcher insert = INSERT.matcher(sql);
      if (insert.matches()) {
        insertColumns.computeIfAbsent(db, d -> new TreeMap<>()).putIfAbsent(insert.group(1), insert.group(2).strip());
        insertStatements.add(sql.replaceAll("\\s+", " "));
      } else if (sql.regionMatches(true, 0, "SELECT", 0, 6)) {
        selects.computeIfAbsent(db, d -> new LinkedHashSet<>()).add(TRAILING_FORMAT.matcher(sql).replaceFirst(""));
      }
    }
    long selectCount = selects.values().stream().mapToLong(Set::size).sum();
    assertTrue(selectCount >= 20, "the API tests' reads were logged (" + selectCount + "): is query logging on"
        + " (-Dloadtest.clickhouse.logQueries=true) and did this class run last?");

    Path work = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "current-clickhouse");
    ArrayNode steps = JSON.createArrayNode();
    List<String[]> compared = new ArrayList<>(); // step index, database, select
    int exported = 0;
    for (String db : databases) {
      if (!selects.containsKey(db) && !insertColumns.containsKey(db)) {
        continue;
      }
      String quoted = ClickHouseHttp.identifier(db);
      step(steps, "CREATE DATABASE IF NOT EXISTS " + quoted);
      step(steps, "USE " + quoted);
      step(steps, "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String,"
          + " applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY version");
      for (Migrations.Migration m : Migrations.bundled()) {
        m.statements().forEach(s -> step(steps, s));
      }
      for (String table : ch.execute(db, "SELECT name FROM system.tables WHERE database = " + ClickHouseHttp.quote(db)
          + " AND engine LIKE '%MergeTree' ORDER BY name FORMAT TabSeparated").strip().split("\n")) {
        if (table.isBlank()) {
          continue;
        }
        String columns = insertColumns.getOrDefault(db, Map.of()).get(table);
        if (columns == null) { // a table the tests filled otherwise: every column one can insert
          columns = orderedColumns(ch, db, table);
        }
        Path file = work.resolve(db + "." + table + ".bin");
        Files.write(file, ch.executeBinary(db, "SELECT " + columns + " FROM " + table + " FORMAT RowBinary"));
        step(steps, "INSERT INTO " + table + " (" + columns + ") FROM INFILE '" + file + "' FORMAT RowBinary");
        exported++;
      }
      for (String select : selects.getOrDefault(db, Set.of())) {
        compared.add(new String[] {Integer.toString(steps.size()), db, select});
        step(steps, select + " FORMAT JSONEachRow");
      }
    }
    ObjectNode job = JSON.createObjectNode().put("module", module.toString()).put("dir", work.resolve("chdb").toString());
    job.set("steps", steps);
    Path jobFile = work.resolve("job.json");
    Path resultsFile = work.resolve("results.jsonl");
    JSON.writeValue(jobFile.toFile(), job);
    Process node = new ProcessBuilder("node", script().toString(), jobFile.toString(), resultsFile.toString())
        .redirectErrorStream(true).redirectOutput(work.resolve("node.log").toFile()).start();
    assertTrue(node.waitFor(600, TimeUnit.SECONDS), "chdb did not finish within 10 minutes");
    assertEquals(0, node.exitValue(), "node failed: " + Files.readString(work.resolve("node.log")));
    List<JsonNode> results = new ArrayList<>();
    for (String line : Files.readAllLines(resultsFile)) {
      results.add(JSON.readTree(line));
    }
    assertEquals(steps.size(), results.size());

    List<String> problems = new ArrayList<>();
    Set<Integer> comparedSteps = new java.util.HashSet<>();
    compared.forEach(c -> comparedSteps.add(Integer.parseInt(c[0])));
    for (int i = 0; i < steps.size(); i++) {
      if (!comparedSteps.contains(i) && !results.get(i).path("ok").asBoolean()) {
        problems.add("setup statement failed on the current engine: " + abbreviate(steps.get(i).path("sql").asText())
            + "\n    " + results.get(i).path("error").asText());
      }
    }
    for (String[] c : compared) {
      JsonNode r = results.get(Integer.parseInt(c[0]));
      String expected = ch.execute(c[1], c[2] + " FORMAT JSONEachRow");
      if (!r.path("ok").asBoolean()) {
        problems.add("fails on the current engine: " + abbreviate(c[2]) + "\n    " + r.path("error").asText());
      } else if (!sameRows(expected, r.path("result").asText())) {
        problems.add("answers differently: " + abbreviate(c[2]) + "\n    18.16:   " + abbreviate(expected)
            + "\n    current: " + abbreviate(r.path("result").asText()));
      }
    }
    Path report = Path.of("target", "current-clickhouse-statements.txt");
    Files.createDirectories(report.getParent());
    List<String> listing = new ArrayList<>();
    insertStatements.forEach(s -> listing.add("INSERT  " + s));
    compared.forEach(c -> listing.add("SELECT  " + c[2].replaceAll("\\s+", " ")));
    Files.write(report, listing);
    System.out.printf("current ClickHouse check: %d migrations statements x %d databases, %d tables loaded through the"
        + " sink's %d INSERT statements, %d SELECTs compared, %d problems (list: %s)%n",
        Migrations.bundled().stream().mapToInt(m -> m.statements().size()).sum(), selects.size(), exported,
        insertStatements.size(), compared.size(), problems.size(), report.toAbsolutePath());
    assertTrue(problems.isEmpty(), problems.size() + " statements do not answer alike:\n" + String.join("\n", problems));
  }

  /** A table's insertable columns in their declared order. */
  static String orderedColumns(ClickHouseHttp ch, String db, String table) {
    List<String> out = new ArrayList<>();
    for (String line : ch.execute(db, "SELECT name, default_kind FROM system.columns WHERE database = "
        + ClickHouseHttp.quote(db) + " AND table = " + ClickHouseHttp.quote(table) + " FORMAT TabSeparated").split("\n")) {
      String[] f = line.split("\t", -1);
      if (!line.isBlank() && !(f.length > 1 && (f[1].equals("MATERIALIZED") || f[1].equals("ALIAS")))) {
        out.add(f[0]);
      }
    }
    return String.join(", ", out);
  }

  static void step(ArrayNode steps, String sql) {
    steps.addObject().put("sql", sql);
  }

  /** Both answers as sets of rows, values compared as numbers where either engine wrote a number. */
  static boolean sameRows(String a, String b) throws IOException {
    List<String> x = canonicalRows(a);
    List<String> y = canonicalRows(b);
    if (x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      if (!x.get(i).equals(y.get(i)) && !equalAsJson(JSON.readTree(x.get(i)), JSON.readTree(y.get(i)))) {
        return false;
      }
    }
    return true;
  }

  static List<String> canonicalRows(String jsonEachRow) throws IOException {
    List<String> rows = new ArrayList<>();
    for (String line : jsonEachRow.split("\n")) {
      if (!line.isBlank()) {
        rows.add(JSON.writeValueAsString(canonical(JSON.readTree(line))));
      }
    }
    rows.sort(null);
    return rows;
  }

  /** Numbers as numbers whether quoted or not, rounded to 9 significant digits; objects with sorted keys. */
  static JsonNode canonical(JsonNode n) {
    if (n.isObject()) {
      ObjectNode o = JSON.createObjectNode();
      new TreeMap<String, JsonNode>(toMap(n)).forEach((k, v) -> o.set(k, canonical(v)));
      return o;
    }
    if (n.isArray()) {
      ArrayNode a = JSON.createArrayNode();
      n.forEach(v -> a.add(canonical(v)));
      return a;
    }
    if (n.isNumber() || (n.isTextual() && n.asText().matches("-?\\d{1,20}"))) {
      java.math.BigDecimal d = new java.math.BigDecimal(n.asText());
      return JSON.getNodeFactory().textNode(d.round(new java.math.MathContext(9)).stripTrailingZeros().toPlainString());
    }
    return n;
  }

  static boolean equalAsJson(JsonNode a, JsonNode b) {
    return canonical(a).equals(canonical(b));
  }

  static Map<String, JsonNode> toMap(JsonNode o) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    o.properties().forEach(e -> m.put(e.getKey(), e.getValue()));
    return m;
  }

  static String abbreviate(String s) {
    String one = s.replaceAll("\\s+", " ").strip();
    return one.length() <= 600 ? one : one.substring(0, 600) + "...";
  }

  /** The chdb package: LOADTEST_CHDB_MODULE, else where scripts/ensure-test-tools.sh installs it. */
  static Path chdbModule() {
    String configured = System.getenv("LOADTEST_CHDB_MODULE");
    Path p = configured != null && !configured.isBlank() ? Path.of(configured)
        : Path.of(System.getProperty("user.home"), ".cache", "loadtest-chdb", "node_modules", "chdb");
    assertTrue(Files.isDirectory(p), "chDB (a current ClickHouse engine for node) is needed and not at " + p
        + ": run scripts/ensure-test-tools.sh (npm install --prefix ~/.cache/loadtest-chdb chdb@3.4.0), or set"
        + " LOADTEST_CHDB_MODULE to an installed chdb package");
    return p;
  }

  static Path script() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path s = dir.resolve("scripts/chdb/run.js");
      if (Files.isRegularFile(s)) {
        return s;
      }
    }
    throw new AssertionError("scripts/chdb/run.js not found above " + Path.of("").toAbsolutePath());
  }
}
