package dev.loadtest.topology;

import static dev.loadtest.topology.CoordinatorDriver.plan;
import static dev.loadtest.topology.CoordinatorDriver.start;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of random and malformed command records: the topology never stops, and every record that is
 * not a valid, applicable command is answered with a rejection that names the problem.
 */
class CommandFuzzTest {
  private static final String[] TYPES = {"start", "stop", "abort", "pause", "", "START"};
  private static final JsonNodeFactory N = JsonNodeFactory.instance;

  @TempDir
  Path stateDir;

  @Test
  void everyRandomRecordIsAnsweredAndTheTopologyGoesOn() {
    SplittableRandom r = new SplittableRandom(2026);
    int inputs = 3_000;
    int validated = 0;
    int rejectedRuns = 0;
    int dlq = 0;
    int quiet = 0;
    try (CoordinatorDriver c = new CoordinatorDriver(CoordinatorConfig.defaults(), stateDir)) {
      for (int i = 0; i < inputs; i++) {
        // Half reuse a few run ids (stops, aborts, repeats of existing runs), half are fresh (new starts).
        String runId = r.nextBoolean() ? "run-" + r.nextInt(40) : "run-u-" + i;
        String value = randomRecord(r, i, runId);
        String key = r.nextInt(20) == 0 ? null : r.nextInt(30) == 0 ? "other" : runId;
        c.commands.pipeInput(key, value);
        List<RunState> states = c.runStates();
        List<JsonNode> rejections = c.rejections();
        for (RunState s : states) {
          if (s.status() == RunStatus.REJECTED) {
            rejectedRuns++;
            assertFalse(s.errors().isEmpty(), "a rejected run says why: " + s.toJson());
            s.errors().forEach(e -> assertTrue(e.path().startsWith("$") && !e.message().isBlank(), e.toString()));
          } else if (s.status() == RunStatus.VALIDATED) {
            validated++;
          }
        }
        for (JsonNode rej : rejections) {
          dlq++;
          assertFalse(rej.get("reason").asText().isBlank(), rej.toString());
        }
        assertFalse(states.isEmpty() && rejections.isEmpty(), "unanswered record " + i + ": " + value);
        if (value != null && value.contains("\"commandId\":\"dup\"") && rejections.stream().anyMatch(
            j -> j.path("reason").asText().contains("was used already"))) {
          quiet++; // a reused command id: answered, without a second effect
        }
      }
      c.commands.pipeInput("final", start("final-c", "final", plan()));
      assertEquals(RunStatus.VALIDATED, c.runStates().get(1).status(), "the coordinator still works");
    }
    System.out.printf("fuzz: %d records -> %d validated, %d rejected runs, %d DLQ, %d reused command ids answered without effect%n",
        inputs, validated, rejectedRuns, dlq, quiet);
    assertTrue(validated > 0 && rejectedRuns > 0 && dlq > 1_000, "the fuzz reaches every kind of answer");
  }

  static String randomRecord(SplittableRandom r, int i, String runId) {
    return switch (r.nextInt(8)) {
      case 0 -> null;
      case 1 -> randomText(r);
      case 2 -> randomJson(r, 0).toString();
      case 3 -> {
        // a real command with one field replaced by something random
        ObjectNode cmd = command(r, i, runId);
        List<String> fields = new ArrayList<>();
        cmd.fieldNames().forEachRemaining(fields::add);
        cmd.set(fields.get(r.nextInt(fields.size())), randomJson(r, 2));
        yield cmd.toString();
      }
      case 4 -> {
        // a start whose plan has one random node replaced
        ObjectNode cmd = (ObjectNode) command(r, i, runId).put("type", "start");
        ObjectNode p = plan();
        mutate(p, r);
        cmd.set("plan", p);
        yield cmd.toString();
      }
      case 5 -> {
        String s = command(r, i, runId).toString();
        yield s.substring(0, r.nextInt(s.length()));
      }
      default -> command(r, i, runId).toString();
    };
  }

  private static ObjectNode command(SplittableRandom r, int i, String runId) {
    ObjectNode c = N.objectNode().put("type", TYPES[r.nextInt(r.nextInt(4) == 0 ? TYPES.length : 3)])
        .put("commandId", r.nextInt(15) == 0 ? "dup" : "c-" + i).put("testRunId", runId);
    if ("start".equals(c.get("type").asText())) {
      c.set("plan", plan());
    } else if (r.nextBoolean()) {
      c.put("reason", "fuzz " + i).put("source", r.nextBoolean() ? "user" : "threshold");
    }
    return c;
  }

  private static void mutate(ObjectNode plan, SplittableRandom r) {
    JsonNode node = plan;
    for (int depth = 0; depth < 6; depth++) {
      List<String> names = new ArrayList<>();
      node.fieldNames().forEachRemaining(names::add);
      if (node instanceof ObjectNode o && !names.isEmpty()) {
        String f = names.get(r.nextInt(names.size()));
        JsonNode child = o.get(f);
        if (!child.isContainerNode() || r.nextInt(3) == 0) {
          if (r.nextInt(4) == 0) {
            o.remove(f);
          } else {
            o.set(f, randomJson(r, 2));
          }
          return;
        }
        node = child;
      } else if (node instanceof ArrayNode a && !a.isEmpty()) {
        int idx = r.nextInt(a.size());
        if (!a.get(idx).isContainerNode() || r.nextInt(3) == 0) {
          a.set(idx, randomJson(r, 2));
          return;
        }
        node = a.get(idx);
      } else {
        return;
      }
    }
  }

  private static JsonNode randomJson(SplittableRandom r, int depth) {
    return switch (depth > 2 ? r.nextInt(5) : r.nextInt(7)) {
      case 0 -> N.nullNode();
      case 1 -> N.numberNode(r.nextInt(5) == 0 ? r.nextDouble() * 1e9 - 5e8 : r.nextInt(-3, 100));
      case 2 -> N.textNode(randomText(r));
      case 3 -> N.booleanNode(r.nextBoolean());
      case 4 -> N.textNode(new String[] {"30s", "-1m", "p(95)<500", "constant-vus", "${ENV.X}", "http://10.0.0.1/"}[r.nextInt(6)]);
      case 5 -> {
        ArrayNode a = N.arrayNode();
        for (int k = r.nextInt(4); k > 0; k--) {
          a.add(randomJson(r, depth + 1));
        }
        yield a;
      }
      default -> {
        ObjectNode o = N.objectNode();
        for (int k = r.nextInt(4); k > 0; k--) {
          o.set(randomText(r), randomJson(r, depth + 1));
        }
        yield o;
      }
    };
  }

  private static String randomText(SplittableRandom r) {
    StringBuilder b = new StringBuilder();
    for (int k = r.nextInt(12); k > 0; k--) {
      b.append((char) (r.nextInt(5) == 0 ? r.nextInt(0x20, 0x3000) : r.nextInt(0x20, 0x7f)));
    }
    return b.toString();
  }
}
