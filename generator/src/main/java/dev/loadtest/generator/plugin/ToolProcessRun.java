package dev.loadtest.generator.plugin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the runs of plug-ins that start another tool as a process (Locust, Gatling, k6) share: the process, a
 * graceful stop (SIGTERM: the tools stop their users and exit) and an abort (killed at once), and the tool's
 * problems (it would not start, it failed) reported as the run's failed iterations with their reasons, so that a
 * run whose tool did nothing says why.
 */
public abstract class ToolProcessRun implements PluginRun {
  private static final Logger LOG = LoggerFactory.getLogger(ToolProcessRun.class);
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private final String testRunId;
  protected volatile Process process;
  protected volatile boolean stopping;
  protected volatile boolean aborted;

  protected ToolProcessRun(String testRunId) {
    this.testRunId = testRunId;
  }

  /** A tool's command: the environment variable {@code variable} when set, else {@code fallback} (on the PATH). */
  public static String command(String variable, String fallback) {
    String c = System.getenv(variable);
    return c == null || c.isBlank() ? fallback : c;
  }

  /**
   * A tool's installation check, made once on first use (it starts a process) and remembered: what a plug-in's
   * {@link GeneratorPlugin#unavailable} answers.
   */
  public static final class Availability {
    private final java.util.function.Supplier<java.util.Optional<String>> probe;
    private volatile java.util.Optional<String> answer;

    public Availability(java.util.function.Supplier<java.util.Optional<String>> probe) {
      this.probe = probe;
    }

    public java.util.Optional<String> get() {
      java.util.Optional<String> a = answer;
      if (a == null) {
        a = probe.get();
        answer = a;
      }
      return a;
    }
  }

  /**
   * Whether {@code command versionArg} answers (a tool's installation check for {@link GeneratorPlugin#unavailable}):
   * empty when it exits 0 within 30 s, else why not; {@code missing} is the reason when it cannot start at all, its
   * {@code %s} the system's words.
   */
  public static java.util.Optional<String> probe(String command, String versionArg, String missing) {
    Path out = null;
    try {
      out = Files.createTempFile("probe-", ".out");
      Process p = new ProcessBuilder(command, versionArg).redirectErrorStream(true).redirectOutput(out.toFile())
          .start();
      if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return java.util.Optional.of("\"" + command + " " + versionArg + "\" did not answer within 30 s");
      }
      return p.exitValue() == 0 ? java.util.Optional.empty() : java.util.Optional.of("\"" + command + " " + versionArg
          + "\" failed: " + Files.readString(out).strip());
    } catch (IOException e) {
      return java.util.Optional.of(missing.formatted(e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return java.util.Optional.of("interrupted while looking for " + command);
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException ignored) {
          // a temp file left behind
        }
      }
    }
  }

  /** Notes a problem of the tool (logged; the first five are the run's reasons). */
  protected void problem(String why) {
    LOG.warn("run {}: {}", testRunId, why);
    if (problems.size() < 5) {
      problems.add(why.length() > 400 ? why.substring(0, 400) + "..." : why);
    }
  }

  /** The last lines of a tool's output, for a reason: what went wrong is usually there. */
  protected static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
      if (lines.isEmpty()) {
        return "(no output)";
      }
      // the last line says what went wrong (an exception); the ones before it where
      return lines.get(lines.size() - 1) + " [" + String.join(" | ", lines.subList(Math.max(0, lines.size() - 4),
          lines.size() - 1)) + "]";
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  @Override
  public void stop() {
    stopping = true;
    Process p = process;
    if (p != null) {
      p.destroy();
    }
  }

  @Override
  public void abort() {
    aborted = true;
    stopping = true;
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
    }
  }

  @Override
  public long droppedIterations() {
    return 0;
  }

  @Override
  public long failedIterations() {
    return problems.size();
  }

  @Override
  public List<String> iterationErrors() {
    return List.copyOf(problems);
  }
}
