package dev.loadtest.generator.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.generator.http.HttpCall;
import dev.loadtest.generator.http.HttpEngine;
import dev.loadtest.generator.http.HttpResult;
import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.generator.sink.SampleSink.RequestTimings;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.Step;
import dev.loadtest.schemas.sample.TagSet;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one iteration of a VU: picks the flow by weight, runs its steps (requests with checks and
 * extractions, think times, groups, each with its probability) and records every sample: one per
 * request (per redirect hop), one {@code checks} sample per check, {@code group_duration} per group, and
 * {@code iterations} and {@code iteration_duration} per iteration.
 *
 * <p>No coordinated omission: an iteration of an arrival-rate scenario is timed from when it was due,
 * not from when it started; if it started late (no VU was free at once, or the generator lagged), the
 * lag is charged to its first request as {@code blocked} time and counted in that request's
 * {@code duration}, so a stalled system shows in the percentiles instead of thinning the schedule.
 *
 * <p>Stateless; call from the thread that currently owns the VU.
 */
public final class IterationRunner {
  private static final Logger LOG = LoggerFactory.getLogger(IterationRunner.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final RateLimitedLog ERRORS = new RateLimitedLog(LOG, 10_000);

  /** How an iteration ended. */
  public enum Outcome {
    /** Ran to its end (a failed request or check does not end an iteration). */
    COMPLETED,
    /** A step could not run (e.g. a template referred to a variable no extraction had set). */
    FAILED,
    /** The VU was stopped mid-iteration (abort, or a graceful stop ran out of time). */
    INTERRUPTED
  }

  private IterationRunner() {}

  /**
   * @param dueNanos when the iteration was due ({@link System#nanoTime()}); for closed-model scenarios
   *     the moment it started
   */
  public static Outcome run(VirtualUser vu, long dueNanos) {
    ScenarioContext sc = vu.scenario();
    vu.startIteration();
    Lag lag = new Lag(Math.max(0, System.nanoTime() - dueNanos));
    Outcome outcome;
    try {
      runSteps(sc.pickFlow(vu), vu, lag);
      outcome = Outcome.COMPLETED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Outcome.INTERRUPTED;
    } catch (Template.MissingValueException e) {
      ERRORS.warn("scenario " + sc.name() + ": " + e.getMessage(), "run {} scenario {}: iteration ended: {}",
          sc.run().testRunId(), sc.name(), e.getMessage());
      sc.run().failures().record(sc.name(), e.getMessage());
      outcome = Outcome.FAILED;
    } catch (RuntimeException e) {
      // An error of ours, not of the system under test: the iteration fails and is counted, the VU goes on,
      // the log says so (once per 10 s per kind) and the run's failures carry it to the coordinator, so
      // that a VU never goes quiet without a word.
      ERRORS.warn("scenario " + sc.name() + " internal " + e.getClass().getName(),
          "run {} scenario {}: an iteration failed on an error of the generator, not of the system under test: {}",
          sc.run().testRunId(), sc.name(), e.toString());
      sc.run().failures().record(sc.name(), "an error of the generator: " + e);
      outcome = Outcome.FAILED;
    }
    long endNanos = System.nanoTime();
    try {
      SampleSink sink = sc.run().sink();
      long nowUs = EpochClock.microsAt(endNanos);
      TagSet t = sc.iterationTags();
      sink.point("iterations", MetricType.COUNTER, nowUs, t, 1);
      sink.point("iteration_duration", MetricType.TREND, nowUs, t, (endNanos - dueNanos) / 1e6);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Outcome.INTERRUPTED;
    }
    return outcome;
  }

  /** Lag of a late iteration start, charged once, to its first request. */
  private static final class Lag {
    long nanos;

    Lag(long nanos) {
      this.nanos = nanos;
    }

    long take() {
      long n = nanos;
      nanos = 0;
      return n;
    }
  }

  private static void runSteps(List<CompiledStep> steps, VirtualUser vu, Lag lag) throws InterruptedException {
    for (CompiledStep s : steps) {
      if (s.probability() < 1 && vu.random().nextDouble() >= s.probability()) {
        continue;
      }
      switch (s) {
        case CompiledStep.Request r -> request(r, vu, lag);
        case CompiledStep.Think t -> think(t.time(), vu);
        case CompiledStep.Metric m -> metric(m, vu);
        case CompiledStep.Group g -> {
          long t0 = System.nanoTime();
          runSteps(g.steps(), vu, lag);
          vu.scenario().run().sink().point("group_duration", MetricType.TREND, EpochClock.nowMicros(), g.tags(),
              (System.nanoTime() - t0) / 1e6);
        }
      }
    }
  }

  /** A user metric sample; a value that is not a number ends the iteration like a missing variable. */
  private static void metric(CompiledStep.Metric m, VirtualUser vu) throws InterruptedException {
    String text = m.value().render(vu).strip();
    double value;
    if (text.equals("true") || text.equals("false")) {
      value = text.equals("true") ? 1 : 0;
    } else {
      try {
        value = Double.parseDouble(text);
      } catch (NumberFormatException e) {
        throw new Template.MissingValueException("metric " + m.name() + ": its value " + m.value()
            + " is not a number");
      }
    }
    if (m.type() == dev.loadtest.schemas.metrics.MetricType.RATE) {
      value = value != 0 ? 1 : 0;
    }
    vu.scenario().run().sink().point(m.name(), m.type(), EpochClock.nowMicros(), m.tags(), value);
  }

  private static void think(Step.ThinkTime time, VirtualUser vu) throws InterruptedException {
    long nanos = switch (time) {
      case Step.ThinkTime.Fixed f -> f.duration().toNanos();
      case Step.ThinkTime.Uniform u -> u.min().toNanos()
          + (long) (vu.random().nextDouble() * (u.max().toNanos() - u.min().toNanos()));
      case Step.ThinkTime.Normal n -> Math.max(0,
          (long) (n.mean().toNanos() + vu.random().nextGaussian() * n.stddev().toNanos()));
    };
    if (nanos > 0) {
      Thread.sleep(Duration.ofNanos(nanos));
    }
  }

  private static void request(CompiledStep.Request r, VirtualUser vu, Lag lag) throws InterruptedException {
    RunContext run = vu.scenario().run();
    HttpEngine http = run.http();
    List<String[]> headers = new ArrayList<>(r.headers().size());
    for (Map.Entry<String, Template> h : r.headers()) {
      headers.add(new String[] {h.getKey(), h.getValue().render(vu)});
    }
    byte[] body = r.body() == null ? null : r.body().render(vu).getBytes(StandardCharsets.UTF_8);
    Duration timeout = r.timeout() != null ? r.timeout() : http.options().defaultTimeout();
    HttpCall call = new HttpCall(r.step().method(), r.url().render(vu), headers, body, timeout, r.keepBody());
    run.hosts().note(call.url());
    SampleSink sink = run.sink();
    InterruptedException[] interrupted = new InterruptedException[1];
    HttpResult last = http.execute(call, vu.http(), hop -> {
      RequestTimings t = hop.timings();
      long late = lag.take();
      if (late > 0) {
        long us = late / 1000;
        t = new RequestTimings(t.durationUs() + us, t.blockedUs() + us, t.connectingUs(), t.tlsHandshakingUs(),
            t.sendingUs(), t.waitingUs(), t.receivingUs(), t.bytesSent(), t.bytesReceived());
      }
      boolean expected = hop.status() >= 200 && hop.status() < 400;
      try {
        sink.request(hop.startUs(), r.tagsFor(hop.status(), hop.errorCode()), t, !expected, vu.number());
      } catch (InterruptedException e) {
        interrupted[0] = e;
      }
      if (hop.isNetworkError()) {
        ERRORS.warn(r.step().name() + hop.errorCode(), "run {}: request {} failed with error code {}: {}",
            run.testRunId(), r.step().name(), hop.errorCode(), hop.error());
      }
    });
    if (interrupted[0] != null) {
      throw interrupted[0];
    }
    long nowUs = EpochClock.nowMicros();
    JsonNode[] json = new JsonNode[1];
    for (CompiledStep.CompiledCheck c : r.checks()) {
      boolean ok = check(c, last, json);
      sink.point("checks", MetricType.RATE, nowUs, c.tags(), ok ? 1 : 0);
    }
    for (CompiledStep.CompiledExtraction x : r.extractions()) {
      String v = extract(x, last, json);
      if (v != null) {
        vu.setVariable(x.extraction().var(), v);
      }
    }
  }

  static boolean check(CompiledStep.CompiledCheck c, HttpResult res, JsonNode[] json) {
    return switch (c.check()) {
      case Step.Check.Status s -> s.anyOf().contains(res.status());
      case Step.Check.Header h -> {
        String v = res.header(h.header());
        yield v != null && h.equals().map(v::equals).orElse(true) && h.contains().map(v::contains).orElse(true);
      }
      case Step.Check.BodyContains b -> res.bodyText().contains(b.text());
      case Step.Check.JsonPath j -> {
        Optional<JsonNode> n = json(res, json).flatMap(c.path()::find);
        yield n.isPresent() && j.equalsJson().map(e -> sameJson(e, n.get())).orElse(true);
      }
    };
  }

  private static boolean sameJson(String expected, JsonNode actual) {
    try {
      return JSON.readTree(expected).equals(actual);
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  private static Optional<JsonNode> json(HttpResult res, JsonNode[] cache) {
    if (cache[0] == null) {
      try {
        cache[0] = res.body() == null ? JSON.missingNode() : JSON.readTree(res.body());
      } catch (java.io.IOException e) {
        cache[0] = JSON.missingNode();
      }
      if (cache[0] == null) {
        cache[0] = JSON.missingNode();
      }
    }
    return cache[0].isMissingNode() ? Optional.empty() : Optional.of(cache[0]);
  }

  static String extract(CompiledStep.CompiledExtraction x, HttpResult res, JsonNode[] json) {
    return switch (x.extraction().source()) {
      case JSON_PATH -> json(res, json).flatMap(x.path()::find)
          .map(n -> n.isValueNode() ? n.asText() : n.toString()).orElse(null);
      case HEADER -> res.header(x.extraction().expression());
      case REGEX -> {
        Matcher m = x.regex().matcher(res.bodyText());
        yield m.find() ? m.group(x.extraction().group()) : null;
      }
    };
  }

}
