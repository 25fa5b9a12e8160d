package dev.loadtest.generator.engine;

import dev.loadtest.generator.http.VuSession;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One virtual user: its number in the run (k6's {@code __VU}, 1-based and unique over all generators),
 * its variables, its feeder rows, its random source and its HTTP session (own connections and cookies).
 * Lives as long as its scenario; used by one thread at a time (the thread running its current
 * iteration). Kept small: most fields are created only when first needed.
 */
public final class VirtualUser {
  private final int number;
  private final ScenarioContext scenario;
  private final VuSession http;
  private final SplittableRandom random;
  private Map<String, String> vars;
  private Map<String, Map<String, String>> rows;
  private long iterations;

  public VirtualUser(int number, ScenarioContext scenario) {
    this.number = number;
    this.scenario = scenario;
    this.http = new VuSession(number);
    this.random = new SplittableRandom(scenario.run().seed() * 1_000_003L + number);
  }

  public int number() {
    return number;
  }

  public ScenarioContext scenario() {
    return scenario;
  }

  public VuSession http() {
    return http;
  }

  public SplittableRandom random() {
    return random;
  }

  public long iterations() {
    return iterations;
  }

  void startIteration() {
    iterations++;
    if (rows != null) {
      // Random and sequential feeders give a new row each iteration; a unique row stays.
      rows.keySet().removeIf(f -> !scenario.run().feeders().isPerVu(f));
    }
  }

  String env(String name) {
    return scenario.env().get(name);
  }

  /** A variable of this VU, else of the run's setup. */
  public String variable(String name) {
    String v = vars == null ? null : vars.get(name);
    return v != null ? v : scenario.run().setupVars().get(name);
  }

  public void setVariable(String name, String value) {
    if (vars == null) {
      vars = new HashMap<>(4);
    }
    vars.put(name, value);
  }

  /** The variables this VU has set (extractions), without setup's. */
  public Map<String, String> variables() {
    return vars == null ? Map.of() : vars;
  }

  String feederField(String feeder, String field) {
    if (rows == null) {
      rows = new HashMap<>(2);
    }
    Map<String, String> row = rows.computeIfAbsent(feeder, f -> scenario.run().feeders().pick(f, this));
    return row == null ? null : row.get(field);
  }
}
