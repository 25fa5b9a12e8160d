package dev.loadtest.flink.threshold;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.insight.Insight;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The performance insight rules of one run, fed its 1 s buckets as they come and asked to judge each second
 * once event time has passed it ({@link #second}) and the run once it has ended ({@link #end}). What it keeps
 * is bounded: the last {@link #WINDOW_S} seconds' totals, a few counters, at most 501 request names. Each rule
 * raises at most once per run (per generator for the generator rules). Plain data, kept as JSON in the
 * operator's state ({@link #toJson}).
 *
 * <p>The rules, with the values they report:
 * <ul>
 *   <li>{@code throughput-limit}: over the last 20 s, VUs rose by at least 20% (and 2 VUs) from the first
 *       half to the second while completed requests/s rose by less than 5%;</li>
 *   <li>{@code increased-failure-rate}: the last 20 s (at least 100 requests) failed at least 5 points and
 *       twice as often as the run's first 20 s with requests;</li>
 *   <li>{@code high-failure-rate-early}: over 15% of requests failed until the run's 100th iteration (its
 *       100th request when it counts no iterations, as the synthetic plug-in);</li>
 *   <li>{@code high-generator-cpu}, {@code high-generator-memory}: a generator's {@code generator_cpu}, or the
 *       CPU of the machine (container) it runs on, {@code generator_host_cpu} ({@code generator_memory}, heap
 *       used over its maximum) above 0.8 for 10 s in a row;</li>
 *   <li>{@code too-many-urls}: more than 500 distinct {@code name} tags, or (subject {@code series}) 80% of
 *       {@link #SERIES_BUDGET} distinct series counted by the operator ({@link #seriesSeen});</li>
 *   <li>{@code third-party-hosts}: a generator's requests went to 10 or more distinct hosts
 *       ({@code generator_hosts});</li>
 *   <li>{@code not-enough-data}: fewer than 100 iterations (requests without iterations) in the whole run.</li>
 * </ul>
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
    isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class InsightRules {
  static final int WINDOW_S = 20;
  static final int MAX_NAMES = 500;
  static final double HIGH_USE = 0.8;
  static final int HIGH_USE_SECONDS = 10;
  static final int EARLY_ITERATIONS = 100;
  static final double EARLY_FAILURE_RATE = 0.15;
  static final int ENOUGH_ITERATIONS = 100;
  static final int MANY_HOSTS = 10;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  /** Per second (epoch s): requests, failed (http_req_failed non-zero), judged (http_req_failed count), iterations. */
  private TreeMap<Long, double[]> seconds = new TreeMap<>();
  /** Per second: the VUs of each gauge series (summed over series when judged). */
  private TreeMap<Long, Map<Long, Double>> vus = new TreeMap<>();
  /** Per generator: the first and last second of its current run of seconds above {@link #HIGH_USE}: cpu, memory. */
  private Map<String, long[]> highUse = new TreeMap<>();
  private TreeSet<String> names = new TreeSet<>();
  private TreeSet<String> raised = new TreeSet<>();
  private List<String> disabled = new ArrayList<>();
  private long firstRequestSec = -1;
  private double beginRequests;
  private double beginFailures;
  private double earlyRequests;
  private double earlyFailures;
  private double earlyIterations;
  private boolean earlyDone;
  private double totalIterations;
  private double totalRequests;
  private boolean countsIterations;
  private long lastJudgedSec = -1;
  /** Per metric the seconds are judged on, the newest second whose total came (each comes in order). */
  private TreeMap<String, Long> totalsThrough = new TreeMap<>();
  private static final List<String> COUNTED = List.of("http_reqs", "http_req_failed", "iterations");

  /** Requests counted in the totals so far (to know when all of a run's have come). */
  public double requests() {
    return totalRequests;
  }

  /** Rules the run's plan disabled. */
  public void disable(List<String> rules) {
    disabled = new ArrayList<>(rules);
  }

  /** Whether the series' buckets are still needed (to count request names). */
  public boolean wantsSeries() {
    return names.size() <= MAX_NAMES && !done(Insight.TOO_MANY_URLS, "") && !done(Insight.TOO_MANY_URLS, SERIES);
  }

  /**
   * The series a run is sized for: on a 2-core machine the pipeline keeps up with 55,000 series at 50,000
   * requests/s and falls behind at 220,000 (the README's cardinality benchmark), and reads grow with them.
   */
  public static final long SERIES_BUDGET = 50_000;
  /** The share of {@link #SERIES_BUDGET} at which {@code too-many-urls} is raised for the run's series. */
  static final double NEAR_BUDGET = 0.8;
  /** The subject of {@code too-many-urls} raised for series rather than names. */
  static final String SERIES = "series";

  /**
   * The run has made {@code series} distinct series by second {@code sec}: near {@link #SERIES_BUDGET}, that
   * is the cardinality trap of the reverse load test even with few names (a tag with a value per user, per
   * request id...).
   */
  public List<Insight> seriesSeen(long series, long sec, long nowMs) {
    if (series < NEAR_BUDGET * SERIES_BUDGET) {
      return List.of();
    }
    return raise(Insight.TOO_MANY_URLS, SERIES, "warning", "Too many time series",
        String.format(java.util.Locale.ROOT, "the run made %d distinct time series, near the %d a run is sized for:"
            + " a tag with a value per user, request or id makes a series each, which slows ingestion and every"
            + " read; keep such values out of tags (or in the request's name, grouped)", series, SERIES_BUDGET),
        sec * 1000, (sec + 1) * 1000, Map.of("series", (double) series, "budget", (double) SERIES_BUDGET), nowMs);
  }

  /**
   * Takes one 1 s bucket: a total ({@code totals}), a gauge series' bucket or another series' bucket; may raise
   * {@code too-many-urls} at once.
   */
  public List<Insight> add(SeriesBucket b, boolean totals, long nowMs) {
    long sec = Math.floorDiv(b.startMs, 1000);
    if (b.widthMs != 1000 || sec <= lastJudgedSec && !totals) {
      return List.of();
    }
    if (totals) {
      if (COUNTED.contains(b.metric)) {
        totalsThrough.merge(b.metric, sec, Math::max);
      }
      switch (b.metric) {
        case "http_reqs" -> {
          double n = b.sum > 0 ? b.sum : b.count;
          at(sec)[0] += n;
          totalRequests += n;
          if (firstRequestSec < 0 || sec < firstRequestSec) {
            firstRequestSec = sec;
          }
        }
        case "http_req_failed" -> {
          at(sec)[1] += b.nonZero;
          at(sec)[2] += b.count;
        }
        case "iterations" -> {
          double n = b.sum > 0 ? b.sum : b.count;
          at(sec)[3] += n;
          totalIterations += n;
          countsIterations = true;
        }
        default -> { }
      }
      return List.of();
    }
    String generator = tag(b, "generator");
    switch (b.metric) {
      case "vus" -> vus.computeIfAbsent(sec, s -> new TreeMap<>()).put(b.seriesId, b.last);
      case "generator_cpu" -> {
        return highUse(generator, 0, sec, Math.max(b.last, b.max), Insight.HIGH_GENERATOR_CPU, nowMs);
      }
      case "generator_memory" -> {
        return highUse(generator, 1, sec, Math.max(b.last, b.max), Insight.HIGH_GENERATOR_MEMORY, nowMs);
      }
      case "generator_host_cpu" -> {
        return highUse(generator, 2, sec, Math.max(b.last, b.max), Insight.HIGH_GENERATOR_CPU, nowMs);
      }
      case "generator_hosts" -> {
        double hosts = Math.max(b.last, b.max);
        if (hosts >= MANY_HOSTS) {
          return raise(Insight.THIRD_PARTY_HOSTS, "", "warning", "Third-party content",
              String.format(java.util.Locale.ROOT, "requests went to %.0f distinct hosts%s: CDNs, analytics or other"
                  + " third parties mixed into the results measure systems that are not under test (and load them);"
                  + " leave them out of the plan or tag them apart", hosts, generator == null ? ""
                  : " from generator " + generator), sec * 1000, (sec + 1) * 1000, Map.of("hosts", hosts), nowMs);
        }
        return List.of();
      }
      default -> { }
    }
    String name = tag(b, "name");
    if (name != null && wantsSeries()) {
      names.add(name);
      if (names.size() > MAX_NAMES) {
        return raise(Insight.TOO_MANY_URLS, "", "warning", "Too many URLs",
            "more than " + MAX_NAMES + " distinct request names: URLs with ids or query strings in the name make a"
                + " series each, which slows every read and hides the busy endpoints; group them with a \"name\"",
            sec * 1000, (sec + 1) * 1000, Map.of("names", (double) names.size()), nowMs);
      }
    }
    return List.of();
  }

  private List<Insight> highUse(String generator, int which, long sec, double value, String rule, long nowMs) {
    if (generator == null) {
      return List.of();
    }
    long[] runs = highUse.get(generator);
    if (runs == null || runs.length < 6) { // (state from before the machine's CPU was watched has four)
      long[] grown = {-1, -1, -1, -1, -1, -1};
      if (runs != null) {
        System.arraycopy(runs, 0, grown, 0, runs.length);
      }
      highUse.put(generator, runs = grown);
    }
    int from = which * 2;
    if (value <= HIGH_USE) {
      runs[from] = -1;
      runs[from + 1] = -1;
      return List.of();
    }
    if (runs[from] >= 0 && sec >= runs[from] && sec <= runs[from + 1]) {
      return List.of(); // a second of the current streak again (a late part of it)
    }
    if (runs[from] < 0 || sec != runs[from + 1] + 1) {
      runs[from] = sec; // a new run of high seconds (a gap restarts it)
    }
    runs[from + 1] = sec;
    if (runs[from + 1] - runs[from] + 1 < HIGH_USE_SECONDS) {
      return List.of();
    }
    String above = " ran above " + Math.round(HIGH_USE * 100) + "%";
    String over = " for " + HIGH_USE_SECONDS + " s";
    String message = switch (which) {
      case 0 -> "generator " + generator + above + " CPU" + over + ": its timings may include its own scheduling delay;"
          + " spread the load over more generators";
      case 1 -> "generator " + generator + above + " of its heap" + over + ": it may pause or fail; spread the load over"
          + " more generators";
      default -> "the machine (or container) of generator " + generator + above + " CPU" + over + ", counting"
          + " everything that runs there: the generator's timings may include scheduling delay; spread the load"
          + " over more generators or give them machines of their own";
    };
    return raise(rule, generator, "warning", which != 1 ? "High load generator CPU usage"
        : "High load generator memory usage", message, runs[from] * 1000, (runs[from + 1] + 1) * 1000,
        Map.of(which == 0 ? "cpu" : which == 1 ? "memory" : "hostCpu", value), nowMs);
  }

  /**
   * The newest second before which every total the seconds are judged on has come ({@code http_reqs},
   * {@code http_req_failed} and, when counted, {@code iterations}): each metric's totals are made by one task
   * of the aggregate job, second after second, so a total of a later second says the earlier ones are in.
   * -1 while one of them has not come yet.
   */
  public long countedThrough() {
    long through = Long.MAX_VALUE;
    for (String m : COUNTED) {
      Long t = totalsThrough.get(m);
      if (t == null && (!m.equals("iterations") || countsIterations)) {
        return -1;
      }
      through = t == null ? through : Math.min(through, t);
    }
    return through == Long.MAX_VALUE ? -1 : through;
  }

  /**
   * Judges every second not judged yet up to {@code lastSec}, in order: for a run whose every request is
   * counted, so that its end need not wait for event time to pass it.
   */
  public List<Insight> judgeUntil(long lastSec, long nowMs) {
    long from = lastJudgedSec >= 0 ? lastJudgedSec + 1 : !seconds.isEmpty() ? seconds.firstKey()
        : !vus.isEmpty() ? vus.firstKey() : lastSec;
    List<Insight> out = new ArrayList<>();
    for (long sec = from; sec <= lastSec; sec++) {
      out.addAll(second(sec, nowMs));
    }
    return out;
  }

  /** Judges second {@code sec}, once event time has passed it (seconds come in order). */
  public List<Insight> second(long sec, long nowMs) {
    if (sec <= lastJudgedSec) {
      return List.of();
    }
    lastJudgedSec = sec;
    List<Insight> out = new ArrayList<>();
    double[] s = seconds.get(sec);
    if (s != null && firstRequestSec >= 0 && sec < firstRequestSec + WINDOW_S) {
      beginRequests += s[2];
      beginFailures += s[1];
    }
    if (s != null && !earlyDone) {
      earlyRequests += s[2];
      earlyFailures += s[1];
      earlyIterations += s[3];
      double reached = countsIterations ? earlyIterations : earlyRequests;
      if (reached >= EARLY_ITERATIONS) {
        earlyDone = true;
        double rate = earlyRequests == 0 ? 0 : earlyFailures / earlyRequests;
        if (rate > EARLY_FAILURE_RATE) {
          out.addAll(raise(Insight.HIGH_FAILURE_RATE_EARLY, "", "warning", "High failure rate early in the run",
              String.format(java.util.Locale.ROOT, "%.1f%% of requests failed until the run's %s %d: the system under"
                  + " test failed from the start (check the target, its data and the plan)", rate * 100,
                  countsIterations ? "iteration" : "request", EARLY_ITERATIONS),
              firstRequestSec * 1000, (sec + 1) * 1000, Map.of("failureRate", rate, "requests", earlyRequests,
                  "iterations", earlyIterations), nowMs));
        }
      }
    }
    if (firstRequestSec >= 0 && sec >= firstRequestSec + 2L * WINDOW_S - 1 && beginRequests > 0) {
      double req = 0;
      double failed = 0;
      for (double[] w : seconds.subMap(sec - WINDOW_S + 1, true, sec, true).values()) {
        req += w[2];
        failed += w[1];
      }
      double begin = beginFailures / beginRequests;
      double now = req == 0 ? 0 : failed / req;
      if (req >= 100 && now >= begin + 0.05 && now >= 2 * begin) {
        out.addAll(raise(Insight.INCREASED_FAILURE_RATE, "", "warning", "Increased failure rate",
            String.format(java.util.Locale.ROOT, "%.1f%% of requests failed from %d s to %d s into the run, against"
                + " %.1f%% in its first %d s: the system under test degraded under the load", now * 100,
                sec - WINDOW_S + 1 - firstRequestSec, sec + 1 - firstRequestSec, begin * 100, WINDOW_S),
            (sec - WINDOW_S + 1) * 1000, (sec + 1) * 1000, Map.of("failureRate", now, "beginningFailureRate", begin,
                "requests", req), nowMs));
      }
    }
    if (vus.containsKey(sec - WINDOW_S + 1) && seconds.containsKey(sec - WINDOW_S + 1)) {
      double[] first = halfOf(sec - WINDOW_S + 1, sec - WINDOW_S / 2);
      double[] second = halfOf(sec - WINDOW_S / 2 + 1, sec);
      if (first[0] > 0 && first[1] > 0 && second[0] >= first[0] * 1.2 && second[0] - first[0] >= 2
          && second[1] < first[1] * 1.05) {
        out.addAll(raise(Insight.THROUGHPUT_LIMIT, "", "warning", "Throughput limit reached",
            String.format(java.util.Locale.ROOT, "VUs rose from %.0f to %.0f while requests/s stayed at %.1f -> %.1f:"
                + " the system under test (or a generator) cannot serve more; more load only adds waiting",
                first[0], second[0], first[1], second[1]),
            (sec - WINDOW_S + 1) * 1000, (sec + 1) * 1000, Map.of("vusFrom", first[0], "vusTo", second[0],
                "requestsPerSecondFrom", first[1], "requestsPerSecondTo", second[1]), nowMs));
      }
    }
    while (!seconds.isEmpty() && seconds.firstKey() <= sec - WINDOW_S) {
      seconds.pollFirstEntry();
    }
    while (!vus.isEmpty() && vus.firstKey() <= sec - WINDOW_S) {
      vus.pollFirstEntry();
    }
    return out;
  }

  /** Mean VUs and requests/s over seconds [from, to]. */
  private double[] halfOf(long from, long to) {
    double v = 0;
    double r = 0;
    long n = to - from + 1;
    for (long s = from; s <= to; s++) {
      Map<Long, Double> m = vus.get(s);
      if (m != null) {
        v += m.values().stream().mapToDouble(Double::doubleValue).sum();
      }
      double[] x = seconds.get(s);
      if (x != null) {
        r += x[0];
      }
    }
    return new double[] {v / n, r / n};
  }

  /** Judges the whole run once it has ended and event time has passed its end. */
  public List<Insight> end(long fromMs, long toMs, long nowMs) {
    double count = countsIterations ? totalIterations : totalRequests;
    if (count < ENOUGH_ITERATIONS) {
      return raise(Insight.NOT_ENOUGH_DATA, "", "info", "Not enough data",
          String.format(java.util.Locale.ROOT, "the run made %.0f %s, fewer than %d: too few to tell a trend or a"
              + " percentile from noise; run it longer or with more VUs", count, countsIterations ? "iterations"
              : "requests", ENOUGH_ITERATIONS), fromMs, toMs, Map.of(countsIterations ? "iterations" : "requests",
              count), nowMs);
    }
    return List.of();
  }

  private List<Insight> raise(String rule, String subject, String severity, String title, String message, long fromMs,
      long toMs, Map<String, Double> values, long nowMs) {
    if (disabled.contains(rule) || !raised.add(rule + "/" + subject)) {
      return List.of();
    }
    return List.of(new Insight(null, rule, subject, severity, title, message, fromMs, toMs, new LinkedHashMap<>(values),
        nowMs));
  }

  private boolean done(String rule, String subject) {
    return raised.contains(rule + "/" + subject);
  }

  private double[] at(long sec) {
    return seconds.computeIfAbsent(sec, s -> new double[4]);
  }

  private static String tag(SeriesBucket b, String key) {
    if (b.tagKeys == null) {
      return null;
    }
    for (int i = 0; i < b.tagKeys.length; i++) {
      if (key.equals(b.tagKeys[i])) {
        return b.tagValues[i];
      }
    }
    return null;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static InsightRules fromJson(String json) {
    if (json == null) {
      return new InsightRules();
    }
    try {
      return JSON.readValue(json, InsightRules.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
