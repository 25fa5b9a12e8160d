package dev.loadtest.cli.follow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Follows one run through the query API's live stream: prints a progress line (elapsed, VUs, requests/s,
 * p95, error rate, thresholds) as the seconds arrive, and, once the run has ended, waits until its
 * results are complete: the generators' totals reported, the thresholds' final verdict in (when the plan
 * has thresholds), and the stored summary holding every sample the generators sent.
 */
public final class RunFollower {
  private static final Set<String> TERMINAL = Set.of("FINISHED", "ABORTED", "FAILED", "REJECTED");

  private final ApiClient api;
  private final PrintWriter out;
  private final boolean tty;
  private final Duration progressEvery;
  private final Duration settleTimeout;

  // state from the live stream (written by the stream's thread, read by the follower)
  private final Object lock = new Object();
  private String status = "SUBMITTED";
  private JsonNode verdict = NullNode.getInstance();
  private JsonNode totals = NullNode.getInstance();
  private String abortSource = "";
  private String reason = "";
  private long runningSinceNanos;
  private long requests;
  private long failed;
  private long failedTotal;
  private double lastRps;
  private double lastVus;
  private double maxVus;
  private Double lastP95;
  private long lastDataMs; // the start of the latest second the live stream brought
  private double samplesSecondsBehind;
  private long samplesRecordsBehind;
  private final Map<String, String> thresholds = new TreeMap<>();
  private final Set<String> warningsSeen = new java.util.HashSet<>();
  private final List<String> warningsToPrint = new ArrayList<>();

  /**
   * What the run came to.
   *
   * @param complete whether the summary holds every sample the generators reported sending
   * @param summary the run's summary from the API (after the wait for completeness)
   * @param run the run from the API (plan, history, verdict, totals)
   */
  /** The exit code of a run whose results are incomplete. */
  public static final int INCOMPLETE = 97;

  public record Outcome(String status, String abortSource, String reason, JsonNode verdict, JsonNode totals,
      boolean complete, String incompleteWhy, JsonNode summary, JsonNode run) {

    /**
     * The exit code of DESIGN.md: 0 passed, 97 the results are incomplete (stored data short of what the
     * generators sent, the final verdict not in: nothing can be concluded, as k6 exits 97 when a cloud run
     * failed), 99 thresholds failed, 105 aborted, 108 aborted by a threshold. A pass is only ever said of
     * complete results.
     */
    /**
     * Why the run's results do not show the plan's whole load (a generator lost while it ran, with what it
     * had sent, from the run's history), or null when they do.
     */
    public String degraded() {
      int lost = totals == null ? 0 : totals.path("lost").asInt();
      if (lost == 0) {
        return null;
      }
      String what = lost + " of " + (totals.path("generators").asInt() + lost) + " generator(s) lost";
      for (JsonNode t : run == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance()
          : run.path("history")) {
        String r = t.path("reason").asText();
        if (r.contains(" lost (no heartbeat")) {
          what += "; at " + java.time.Instant.ofEpochMilli(t.path("atMs").asLong()) + " "
              + r.replaceFirst("; going on degraded with the others$", "");
        }
      }
      return what + "; the results hold what they delivered before";
    }

    public int exitCode() {
      return switch (status) {
        case "FINISHED" -> !complete ? INCOMPLETE
            : verdict.isObject() && (!verdict.path("failed").isEmpty() || !verdict.path("noData").isEmpty()) ? 99 : 0;
        case "ABORTED" -> "threshold".equals(abortSource) ? 108 : 105;
        case "REJECTED" -> 104;
        default -> 1;
      };
    }
  }

  /** How the summary's trend percentiles are read. */
  private dev.loadtest.schemas.histogram.PercentileMethod percentiles =
      dev.loadtest.schemas.histogram.PercentileMethod.NEAREST_RANK;

  /** Reads the final summary's percentiles by {@code method} (nearest-rank unless told). */
  public RunFollower percentiles(dev.loadtest.schemas.histogram.PercentileMethod method) {
    this.percentiles = method;
    return this;
  }

  public RunFollower(ApiClient api, PrintWriter out, boolean tty, Duration progressEvery, Duration settleTimeout) {
    this.api = api;
    this.out = out;
    this.tty = tty;
    this.progressEvery = progressEvery;
    this.settleTimeout = settleTimeout;
  }

  /**
   * Opens the live stream of {@code runId}, then calls {@code submit} (so no event is missed), and follows
   * the run to its end.
   *
   * @param hasThresholds whether to wait for the final verdict
   */
  public Outcome follow(String runId, boolean hasThresholds, Submit submit) throws IOException, InterruptedException {
    try (ApiClient.Stream live = api.live(runId, this::event)) {
      submit.run();
      long lastPrint = 0;
      while (true) {
        String s;
        synchronized (lock) {
          lock.wait(250);
          s = status;
        }
        printWarnings();
        if (TERMINAL.contains(s)) {
          break;
        }
        long now = System.nanoTime();
        if (runningSinceNanos != 0 && now - lastPrint >= progressEvery.toNanos()) {
          printProgress(false);
          lastPrint = now;
        }
      }
      printProgress(true);
      return settle(runId, hasThresholds);
    }
  }

