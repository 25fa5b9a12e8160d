package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.embedded.EmbeddedKafka;
import dev.loadtest.schemas.topics.Topics;
import dev.loadtest.topology.Coordinator;
import dev.loadtest.topology.CoordinatorConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code loadtest submit} against a real broker and coordinator: a plan aimed at a host that is not allowed. */
@Timeout(180)
class SubmitCommandIT {
  @Test
  void aRejectedPlanIsPrintedWithItsErrorsAndExits104(@TempDir Path dir) throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.shared();
    kafka.createTopics(Topics.all().stream().map(t -> new NewTopic(t.name(), t.partitions(), (short) 1)).toList());
    Path plan = dir.resolve("plan.json");
    Files.writeString(plan, """
        {"name": "elsewhere", "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "5s", "exec": "f"}},
         "flows": {"f": {"steps": [{"request": {"url": "https://example.com/", "name": "x"}}]}}}""");
    try (Coordinator c = Coordinator.start(kafka.bootstrapServers(), Files.createDirectories(dir.resolve("state")),
        CoordinatorConfig.defaults())) {
      StringWriter out = new StringWriter();
      CommandLine cli = new CommandLine(new LoadtestCli());
      cli.setOut(new PrintWriter(out, true));
      int code = cli.execute("submit", plan.toString(), "--bootstrap", kafka.bootstrapServers(), "--run-id", "rejected-1");
      assertEquals(104, code, out.toString());
      assertTrue(out.toString().contains("REJECTED"), out.toString());
      assertTrue(out.toString().contains("$.plan.flows.f.steps[0].request.url"), out.toString());
      assertTrue(out.toString().contains("example.com"), out.toString());
    }
  }
}
