package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.cli.report.Reports;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * `loadtest demo --exit` end to end on the real stack: the checkout journey against the demo shop from two
 * generators, live progress, a k6-style summary whose request count equals what the shop served, exit 0,
 * and the three reports, the HTML one rendered by headless Chromium with every chart drawn.
 */
class DemoIT {
  @Test
  @Timeout(420)
  void theDemoRunsTheJourneyShowsLiveNumbersAndItsSummaryCountsWhatTheShopServed(@TempDir Path dir) throws Exception {
    CliRun demo = CliRun.of("demo", "--duration", "12s", "--exit", "-o", dir.resolve("summary.json").toString(),
        "-o", dir.resolve("junit.xml").toString(), "-o", dir.resolve("report.html").toString());
    String text = demo.out();
    assertEquals(0, demo.code(), text + demo.err());

    Matcher live = Pattern.compile("(?m)^running\\s+\\d+m\\d\\ds\\s+\\d+/\\d+\\s+VUs\\s+([1-9]\\d*) reqs").matcher(text);
    assertTrue(live.find(), "a progress line with requests while the run goes:\n" + text);
    Matcher counted = Pattern.compile("The shop counted (\\d+) requests; the stored summary counts (\\d+) http_reqs: equal")
        .matcher(text);
    assertTrue(counted.find(), text);
    long served = Long.parseLong(counted.group(1));
    assertEquals(served, Long.parseLong(counted.group(2)));
    assertTrue(served > 100, "12 s of the journey from two generators: " + served);
    assertTrue(text.contains("█ THRESHOLDS") && text.contains("✓ 'p(95)<500'") && text.contains("http_reqs....."), text);
    assertTrue(text.contains("All thresholds passed. (exit code 0)"), text);

    JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
    assertEquals(0, summary.path("exitCode").asInt());
    assertTrue(summary.path("complete").asBoolean(), summary.toString());
    assertEquals(served, summary.path("totals").path("requests").asLong());
    assertEquals(2, summary.path("totals").path("generators").asInt(), "local:eu and local:us");
    long stored = 0;
    for (JsonNode m : summary.path("summary").path("metrics")) {
      if (m.path("metric").asText().equals("http_reqs")) {
        stored = m.path("samples").asLong();
      }
    }
    assertEquals(served, stored);

    Document junit = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("junit.xml").toFile());
    assertEquals("5", junit.getDocumentElement().getAttribute("tests"), "4 thresholds and the run's end");
    assertEquals("0", junit.getDocumentElement().getAttribute("failures"));

    BufferedImage shot = Chromium.screenshot(dir.resolve("report.html"), dir.resolve("report.png"), 1300, 1400);
    for (Reports.Chart chart : Reports.CHARTS) {
      for (Reports.Line line : chart.lines()) {
        long px = Chromium.pixels(shot, line.color(), 40);
        assertTrue(px >= 300, chart.title() + ": the " + line.label() + " line has " + px + " pixels of " + line.color()
            + " (the legend alone has 36)");
      }
    }
    String html = Files.readString(dir.resolve("report.html"));
    assertTrue(html.contains("<table id=\"thresholds\">") && !html.contains("<script"), "self-contained, no script");
  }
}
