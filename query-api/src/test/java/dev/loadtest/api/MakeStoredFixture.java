package dev.loadtest.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.embedded.ClickHouseServer;
import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.clickhouse.Migrations;
import dev.loadtest.schemas.threshold.ThresholdResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Makes the fixture of {@link StoredBeforeSignedBucketsIT}: a run's rows as a release stored them, and what
 * that release's API answered about them. Not part of the suite (its name matches neither *Test nor *IT);
 * the committed fixture was made with it at commit e2cd199, the last release whose {@code hist_idx} was
 * {@code Array(UInt16)}:
 * {@code git checkout e2cd199 -- . ; ./mvnw -o -q -B verify -pl query-api -Dtest=NONE
 * -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=MakeStoredFixture -Dfixture.out=DIR}.
 * Run at a later commit it makes a fixture of that commit's storage instead.
 */
class MakeStoredFixture {
  static final String RUN = "fixture-e2cd199";
  static final long START = 1_780_000_000L;
  /** The tables dumped, in the order they are restored. */
  static final List<String> TABLES = List.of("runs", "series", "metric_1s", "metric_10s", "metric_1m", "thresholds");
  /** The API reads saved with the fixture: file name, path and query. */
  static final Map<String, String> READS = Map.of(
      "summary.json", "/runs/" + RUN + "/summary",
      "summary-k6.json", "/runs/" + RUN + "/summary?percentiles=k6&trendStats=min,med,avg,p(90),p(95),p(99),max",
      "timeseries-by-name.json", "/runs/" + RUN + "/timeseries?metric=http_req_duration&stat=count,p(95),p(99),max&groupBy=name",
      "heatmap.json", "/runs/" + RUN + "/heatmap?metric=http_req_duration&maxPoints=20",
      "top.json", "/runs/" + RUN + "/series/top?metric=http_req_duration&by=" + "p%2895%29" + "&k=3",
      "thresholds.json", "/runs/" + RUN + "/thresholds");

  @Test
  void make() throws Exception {
    Path out = Path.of(System.getProperty("fixture.out", "target/stored-fixture"));
    Files.createDirectories(out);
    ClickHouseServer server = ClickHouseServer.shared();
    ClickHouseHttp ch = new ClickHouseHttp(server.httpUri(), server.user(), server.password(), Duration.ofSeconds(60));
    String db = ClickHouseServer.newDatabaseName("fixture");
    Migrations.apply(ch, db);
    RunData run = new RunData(RUN, START + 20, 75, 1.0, 21);
    run.addLate((START + 25) * 1000 + 300, "home", "gen-a", 900_000, "gen-a/17");
    run.write(ch, db, Long.MAX_VALUE);
    run.writeThreshold(ch, db, "http_req_duration: p(95)<500", ThresholdResult.State.PASSED, 210, true,
        (START + 100) * 1000);
    for (String table : TABLES) {
      Files.writeString(out.resolve(table + ".tsv"), ch.execute(db, "SELECT * FROM " + table
          + " ORDER BY tuple(*) FORMAT TabSeparatedWithNamesAndTypes"), StandardCharsets.UTF_8);
    }
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    try (ApiServer api = ApiServer.start(new ApiConfig("127.0.0.1", 0, server.httpUri(), server.user(),
        server.password(), db, kafka.bootstrapServers(), Map.of("t-0123456789abcdef", ApiConfig.Scope.READ),
        List.of(), Limits.DEFAULT))) {
      HttpClient http = HttpClient.newHttpClient();
      ObjectMapper json = new ObjectMapper();
      for (Map.Entry<String, String> read : READS.entrySet()) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api.url() + read.getValue()))
            .header("Authorization", "Bearer t-0123456789abcdef").build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          throw new AssertionError(read.getValue() + " -> " + r.statusCode() + " " + r.body());
        }
        Files.writeString(out.resolve(read.getKey()),
            json.writerWithDefaultPrettyPrinter().writeValueAsString(json.readTree(r.body())) + "\n");
      }
    }
  }
}