  /** Sends the run's start; called once the live stream is open. */
  @FunctionalInterface
  public interface Submit {
    void run() throws IOException, InterruptedException;
  }

  private void event(String name, String data) {
    JsonNode e;
    try {
      e = ApiClient.JSON.readTree(data);
    } catch (IOException ex) {
      return; // not ours to judge; the stored results are read at the end anyway
    }
    synchronized (lock) {
      switch (name) {
        case "status" -> {
          status = e.path("status").asText(status);
          verdict = e.path("verdict");
          totals = e.path("totals");
          abortSource = e.path("abortSource").asText("");
          reason = e.path("reason").asText("");
          for (JsonNode w : e.path("warnings")) {
            if (warningsSeen.add(w.asText())) {
              warningsToPrint.add("WARNING: " + w.asText());
            }
          }
          if ("QUEUED".equals(status) && !reason.isEmpty() && warningsSeen.add("QUEUED " + reason)) {
            warningsToPrint.add("queued: " + reason); // e.g. no free generator in a zone: say why nothing moves
          }
          if ("RUNNING".equals(status) && runningSinceNanos == 0) {
            runningSinceNanos = System.nanoTime();
          }
        }
        case "metrics" -> {
          JsonNode m = e.path("metrics");
          long reqs = m.path("http_reqs").path("count").asLong();
          requests += reqs;
          lastRps = reqs;
          JsonNode f = m.path("http_req_failed");
          failed += f.path("passes").asLong();
          failedTotal += f.path("passes").asLong() + f.path("fails").asLong();
          if (m.has("vus")) {
            lastVus = m.path("vus").path("value").asDouble();
            maxVus = Math.max(maxVus, lastVus);
          }
          lastDataMs = Math.max(lastDataMs, e.path("t").asLong());
          JsonNode p95 = m.path("http_req_duration").path("p(95)");
          if (p95.isNumber()) {
            lastP95 = p95.asDouble();
          }
          if (runningSinceNanos == 0) {
            runningSinceNanos = System.nanoTime();
          }
        }
        case "threshold" -> thresholds.put(e.path("threshold").asText(), e.path("state").asText());
        case "ingestion" -> {
          samplesSecondsBehind = e.path("samples").path("secondsBehind").asDouble();
          samplesRecordsBehind = e.path("samples").path("recordsBehind").asLong();
        }
        default -> { }
      }
      lock.notifyAll();
    }
  }

  /** Prints the run's warnings (and why it is queued) that came since the last call, each once, on lines of their own. */
  private void printWarnings() {
    List<String> now;
    synchronized (lock) {
      if (warningsToPrint.isEmpty()) {
        return;
      }
      now = List.copyOf(warningsToPrint);
      warningsToPrint.clear();
    }
    for (String w : now) {
      out.print((tty ? "\r\u001b[K" : "") + w + "\n");
    }
    out.flush();
  }

  private void printProgress(boolean last) {
    String line;
    synchronized (lock) {
      double elapsed = runningSinceNanos == 0 ? 0 : (System.nanoTime() - runningSinceNanos) / 1e9;
      long failing = thresholds.values().stream().filter("FAILED"::equals).count();
      long passing = thresholds.values().stream().filter("PASSED"::equals).count();
      line = String.format(Locale.ROOT, "%-8s %6s  %4.0f/%-4.0f VUs  %8d reqs  %7.1f req/s  p95 %s  errors %5.2f%%%s",
          status.toLowerCase(Locale.ROOT), clock(elapsed), lastVus, maxVus, requests, lastRps,
          lastP95 == null ? "   -  " : SummaryText.millis(lastP95), failedTotal == 0 ? 0 : 100.0 * failed / failedTotal,
          thresholds.isEmpty() ? "" : "  thresholds " + passing + " ok" + (failing > 0 ? ", " + failing + " FAILING" : ""))
          + staleness(System.currentTimeMillis());
    }
    if (tty) {
      out.print("\r" + line + "\u001b[K" + (last ? "\n" : ""));
    } else {
      out.println(line);
    }
    out.flush();
  }

  /**
   * Says so when the numbers of the line are old: the latest second the live stream brought is more than
   * {@link #STALE_AFTER_MS} behind the clock (ingestion is behind, or the run has ended and the last
   * seconds are still on their way), with how far the aggregate job is behind when it is.
   */
  private String staleness(long nowMs) {
    if (lastDataMs == 0 || runningSinceNanos == 0) {
      return "";
    }
    long behind = nowMs - (lastDataMs + 1_000);
    if (behind <= STALE_AFTER_MS && samplesSecondsBehind <= STALE_AFTER_MS / 1000.0) {
      return "";
    }
    return String.format(Locale.ROOT, "  (numbers %d s old%s)", Math.max(0, behind) / 1000,
        samplesRecordsBehind > 0 ? String.format(Locale.ROOT, ": ingestion %.0f s, %d batches behind",
            samplesSecondsBehind, samplesRecordsBehind) : "");
  }

