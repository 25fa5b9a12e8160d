package dev.loadtest.generator.agent;

import dev.loadtest.generator.sink.LocalStats;
import dev.loadtest.generator.sink.Publisher;
import dev.loadtest.schemas.generator.Heartbeat;
import dev.loadtest.schemas.time.Durations;
import java.io.IOException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A generator's warm-up before it sends a test's load (see {@link Generator#warmUp}). A JVM runs new
 * code interpreted, then compiles it while it runs: on a generator's core that takes seconds, during
 * which it sends a fraction of its requests and times them with slow code. The warm-up runs the code of
 * a real run (plan, executor, VUs on virtual threads, the HTTP client with this generator's options,
 * checks, samples encoded into batches) with {@link #VUS} VUs looping {@link #plan two GETs} against a
 * {@link LoopbackResponder} of its own on 127.0.0.1, never the system under test. Its samples are
 * counted and dropped. It ends when the request rate has not risen by {@link #RISE} for
 * {@link #LEVEL} (no sooner than {@link #MIN}), or at the given longest time.
 */
public final class Warmup {
  static final int VUS = 32;
  static final Duration MIN = Duration.ofSeconds(2);
  static final Duration LEVEL = Duration.ofSeconds(2);
  static final double RISE = 1.05;
  static final Duration FIRST_ROUND = Duration.ofSeconds(1);
  /** The shortest warm-up there is: a first round and the least time the second takes to see a level. */
  public static final Duration SHORTEST = FIRST_ROUND.plus(MIN);
  private static final long STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  private Warmup() {}

  /**
   * What a warm-up did.
   *
   * @param firstRate requests/s in its first second
   * @param lastRate requests/s in its last second
   * @param leveledOff whether it ended because the rate had stopped rising (else at its longest time)
   */
  public record Report(Duration took, long requests, long batchesDropped, double firstRate, double lastRate,
      boolean leveledOff) {
    public String describe() {
      return String.format("%.1f s, %,d requests to a responder on 127.0.0.1 (%,.0f/s in the first second, %,.0f/s"
          + " in the last%s)", took.toMillis() / 1000.0, requests, firstRate, lastRate,
          leveledOff ? ", where it leveled off" : "; it was still rising");
    }
  }

  static Report run(Generator generator, Duration max) throws InterruptedException {
    if (max.compareTo(SHORTEST) < 0) {
      throw new IllegalArgumentException("a warm-up takes at least " + Durations.format(SHORTEST) + ", got "
          + Durations.format(max));
    }
    long t0 = System.nanoTime();
    Dropping dropped = new Dropping();
    try (LoopbackResponder responder = LoopbackResponder.start()) {
      // A first short round ends as a run ends, so that the code which ends VUs and closes their connections
      // has run before the JIT compiles the loops around it; otherwise the compiled request path meets those
      // branches at the end of the warm-up and is thrown away. The second also tallies requests locally, as
      // a run of `loadtest generator --plan` does, the first does not, as an agent's runs do not.
      round(generator, responder.port(), FIRST_ROUND, dropped, false);
      Round last = round(generator, responder.port(), max.minus(FIRST_ROUND), dropped, true);
      return new Report(Duration.ofNanos(System.nanoTime() - t0), dropped.requests.get(), dropped.batches.get(),
          last.firstRate(), last.lastRate(), last.leveledOff());
    } catch (IOException e) {
      throw new IllegalStateException("cannot open the warm-up responder on 127.0.0.1: " + e.getMessage(), e);
    }
  }

  /** Requests/s in a round's first and last second, and whether it ended because the rate had leveled off. */
  private record Round(double firstRate, double lastRate, boolean leveledOff) {}

  /** One round of at most {@code max}; with {@code untilLevel}, stopped when the rate has stopped rising. */
  private static Round round(Generator generator, int port, Duration max, Dropping dropped, boolean untilLevel)
      throws InterruptedException {
    CompletableFuture<RunReport> done = new CompletableFuture<>();
    Generator.ActiveRun run = generator.launchUnlisted("warm-up-" + UUID.randomUUID().toString().substring(0, 8),
        plan(port, max), untilLevel ? new LocalStats() : null, dropped, done::complete);
    long t0 = System.nanoTime();
    int perSecond = (int) (TimeUnit.SECONDS.toNanos(1) / STEP_NANOS);
    long[] counts = new long[(int) (max.toNanos() / STEP_NANOS) + 2];
    int steps = 0;
    double best = 0;
    double first = -1;
    double last = 0;
    long bestAt = t0;
    boolean leveled = false;
    while (untilLevel && !done.isDone() && steps + 1 < counts.length) {
      long wait = t0 + (steps + 1) * STEP_NANOS - System.nanoTime();
      if (wait > 0) {
        try {
          done.get(wait, TimeUnit.NANOSECONDS);
          break;
        } catch (TimeoutException | ExecutionException e) {
          // a step has passed (or the run failed, which the report below says)
        }
      }
      counts[++steps] = run.progress().requests();
      if (steps >= perSecond) {
        last = counts[steps] - counts[steps - perSecond];
        first = first < 0 ? last : first;
        long now = System.nanoTime();
        if (last > best * RISE) {
          best = last;
          bestAt = now;
        }
        if (now - t0 >= MIN.toNanos() && now - bestAt >= LEVEL.toNanos()) {
          leveled = true;
          break;
        }
      }
    }
    if (untilLevel) {
      run.stop(); // graceful: VUs end their iterations and close their connections as at the end of a run
    }
    RunReport report;
    try {
      report = done.get(max.toMillis() + 30_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the warm-up did not end within 30 s of its time", e);
    }
    if (report.phase() == Heartbeat.RunPhase.FAILED) {
      throw new IllegalStateException("the warm-up failed: " + report.message());
    }
    dropped.requests.addAndGet(report.samples().requests());
    return new Round(Math.max(first, 0), last, leveled);
  }

  /**
   * Each iteration sends two requests shaped differently, a literal URL with a status check and a URL that
   * is an env value without checks, so that the JIT compiles the request path for plans of either kind.
   */
  static String plan(int port, Duration max) {
    return """
        {"name": "generator warm-up", "env": {"WARM_UP": "http://127.0.0.1:%d/warm-up/again"},
         "scenarios": {"warm-up": {"executor": "constant-vus", "vus": %d, "duration": "%dms", "gracefulStop": "5s",
           "exec": "get"}},
         "flows": {"get": {"steps": [
           {"request": {"url": "http://127.0.0.1:%d/warm-up", "name": "warm-up", "checks": [{"status": 200}]}},
           {"request": {"url": "${ENV.WARM_UP}", "name": "again"}}]}}}
        """.formatted(port, VUS, max.toMillis(), port);
  }

  /** Takes the warm-up's batches, encoded as a run's are, and drops them. */
  private static final class Dropping implements Publisher {
    final AtomicLong batches = new AtomicLong();
    final AtomicLong requests = new AtomicLong();

    @Override
    public void send(String key, byte[] value, Consumer<Exception> done) {
      batches.incrementAndGet();
      done.accept(null);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
