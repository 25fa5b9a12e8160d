package dev.loadtest.importers;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Follows a result file while the tool that writes it runs (as {@code tail -f} would): each complete line to a
 * {@link ResultLines} as soon as it is in the file, until the tool has ended and the file is read to its end. A line
 * that cannot be read, or is longer than {@link Lines#MAX_CHARS}, is reported to {@code problem} and skipped: one bad
 * record does not end a run.
 */
public final class ResultFollower {
  private ResultFollower() {}

  /**
   * @param file the result file once the tool has created it (empty before)
   * @param what names the file in a line's error ("simulation.log")
   */
  public static void follow(Process tool, Supplier<Optional<Path>> file, String what, ResultLines lines,
      Consumer<String> problem) throws IOException, InterruptedException {
    Path path = null;
    long offset = 0;
    long lineNo = 0;
    StringBuilder partial = new StringBuilder();
    boolean skipping = false;
    byte[] buf = new byte[1 << 16];
    while (true) {
      boolean alive = tool.isAlive();
      if (path == null) {
        path = file.get().orElse(null);
      }
      int read = 0;
      if (path != null) {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
          f.seek(offset);
          int n;
          while ((n = f.read(buf)) > 0) {
            offset += n;
            read += n;
            partial.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            int nl;
            if (partial.indexOf("\n") < 0 && partial.length() > Lines.MAX_CHARS) {
              problem.accept(what + " line " + (lineNo + 1) + ": longer than " + Lines.MAX_CHARS
                  + " characters: skipped");
              partial.setLength(0);
              skipping = true;
            }
            while ((nl = partial.indexOf("\n")) >= 0) {
              String line = partial.substring(0, nl);
              partial.delete(0, nl + 1);
              lineNo++;
              if (skipping) {
                skipping = false; // the rest of the over-long line
                continue;
              }
              try {
                lines.line(line, what + " line " + lineNo);
              } catch (ImportException e) {
                problem.accept(e.getMessage());
              }
            }
          }
        }
      }
      if (!alive && read == 0) {
        break;
      }
      if (read == 0) {
        Thread.sleep(50);
      }
    }
    if (!partial.isEmpty() && !skipping) {
      // the tool ended without ending its last line: it is a record all the same
      try {
        lines.line(partial.toString(), what + " line " + (lineNo + 1));
      } catch (ImportException e) {
        problem.accept(e.getMessage());
      }
    }
    lines.end();
  }
}
