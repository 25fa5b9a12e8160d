package dev.loadtest.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Data stored before histogram indexes became signed (migration V009: {@code hist_idx} from
 * {@code Array(UInt16)} to {@code Array(Int16)}) reads back through the API exactly as the release that
 * stored it answered. The fixture holds that release's rows, dumped with {@code SELECT *}, and its answers;
 * {@link MakeStoredFixture} made both at commit e2cd199.
 */
class StoredBeforeSignedBucketsIT {
  private static final String FIXTURE = "/fixtures/stored-e2cd199/";
  private static final String TOKEN = "t-0123456789abcdef";
  /** The last migration of the release that wrote the fixture. */
  private static final int LAST_MIGRATION_OF_THE_FIXTURE = 8;

  private static ClickHouseHttp ch;
  private static String db;
  private static ApiServer api;
  private static final HttpClient http = HttpClient.newHttpClient();
  private static final ObjectMapper json = new ObjectMapper();

  @BeforeAll
  static void restoreTheOldReleasesRowsThenMigrate() throws Exception {
    ClickHouseServer server = ClickHouseServer.shared();
    ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
    db = ClickHouseServer.newDatabaseName("stored_e2cd199");
    Migrations.apply(ch, db, LAST_MIGRATION_OF_THE_FIXTURE);
    assertEquals("Array(UInt16)", ch.execute(db,
        "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'metric_1s'"
            + " AND name = 'hist_idx'").trim(), "the fixture is restored into the old column type");
    for (String table : MakeStoredFixture.TABLES) {
      restore(table);
    }
    Migrations.Result result = Migrations.apply(ch, db);
    assertTrue(result.applied().stream().anyMatch(m -> m.version() == LAST_MIGRATION_OF_THE_FIXTURE + 1),
        "the later migrations ran over the restored rows: " + result.applied());
    assertEquals("Array(Int16)", ch.execute(db,
        "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'metric_1s'"
            + " AND name = 'hist_idx'").trim(), "V009 made the indexes signed");
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    api = ApiServer.start(new ApiConfig("127.0.0.1", 0, server.httpUri(), server.user(), server.password(), db,
        kafka.bootstrapServers(), Map.of(TOKEN, ApiConfig.Scope.READ), List.of(), Limits.DEFAULT));
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  /** Inserts a dumped table: the header's column names, then its rows as TabSeparated. */
  private static void restore(String table) throws IOException {
    String dump = resource(table + ".tsv");
    int names = dump.indexOf('\n');
    int types = dump.indexOf('\n', names + 1);
    String columns = String.join(", ", dump.substring(0, names).split("\t"));
    byte[] rows = dump.substring(types + 1).getBytes(StandardCharsets.UTF_8);
    if (rows.length > 0) {
      ch.insert(db, "INSERT INTO " + table + " (" + columns + ") FORMAT TabSeparated", rows);
    }
    long lines = dump.substring(types + 1).lines().count();
    assertEquals(String.valueOf(lines), ch.execute(db, "SELECT count() FROM " + table
        + " WHERE test_run_id = " + ClickHouseHttp.quote(MakeStoredFixture.RUN)).trim(), table + " restored");
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = StoredBeforeSignedBucketsIT.class.getResourceAsStream(FIXTURE + name)) {
      if (in == null) {
        throw new IOException("missing fixture " + FIXTURE + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static JsonNode get(String pathAndQuery) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api.url() + pathAndQuery))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), pathAndQuery + " -> " + r.body());
    return json.readTree(r.body());
  }

  /** How long the reads took is the one part of an answer that is not the data's. */
  private static JsonNode withoutTimings(JsonNode node) {
    if (node instanceof ObjectNode object) {
      object.remove("timingsMs");
    }
    node.forEach(StoredBeforeSignedBucketsIT::withoutTimings);
    return node;
  }

  @Test
  void everyReadTheOldReleaseAnsweredIsAnsweredTheSameAfterTheMigration() throws Exception {
    for (Map.Entry<String, String> read : MakeStoredFixture.READS.entrySet()) {
      JsonNode then = withoutTimings(json.readTree(resource(read.getKey())));
      JsonNode now = withoutTimings(get(read.getValue()));
      assertEquals(then, now, read.getValue() + " answers as release e2cd199 did (" + read.getKey() + ")");
    }
  }

  @Test
  void thePercentileColumnsOfOldRowsStillPointAtTheirBuckets() throws Exception {
    // the materialized bucket_p95 of every stored row is recomputed from its (now signed) indexes: an old
    // row's buckets are all non-negative, so no row may read a bucket below zero
    assertEquals("0", ch.execute(db, "SELECT countIf(bucket_p95 < 0 OR arrayExists(i -> i < 0, hist_idx))"
        + " FROM metric_1s WHERE test_run_id = " + ClickHouseHttp.quote(MakeStoredFixture.RUN)).trim());
    assertTrue(Long.parseLong(ch.execute(db, "SELECT countIf(bucket_p95 > 0) FROM metric_1s WHERE test_run_id = "
        + ClickHouseHttp.quote(MakeStoredFixture.RUN)).trim()) > 0, "trend rows have a p95 bucket");
  }
}
