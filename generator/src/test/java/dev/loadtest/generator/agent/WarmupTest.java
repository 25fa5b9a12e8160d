package dev.loadtest.generator.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.generator.testing.FakePublisher;
import dev.loadtest.generator.testing.RecordingServer;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.plan.PlanParser;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A generator's warm-up: its own target on 127.0.0.1, nothing published, no trace in heartbeats. */
@Timeout(60)
class WarmupTest {
  @Test
  void warmsUpAgainstItsOwnResponderPublishesNothingAndLeavesNoRunBehind() throws Exception {
    FakePublisher pub = new FakePublisher();
    try (RecordingServer sut = new RecordingServer();
         Generator g = new Generator(GeneratorConfig.of("g-warm", "local", "127.0.0.1:1"), pub)) {
      Duration max = Duration.ofSeconds(6);
      long t0 = System.nanoTime();
      Warmup.Report r = g.warmUp(max);
      long took = System.nanoTime() - t0;

      assertTrue(r.requests() > 1_000, "it sent requests: " + r.describe());
      assertTrue(r.batchesDropped() > 0, "its samples were encoded into batches: " + r.describe());
      assertTrue(r.lastRate() > 0 && r.firstRate() > 0, r.describe());
      assertTrue(took < max.plusSeconds(5).toNanos(), "it ends by its longest time (plus the VUs' ending): "
          + took / 1_000_000 + " ms");
      assertTrue(r.leveledOff() || r.took().compareTo(max.minusMillis(500)) >= 0,
          "it ends when the rate levels off or at its longest time: " + r.describe());
      assertEquals(0, pub.delivered.size(), "nothing reached the generator's publisher");
      assertTrue(sut.seen().isEmpty(), "nothing reached any other server");
      assertTrue(g.heartbeat().runs().isEmpty(), "a warm-up is not a run: " + g.heartbeat().runs());

      // The generator runs a plan as before, on the client the warm-up used.
      RunReport run = g.runLocal("after-warm-up", """
          {"name": "after", "scenarios": {"s": {"executor": "shared-iterations", "vus": 2, "iterations": 20,
            "exec": "f"}},
           "flows": {"f": {"steps": [{"request": {"url": "%s/products", "name": "p", "checks": [{"status": 200}]}}]}}}
          """.formatted(sut.baseUrl()), Map.of(), Path.of("."));
      assertEquals(Heartbeat.RunPhase.FINISHED, run.phase());
      assertEquals(20, sut.seen().size());
      assertEquals(20, pub.deliveredRequests(), "the run's samples are published");
    }
  }

  @Test
  void aWarmUpShorterThanItsRoundsIsRefused() throws Exception {
    try (Generator g = new Generator(GeneratorConfig.of("g", "local", "127.0.0.1:1"), new FakePublisher())) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.warmUp(Duration.ofSeconds(1)));
      assertTrue(e.getMessage().contains("at least 3s"), e.getMessage());
    }
  }

  @Test
  void itsPlanIsAValidPlanAgainstLoopbackOnly() {
    var plan = PlanParser.parse(Warmup.plan(4321, Duration.ofSeconds(5)));
    assertEquals("http", plan.generator().plugin());
    assertTrue(Warmup.plan(4321, Duration.ofSeconds(5)).contains("http://127.0.0.1:4321/"));
  }

  @Test
  void theResponderAnswersSplitAndPipelinedRequestsInOrderAsAWebServerWould() throws Exception {
    try (LoopbackResponder responder = LoopbackResponder.start();
         Socket s = new Socket(InetAddress.getLoopbackAddress(), responder.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      String get = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
      out.write(get.substring(0, 10).getBytes(StandardCharsets.US_ASCII)); // the head in two writes
      out.flush();
      out.write((get.substring(10) + get + get).getBytes(StandardCharsets.US_ASCII)); // and two pipelined
      out.flush();
      String responses = readResponses(s.getInputStream(), 3);
      String[] parts = responses.split("HTTP/1.1 200 OK\r\n", -1);
      assertEquals(4, parts.length, "three responses: " + responses);
      for (int i = 1; i < parts.length; i++) {
        assertTrue(parts[i].contains("Content-Length: " + LoopbackResponder.BODY_BYTES + "\r\n"), parts[i]);
        assertTrue(parts[i].contains("Date: ") && parts[i].contains("Server: "), parts[i]);
        assertEquals(LoopbackResponder.BODY_BYTES, parts[i].substring(parts[i].indexOf("\r\n\r\n") + 4).length());
      }
    }
  }

  @Test
  void theEndOfARequestHeadIsFoundWhereverTheReadsSplitIt() {
    byte[] two = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    LoopbackResponder.Conn c = new LoopbackResponder.Conn();
    int ends = 0;
    int lastEnd = -1;
    for (int i = 0; i < two.length; i++) { // byte by byte: as split as reads can be
      if (c.endOfHead(two[i])) {
        ends++;
        lastEnd = i;
      }
    }
    assertEquals(2, ends);
    assertEquals(two.length - 1, lastEnd);
    LoopbackResponder.Conn d = new LoopbackResponder.Conn();
    for (byte b : "a\r\nb\r\r\n\n".getBytes(StandardCharsets.US_ASCII)) {
      assertTrue(!d.endOfHead(b), "CR CR LF LF is no blank line");
    }
  }

  /** Reads until {@code n} whole responses (head and body of the responder's size) have arrived. */
  private static String readResponses(InputStream in, int n) throws Exception {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (true) {
      String text = got.toString(StandardCharsets.US_ASCII);
      int complete = 0;
      int at = 0;
      while ((at = text.indexOf("\r\n\r\n", at)) >= 0 && text.length() >= at + 4 + LoopbackResponder.BODY_BYTES) {
        complete++;
        at += 4 + LoopbackResponder.BODY_BYTES;
      }
      if (complete >= n) {
        return text;
      }
      int r = in.read(buf);
      if (r < 0) {
        throw new AssertionError("the responder closed the connection after: " + text);
      }
      got.write(buf, 0, r);
    }
  }
}
