package dev.loadtest.plugins.locust;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.plugin.ToolProcessRun;
import dev.loadtest.generator.plugin.ToolScript;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.TestPlan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The {@code locust} plug-in: a locustfile run by Locust (Debian's {@code python3-locust}, or the command in
 * {@code LOADTEST_LOCUST}) headless beside the generator, its users and spawn rate scaled by the generator's
 * execution segment, every request event streamed to the generator as it happens by a listener shipped with the
 * plug-in ({@code loadtest_locust.py}, over a socket on 127.0.0.1). Options (under {@code generator.options}):
 *
 * <pre>
 * {"locustfile": "shop.py", "users": 20, "spawnRate": 5, "duration": "2m", "host": "http://127.0.0.1:8080",
 *  "userClasses": ["Shopper"]}
 * </pre>
 *
 * {@code users} is the whole run's (N generators run it together); {@code spawnRate} users per second, for the
 * whole run too (default: all at once); {@code host} defaults to the plan's env {@code BASE_URL}; the plan's env
 * is the Locust process's environment. {@code loadtest run} embeds the locustfile in the options
 * ({@code locustfileContent}); a locustfile that imports modules of its own needs them on the generator.
 */
public final class LocustPlugin implements GeneratorPlugin {
  static final String AT = "$.generator.options";
  private static final Set<String> OPTIONS = Set.of("locustfile", "locustfileContent", "users", "spawnRate",
      "duration", "host", "userClasses");
  static final ToolScript SCRIPT = new ToolScript("locustfile", "locustfileContent", "a locustfile", "locustfile.py");
  private static final ToolProcessRun.Availability AVAILABILITY = new ToolProcessRun.Availability(LocustPlugin::probe);

  /** Checked options; {@code spawnRate} 0 when not given (all users at once). */
  record Options(String locustfile, String content, long users, double spawnRate, Duration duration, String host,
      List<String> userClasses) {}

  @Override
  public String name() {
    return "locust";
  }

  /** The Locust command: {@code LOADTEST_LOCUST} or {@code locust}. */
  static String command() {
    return ToolProcessRun.command("LOADTEST_LOCUST", "locust");
  }

  @Override
  public Optional<String> unavailable() {
    return AVAILABILITY.get();
  }

  private static Optional<String> probe() {
    return ToolProcessRun.probe(command(), "--version", "Locust is not installed here (%s): install it (Debian:"
        + " apt-get install python3-locust) or set LOADTEST_LOCUST to its command");
  }

  @Override
  public List<PlanError> check(TestPlan plan, Path baseDir) {
    try {
      Options o = parse(plan.generator().optionsJson());
      String content = o.content() != null || baseDir == null ? o.content() : SCRIPT.read(o.locustfile(), null, baseDir);
      Optional<String> syntax = content == null ? Optional.empty() : syntaxError(content);
      if (syntax.isPresent()) {
        return List.of(new PlanError(AT + (o.content() != null ? ".locustfileContent" : ".locustfile"),
            "not Python that compiles: " + syntax.get()));
      }
      if (o.host() == null && !plan.env().containsKey("BASE_URL")) {
        return List.of(new PlanError(AT + ".host", "required (or the plan's env BASE_URL): the base URL Locust's"
            + " users request, e.g. \"http://127.0.0.1:8080\""));
      }
      return List.of();
    } catch (InvalidPlanException e) {
      return e.errors();
    }
  }

  /**
   * What Python's parser says of {@code source} (a syntax error, with its line), when a {@code python3} is here to
   * ask; empty when it compiles or no Python is at hand (the generators' Locust then reports it).
   */
  static Optional<String> syntaxError(String source) {
    try {
      Process p = new ProcessBuilder("python3", "-c", "import ast, sys\n"
          + "try:\n    ast.parse(sys.stdin.read(), 'locustfile')\n"
          + "except SyntaxError as e:\n    print(f'{type(e).__name__}: {e.msg} (line {e.lineno})')\n")
          .redirectErrorStream(true).start();
      try (var in = p.getOutputStream()) {
        in.write(source.getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return p.exitValue() == 0 && !out.isEmpty() ? Optional.of(out) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
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
    java.util.Map<String, String> env = c.env();
    String host = o.host() != null ? o.host() : env.get("BASE_URL");
    if (host == null) {
      throw new InvalidPlanException(List.of(new PlanError(AT + ".host", "required (or the plan's env BASE_URL)")));
    }
    long users = c.sequence().scale(c.segment(), o.users());
    double spawnRate = o.spawnRate() > 0 ? c.sequence().scaleRate(c.segment(), o.spawnRate()) : Math.max(1, users);
    String content = SCRIPT.read(o.locustfile(), o.content(), c.baseDir());
    return new LocustRun(c, content, users, spawnRate, o.duration(), host, o.userClasses(), env);
  }

  static Options parse(String json) {
    List<PlanError> errors = new ArrayList<>();
    JsonNode n = ToolScript.options(json, OPTIONS, "locust", errors);
    SCRIPT.check(n, errors);
    long users = 0;
    JsonNode u = n.get("users");
    if (u == null || !u.canConvertToLong() || !u.isIntegralNumber() || u.asLong() < 1 || u.asLong() > 1_000_000) {
      errors.add(new PlanError(AT + ".users", "required: the number of Locust users of the whole run, 1 to"
          + " 1000000"));
    } else {
      users = u.asLong();
    }
    double spawnRate = 0;
    JsonNode r = n.get("spawnRate");
    if (r != null) {
      if (!r.isNumber() || r.asDouble() <= 0 || r.asDouble() > 1_000_000) {
        errors.add(new PlanError(AT + ".spawnRate", "users started per second for the whole run, more than 0"));
      } else {
        spawnRate = r.asDouble();
      }
    }
    Duration duration = ToolScript.duration(n, "duration", null, errors);
    if (duration == null && !n.has("duration")) {
      errors.add(new PlanError(AT + ".duration", "required: how long Locust runs, e.g. \"2m\""));
    }
    String host = null;
    JsonNode h = n.get("host");
    if (h != null) {
      if (!h.isTextual() || !h.asText().matches("https?://\\S+")) {
        errors.add(new PlanError(AT + ".host", "must be an http:// or https:// base URL"));
      } else {
        host = h.asText();
      }
    }
    List<String> classes = new ArrayList<>();
    JsonNode uc = n.get("userClasses");
    if (uc != null) {
      if (!uc.isArray()) {
        errors.add(new PlanError(AT + ".userClasses", "must be an array of User class names"));
      } else {
        for (int i = 0; i < uc.size(); i++) {
          if (!uc.get(i).isTextual() || !uc.get(i).asText().matches("[A-Za-z_][A-Za-z0-9_]{0,99}")) {
            errors.add(new PlanError(AT + ".userClasses[" + i + "]", "must be the name of a User class"));
          } else {
            classes.add(uc.get(i).asText());
          }
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new InvalidPlanException(errors);
    }
    return new Options(SCRIPT.file(n), SCRIPT.text(n), users, spawnRate, duration, host, List.copyOf(classes));
  }
}
