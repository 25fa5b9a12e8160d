package dev.loadtest.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.command.Command;
import dev.loadtest.schemas.command.CommandParser;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.PlanLimits;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.topics.Topics;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Turns each record of loadtest.commands into run states (to loadtest.runs) or a rejection with its
 * reason (to loadtest.dlq). It never throws on a record: whatever arrives is answered.
 *
 * <ul>
 *   <li>A start whose plan or command is invalid, or whose target hosts are not allowed, creates the run
 *       as REJECTED with every error and its JSON path.</li>
 *   <li>A valid start creates the run (CREATED, then VALIDATED), storing its plan with env values redacted
 *       and the plan's hash.</li>
 *   <li>Stop and abort of a run that has not started end it as ABORTED (by the abort's source).</li>
 *   <li>A command id seen before for the run has no second effect; it is answered on the DLQ.</li>
 *   <li>A plan too large for the records that carry it is REJECTED (with {@link PlanLimits} in
 *       validation, this is the last guard), so that no record this processor writes can exceed what
 *       Kafka accepts.</li>
 *   <li>Records that are not commands (no key, not JSON, too large, ...) and commands that cannot apply
 *       (a stop of an unknown run, a second start of a run) go to the DLQ with the reason.</li>
 * </ul>
 * Runs of the same test run id are on one partition (records are keyed by test run id), so the state
 * stores hold everything this processor needs. Kafka Streams runs one instance per task, on one thread.
 */
final class CommandProcessor implements Processor<String, String, String, String> {
  static final String RUNS_STORE = "runs";
  static final String SEEN_STORE = "commands-seen";
  static final String RUNS_SINK = "runs-sink";
  static final String DLQ_SINK = "dlq-sink";
  static final String CONTROL_SINK = "control-sink";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int DLQ_VALUE_LIMIT = 64 * 1024;
  /**
   * The largest record the coordinator writes for a run (under the producer's and broker's default 1 MiB,
   * with room for the history a run's state gathers).
   */
  static final int MAX_RECORD_BYTES = 900_000;

  private final CoordinatorConfig config;
  private ProcessorContext<String, String> context;
  private KeyValueStore<String, String> runs;
  private KeyValueStore<String, Long> seen;

  CommandProcessor(CoordinatorConfig config) {
    this.config = config;
  }

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    this.runs = context.getStateStore(RUNS_STORE);
    this.seen = context.getStateStore(SEEN_STORE);
  }

  @Override
  public void process(Record<String, String> record) {
    String key = record.key();
    String value = record.value();
    if (value == null) {
      reject(record, "the record has no value: a command is a JSON object (start, stop or abort)");
      return;
    }
    if (value.length() > config.maxCommandBytes()) {
      reject(record, "the command is " + value.length() + " characters long; at most " + config.maxCommandBytes()
          + " are accepted");
      return;
    }
    Command command;
    try {
      command = CommandParser.parse(value);
    } catch (InvalidPlanException e) {
      rejectInvalid(record, e.errors());
      return;
    }
    if (key == null || !key.equals(command.testRunId())) {
      reject(record, "commands must be keyed by their testRunId (\"" + command.testRunId() + "\"), the record's key is "
          + (key == null ? "missing" : "\"" + key + "\"") + ": all commands of a run must reach the same partition");
      return;
    }
    boolean aboutSchedule = command instanceof Command.Schedule || command instanceof Command.Unschedule;
    String seenKey = (aboutSchedule ? "schedule:" : "") + command.testRunId() + "/" + command.commandId();
    if (seen.get(seenKey) != null) {
      // A repeated command has no second effect, but it is answered: a retry learns it was applied, and a
      // new command that reused an id learns why nothing happened.
      reject(record, "command id \"" + command.commandId() + "\" was used already for run \"" + command.testRunId()
          + "\": a command id is applied once (a retry of it has no second effect; a new command needs a new id)");
      return;
    }
    seen.put(seenKey, now());
    if (command instanceof Command.Schedule sc) {
      schedule(record, sc);
      return;
    }
    if (command instanceof Command.Unschedule un) {
      ObjectNode event = JSON.createObjectNode().put("event", "unschedule").put("scheduleId", un.scheduleId());
      context.forward(new Record<>(un.scheduleId(), event.toString(), now()), CONTROL_SINK);
      return;
    }
    String existingJson = runs.get(command.testRunId());
    RunState existing = existingJson == null ? null : RunState.fromJson(existingJson);
    switch (command) {
      case Command.Start start -> start(record, start, existing);
      case Command.Stop stop -> end(record, existing, stop.testRunId(), stop.reason(), Command.Source.USER, true);
      case Command.Abort abort -> end(record, existing, abort.testRunId(), abort.reason(), abort.source(), false);
      case Command.Import imp -> importRun(record, imp, existing);
      case Command.Schedule sc -> { } // handled above: schedules have no run state
      case Command.Unschedule un -> { }
    }
  }

  /**
   * A schedule: its plan checked as a start's would be (target hosts, size), then kept by the control
   * processor, which starts its runs. A plan that could not run is refused on the DLQ with every error.
   */
  private void schedule(Record<String, String> record, Command.Schedule sc) {
    List<PlanError> errors = TargetHosts.check(sc.plan(), config, "$.plan");
    if (!errors.isEmpty()) {
      List<String> lines = new ArrayList<>();
      errors.forEach(e -> lines.add(e.toString()));
      reject(record, "schedule \"" + sc.scheduleId() + "\" refused: " + String.join("; ", lines));
      return;
    }
    ObjectNode event = JSON.createObjectNode().put("event", "schedule").put("scheduleId", sc.scheduleId())
        .put("commandId", sc.commandId()).put("plan", sc.planJson()).put("rule", sc.ruleJson());
    ObjectNode meta = event.putObject("metadata").put("name", sc.metadata().name()).put("project",
        sc.metadata().project()).put("notes", sc.metadata().notes()).put("who", sc.metadata().who());
    ObjectNode tags = meta.putObject("tags");
    sc.metadata().tags().forEach(tags::put);
    String json = event.toString();
    if (json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_RECORD_BYTES / 2) {
      reject(record, "schedule \"" + sc.scheduleId() + "\" refused: its plan is too large to keep (at most "
          + MAX_RECORD_BYTES / 2 + " bytes)");
      return;
    }
    context.forward(new Record<>(sc.scheduleId(), json, now()), CONTROL_SINK);
  }

  private void start(Record<String, String> record, Command.Start start, RunState existing) {
    if (existing != null) {
      reject(record, "run \"" + start.testRunId() + "\" exists already (" + existing.status()
          + "); start a new run with a new testRunId");
      return;
    }
    JsonNode planNode = readTreeOrNull(start.planJson());
    String stored = StoredPlans.redacted(planNode);
    String hash = StoredPlans.hash(stored);
    List<PlanError> errors = TargetHosts.check(start.plan(), config, "$.plan");
    long now = now();
    if (!errors.isEmpty()) {
      publish(RunState.first(start.testRunId(), RunStatus.REJECTED, now, errors.size() + " error(s) in the plan",
          errors, hash, stored, start.metadata()));
      return;
    }
    RunState created = RunState.first(start.testRunId(), RunStatus.CREATED, now, "start command " + start.commandId(),
        List.of(), hash, stored, start.metadata());
    RunState validated = created.to(RunStatus.VALIDATED, now, "plan valid: " + start.plan().scenarios().size()
        + " scenario(s)");
    ObjectNode event = JSON.createObjectNode().put("event", "validated").put("testRunId", start.testRunId());
    event.put("state", validated.toJson());
    event.put("plan", start.planJson());
    String eventJson = event.toString();
    int eventBytes = eventJson.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (eventBytes > MAX_RECORD_BYTES) {
      // The plan travels in the run's control event, its stored lifecycle and its states; a record Kafka
      // refuses would stop the coordinator, so such a plan is rejected here, with the numbers.
      publish(RunState.first(start.testRunId(), RunStatus.REJECTED, now, "1 error(s) in the plan",
          List.of(new PlanError("$.plan", "the plan is too large to travel through the coordinator: the run's"
              + " control record would be " + eventBytes + " bytes, at most " + MAX_RECORD_BYTES + " are accepted;"
              + " make the plan smaller (inline feeder data, long descriptions)")), hash, null, start.metadata()));
      return;
    }
    publish(created);
    publish(validated);
    // From here on the run's lifecycle belongs to the control processor (one partition, one writer).
    context.forward(new Record<>(start.testRunId(), eventJson, now), CONTROL_SINK);
  }

  /**
   * An imported test: a finished run at once, its history at the imported test's own times, its totals the
   * importer's counts (what the stored run must add up to). Its samples were written before the command.
   */
  private void importRun(Record<String, String> record, Command.Import imp, RunState existing) {
    if (existing != null) {
      reject(record, "run \"" + imp.testRunId() + "\" exists already (" + existing.status()
          + "); import under a new testRunId");
      return;
    }
    String stored = StoredPlans.redacted(readTreeOrNull(imp.planJson()));
    RunState created = RunState.first(imp.testRunId(), RunStatus.CREATED, imp.startedAtMs(), "import command "
        + imp.commandId(), List.of(), StoredPlans.hash(stored), stored, imp.metadata());
    RunState finished = created.to(RunStatus.RUNNING, imp.startedAtMs(), "imported from " + imp.source())
        .to(RunStatus.FINISHED, imp.endedAtMs(), "imported from " + imp.source() + ": " + imp.requests()
            + " requests")
        .withTotals(new RunState.Totals(imp.requests(), imp.samples(), 0, imp.iterations(), 0, 0, 0));
    publish(created);
    publish(finished);
  }

  private void end(Record<String, String> record, RunState existing, String testRunId, String reason,
      Command.Source source, boolean stop) {
    if (existing == null) {
      reject(record, "there is no run \"" + testRunId + "\"");
      return;
    }
    if (existing.status().terminal()) {
      reject(record, "run \"" + testRunId + "\" has ended already (" + existing.status() + ")");
      return;
    }
    ObjectNode event = JSON.createObjectNode().put("event", stop ? "stop" : "abort").put("testRunId", testRunId);
    event.put("reason", reason).put("source", source.name());
    context.forward(new Record<>(testRunId, event.toString(), now()), CONTROL_SINK);
  }

  /** An invalid command: a start with a usable testRunId becomes a REJECTED run; anything else goes to the DLQ. */
  private void rejectInvalid(Record<String, String> record, List<PlanError> errors) {
    JsonNode tree = readTreeOrNull(record.value());
    String testRunId = tree == null ? null : text(tree, "testRunId");
    boolean start = tree != null && "start".equals(text(tree, "type"));
    if (start && testRunId != null && CommandParser.ID.matcher(testRunId).matches() && testRunId.equals(record.key())
        && runs.get(testRunId) == null) {
      JsonNode plan = tree.get("plan");
      String stored = plan == null || !plan.isObject() ? null : StoredPlans.redacted(plan);
      if (stored != null && stored.length() > PlanLimits.MAX_BYTES) {
        stored = null; // a rejected plan over the limits is not kept: its errors say what was wrong
      }
      publish(RunState.first(testRunId, RunStatus.REJECTED, now(), errors.size() + " error(s) in the command",
          errors, stored == null ? null : StoredPlans.hash(stored), stored, null));
      return;
    }
    List<String> lines = new ArrayList<>();
    errors.forEach(e -> lines.add(e.toString()));
    reject(record, String.join("; ", lines));
  }

  private void reject(Record<String, String> record, String reason) {
    ObjectNode out = JSON.createObjectNode();
    out.put("topic", Topics.COMMANDS);
    context.recordMetadata().ifPresent(m -> out.put("partition", m.partition()).put("offset", m.offset()));
    String key = record.key();
    out.put("key", key != null && key.length() > 1024 ? key.substring(0, 1024) + "...(" + key.length() + " chars)" : key);
    String value = record.value();
    if (value != null && value.length() > DLQ_VALUE_LIMIT) {
      out.put("value", value.substring(0, DLQ_VALUE_LIMIT));
      out.put("valueTruncatedFrom", value.length());
    } else {
      out.put("value", value);
    }
    out.put("reason", reason);
    out.put("atMs", now());
    context.forward(new Record<>(Topics.COMMANDS, out.toString(), record.timestamp()), DLQ_SINK);
  }

  private void publish(RunState state) {
    String json = state.toJson();
    runs.put(state.testRunId(), json);
    context.forward(new Record<>(state.testRunId(), json, now()), RUNS_SINK);
  }

  private long now() {
    return context.currentSystemTimeMs();
  }

  private static JsonNode readTreeOrNull(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      return null;
    }
  }

  private static String text(JsonNode tree, String field) {
    JsonNode v = tree.get(field);
    return v != null && v.isTextual() ? v.asText() : null;
  }
}
