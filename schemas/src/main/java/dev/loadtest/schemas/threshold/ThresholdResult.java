package dev.loadtest.schemas.threshold;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * A threshold's state as the threshold job publishes it on {@code loadtest.thresholds} (JSON, key: test
 * run id), at every change and, with {@code finalResult}, once the watermark has passed the run's end.
 *
 * @param threshold {@code metric{tags}: expression} as the plan writes it, e.g.
 *     {@code http_req_duration{name:checkout}: p(95)<500}
 * @param state PASSED, FAILED or NO_DATA (no samples yet; see {@link ThresholdEvaluator})
 * @param value the aggregation's value the expression was judged on (NaN for NO_DATA)
 * @param partial a final result judged without all of the run's data: the samples the generators reported
 *     had not all arrived when the wait for them ended, or a generator was lost (its count is unknown). Such a
 *     verdict is not a pass or a fail one can rely on: {@code loadtest run} exits 97.
 */
public record ThresholdResult(String testRunId, String threshold, State state, double value, boolean finalResult,
    long atMs, boolean partial) {
  /** A result judged on all the data that has come (every result that is not final, and complete final ones). */
  public ThresholdResult(String testRunId, String threshold, State state, double value, boolean finalResult, long atMs) {
    this(testRunId, threshold, state, value, finalResult, atMs, false);
  }

  private static final ObjectMapper JSON = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  public enum State { PASSED, FAILED, NO_DATA }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** @throws IllegalArgumentException saying what is wrong */
  public static ThresholdResult fromJson(String json) {
    try {
      ThresholdResult r = JSON.readValue(json, ThresholdResult.class);
      if (r.testRunId() == null || r.threshold() == null || r.state() == null) {
        throw new IllegalArgumentException("a threshold result needs testRunId, threshold and state");
      }
      return r;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a threshold result: " + e.getOriginalMessage(), e);
    }
  }
}
