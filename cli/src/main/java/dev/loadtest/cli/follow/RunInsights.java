package dev.loadtest.cli.follow;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;

/** A run's performance insights through the API ({@code GET /runs/{id}/insights}), for the end-of-test summary. */
public final class RunInsights {
  private RunInsights() {}

  /**
   * The run's insights once every rule has judged it (the answer's {@code complete}), or what there is after
   * {@code wait}; null when the API has none to give (an older API).
   */
  public static JsonNode await(ApiClient api, String run, Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    JsonNode last = null;
    while (true) {
      try {
        last = api.get("/runs/" + ApiClient.enc(run) + "/insights", java.util.Map.of());
      } catch (IOException e) {
        return last;
      }
      if (last.path("complete").asBoolean() || System.nanoTime() > deadline) {
        return last;
      }
      Thread.sleep(250); // the insights operator closes a run a second or two after its end
    }
  }

  /** The summary's lines: each insight with its time in the run, or that there were none. */
  public static String render(JsonNode insights, long runStartMs) {
    if (insights == null) {
      return "";
    }
    StringBuilder b = new StringBuilder("\n  PERFORMANCE INSIGHTS\n");
    JsonNode list = insights.path("insights");
    if (list.isEmpty()) {
      b.append(insights.path("complete").asBoolean() ? "    none: no rule found anything to say\n"
          : "    none yet (the run's insights were not complete when the summary was printed)\n");
    }
    for (JsonNode i : list) {
      long from = (i.path("from").asLong() - runStartMs) / 1000;
      long to = (i.path("to").asLong() - runStartMs) / 1000;
      b.append(String.format(Locale.ROOT, "    %s %s (%s, %d s - %d s): %s%n",
          i.path("severity").asText().equals("warning") ? "!" : "i", i.path("title").asText(), i.path("rule").asText(),
          Math.max(0, from), Math.max(0, to), i.path("message").asText()));
    }
    if (!insights.path("disabled").isEmpty()) {
      java.util.List<String> disabled = new java.util.ArrayList<>();
      insights.path("disabled").forEach(x -> disabled.add(x.asText()));
      b.append("    (disabled by the plan: ").append(String.join(", ", disabled)).append(")\n");
    }
    return b.toString();
  }
}
