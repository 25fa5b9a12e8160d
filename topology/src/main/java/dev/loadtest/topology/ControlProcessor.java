package dev.loadtest.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.command.Command;
import dev.loadtest.schemas.generator.Assignment;
import dev.loadtest.schemas.generator.GeneratorJson;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.plan.PlanParser;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import dev.loadtest.schemas.topics.Topics;
import dev.loadtest.topology.allocation.ExecutionPlanner;
import dev.loadtest.topology.allocation.GeneratorRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The run lifecycle from VALIDATED on, with the generator registry, on one partition: every run and
 * every generator passes through this one processor, so allocation has a single writer and never
 * gives a generator to two runs.
 *
 * <p>Inputs: control events from {@link CommandProcessor} (a validated run with its plan, stop, abort)
 * on {@link CoordinatorTopology#CONTROL_TOPIC}, and heartbeats from {@code loadtest.generators}. A
 * wall-clock punctuation every second marks silent generators lost and starts queued runs.
 *
 * <p>Transitions: VALIDATED to ALLOCATED (start assignments with one start time for all generators) or
 * QUEUED (with the reason, until generators are free); ALLOCATED to RUNNING on the first heartbeat that
 * shows the run running; RUNNING to FINISHED when every generator of the run has finished; a stop sends
 * stop assignments (the run finishes when its generators do); an abort sends abort assignments and ends
 * the run ABORTED at once; a generator that fails the run, or the loss of all of a run's generators,
 * ends it FAILED; the loss of some ends it ABORTED (source system) when the plan says
 * {@code onGeneratorLoss: abort}, and is recorded in its history otherwise.
 */
final class ControlProcessor implements Processor<String, String, String, String> {
  static final String LIFECYCLE_STORE = "lifecycle";
  static final String REGISTRY_STORE = "registry";
  /** The ids of runs that have not ended: what the per-second checks look at, however many runs have ended. */
  static final String ACTIVE_STORE = "active-runs";
  static final String ASSIGNMENTS_SINK = "assignments-sink";
  static final String CONTROL_RUNS_SINK = "control-runs-sink";
  static final String CONTROL_DLQ_SINK = "control-dlq-sink";
  /** Start commands of scheduled runs. */
  static final String SCHEDULED_COMMANDS_SINK = "scheduled-commands-sink";
  /** Schedules' states. */
  static final String SCHEDULES_SINK = "schedules-sink";
  /** Generators get this long between their assignment and the common start. */
  static final Duration START_LEAD = Duration.ofSeconds(3);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Duration lostAfter;
  /** When this instance last ticked (every second, unless its thread is held up), and listens since when. */
  private long lastTickMs;
  private long listeningSinceMs;
  private final CoordinatorConfig config;
  private ProcessorContext<String, String> context;
  private KeyValueStore<String, String> lifecycle;
  private KeyValueStore<String, String> registry;
  private KeyValueStore<String, String> active;
  private ScheduleBook schedules;
  /** Parsed plans of active runs: a cache of what the lifecycle store holds as text. */
  private final java.util.Map<String, TestPlan> plans = new java.util.HashMap<>();

  ControlProcessor(CoordinatorConfig config) {
    this.config = config;
    this.lostAfter = config.lostAfter();
  }

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    this.lifecycle = context.getStateStore(LIFECYCLE_STORE);
    this.registry = context.getStateStore(REGISTRY_STORE);
    this.active = context.getStateStore(ACTIVE_STORE);
    this.schedules = new ScheduleBook(context.getStateStore(ScheduleBook.STORE));
    context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, this::tick);
    // this instance listens from now on (it may have just taken the generators over from another coordinator)
    lastTickMs = context.currentSystemTimeMs();
    listeningSinceMs = lastTickMs;
  }

  @Override
  public void process(Record<String, String> record) {
    boolean fromGenerators = context.recordMetadata().map(m -> Topics.GENERATORS.equals(m.topic())).orElse(false);
    if (fromGenerators) {
      heartbeat(record);
      return;
    }
    JsonNode event;
    try {
      event = JSON.readTree(record.value());
    } catch (Exception e) {
      return; // only the coordinator's own processors write the control topic
    }
    if (event == null || !event.isObject()) {
      return;
    }
    switch (event.path("event").asText()) {
      case "validated" -> validated(event);
      case "stop" -> stop(event.path("testRunId").asText(), record);
      case "threshold" -> threshold(event.path("result").asText());
      case "abort" -> abort(event.path("testRunId").asText(), event.path("reason").asText(),
          Command.Source.valueOf(event.path("source").asText("USER").toUpperCase(Locale.ROOT)), record);
      case "schedule" -> {
        ObjectNode state = schedules.put(event, now());
        context.forward(new Record<>(state.path("scheduleId").asText(), state.toString(), now()), SCHEDULES_SINK);
      }
      case "unschedule" -> {
        String id = event.path("scheduleId").asText();
        if (schedules.remove(id)) {
          context.forward(new Record<>(id, (String) null, now()), SCHEDULES_SINK); // a tombstone
        } else {
          reject(record, Topics.COMMANDS, "there is no schedule \"" + id + "\"");
        }
      }
      default -> { }
    }
  }

  // ----- events

  private void validated(JsonNode event) {
    RunState state = RunState.fromJson(event.get("state").asText());
    ObjectNode entry = JSON.createObjectNode();
    entry.put("plan", event.get("plan").asText());
    entry.put("queuedAtMs", now());
    entry.put("thresholdCount", plan(state.testRunId(), entry).thresholds().size());
    entry.put("state", state.toJson()); // published already by the command processor
    entry.put("version", state.version());
    lifecycle.put(state.testRunId(), entry.toString());
    active.put(state.testRunId(), "");
    tryAllocate(state.testRunId(), entry, state);
  }

  private void heartbeat(Record<String, String> record) {
    String json = record.value();
    if (json == null) {
      // A tombstone: the generator has left. No new run goes to it; one it is running learns of it as of a
      // lost generator, after its silence (its last heartbeats may still be on their way).
      String id = record.key();
      if (id != null && registry.get(id) != null && !busyGenerators().contains(id)) {
        registry.delete(id);
      }
      return;
    }
    Heartbeat h;
    try {
      h = GeneratorJson.parseHeartbeat(json);
    } catch (IllegalArgumentException e) {
      reject(record, Topics.GENERATORS, e.getMessage());
      return;
    }
    ObjectNode g = JSON.createObjectNode();
    g.put("heartbeat", json);
    g.put("lastSeenMs", now());
    registry.put(h.generatorId(), g.toString());
    for (Heartbeat.RunProgress p : h.runs()) {
      String raw = lifecycle.get(p.testRunId());
      if (raw == null) {
        continue;
      }
      ObjectNode entry = entry(raw);
      RunState state = state(entry);
      if (!allocated(entry).contains(h.generatorId())) {
        continue;
      }
      state = withIterationWarnings(state, h.generatorId(), p);
      if (state.status().terminal()) {
        // a generator's last report may come after the run ended (an abort ends it at once)
        save(entry, withTotals(entry, state, h.generatorId(), p));
        continue;
      }
      ((ObjectNode) entry.with("phases")).put(h.generatorId(), p.phase().name());
      // what each generator said it had sent: what a lost one is known to have delivered
      ((ObjectNode) entry.with("sent")).put(h.generatorId(), p.requests());
      if (p.phase() == Heartbeat.RunPhase.FAILED) {
        String id = state.testRunId();
        state = state.to(RunStatus.FAILED, now(), "generator " + h.generatorId() + " failed: " + p.message());
        sendToAll(entry, id, g2 -> new Assignment.Abort(id, g2, "the run failed on another generator"));
      } else if (state.status() == RunStatus.ALLOCATED && p.phase() != Heartbeat.RunPhase.WAITING) {
        // The generators began at the start time they were given, not when this heartbeat arrived (up to a
        // heartbeat interval later): a run's time range must hold its first seconds.
        long startAt = entry.path("startAtMs").asLong(Long.MAX_VALUE);
        state = state.to(RunStatus.RUNNING, Math.min(now(), startAt), "generator " + h.generatorId() + " started");
      }
      if (!state.status().terminal() && allDone(entry)) {
        state = state.to(RunStatus.FINISHED, now(), finishedReason(entry));
      }
      save(entry, withTotals(entry, state, h.generatorId(), p));
    }
  }

  /**
   * A warning on the run for each reason a generator gives for iterations that failed for a reason of the
   * plan or of the generator (they make no request, so a VU failing every iteration would otherwise pass
   * for a quiet one): said while the run goes on, once per generator and reason.
   */
  static RunState withIterationWarnings(RunState state, String generatorId, Heartbeat.RunProgress p) {
    for (String reason : p.iterationErrors()) {
      state = state.withWarning("iterations fail on generator " + generatorId + " (the plan's or the generator's"
          + " fault, not the system under test's): " + reason);
    }
    return state;
  }

  /**
   * Records a generator's final counts once it reports the end of its part, and gives the state its
   * {@link RunState.Totals} when every allocated generator has reported or is lost (else {@code state}).
   */
  private static RunState withTotals(ObjectNode entry, RunState state, String generatorId, Heartbeat.RunProgress p) {
    boolean ended = p.phase() == Heartbeat.RunPhase.FINISHED || p.phase() == Heartbeat.RunPhase.ABORTED
        || p.phase() == Heartbeat.RunPhase.FAILED;
    ObjectNode reported = (ObjectNode) entry.with("totals");
    if (!ended || reported.has(generatorId)) {
      return state;
    }
    reported.putArray(generatorId).add(p.requests()).add(p.samples()).add(p.undeliveredSamples()).add(p.iterations())
        .add(p.droppedIterations()).add(p.failedIterations());
    if (!p.iterationErrors().isEmpty()) {
      ArrayNode reasons = (ArrayNode) entry.withArray("iterationErrors");
      Set<String> have = new HashSet<>();
      reasons.forEach(r -> have.add(r.asText()));
      for (String reason : p.iterationErrors()) {
        if (reasons.size() < RunState.Totals.MAX_ITERATION_ERRORS && have.add(reason)) {
          reasons.add(reason);
        }
      }
    }
    return withTotals(entry, state);
  }

  /** {@code state} with its totals when every allocated generator has reported its end or is lost. */
  private static RunState withTotals(ObjectNode entry, RunState state) {
    JsonNode reported = entry.path("totals");
    if (state.totals() != null || reported.isMissingNode()) {
      return state;
    }
    long[] sum = new long[6];
    int lost = 0;
    for (String g : allocated(entry)) {
      JsonNode t = reported.get(g);
      if (t == null) {
        if (!"LOST".equals(entry.path("phases").path(g).asText())) {
          return state; // not all in yet
        }
        lost++;
        continue;
      }
      for (int i = 0; i < sum.length; i++) {
        sum[i] += t.path(i).asLong(); // entries saved before failed iterations were counted have 5 numbers
      }
    }
    List<String> reasons = new ArrayList<>();
    entry.path("iterationErrors").forEach(r -> reasons.add(r.asText()));
    return state.withTotals(new RunState.Totals(sum[0], sum[1], sum[2], sum[3], sum[4], reported.size(), lost, sum[5],
        reasons));
  }

  /** The lifecycle entry of a run that has not ended, or null after sending the command to the DLQ. */
  private ObjectNode activeOrReject(String testRunId, Record<String, String> record) {
    String raw = lifecycle.get(testRunId);
    ObjectNode entry = raw == null ? null : entry(raw);
    RunState state = entry == null ? null : state(entry);
    if (state == null || state.status().terminal()) {
      reject(record, state == null ? "there is no run \"" + testRunId + "\""
          : "run \"" + testRunId + "\" has ended already (" + state.status() + ")");
      return null;
    }
    return entry;
  }

  private void stop(String testRunId, Record<String, String> record) {
    ObjectNode entry = activeOrReject(testRunId, record);
    if (entry == null) {
      return;
    }
    RunState state = state(entry);
    if (state.status() == RunStatus.VALIDATED || state.status() == RunStatus.QUEUED) {
      save(entry, state.aborted(now(), "stopped before it started", Command.Source.USER));
      return;
    }
    sendToAll(entry, testRunId, g -> new Assignment.Stop(testRunId, g));
    entry.put("stopping", true);
    save(entry, state);
  }

  private void abort(String testRunId, String reason, Command.Source source, Record<String, String> record) {
    ObjectNode entry = activeOrReject(testRunId, record);
    if (entry == null) {
      return;
    }
    RunState state = state(entry);
    String why = reason.isEmpty() ? "aborted by " + source.name().toLowerCase(Locale.ROOT) : reason;
    sendToAll(entry, testRunId, g -> new Assignment.Abort(testRunId, g, why));
    save(entry, state.aborted(now(), why, source));
  }

  /**
   * A threshold's state from the threshold job: kept with the run, and the run's verdict follows, also
   * after the run has ended (final results come once the watermark has passed its end).
   */
  private void threshold(String json) {
    dev.loadtest.schemas.threshold.ThresholdResult r;
    try {
      r = dev.loadtest.schemas.threshold.ThresholdResult.fromJson(json);
    } catch (IllegalArgumentException e) {
      return; // the forwarder only passes what it could read; nothing else writes here
    }
    String raw = lifecycle.get(r.testRunId());
    if (raw == null) {
      return; // e.g. a re-analysis of a run this coordinator never ran
    }
    ObjectNode entry = entry(raw);
    ObjectNode results = (ObjectNode) entry.with("thresholds");
    results.putObject(r.threshold()).put("state", r.state().name()).put("final", r.finalResult())
        .put("partial", r.partial());
    List<String> passed = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    List<String> noData = new ArrayList<>();
    boolean allFinal = true;
    boolean partial = false;
    for (var it = results.properties().iterator(); it.hasNext(); ) {
      var e = it.next();
      partial |= e.getValue().path("partial").asBoolean();
      switch (e.getValue().path("state").asText()) {
        case "PASSED" -> passed.add(e.getKey());
        case "FAILED" -> failed.add(e.getKey());
        default -> noData.add(e.getKey());
      }
      allFinal &= e.getValue().path("final").asBoolean();
    }
    int expected = entry.path("thresholdCount").asInt();
    boolean allIn = allFinal && results.size() >= expected;
    RunState.Verdict v = new RunState.Verdict(passed, failed, noData, allIn && !partial, allIn && partial);
    RunState state = state(entry);
    save(entry, v.equals(state.verdict()) ? state : state.withVerdict(v));
  }

  // ----- time

  private void tick(long nowMs) {
    ScheduleBook.Fired fired = schedules.due(nowMs, id -> {
      String raw = lifecycle.get(id);
      return raw == null ? null : state(entry(raw)).status();
    });
    fired.starts().forEach(kv -> context.forward(new Record<>(kv.key, kv.value, nowMs), SCHEDULED_COMMANDS_SINK));
    fired.states().forEach(st -> context.forward(new Record<>(st.path("scheduleId").asText(), st.toString(), nowMs),
        SCHEDULES_SINK));
    // Silence counts only while this coordinator was listening: since it started (it may have just taken the
    // generators over from another coordinator, with their last heartbeats from before) or since its first
    // tick after a gap longer than the limit itself (its thread was held up: a broker failing over under its
    // transactions, a machine out of CPU), so that the heartbeats waiting for it are read before it judges.
    if (nowMs - lastTickMs > lostAfter.toMillis()) {
      listeningSinceMs = nowMs;
    }
    lastTickMs = nowMs;
    GeneratorRegistry reg = registry();
    List<String> lost = reg.expire(nowMs, listeningSinceMs);
    if (!lost.isEmpty()) {
      for (String id : lost) {
        registry.delete(id);
      }
      lostGenerators(new HashSet<>(lost));
    }
    // Queued runs start in the order they were queued, as soon as generators are free.
    List<KeyValue<Long, String>> queued = new ArrayList<>();
    for (KeyValue<String, ObjectNode> kv : activeEntries()) {
      if (state(kv.value).status() == RunStatus.QUEUED) {
        queued.add(KeyValue.pair(kv.value.path("queuedAtMs").asLong(), kv.key));
      }
    }
    queued.sort((a, b) -> Long.compare(a.key, b.key));
    for (KeyValue<Long, String> q : queued) {
      ObjectNode entry = entry(lifecycle.get(q.value));
      RunState state = state(entry);
      if (nowMs - q.key > config.maxQueueTime().toMillis()) {
        save(entry, state.to(RunStatus.FAILED, nowMs, "queued for longer than " + config.maxQueueTime().toMinutes()
            + " min: " + state.lastReason()));
      } else {
        tryAllocate(q.value, entry, state);
      }
    }
    overdue(nowMs);
  }

  /** No run stays RUNNING forever: past its plan's longest possible time (plus a minute) it FAILS. */
  private void overdue(long nowMs) {
    for (KeyValue<String, ObjectNode> kv : activeEntries()) {
      ObjectNode entry = kv.value;
      RunState state = state(entry);
      if ((state.status() == RunStatus.ALLOCATED || state.status() == RunStatus.RUNNING)
          && nowMs > entry.path("deadlineMs").asLong(Long.MAX_VALUE)) {
        String id = state.testRunId();
        sendToAll(entry, id, g -> new Assignment.Abort(id, g, "the run overran its plan"));
        save(entry, state.to(RunStatus.FAILED, nowMs, "still not finished " + Duration.ofMillis(nowMs
            - entry.path("startAtMs").asLong()).toSeconds() + " s after its start, past the plan's longest possible"
            + " time; its generators were told to abort"));
      }
    }
  }

  /**
   * The longest a plan can run: each scenario's startTime, its longest time and its gracefulStop; and, for a
   * generator plug-in that runs its own timeline (the synthetic plug-in, another tool's script), its
   * {@code duration} or {@code maxDuration} option plus 30 s, when it has one.
   */
  static Duration longest(TestPlan plan) {
    Duration max = pluginDuration(plan);
    for (dev.loadtest.schemas.plan.Scenario s : plan.scenarios().values()) {
      Duration d = switch (s.executor()) {
        case dev.loadtest.schemas.plan.Scenario.ConstantVus c -> c.duration();
        case dev.loadtest.schemas.plan.Scenario.RampingVus r -> r.stages().stream().map(
            dev.loadtest.schemas.plan.Scenario.Stage::duration).reduce(Duration.ZERO, Duration::plus)
            .plus(r.gracefulRampDown() == null ? Duration.ofSeconds(30) : r.gracefulRampDown());
        case dev.loadtest.schemas.plan.Scenario.ConstantArrivalRate c -> c.duration();
        case dev.loadtest.schemas.plan.Scenario.RampingArrivalRate r -> r.stages().stream().map(
            dev.loadtest.schemas.plan.Scenario.Stage::duration).reduce(Duration.ZERO, Duration::plus);
        case dev.loadtest.schemas.plan.Scenario.PerVuIterations p ->
            p.maxDuration() == null ? Duration.ofMinutes(10) : p.maxDuration();
        case dev.loadtest.schemas.plan.Scenario.SharedIterations x ->
            x.maxDuration() == null ? Duration.ofMinutes(10) : x.maxDuration();
      };
      Duration total = (s.startTime() == null ? Duration.ZERO : s.startTime()).plus(d)
          .plus(s.gracefulStop() == null ? Duration.ofSeconds(30) : s.gracefulStop());
      max = total.compareTo(max) > 0 ? total : max;
    }
    return max;
  }

  /**
   * A plug-in's own {@code duration} or {@code maxDuration} option plus 30 s; without one, 10 minutes and 30 s for a
   * plan with no scenarios of its own (the default {@code maxDuration} of the plug-ins that run other tools'
   * scripts), else zero.
   */
  static Duration pluginDuration(TestPlan plan) {
    if (plan.generator() == null || "http".equals(plan.generator().plugin())) {
      return Duration.ZERO;
    }
    Duration longest = plan.scenarios().isEmpty() ? Duration.ofMinutes(10).plusSeconds(30) : Duration.ZERO;
    try {
      JsonNode options = JSON.readTree(plan.generator().optionsJson());
      for (String field : List.of("duration", "maxDuration")) {
        JsonNode v = options.path(field);
        if (v.isTextual()) {
          Duration d = dev.loadtest.schemas.time.Durations.parse(v.asText()).plusSeconds(30);
          longest = d.compareTo(longest) > 0 ? d : longest;
        }
      }
    } catch (IOException | RuntimeException e) {
      // a plug-in's options are checked by the plug-in; unreadable ones add nothing here
    }
    return longest;
  }

  private void lostGenerators(Set<String> lost) {
    for (KeyValue<String, ObjectNode> kv : activeEntries()) {
      ObjectNode entry = kv.value;
      RunState state = state(entry);
      if (state.status() != RunStatus.ALLOCATED && state.status() != RunStatus.RUNNING) {
        continue;
      }
      List<String> mine = allocated(entry).stream().filter(lost::contains).toList();
      if (mine.isEmpty()) {
        continue;
      }
      ObjectNode phases = (ObjectNode) entry.with("phases");
      mine.forEach(g -> phases.put(g, "LOST"));
      boolean allLost = allocated(entry).stream().allMatch(g -> "LOST".equals(phases.path(g).asText()));
      TestPlan plan = plan(state.testRunId(), entry);
      JsonNode sent = entry.path("sent");
      String what = "generator(s) " + String.join(", ", mine) + " lost (no heartbeat for " + lostAfter.toSeconds()
          + " s; " + String.join(", ", mine.stream().map(g -> g + (sent.has(g) ? " had sent " + sent.path(g).asLong()
          + " requests" : " had sent nothing yet")).toList()) + ")";
      if (allLost) {
        state = state.to(RunStatus.FAILED, now(), "all generators lost: " + what);
      } else if (plan.onGeneratorLoss() == TestPlan.GeneratorLossPolicy.ABORT) {
        String id = state.testRunId();
        sendToAll(entry, id, g -> new Assignment.Abort(id, g, what));
        state = state.aborted(now(), what + "; the plan aborts on generator loss", Command.Source.SYSTEM);
      } else {
        state = state.to(state.status(), now(), what + "; going on degraded with the others")
            .withWarning("degraded: " + what + " at " + java.time.Instant.ofEpochMilli(now()) + "; the results hold what"
                + " it delivered before, the plan's load was not fully applied");
        if (allDone(entry)) {
          state = state.to(RunStatus.FINISHED, now(), finishedReason(entry));
        }
      }
      save(entry, withTotals(entry, state));
    }
  }

  // ----- allocation

  private void tryAllocate(String testRunId, ObjectNode entry, RunState state) {
    TestPlan plan = plan(testRunId, entry);
    long running = runningRuns();
    ExecutionPlanner.Decision d = running >= config.maxConcurrentRuns()
        ? new ExecutionPlanner.Wait(running + " runs are running, the limit is " + config.maxConcurrentRuns())
        : ExecutionPlanner.plan(plan, registry(), busyGenerators());
    switch (d) {
      case ExecutionPlanner.Wait w -> {
        if (state.status() != RunStatus.QUEUED || !state.lastReason().equals(w.reason())) {
          save(entry, state.to(RunStatus.QUEUED, now(), w.reason()));
        }
      }
      case ExecutionPlanner.Allocation a -> {
        long startAt = now() + START_LEAD.toMillis();
        ArrayNode gens = entry.putArray("generators");
        List<String> parts = new ArrayList<>();
        for (ExecutionPlanner.Assigned g : a.assignments()) {
          gens.add(g.generatorId());
          parts.add(g.generatorId() + " (" + g.loadZone() + ", " + g.segment() + ")");
          send(new Assignment.Start(testRunId, g.generatorId(), entry.get("plan").asText(), a.sequence(),
              g.segmentIndex(), startAt));
        }
        entry.put("sequence", a.sequence());
        entry.put("startAtMs", startAt);
        entry.put("deadlineMs", startAt + longest(plan).toMillis() + Duration.ofMinutes(1).toMillis());
        save(entry, state.to(RunStatus.ALLOCATED, now(), a.assignments().size() + " generator(s): "
            + String.join(", ", parts) + "; all start at " + java.time.Instant.ofEpochMilli(startAt)));
      }
    }
  }

  /** Every run that has not ended, with its lifecycle entry. */
  private List<KeyValue<String, ObjectNode>> activeEntries() {
    List<String> ids = new ArrayList<>();
    try (KeyValueIterator<String, String> it = active.all()) {
      it.forEachRemaining(kv -> ids.add(kv.key));
    }
    List<KeyValue<String, ObjectNode>> out = new ArrayList<>(ids.size());
    for (String id : ids) {
      out.add(KeyValue.pair(id, entry(lifecycle.get(id))));
    }
    return out;
  }

  private TestPlan plan(String testRunId, JsonNode entry) {
    return plans.computeIfAbsent(testRunId, id -> PlanParser.parse(entry.get("plan").asText()));
  }

  private long runningRuns() {
    return activeEntries().stream().map(kv -> state(kv.value).status())
        .filter(st -> st == RunStatus.ALLOCATED || st == RunStatus.RUNNING).count();
  }

  private Set<String> busyGenerators() {
    Set<String> busy = new HashSet<>();
    activeEntries().forEach(kv -> busy.addAll(allocated(kv.value)));
    return busy;
  }

  private GeneratorRegistry registry() {
    GeneratorRegistry r = new GeneratorRegistry(lostAfter);
    try (KeyValueIterator<String, String> it = registry.all()) {
      while (it.hasNext()) {
        JsonNode g = entry(it.next().value);
        r.heartbeat(GeneratorJson.parseHeartbeat(g.get("heartbeat").asText()), g.get("lastSeenMs").asLong());
      }
    }
    return r;
  }

  // ----- helpers

  /** "all 3 generator(s) finished", or, when some were lost, which ones and how many finished. */
  static String finishedReason(ObjectNode entry) {
    List<String> gens = allocated(entry);
    List<String> lost = gens.stream().filter(g -> "LOST".equals(entry.path("phases").path(g).asText())).toList();
    if (lost.isEmpty()) {
      return "all " + gens.size() + " generator(s) finished";
    }
    return (gens.size() - lost.size()) + " of " + gens.size() + " generator(s) finished; degraded: "
        + String.join(", ", lost) + " lost";
  }

  private static boolean allDone(ObjectNode entry) {
    List<String> gens = allocated(entry);
    JsonNode phases = entry.path("phases");
    boolean anyFinished = false;
    for (String g : gens) {
      String p = phases.path(g).asText("");
      if (!p.equals("FINISHED") && !p.equals("ABORTED") && !p.equals("LOST")) {
        return false;
      }
      anyFinished |= !p.equals("LOST");
    }
    return !gens.isEmpty() && anyFinished;
  }

  private static List<String> allocated(JsonNode entry) {
    List<String> out = new ArrayList<>();
    entry.path("generators").forEach(g -> out.add(g.asText()));
    return out;
  }


  private void sendToAll(ObjectNode entry, String testRunId, java.util.function.Function<String, Assignment> make) {
    JsonNode phases = entry.path("phases");
    for (String g : allocated(entry)) {
      if (!"LOST".equals(phases.path(g).asText())) {
        send(make.apply(g));
      }
    }
  }

  private void send(Assignment a) {
    context.forward(new Record<>(a.generatorId(), GeneratorJson.assignment(a), now()), ASSIGNMENTS_SINK);
  }

  private void save(ObjectNode entry, RunState state) {
    String previous = entry.path("state").asText(null);
    if (previous != null) {
      // entries saved before "version" was kept beside the state say it only inside the state
      long saved = entry.has("version") ? entry.get("version").asLong() : RunState.fromJson(previous).version();
      if (state.version() > saved + 1) {
        state = state.withVersion(saved + 1); // changes made while handling one record are one new version
      }
    }
    String json = state.toJson();
    entry.put("state", json);
    entry.put("version", state.version());
    lifecycle.put(state.testRunId(), entry.toString());
    if (state.status().terminal()) {
      // Kept in the lifecycle store for late threshold results and commands; out of the per-second checks.
      active.delete(state.testRunId());
      plans.remove(state.testRunId());
    } else {
      active.put(state.testRunId(), "");
    }
    if (!json.equals(previous)) {
      context.forward(new Record<>(state.testRunId(), json, now()), CONTROL_RUNS_SINK);
    }
  }

  private void reject(Record<String, String> record, String reason) {
    reject(record, Topics.COMMANDS, reason);
  }

  private void reject(Record<String, String> record, String topic, String reason) {
    ObjectNode out = JSON.createObjectNode();
    out.put("topic", topic);
    out.put("key", record.key());
    out.put("value", record.value());
    out.put("reason", reason);
    out.put("atMs", now());
    context.forward(new Record<>(topic, out.toString(), now()), CONTROL_DLQ_SINK);
  }

  private static ObjectNode entry(String raw) {
    try {
      return (ObjectNode) JSON.readTree(raw);
    } catch (Exception e) {
      throw new IllegalStateException("corrupt lifecycle entry", e);
    }
  }

  private static RunState state(JsonNode entry) {
    return RunState.fromJson(entry.get("state").asText());
  }

  private long now() {
    return context.currentSystemTimeMs();
  }
}
