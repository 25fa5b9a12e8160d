package dev.loadtest.schemas.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.loadtest.schemas.command.Command;
import dev.loadtest.schemas.plan.PlanError;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The state of one test run: the value of loadtest.runs (JSON, key: testRunId, compacted), written by
 * the coordinator only. Immutable; each change makes a new state with one more history entry and a
 * higher {@code version}.
 *
 * @param history every transition with its time and reason, oldest first
 * @param errors why a start was rejected, each with its JSON path (empty otherwise)
 * @param planHash SHA-256 of the plan in canonical form (sorted keys), to compare runs of the same plan
 * @param version 1 for the first state, +1 per change
 * @param verdict the thresholds' results from {@code loadtest.thresholds}, once any has come (null before)
 * @param totals what the generators sent, once every one of them has reported its end (null before); may
 *     come after the run's terminal state, in a later version
 * @param warnings what went wrong without ending the run and must not pass unseen (iterations failing for
 *     a reason of the plan or a generator, not of the system under test), at most {@link #MAX_WARNINGS}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunState(String testRunId, RunStatus status, List<Transition> history, List<PlanError> errors,
    String planHash, String plan, Command.Metadata metadata, String abortSource, long version, Verdict verdict, Totals totals,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> warnings) {

  /** Warnings kept per run; later ones are dropped (the first say what to fix). */
  public static final int MAX_WARNINGS = 10;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  public RunState {
    Objects.requireNonNull(testRunId, "testRunId");
    Objects.requireNonNull(status, "status");
    history = List.copyOf(history);
    errors = List.copyOf(errors);
    warnings = warnings == null ? List.of() : List.copyOf(warnings);
  }

  public RunState(String testRunId, RunStatus status, List<Transition> history, List<PlanError> errors,
      String planHash, String plan, Command.Metadata metadata, String abortSource, long version, Verdict verdict,
      Totals totals) {
    this(testRunId, status, history, errors, planHash, plan, metadata, abortSource, version, verdict, totals, List.of());
  }

  /** One step of the lifecycle. */
  public record Transition(RunStatus status, long atMs, String reason) {}

  /** The first state of a run. */
  public static RunState first(String testRunId, RunStatus status, long atMs, String reason, List<PlanError> errors,
      String planHash, String plan, Command.Metadata metadata) {
    return new RunState(testRunId, status, List.of(new Transition(status, atMs, reason)), errors, planHash, plan,
        metadata, null, 1, null, null);
  }

  /** This state moved to {@code next}. */
  public RunState to(RunStatus next, long atMs, String reason) {
    List<Transition> h = new ArrayList<>(history);
    h.add(new Transition(next, atMs, reason));
    return new RunState(testRunId, next, h, errors, planHash, plan, metadata, abortSource, version + 1, verdict, totals,
        warnings);
  }

  /** This state moved to ABORTED by {@code source}. */
  public RunState aborted(long atMs, String reason, Command.Source source) {
    RunState r = to(RunStatus.ABORTED, atMs, reason);
    return new RunState(r.testRunId, r.status, r.history, r.errors, r.planHash, r.plan, r.metadata,
        source.name().toLowerCase(java.util.Locale.ROOT), r.version, r.verdict, r.totals, r.warnings);
  }

  /** This state with a new verdict (a new version; the status stays). */
  public RunState withVerdict(Verdict v) {
    return new RunState(testRunId, status, history, errors, planHash, plan, metadata, abortSource, version + 1, v, totals,
        warnings);
  }

  /** Why the run is in its state: the reason of its last transition ("" without history). */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public String lastReason() {
    return history.isEmpty() ? "" : Objects.requireNonNullElse(history.get(history.size() - 1).reason(), "");
  }

  /** This state as version {@code v} (when several changes are saved as one). */
  public RunState withVersion(long v) {
    return new RunState(testRunId, status, history, errors, planHash, plan, metadata, abortSource, v, verdict, totals,
        warnings);
  }

  /** This state with the generators' totals (a new version; the status stays). */
  public RunState withTotals(Totals t) {
    return new RunState(testRunId, status, history, errors, planHash, plan, metadata, abortSource, version + 1,
        verdict, t, warnings);
  }

  /**
   * This state with one more warning (a new version; the status stays), or this state when it has the
   * warning already or has {@link #MAX_WARNINGS}.
   */
  public RunState withWarning(String warning) {
    if (warnings.contains(warning) || warnings.size() >= MAX_WARNINGS) {
      return this;
    }
    List<String> w = new ArrayList<>(warnings);
    w.add(warning);
    return new RunState(testRunId, status, history, errors, planHash, plan, metadata, abortSource, version + 1,
        verdict, totals, w);
  }

  /**
   * What the generators of a run sent, summed over those that reported their end: the stored data of a
   * finished run is complete when it holds {@code requests} HTTP requests ({@code http_reqs}) and
   * {@code samples} samples in all.
   *
   * @param generators how many generators reported
   * @param lost how many allocated generators were lost before reporting (their samples are not counted)
   * @param failedIterations of {@code iterations}, those that failed for a reason of the plan or a generator,
   *     not of the system under test (they made no request)
   * @param iterationErrors the first distinct reasons of those failures, a few at most
   */
  public record Totals(long requests, long samples, long undelivered, long iterations, long droppedIterations,
      int generators, int lost, long failedIterations, List<String> iterationErrors) {

    /** Most distinct reasons of failed iterations kept in the totals. */
    public static final int MAX_ITERATION_ERRORS = 10;

    public Totals {
      iterationErrors = iterationErrors == null ? List.of() : List.copyOf(iterationErrors);
    }

    public Totals(long requests, long samples, long undelivered, long iterations, long droppedIterations,
        int generators, int lost) {
      this(requests, samples, undelivered, iterations, droppedIterations, generators, lost, 0, List.of());
    }
  }

  /**
   * Which thresholds passed and failed, and which had no data (each as {@code metric: expression}).
   *
   * @param complete whether every result is the final one, judged on all of the run's data
   * @param partial every result is final, but some were judged without all of the run's data (see
   *     {@code ThresholdResult#partial}): the verdict will not become complete
   */
  public record Verdict(List<String> passed, List<String> failed, List<String> noData, boolean complete,
      boolean partial) {
    public Verdict {
      passed = List.copyOf(passed);
      failed = List.copyOf(failed);
      noData = List.copyOf(noData);
    }

    public Verdict(List<String> passed, List<String> failed, List<String> noData, boolean complete) {
      this(passed, failed, noData, complete, false);
    }

    /** Passed when nothing failed and nothing lacked data (k6's rule, with NO_DATA counted as failed). */
    public boolean ok() {
      return failed.isEmpty() && noData.isEmpty();
    }
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a run state is always writable", e);
    }
  }

  public static RunState fromJson(String json) {
    try {
      return JSON.readValue(json, RunState.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a run state: " + e.getOriginalMessage(), e);
    }
  }
}
