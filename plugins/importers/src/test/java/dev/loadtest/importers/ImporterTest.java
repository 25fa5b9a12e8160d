package dev.loadtest.importers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each format's fixture, as its tool writes it, becomes the samples the live plug-ins would have made of the test. */
class ImporterTest {
  record Request(long startUs, Map<String, String> tags, SampleSink.RequestTimings t, boolean failed) {}

  record Point(String metric, MetricType type, long timeUs, Map<String, String> tags, double value) {}

  /** Records what it is given, tags as maps. */
  static final class Recording implements SampleSink {
    final List<Request> requests = new ArrayList<>();
    final List<Point> points = new ArrayList<>();

    @Override
    public void request(long startUs, TagSet tags, RequestTimings timings, boolean failed, int vu) {
      requests.add(new Request(startUs, map(tags), timings, failed));
    }

    @Override
    public void point(String metric, MetricType type, long timeUs, TagSet tags, double value) {
      points.add(new Point(metric, type, timeUs, map(tags), value));
    }

    static Map<String, String> map(TagSet t) {
      return t.toMap();
    }

    List<Point> points(String metric) {
      return points.stream().filter(p -> p.metric().equals(metric)).toList();
    }
  }

  static Path fixture(String name) throws URISyntaxException {
    return Path.of(ImporterTest.class.getResource("/" + name).toURI());
  }

  static Recording read(String fixture, ResultFormat f) throws Exception {
    Recording r = new Recording();
    Importer.Summary s = Importer.read(fixture(fixture), f, Map.of("team", "perf"), r);
    assertEquals(r.requests.size(), s.requests());
    assertEquals(r.requests.size() + r.points.size(), s.samples());
    assertEquals(s, Importer.check(fixture(fixture), f), "a check reads the same file the same way");
    return r;
  }

  @Test
  void k6JsonRequestsArePutBackTogetherFromTheirPointsAndSingleRequestTagsAreDropped() throws Exception {
    Recording r = read("k6.json", ResultFormat.K6_JSON);
    assertEquals(3, r.requests.size(), "3 requests of 9 points each");
    Request first = r.requests.get(0);
    assertEquals(1_709_283_600_100_000L, first.startUs(), "RFC 3339 with its offset, to the microsecond");
    assertEquals(Map.of("team", "perf", "name", "/api/products", "method", "GET", "status", "200", "scenario",
        "shoppers", "group", "", "expected_response", "true"), first.tags(), "url, proto and tls_version dropped");
    assertEquals(new SampleSink.RequestTimings(12_500, 500, 250, 0, 50, 12_400, 50, 0, 0), first.t());
    Request checkout = r.requests.get(2);
    assertTrue(checkout.failed());
    assertEquals("1503", checkout.tags().get("error_code"), "k6's own error code is kept");
    assertEquals("::buy", checkout.tags().get("group"));
    assertEquals("POST", checkout.tags().get("method"));
    assertEquals(List.of(1.0, 0.0), r.points("checks").stream().map(Point::value).toList());
    assertEquals(MetricType.TREND, r.points("cart_value").get(0).type(), "declared by its Metric line");
    assertEquals("EUR", r.points("cart_value").get(0).tags().get("currency"));
    assertEquals(1, r.points("iterations").size());
    assertEquals(4096.0, r.points("data_received").get(0).value(), "kept as k6 wrote it");
    assertEquals(2.0, r.points("vus").get(0).value());
  }

  @Test
  void k6CsvGivesTheSameRequestsAsItsJson() throws Exception {
    Recording csv = read("k6.csv", ResultFormat.K6_CSV);
    Recording json = read("k6.json", ResultFormat.K6_JSON);
    assertEquals(json.requests.stream().map(r -> r.tags().get("name") + " " + r.tags().get("status") + " "
        + r.t().durationUs() + " " + r.failed()).toList(), csv.requests.stream().map(r -> r.tags().get("name") + " "
        + r.tags().get("status") + " " + r.t().durationUs() + " " + r.failed()).toList());
    assertEquals(1_709_283_600_400_000L, csv.requests.get(2).startUs(), "epoch milliseconds");
    assertEquals(MetricType.TREND, csv.points("cart_value").get(0).type());
    assertEquals("EUR", csv.points("cart_value").get(0).tags().get("currency"), "extra_tags are tags");
    assertTrue(Importer.check(fixture("k6.csv"), ResultFormat.K6_CSV).notes().get(0).contains("custom metrics imported"
        + " as trends"));
  }