  /** Live numbers older than this are marked as such on the progress line. */
  static final long STALE_AFTER_MS = 3_000;

  static String clock(double seconds) {
    long s = (long) seconds;
    return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }

  /** Waits for the totals, the final verdict and the stored summary to be complete, within the timeout. */
  private Outcome settle(String runId, boolean hasThresholds) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + settleTimeout.toNanos();
    String s;
    synchronized (lock) {
      s = status;
    }
    boolean ended = "FINISHED".equals(s) || "ABORTED".equals(s);
    if (ended) {
      out.println("Waiting for the results to be complete (generators' totals, final verdict, stored data)...");
      out.flush();
    }
    while (ended && System.nanoTime() < deadline) {
      synchronized (lock) {
        boolean verdictDone = !hasThresholds || verdict.path("complete").asBoolean(false)
            || verdict.path("partial").asBoolean(false);
        if (totals.isObject() && verdictDone) {
          break;
        }
        lock.wait(250);
      }
    }
    JsonNode tot;
    JsonNode ver;
    synchronized (lock) {
      tot = totals;
      ver = verdict;
    }
    JsonNode summary = null;
    String why = "";
    boolean complete = false;
    long nextNote = System.nanoTime() + progressEvery.toNanos() * 5;
    while (true) {
      try {
        summary = api.get("/runs/" + ApiClient.enc(runId) + "/summary", Map.of("percentiles", percentiles.id()));
      } catch (ApiClient.ApiError e) {
        if (e.status() != 404) {
          throw e;
        }
      }
      if (!tot.isObject()) {
        why = ended ? "the generators did not report their totals within " + settleTimeout.toSeconds() + " s" : "";
        complete = !ended;
      } else {
        // HTTP requests when there are any (a plug-in without them: iterations)
        String metric = tot.path("requests").asLong() > 0 ? "http_reqs" : "iterations";
        long expected = tot.path(metric.equals("http_reqs") ? "requests" : "iterations").asLong();
        long stored = summary == null ? 0 : samples(summary, metric);
        if (tot.path("lost").asInt() > 0) {
          // a lost generator reports no count: the store holds the others' and what it delivered before it was
          // lost, so at least what the others reported; the run is degraded, said apart (Outcome.degraded)
          complete = stored >= expected;
          why = complete ? "" : "the store holds " + stored + " " + metric + ", fewer than the " + expected
              + " the generators that finished reported";
        } else {
          complete = stored == expected;
          why = complete ? "" : "the store holds " + stored + " of the " + expected + " " + metric
              + " the generators reported";
        }
      }
      if (hasThresholds && ended && ver.path("partial").asBoolean(false)) {
        why = (why.isEmpty() ? "" : why + "; ") + "the final verdict was judged without all of the run's data"
            + " (the samples the generators reported did not all arrive, or a generator was lost)";
        complete = false;
        break;
      }
      boolean verdictDone = !hasThresholds || !ended || (ver.path("complete").asBoolean(false)
          && summary != null && allFinal(summary));
      if (!verdictDone) {
        why = (why.isEmpty() ? "" : why + "; ") + "the thresholds' final verdict did not come within "
            + settleTimeout.toSeconds() + " s";
      }
      if ((complete && verdictDone && summary != null) || System.nanoTime() >= deadline) {
        complete &= verdictDone;
        break;
      }
      if (System.nanoTime() >= nextNote) { // say what is awaited, so that a slow end is not a silent one
        out.println("  waiting for ingestion: " + (why.isEmpty() ? "the final verdict" : why) + " ("
            + Math.max(0, (deadline - System.nanoTime()) / 1_000_000_000L) + " s left)");
        out.flush();
        nextNote = System.nanoTime() + progressEvery.toNanos() * 5;
      }
      Thread.sleep(500);
    }
    JsonNode run;
    try {
      run = api.get("/runs/" + ApiClient.enc(runId), Map.of());
    } catch (ApiClient.ApiError e) {
      run = NullNode.getInstance();
    }
    synchronized (lock) {
      return new Outcome(status, abortSource, reason, verdict, totals, complete, why, summary, run);
    }
  }

  /** Whether every threshold result of the summary is the final one (stored after the verdict came). */
  static boolean allFinal(JsonNode summary) {
    for (JsonNode t : summary.path("thresholds").path("results")) {
      if (!t.path("final").asBoolean(false)) {
        return false;
      }
    }
    return true;
  }

  /** The samples of {@code metric} in a summary (0 when it has none). */
  public static long samples(JsonNode summary, String metric) {
    for (JsonNode m : summary.path("metrics")) {
      if (metric.equals(m.path("metric").asText())) {
        return m.path("samples").asLong();
      }
    }
    return 0;
  }
}
