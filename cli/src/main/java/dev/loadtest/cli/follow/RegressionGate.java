package dev.loadtest.cli.follow;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * A finished run compared with a baseline through the API ({@code GET /runs/{id}/compare}): the limits it was
 * held to and whether one was exceeded. {@code checks} is null when there was nothing to compare with (the
 * first runs of a load test), which {@code note} says.
 *
 * @param baseline the baseline's run id (null: none)
 * @param chosen how the baseline was chosen
 * @param checks the API's regressions, one per limit, in the order given
 * @param comparison both runs' summaries side by side (the API's {@code comparison}: a is the baseline)
 */
public record RegressionGate(String baseline, String chosen, boolean regressed, JsonNode checks, JsonNode comparison,
    String note) {
  /** The metric and stat pairs shown when no limit is given. */
  static final List<String[]> SHOWN = List.of(new String[] {"http_req_duration", "p(95)"},
      new String[] {"http_req_failed", "rate"}, new String[] {"http_reqs", "rate"});

  /**
   * Compares {@code run} with {@code baseline} ({@code auto} or a run id) under {@code limits}; with no limits,
   * shows p(95), the failure rate and requests/s side by side without judging them.
   *
   * @throws IOException when the API fails, or refuses the limits or a named baseline (its message says why)
   */
  public static RegressionGate check(ApiClient api, String run, String baseline, List<String> limits)
      throws IOException, InterruptedException {
    StringBuilder path = new StringBuilder("/runs/" + ApiClient.enc(run) + "/compare?baseline=" + ApiClient.enc(baseline));
    for (String l : limits) {
      path.append("&regression=").append(ApiClient.enc(l));
    }
    JsonNode r;
    try {
      r = api.get(path.toString(), java.util.Map.of());
    } catch (ApiClient.ApiError e) {
      if (e.status() == 404 && baseline.equals("auto") && e.body().path("parameter").asText().equals("baseline")) {
        return new RegressionGate(null, null, false, null, null, e.body().path("error").asText(e.getMessage()));
      }
      throw new IOException("the regression check failed: " + e.body().path("error").asText(e.getMessage()), e);
    }
    boolean judged = !limits.isEmpty();
    return new RegressionGate(r.path("baseline").path("testRunId").asText(), r.path("baseline").path("chosen").asText(),
        judged && r.path("regressed").asBoolean(), r.path("regressions"), r.path("comparison"), judged ? null
            : "no --regression limit given: differences shown, not judged");
  }

  /** The lines the console shows. */
  public String render() {
    StringBuilder b = new StringBuilder();
    if (checks == null) {
      return b.append("\n  regression gate: not checked: ").append(note).append('\n').toString();
    }
    b.append(String.format(Locale.ROOT, "%n  compared with run %s (%s)%n", baseline, chosen));
    if (note != null) {
      for (String[] shown : SHOWN) {
        for (JsonNode m : comparison.path("metrics")) {
          JsonNode st = m.path("stats").path(shown[1]);
          if (m.path("metric").asText().equals(shown[0]) && st.path("a").isNumber() && st.path("b").isNumber()) {
            double change = st.path("change").asDouble(Double.NaN);
            b.append(String.format(Locale.ROOT, "    %-54s %s -> %s%s%n", shown[0] + " " + shown[1],
                SummaryText.number(st.path("a").asDouble()), SummaryText.number(st.path("b").asDouble()),
                Double.isNaN(change) ? "" : String.format(Locale.ROOT, " (%+.1f%%)", change * 100)));
          }
        }
      }
      return b.append("    (").append(note).append(")\n").toString();
    }
    for (JsonNode c : checks) {
      String state = c.path("state").asText();
      String mark = switch (state) {
        case "PASSED" -> "✓";
        case "EXCEEDED" -> "✗";
        default -> "-";
      };
      String what = c.path("regression").asText();
      String numbers = c.path("baseline").isNumber() && c.path("value").isNumber()
          ? SummaryText.number(c.path("baseline").asDouble()) + " -> " + SummaryText.number(c.path("value").asDouble())
          + " (" + c.path("change").asText() + ")" : c.path("message").asText();
      b.append(String.format(Locale.ROOT, "    %s %-52s %s%n", mark, what, numbers));
    }
    return b.toString();
  }
}
