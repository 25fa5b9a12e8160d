package dev.loadtest.plugins.gatling.inside;

import io.gatling.app.Gatling;
import io.gatling.core.config.GatlingPropertiesBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The JVM the gatling plug-in starts for one run's share: loads Gatling, says {@code ready}, waits for {@code go}
 * on its input (so that every generator's share starts at the run's start time, not when its JVM is up), then runs
 * the simulation (its scaled subclass, see {@link Scaling}) with the simulation log as text in {@code RESULTS},
 * no reports, and exits with Gatling's exit code. Arguments: SIMULATION_CLASS RESULTS_DIR.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    scala.collection.mutable.Map<String, Object> props = new GatlingPropertiesBuilder().simulationClass(args[0])
        .resultsDirectory(args[1]).noReports().runDescription("loadtest").build();
    // small writes: each request's record reaches the file, and the generator, within a fraction of a second
    props.put("gatling.data.file.bufferSize", 256);
    props.put("gatling.data.writers", java.util.List.of("file"));
    System.out.println("ready");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String go = in.readLine();
    if (!"go".equals(go)) {
      System.exit(3);
    }
    System.exit(Gatling.fromMap(props));
  }
}
