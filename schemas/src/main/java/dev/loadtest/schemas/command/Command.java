package dev.loadtest.schemas.command;

import dev.loadtest.schemas.plan.TestPlan;
import java.util.List;
import java.util.Map;

/**
 * A command of {@code loadtest.commands} (JSON, key: testRunId), as parsed by {@link CommandParser}.
 * {@code commandId} makes a command idempotent: the coordinator applies a given id once.
 */
public sealed interface Command {
  String commandId();

  String testRunId();

  /** Start a run of {@code plan}. {@code planJson} is the plan as received, kept for hashing and storage. */
  record Start(String commandId, String testRunId, TestPlan plan, String planJson, Metadata metadata) implements Command {}

  /** Stop gracefully: executors finish their iterations within gracefulStop. */
  record Stop(String commandId, String testRunId, String reason) implements Command {}

  /** Abort at once. */
  record Abort(String commandId, String testRunId, String reason, Source source) implements Command {}

  /**
   * Run {@code plan} on a schedule: a start command of a new run each time {@code rule} says, unless the
   * schedule's previous run still runs. Keyed (and {@link #testRunId}) by the schedule's id.
   */
  record Schedule(String commandId, String scheduleId, TestPlan plan, String planJson, Metadata metadata,
      ScheduleRule rule, String ruleJson) implements Command {
    @Override
    public String testRunId() {
      return scheduleId;
    }
  }

  /** Delete a schedule (runs it started are not touched). Keyed by the schedule's id. */
  record Unschedule(String commandId, String scheduleId) implements Command {
    @Override
    public String testRunId() {
      return scheduleId;
    }
  }

  /**
   * Record a finished test made elsewhere (another tool's results, imported) as a run: its samples were written to
   * {@code loadtest.samples} before this command, under this run id. No generator runs anything.
   *
   * @param plan a plan naming the test (its name, tags, thresholds to judge the imported data by)
   * @param source the format and file it came from, e.g. {@code "jmeter-jtl results.jtl"}
   * @param startedAtMs when the imported test started, epoch milliseconds
   * @param requests the imported requests, as many as the stored run must count
   * @param samples every imported sample (requests and other metrics' points)
   */
  record Import(String commandId, String testRunId, TestPlan plan, String planJson, Metadata metadata, String source,
      long startedAtMs, long endedAtMs, long requests, long samples, long iterations) implements Command {}

  /** Who asked for an abort. */
  enum Source { USER, THRESHOLD, SYSTEM }

  /**
   * Who started a run and how to find it again. {@code loadTest}: the explicit id of the load test the run
   * belongs to ({@code ""}: the load test of its name in its project).
   */
  record Metadata(String name, String project, Map<String, String> tags, String notes, String who, String loadTest) {
    /** What an explicit load-test id looks like; ids starting {@code lt-} are those derived from a name. */
    public static final java.util.regex.Pattern LOAD_TEST_ID = java.util.regex.Pattern.compile(
        "(?!lt-)[A-Za-z0-9][A-Za-z0-9._:-]{0,99}");

    public Metadata {
      tags = Map.copyOf(tags);
      loadTest = loadTest == null ? "" : loadTest; // states written before the field was there
    }

    /** What is wrong with {@code id} as an explicit load-test id, or null when nothing is. */
    public static String loadTestIdProblem(String id) {
      return LOAD_TEST_ID.matcher(id).matches() ? null : "a load test id is 1 to 100 letters, digits and . _ : -,"
          + " starting with a letter or digit, and not with \"lt-\" (the ids derived from a plan's name), got \""
          + (id.length() > 120 ? id.substring(0, 120) + "..." : id) + "\"";
    }

    public Metadata(String name, String project, Map<String, String> tags, String notes, String who) {
      this(name, project, tags, notes, who, "");
    }
  }

  /** Commands as the JSON Schema enumerates them. */
  List<String> TYPES = List.of("start", "stop", "abort", "schedule", "unschedule", "import");
}
