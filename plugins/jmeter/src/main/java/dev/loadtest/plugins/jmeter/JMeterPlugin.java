package dev.loadtest.plugins.jmeter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.generator.plugin.GeneratorPlugin;
import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.PluginRun;
import dev.loadtest.generator.plugin.ToolScript;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.plan.TestPlan;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.jmeter.control.LoopController;
import org.apache.jmeter.engine.util.CompoundVariable;
import org.apache.jmeter.threads.AbstractThreadGroup;
import org.apache.jorphan.collections.HashTree;
import org.apache.jorphan.collections.SearchByClass;

/**
 * The {@code jmeter} plug-in: a JMeter test plan ({@code .jmx}) run by Apache JMeter's own engine in the
 * generator's JVM, each of its samples streamed as k6 samples as it completes. Options (under
 * {@code generator.options}):
 *
 * <pre>
 * {"testPlan": "checkout.jmx", "properties": {"threads": "20"}, "maxDuration": "10m"}
 * </pre>
 *
 * {@code loadtest run} embeds the test plan's XML in the options ({@code testPlanXml}), so that generators on
 * other machines need not have the file; a plan submitted without it names a file that each generator reads from
 * its base directory (where it reads feeder files) unless the path is absolute;
 * the plan's {@code env} (with the launch's overrides) and {@code properties} become JMeter properties
 * ({@code ${__P(name)}}). Every thread group's threads (or, with fewer threads than generators, its loops) are
 * scaled by the generator's execution segment (after its functions are evaluated), so N generators run together
 * exactly the test plan's threads x loops. {@code maxDuration} (default 10 minutes) stops a test plan that would not end on its own;
 * the coordinator's deadline counts it.
 *
 * <p>A JMeter test plan runs with the generator's rights, as it would under {@code jmeter -n}: its JSR223 and
 * BeanShell elements execute code. A generator that takes plans from many teams runs them as the teams' tool
 * would, no safer.
 */
public final class JMeterPlugin implements GeneratorPlugin {
  static final String AT = "$.generator.options";
  private static final Set<String> OPTIONS = Set.of("testPlan", "testPlanXml", "properties", "maxDuration");
  static final ToolScript SCRIPT = new ToolScript("testPlan", "testPlanXml", "a JMeter test plan (.jmx)",
      "checkout.jmx");
  static final Duration DEFAULT_MAX_DURATION = Duration.ofMinutes(10);

  /** Checked options. */
  record Options(String testPlan, String testPlanXml, Map<String, String> properties, Duration maxDuration) {}

  @Override
  public String name() {
    return "jmeter";
  }

  @Override
  public List<PlanError> check(TestPlan plan, Path baseDir) {
    try {
      Options o = parse(plan.generator().optionsJson());
      if (o.testPlanXml() != null) {
        loadEmbedded(o);
      } else if (baseDir != null) {
        load(baseDir.resolve(o.testPlan()));
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
    Map<String, String> properties = c.env();
    properties.putAll(o.properties());
    JMeterEngineHome.setProperties(properties);
    HashTree tree = o.testPlanXml() != null ? loadEmbedded(o) : load(c.baseDir().resolve(o.testPlan()));
    scaleThreadGroups(tree, c.sequence(), c.segment());
    return new JMeterRun(c, tree, o.maxDuration());
  }

  /** The embedded test plan, read by JMeter from a file of its own (JMeter reads test plans from files). */
  static HashTree loadEmbedded(Options o) {
    Path file = null;
    try {
      file = Files.createTempFile("testplan-", ".jmx");
      Files.writeString(file, o.testPlanXml());
      return load(file, AT + ".testPlanXml", o.testPlan() == null ? "the embedded test plan" : o.testPlan());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write the embedded test plan to a file: " + e.getMessage(), e);
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // a temp file left behind
        }
      }
    }
  }

