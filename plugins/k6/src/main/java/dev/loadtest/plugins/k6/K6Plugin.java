package dev.loadtest.plugins.k6;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.plugin.ToolProcessRun;
import dev.loadtest.generator.plugin.ToolScript;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.TestPlan;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code k6} plug-in: a k6 script run by the k6 binary configured on the generator ({@code LOADTEST_K6}, else
 * {@code k6} on the PATH) with the generator's {@code --execution-segment} and the run's
 * {@code --execution-segment-sequence}, so that N generators run the script's load exactly as k6 splits it; its
 * {@code --out json} followed as k6 writes it and read as {@code loadtest import --format k6-json} reads it (checks,
 * groups and custom metrics kept). Options: {@code script} (the .js; embedded as {@code scriptContent} by
 * {@code loadtest run}), {@code maxDuration} (default 10 minutes). The plan's env reaches the script as
 * {@code __ENV}. A generator without a k6 binary does not offer the plug-in.
 */
public final class K6Plugin implements GeneratorPlugin {
  static final String AT = ToolScript.AT;
  private static final Set<String> OPTIONS = Set.of("script", "scriptContent", "maxDuration");
  static final ToolScript SCRIPT = new ToolScript("script", "scriptContent", "a k6 script", "script.js");
  private static final ToolProcessRun.Availability AVAILABILITY = new ToolProcessRun.Availability(() -> probe(command()));

  record Options(String script, String content, Duration maxDuration) {}

  @Override
  public String name() {
    return "k6";
  }

  /** The k6 command: {@code LOADTEST_K6} or {@code k6}. */
  static String command() {
    return ToolProcessRun.command("LOADTEST_K6", "k6");
  }

  @Override
  public Optional<String> unavailable() {
    return AVAILABILITY.get();
  }

  static Optional<String> probe(String k6) {
    return ToolProcessRun.probe(k6, "version", "no k6 binary here (%s): set LOADTEST_K6 to one, or put k6 on the PATH");
  }

  @Override
  public List<PlanError> check(TestPlan plan, Path baseDir) {
    try {
      Options o = parse(plan.generator().optionsJson());
      if (o.content() == null && baseDir != null) {
        SCRIPT.read(o.script(), null, baseDir);
      }
      return List.of();
    } catch (InvalidPlanException e) {
      return e.errors();
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
    String script = SCRIPT.read(o.script(), o.content(), c.baseDir());
    return new K6Run(c, script, c.env(), o.maxDuration(), command());
  }

  /**
   * The command that runs this generator's share: k6's own flags for segments, JSON output to {@code out}, the
   * plan's env as {@code -e}, no summary and no usage report.
   */
  static List<String> commandLine(String k6, String segment, String sequence, Path out, Map<String, String> env,
      Path script) {
    List<String> cmd = new ArrayList<>(List.of(k6, "run", "--quiet", "--no-summary", "--no-usage-report",
        "--execution-segment", segment, "--execution-segment-sequence", sequence, "--out", "json=" + out));
    env.forEach((k, v) -> {
      cmd.add("-e");
      cmd.add(k + "=" + v);
    });
    cmd.add(script.toString());
    return cmd;
  }

  static Options parse(String json) {
    List<PlanError> errors = new ArrayList<>();
    JsonNode n = ToolScript.options(json, OPTIONS, "k6", errors);
    SCRIPT.check(n, errors);
    Duration max = ToolScript.duration(n, "maxDuration", Duration.ofMinutes(10), errors);
    if (!errors.isEmpty()) {
      throw new InvalidPlanException(errors);
    }
    return new Options(SCRIPT.file(n), SCRIPT.text(n), max);
  }
}
