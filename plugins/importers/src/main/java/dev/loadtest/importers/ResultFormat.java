package dev.loadtest.importers;

import java.util.Arrays;
import java.util.Optional;

/** The result files {@code loadtest import} reads, by the name its {@code --format} takes. */
public enum ResultFormat {
  /** k6's {@code --out json}: one JSON object a line, Metric declarations and Points. */
  K6_JSON("k6-json"),
  /** k6's {@code --out csv}: metric_name, timestamp, metric_value and the tags, a sample a line. */
  K6_CSV("k6-csv"),
  /** JMeter's JTL, CSV (with its header line) or XML, as {@code jmeter -n -l results.jtl} writes it. */
  JMETER_JTL("jmeter-jtl"),
  /** Gatling's text {@code simulation.log} (Gatling 3.0 to 3.10; 3.11 and later write a binary log). */
  GATLING_LOG("gatling-log"),
  /** Locust's {@code _stats_history.csv}: aggregates per interval, not requests (an approximation, said so). */
  LOCUST_CSV("locust-csv");

  private final String flag;

  ResultFormat(String flag) {
    this.flag = flag;
  }

  public String flag() {
    return flag;
  }

  public static Optional<ResultFormat> of(String flag) {
    return Arrays.stream(values()).filter(f -> f.flag.equals(flag)).findFirst();
  }

  /** The names, for messages: "k6-json, k6-csv, jmeter-jtl, gatling-log, locust-csv". */
  public static String names() {
    return String.join(", ", Arrays.stream(values()).map(ResultFormat::flag).toList());
  }
}