  @Test
  void aJtlInCsvIsOneRequestARowWithJMetersTimingsAndTheTransactionAsItsGroupDuration() throws Exception {
    Recording r = read("results.csv.jtl", ResultFormat.JMETER_JTL);
    assertEquals(List.of("products", "products", "create cart", "Debug Sampler"), r.requests.stream()
        .map(q -> q.tags().get("name")).toList(), "a CSV JTL cannot tell a Debug Sampler from an HTTP one");
    Request p = r.requests.get(0);
    assertEquals("Shoppers", p.tags().get("scenario"), "the thread group of thread \"Shoppers 1-1\"");
    assertEquals("", p.tags().get("method"), "a JTL has no method");
    assertEquals(new SampleSink.RequestTimings(12_000, 0, 3_000, 0, 0, 9_000, 3_000, 130, 1200), p.t(),
        "connect 3, latency 12, elapsed 15 ms");
    assertTrue(r.requests.get(2).failed(), "a failure message on several lines is one field");
    assertEquals("1503", r.requests.get(2).tags().get("error_code"));
    assertEquals(List.of(40.0), r.points("group_duration").stream().map(Point::value).toList());
    assertEquals("::cart", r.points("group_duration").get(0).tags().get("group"));
  }

  @Test
  void aJtlInXmlHasTheLiveRunsRequestsTransactionsRedirectsAndChecks() throws Exception {
    Recording r = read("results.xml.jtl", ResultFormat.JMETER_JTL);
    assertEquals(List.of("products", "create cart", "add to cart", "checkout", "checkout"), r.requests.stream()
        .map(q -> q.tags().get("name")).toList(), "leaves: a redirect's hops under the sampler's label");
    assertEquals(List.of("", "::cart", "::cart", "", ""), r.requests.stream().map(q -> q.tags().get("group"))
        .toList());
    assertEquals(List.of("302", "200"), r.requests.subList(3, 5).stream().map(q -> q.tags().get("status")).toList());
    assertEquals(Map.of("status is 200", 1.0, "status is 201", 0.0), r.points("checks").stream().collect(
        Collectors.toMap(c -> c.tags().get("check"), Point::value)));
    assertTrue(Importer.check(fixture("results.xml.jtl"), ResultFormat.JMETER_JTL).notes().get(0)
        .startsWith("1 non-HTTP samples"), "the Debug Sampler is noted, not imported");
  }

  @Test
  void gatlingsLogHasItsRequestsGroupsUsersAndIterations() throws Exception {
    Recording r = read("simulation.log", ResultFormat.GATLING_LOG);
    assertEquals(List.of("products", "create cart", "checkout"), r.requests.stream().map(q -> q.tags().get("name"))
        .toList());
    Request checkout = r.requests.get(2);
    assertEquals("::buy::pay", checkout.tags().get("group"));
    assertTrue(checkout.failed());
    assertEquals("", checkout.tags().get("status"), "Gatling's log has no status");
    assertTrue(!checkout.tags().containsKey("error_code"));
    assertEquals(110_000, checkout.t().durationUs());
    assertEquals(2, r.points("iterations").size());
    assertEquals(List.of(110.0, 210.0), r.points("group_duration").stream().map(Point::value).toList());
    assertEquals(2.0, r.points("vus").stream().mapToDouble(Point::value).max().orElse(0));
    assertEquals(0.0, r.points("vus").get(r.points("vus").size() - 1).value(), "every user ended");
  }

  @Test
  void locustsStatsHistoryBecomesEachIntervalsRequestsWithTheirFailuresAndPercentiles() throws Exception {
    // written by Locust 2.12 (Debian's) with --csv --csv-full-history: 4 users, 13 s, "missing" always 404
    Recording r = read("locust_stats_history.csv", ResultFormat.LOCUST_CSV);
    Map<String, Long> byName = r.requests.stream().collect(Collectors.groupingBy(q -> q.tags().get("name"),
        Collectors.counting()));
    assertEquals(Map.of("home", 534L, "missing", 164L), byName, "each name's last Total Request Count");
    assertTrue(r.requests.stream().allMatch(q -> q.failed() == q.tags().get("name").equals("missing")));
    assertEquals("GET", r.requests.get(0).tags().get("method"));
    assertEquals("", r.requests.get(0).tags().get("status"), "Locust's CSV has no status");
    long maxUs = r.requests.stream().mapToLong(q -> q.t().durationUs()).max().orElse(0);
    assertTrue(maxUs > 0 && maxUs <= 31_000, "within the file's largest 100% (ms): " + maxUs);
    assertEquals(4.0, r.points("vus").get(r.points("vus").size() - 1).value());
    List<String> notes = Importer.check(fixture("locust_stats_history.csv"), ResultFormat.LOCUST_CSV).notes();
    assertTrue(notes.get(0).contains("requests rebuilt from each interval's counts and percentiles"), notes.toString());
  }

