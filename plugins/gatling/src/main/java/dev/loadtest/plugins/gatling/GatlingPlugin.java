package dev.loadtest.plugins.gatling;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.plugin.ToolScript;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.TestPlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code gatling} plug-in: a Gatling simulation in Java (Gatling's Java DSL, 3.10) compiled by the generator
 * and run by Gatling in a JVM of its own beside the generator, its injection profile scaled by the generator's
 * execution segment, each request's record streamed to the generator as Gatling writes it to its (text)
 * simulation.log. Options (under {@code generator.options}):
 *
 * <pre>
 * {"simulation": "ShopSimulation.java", "maxDuration": "10m"}
 * </pre>
 *
 * {@code loadtest run} embeds the source ({@code simulationSource}). Why another JVM and not the generator's:
 * Gatling 3.10 runs on Netty 4.1, the generator's process carries Netty 4.2 (Vert.x, the query API), and the two
 * cannot share a class path; a JVM of its own is also one that a stop or an abort ends at once.
 */
public final class GatlingPlugin implements GeneratorPlugin {
  static final String AT = "$.generator.options";
  private static final Set<String> OPTIONS = Set.of("simulation", "simulationSource", "maxDuration");
  static final ToolScript SCRIPT = new ToolScript("simulation", "simulationSource", "a Gatling simulation in Java",
      "ShopSimulation.java");
  private static final Pattern PACKAGE = Pattern.compile("(?m)^\\s*package\\s+([\\w.]+)\\s*;");
  private static final Pattern CLASS = Pattern.compile("(?m)^\\s*public\\s+(?:final\\s+)?class\\s+(\\w+)\\s+extends\\s+"
      + "(?:io\\.gatling\\.javaapi\\.core\\.)?Simulation\\b");

  /** Checked options; {@code source} null when the file is the generator's to read. */
  record Options(String simulation, String source, Duration maxDuration) {}

  /** A simulation's source and where its class is. */
  record Source(String text, String packageName, String className) {
    String qualified(String simple) {
      return packageName.isEmpty() ? simple : packageName + "." + simple;
    }
  }

  @Override
  public String name() {
    return "gatling";
  }

  @Override
  public Optional<String> unavailable() {
    if (javax.tools.ToolProvider.getSystemJavaCompiler() == null) {
      return Optional.of("no Java compiler in this JVM (a JRE): Gatling simulations are compiled on the generator,"
          + " run it on a JDK");
    }
    try {
      GatlingLib.jars();
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(e.getMessage());
    }
  }

  @Override
  public List<PlanError> check(TestPlan plan, Path baseDir) {
    try {
      Options o = parse(plan.generator().optionsJson());
      String text = o.source() != null || baseDir == null ? o.source() : SCRIPT.read(o.simulation(), null, baseDir);
      if (text != null && unavailable().isEmpty()) {
        Source s = source(text);
        Path dir = Files.createTempDirectory("gatling-check-");
        try {
          List<String> errors = compile(s, dir);
          if (!errors.isEmpty()) {
            return List.of(new PlanError(AT + (o.source() != null ? ".simulationSource" : ".simulation"),
                "does not compile against Gatling 3.10's Java DSL: " + String.join("; ", errors)));
          }
        } finally {
          deleteTree(dir);
        }
      }
      return List.of();
    } catch (InvalidPlanException e) {
      return e.errors();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String embedFiles(String optionsJson, Path baseDir) {
    parse(optionsJson);
    return SCRIPT.embed(optionsJson, baseDir);
  }

  @Override
  public PluginRun prepare(PluginContext c) {
    Options o = parse(c.plan().generator().optionsJson());
    String text = SCRIPT.read(o.simulation(), o.source(), c.baseDir());
    return new GatlingRun(c, source(text), o.maxDuration());
  }

  /** The package and the public Simulation class of a source. */
  static Source source(String text) {
    Matcher c = CLASS.matcher(text);
    if (!c.find()) {
      throw new InvalidPlanException(List.of(new PlanError(AT + ".simulation", "no \"public class NAME extends"
          + " Simulation\" in the source: the plug-in runs simulations of Gatling's Java DSL")));
    }
    Matcher p = PACKAGE.matcher(text);
    return new Source(text, p.find() ? p.group(1) : "", c.group(1));
  }

  /**
   * Writes the simulation and the subclass that scales it ({@code LoadtestScaledNAME}: the user's constructor, then
   * {@code Scaling.apply}) under {@code dir/src}, and compiles them into {@code dir/classes}.
   *
   * @return the compiler's errors
   */
  static List<String> compile(Source s, Path dir) throws IOException {
    Path pkg = dir.resolve("src").resolve(s.packageName().replace('.', '/'));
    Files.createDirectories(pkg);
    Path user = pkg.resolve(s.className() + ".java");
    Files.writeString(user, s.text());
    Path scaled = pkg.resolve("LoadtestScaled" + s.className() + ".java");
    Files.writeString(scaled, (s.packageName().isEmpty() ? "" : "package " + s.packageName() + ";\n")
        + "public class LoadtestScaled" + s.className() + " extends " + s.className() + " {\n"
        + "  public LoadtestScaled" + s.className() + "() throws ReflectiveOperationException {\n"
        + "    dev.loadtest.plugins.gatling.inside.Scaling.apply(this);\n  }\n}\n");
    Path classes = Files.createDirectories(dir.resolve("classes"));
    return GatlingLib.compile(List.of(user, scaled), classes);
  }

  static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static Options parse(String json) {
    List<PlanError> errors = new ArrayList<>();
    JsonNode n = ToolScript.options(json, OPTIONS, "gatling", errors);
    SCRIPT.check(n, errors);
    Duration max = ToolScript.duration(n, "maxDuration", Duration.ofMinutes(10), errors);
    if (!errors.isEmpty()) {
      throw new InvalidPlanException(errors);
    }
    return new Options(SCRIPT.file(n), SCRIPT.text(n), max);
  }
}
