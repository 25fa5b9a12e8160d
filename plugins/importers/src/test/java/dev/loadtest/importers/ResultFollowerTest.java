package dev.loadtest.importers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Following a file a process writes: every line as it comes; an over-long line skipped with its number, not kept. */
class ResultFollowerTest {
  @Test
  void linesComeAsWrittenAndAnOverlongLineIsSkippedWithItsNumber(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("results.log");
    // a writer in two steps with a pause: the follower reads while it runs; line 2 is 2 MiB long
    Process p = new ProcessBuilder("sh", "-c", "printf 'first\\n' > " + out + "; sleep 0.3; head -c 2097152 /dev/zero"
        + " | tr '\\\\0' x >> " + out + "; printf '\\nthird\\nfourth' >> " + out).start();
    List<String> lines = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    ResultFollower.follow(p, () -> Files.exists(out) ? Optional.of(out) : Optional.empty(), "results.log",
        new ResultLines() {
          @Override
          public void line(String line, String where) {
            lines.add(where + ": " + line);
          }

          @Override
          public void end() {
            lines.add("end");
          }

          @Override
          public long requests() {
            return 0;
          }
        }, problems::add);
    assertEquals(0, p.waitFor());
    assertEquals(List.of("results.log line 1: first", "results.log line 3: third", "results.log line 4: fourth", "end"),
        lines, "a last line without its newline is a record all the same");
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("results.log line 2: longer than 1048576 characters: skipped"),
        problems.get(0));
  }
}