  @Test
  void aBrokenFileIsRefusedWholeWithWhereAndWhy(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("bad.json");
    Files.writeString(json, Files.readString(fixture("k6.json")) + "{\"type\":\"Point\",\"metric\":\"http_reqs\"\n");
    ImportException e = assertThrows(ImportException.class, () -> Importer.check(json, ResultFormat.K6_JSON));
    assertTrue(e.getMessage().startsWith(json + ": line 55: not JSON"), e.getMessage());

    Path undeclared = dir.resolve("undeclared.json");
    Files.writeString(undeclared, "{\"type\":\"Point\",\"metric\":\"mystery\",\"data\":{\"time\":"
        + "\"2024-03-01T10:00:00Z\",\"value\":1,\"tags\":{}}}\n");
    e = assertThrows(ImportException.class, () -> Importer.check(undeclared, ResultFormat.K6_JSON));
    assertTrue(e.getMessage().endsWith("line 1: a point of metric mystery, which no Metric line declared before it (k6"
        + " writes the declaration first)"), e.getMessage());

    Path jtl = dir.resolve("bad.jtl");
    Files.writeString(jtl, "timeStamp,elapsed,label\n1709283600100,15,products\n2024/03/01 10:00:00,15,products\n");
    e = assertThrows(ImportException.class, () -> Importer.check(jtl, ResultFormat.JMETER_JTL));
    assertTrue(e.getMessage().contains("line 3: timeStamp \"2024/03/01 10:00:00\" is not a whole number (JMeter's"
        + " default timestamp format is epoch milliseconds"), e.getMessage());

    Path noHeader = dir.resolve("noheader.jtl");
    Files.writeString(noHeader, "1709283600100,15,products,200\n");
    e = assertThrows(ImportException.class, () -> Importer.check(noHeader, ResultFormat.JMETER_JTL));
    assertTrue(e.getMessage().contains("line 1: a JTL in CSV needs JMeter's header line"), e.getMessage());

    Path xxe = dir.resolve("xxe.jtl");
    Files.writeString(xxe, "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        + "<testResults><httpSample ts=\"1\" t=\"1\" lb=\"&x;\"/></testResults>");
    assertThrows(ImportException.class, () -> Importer.check(xxe, ResultFormat.JMETER_JTL),
        "no DTD, no external entity");

    Path binary = dir.resolve("simulation.log");
    Files.write(binary, new byte[] {0, 1, 2, 3, 'R', 'U', 'N'});
    e = assertThrows(ImportException.class, () -> Importer.check(binary, ResultFormat.GATLING_LOG));
    assertTrue(e.getMessage().contains("Gatling 3.11 and later write a binary log"), e.getMessage());

    Path wrong = dir.resolve("k6-as-jtl.jtl");
    Files.copy(fixture("k6.csv"), wrong);
    e = assertThrows(ImportException.class, () -> Importer.check(wrong, ResultFormat.JMETER_JTL));
    assertTrue(e.getMessage().contains("needs JMeter's header line"), e.getMessage());
  }

  @Test
  void anOverlongLineOrRecordIsRefusedWithItsLineAndNotReadWhole(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("long.json");
    Files.writeString(json, Files.readAllLines(fixture("k6.json")).get(0) + "\n" + "x".repeat(Lines.MAX_CHARS + 1)
        + "\n");
    ImportException e = assertThrows(ImportException.class, () -> Importer.check(json, ResultFormat.K6_JSON));
    assertTrue(e.getMessage().endsWith("line 2: is longer than 1048576 characters: not a result file of this format"),
        e.getMessage());

    Path jtl = dir.resolve("unclosed.jtl");
    StringBuilder b = new StringBuilder("timeStamp,elapsed,label,responseMessage\n1709283600100,15,products,\"open");
    for (int i = 0; i < 20_000; i++) {
      b.append("\n").append("y".repeat(100));
    }
    Files.writeString(jtl, b);
    e = assertThrows(ImportException.class, () -> Importer.check(jtl, ResultFormat.JMETER_JTL));
    assertTrue(e.getMessage().contains("line 2: a record longer than 1048576 characters"), e.getMessage());
  }

  @Test
  void moreDistinctTagSetsThanTheCacheHoldsAreStillEachTheirOwn(@TempDir Path dir) throws Exception {
    int names = Emitter.MAX_TAG_SETS + 20_000;
    StringBuilder b = new StringBuilder("timeStamp,elapsed,label,responseCode\n");
    for (int i = 0; i < names; i++) {
      b.append(1709283600100L + i).append(",5,name-").append(i).append(",200\n");
    }
    Path jtl = dir.resolve("many.jtl");
    Files.writeString(jtl, b);
    Recording r = new Recording();
    Importer.read(jtl, ResultFormat.JMETER_JTL, Map.of(), r);
    assertEquals(names, r.requests.size());
    assertEquals(names, r.requests.stream().map(q -> q.tags().get("name")).distinct().count());
    assertEquals("name-0", r.requests.get(0).tags().get("name"));
    assertEquals("name-" + (names - 1), r.requests.get(names - 1).tags().get("name"));
  }
}
