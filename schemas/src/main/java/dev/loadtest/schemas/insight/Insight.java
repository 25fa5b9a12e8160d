package dev.loadtest.schemas.insight;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.Map;

/**
 * A performance insight the threshold job raises while a run goes, as published on {@code loadtest.insights}
 * (JSON, key: test run id) and stored in ClickHouse's {@code insights} table: which rule, over what time,
 * and the values that triggered it. A rule raises at most once per run (per generator for the generator
 * rules); a plan can disable rules by name ({@code "insights": {"disabled": ["not-enough-data"]}}).
 *
 * @param subject what the insight is about within the run: a generator id for the generator rules, else ""
 * @param severity {@code warning} (the results may mislead) or {@code info}
 * @param values the numbers that triggered it, by name (e.g. {@code vusFrom}, {@code vusTo}, {@code failureRate})
 */
public record Insight(String testRunId, String rule, String subject, String severity, String title, String message,
    long fromMs, long toMs, Map<String, Double> values, long atMs) {
  /** VUs (or requests in flight) kept rising while completed requests per second stayed flat. */
  public static final String THROUGHPUT_LIMIT = "throughput-limit";
  /** A period whose failure rate is clearly above the run's beginning. */
  public static final String INCREASED_FAILURE_RATE = "increased-failure-rate";
  /** More than 15% of requests failed over the run's first 100 iterations. */
  public static final String HIGH_FAILURE_RATE_EARLY = "high-failure-rate-early";
  /** A generator's CPU above 80% for 10 s: its timings may be inflated. */
  public static final String HIGH_GENERATOR_CPU = "high-generator-cpu";
  /** A generator's heap above 80% of its maximum for 10 s. */
  public static final String HIGH_GENERATOR_MEMORY = "high-generator-memory";
  /** More than 500 distinct request names: URLs with ids in them make series without end. */
  public static final String TOO_MANY_URLS = "too-many-urls";
  /** Requests to 10 or more distinct hosts from one generator: third-party content mixed into the results. */
  public static final String THIRD_PARTY_HOSTS = "third-party-hosts";
  /** Fewer than 100 iterations in the whole run: too little to conclude from. */
  public static final String NOT_ENOUGH_DATA = "not-enough-data";

  /**
   * Not an insight: the record that closes a run's insights (raised once event time has passed its end), so
   * that a reader can tell "no insight" from "not judged yet". Readers list it as {@code complete}, never as
   * an insight.
   */
  public static final String JUDGED = "~judged";

  /** Every rule, in the order they are documented. */
  public static final List<String> RULES = List.of(THROUGHPUT_LIMIT, INCREASED_FAILURE_RATE, HIGH_FAILURE_RATE_EARLY,
      HIGH_GENERATOR_CPU, HIGH_GENERATOR_MEMORY, TOO_MANY_URLS, THIRD_PARTY_HOSTS, NOT_ENOUGH_DATA);

  private static final ObjectMapper JSON = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  public Insight {
    subject = subject == null ? "" : subject;
    values = values == null ? Map.of() : Map.copyOf(values);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** @throws IllegalArgumentException saying what is wrong */
  public static Insight fromJson(String json) {
    try {
      Insight i = JSON.readValue(json, Insight.class);
      if (i.testRunId() == null || i.rule() == null || i.message() == null) {
        throw new IllegalArgumentException("an insight needs testRunId, rule and message");
      }
      return i;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not an insight: " + e.getOriginalMessage(), e);
    }
  }
}