  /**
   * Gives every thread group the segment's share of its load, its values evaluated first (a plan often says
   * {@code ${__P(threads,10)}}): its threads when it has at least one per segment (each thread keeps its loops); else,
   * when its loops are finite, its loops (each generator runs every thread, fewer times), so that a one-thread plan
   * spreads too. Either way the generators' shares add up to the plan's threads x loops exactly.
   *
   * @return the thread groups' shares, by name: threads x loops (-1 loops: until the scheduler or maxDuration)
   */
  static Map<String, String> scaleThreadGroups(HashTree tree, ExecutionSegmentSequence sequence, int segment) {
    SearchByClass<AbstractThreadGroup> groups = new SearchByClass<>(AbstractThreadGroup.class);
    tree.traverse(groups);
    Map<String, String> scaled = new LinkedHashMap<>();
    for (AbstractThreadGroup g : groups.getSearchResults()) {
      int threads = Math.max(0, whole(g, g.getPropertyAsString(AbstractThreadGroup.NUM_THREADS), "number of threads"));
      LoopController loop = g.getSamplerController() instanceof LoopController l ? l : null;
      int loops = loop == null ? -1 : whole(g, loop.getPropertyAsString(LoopController.LOOPS), "loop count");
      boolean forever = loop == null || loops < 0;
      if (threads >= sequence.segmentCount() || forever || threads == 0) {
        g.setNumThreads((int) sequence.scale(segment, threads));
      } else {
        loop.setLoops((int) sequence.scale(segment, loops));
        g.setNumThreads(threads);
      }
      scaled.put(g.getName(), g.getNumThreads() + " x " + (loop == null ? -1 : loop.getLoops()));
    }
    return scaled;
  }

  /** A thread group's number, its functions evaluated; an error at the test plan's path when it is not one. */
  private static int whole(AbstractThreadGroup g, String raw, String what) {
    try {
      return Integer.parseInt(new CompoundVariable(raw).execute().trim());
    } catch (RuntimeException e) {
      throw new InvalidPlanException(List.of(new PlanError(AT + ".testPlan", "thread group \"" + g.getName()
          + "\": its " + what + " \"" + raw + "\" is not a whole number here (" + e.getMessage() + ")")));
    }
  }

  /** Reads a test plan with JMeter's own reader; errors at {@code $.generator.options.testPlan}. */
  static HashTree load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new InvalidPlanException(List.of(new PlanError(AT + ".testPlan", "no JMeter test plan at "
          + file.toAbsolutePath())));
    }
    return load(file, AT + ".testPlan", file.toAbsolutePath().toString());
  }

  private static HashTree load(Path file, String at, String what) {
    HashTree tree;
    try {
      tree = JMeterEngineHome.loadTree(file);
    } catch (IOException | RuntimeException e) {
      throw new InvalidPlanException(List.of(new PlanError(at, "not a JMeter test plan that JMeter "
          + JMeterEngineHome.VERSION + " reads: " + what + ": " + rootCause(e))));
    }
    if (tree == null || tree.isEmpty()) {
      throw new InvalidPlanException(List.of(new PlanError(at, what + " holds no test plan")));
    }
    SearchByClass<AbstractThreadGroup> groups = new SearchByClass<>(AbstractThreadGroup.class);
    tree.traverse(groups);
    if (groups.getSearchResults().isEmpty()) {
      throw new InvalidPlanException(List.of(new PlanError(at, what
          + " has no enabled thread group: it would make no request")));
    }
    return tree;
  }

  private static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return m.length() > 300 ? m.substring(0, 300) + "..." : m;
  }

  static Options parse(String json) {
    List<PlanError> errors = new ArrayList<>();
    JsonNode n = ToolScript.options(json, OPTIONS, "jmeter", errors);
    SCRIPT.check(n, errors);
    Map<String, String> properties = new LinkedHashMap<>();
    JsonNode props = n.get("properties");
    if (props != null) {
      if (!props.isObject()) {
        errors.add(new PlanError(AT + ".properties", "must be an object of JMeter properties, e.g. {\"threads\": \"20\"}"));
      } else {
        props.properties().forEach(e -> {
          if (e.getValue().isValueNode() && !e.getValue().isNull()) {
            properties.put(e.getKey(), e.getValue().asText());
          } else {
            errors.add(new PlanError(AT + ".properties." + e.getKey(), "a JMeter property is a string or a number"));
          }
        });
      }
    }
    Duration max = ToolScript.duration(n, "maxDuration", DEFAULT_MAX_DURATION, errors);
    if (!errors.isEmpty()) {
      throw new InvalidPlanException(errors);
    }
    return new Options(SCRIPT.file(n), SCRIPT.text(n), properties, max);
  }
}
