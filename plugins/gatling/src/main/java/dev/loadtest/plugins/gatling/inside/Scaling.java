package dev.loadtest.plugins.gatling.inside;

import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import io.gatling.core.controller.inject.InjectionProfile;
import io.gatling.core.controller.inject.closed.ClosedInjectionProfile;
import io.gatling.core.controller.inject.closed.ClosedInjectionStep;
import io.gatling.core.controller.inject.closed.ConstantConcurrentUsersInjection;
import io.gatling.core.controller.inject.closed.RampConcurrentUsersInjection;
import io.gatling.core.controller.inject.open.AtOnceOpenInjection;
import io.gatling.core.controller.inject.open.ConstantRateOpenInjection;
import io.gatling.core.controller.inject.open.HeavisideOpenInjection;
import io.gatling.core.controller.inject.open.NothingForOpenInjection;
import io.gatling.core.controller.inject.open.OpenInjectionProfile;
import io.gatling.core.controller.inject.open.OpenInjectionStep;
import io.gatling.core.controller.inject.open.RampOpenInjection;
import io.gatling.core.controller.inject.open.RampRateOpenInjection;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.Simulation;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Gives a simulation this generator's share of its load: called by the subclass the plug-in generates for the
 * user's simulation, right after the user's constructor has called {@code setUp}. Every injection step's users
 * (at once, ramp, heaviside; closed: concurrent users) are scaled by the execution segment exactly as the other
 * plug-ins scale VUs (N generators' shares add up to the simulation's users), rates by its length; a step that
 * cannot be split (stairs, Poisson, composite) is refused with its name. The simulation's max duration is capped
 * at the plug-in's {@code maxDuration}. Segment, sequence and cap come as system properties
 * ({@code loadtest.sequence}, {@code loadtest.segment}, {@code loadtest.maxDurationSeconds}).
 */
public final class Scaling {
  private Scaling() {}

  public static void apply(Simulation simulation) throws ReflectiveOperationException {
    ExecutionSegmentSequence sequence = ExecutionSegmentSequence.parse(System.getProperty("loadtest.sequence", "0,1"));
    int segment = Integer.getInteger("loadtest.segment", 0);
    Field builders = Simulation.class.getDeclaredField("_populationBuilders");
    builders.setAccessible(true);
    @SuppressWarnings("unchecked")
    List<PopulationBuilder> given = (List<PopulationBuilder>) builders.get(simulation);
    if (given == null) {
      throw new IllegalStateException("the simulation did not call setUp in its constructor");
    }
    List<PopulationBuilder> scaled = new ArrayList<>();
    for (PopulationBuilder p : given) {
      scaled.add(new PopulationBuilder(scale(p.asScala(), sequence, segment)));
    }
    builders.set(simulation, scaled);
    long cap = Long.getLong("loadtest.maxDurationSeconds", 600);
    Field max = Simulation.class.getDeclaredField("_maxDuration");
    max.setAccessible(true);
    Duration current = (Duration) max.get(simulation);
    if (current == null || current.getSeconds() > cap) {
      max.set(simulation, Duration.ofSeconds(cap));
    }
  }

  static io.gatling.core.structure.PopulationBuilder scale(io.gatling.core.structure.PopulationBuilder p,
      ExecutionSegmentSequence sequence, int segment) throws ReflectiveOperationException {
    List<scala.collection.immutable.List<io.gatling.core.structure.PopulationBuilder>> children = new ArrayList<>();
    for (scala.collection.immutable.List<io.gatling.core.structure.PopulationBuilder> level
        : CollectionConverters.asJava(p.children())) {
      List<io.gatling.core.structure.PopulationBuilder> out = new ArrayList<>();
      for (io.gatling.core.structure.PopulationBuilder c : CollectionConverters.asJava(level)) {
        out.add(scale(c, sequence, segment));
      }
      children.add(CollectionConverters.asScala(out).toList());
    }
    return io.gatling.core.structure.PopulationBuilder.apply(p.scenarioBuilder(), profile(p.injectionProfile(),
        sequence, segment), p.scenarioProtocols(), p.scenarioThrottleSteps(), p.pauseType(),
        CollectionConverters.asScala(children).toList(), p.shard());
  }

  static InjectionProfile profile(InjectionProfile profile, ExecutionSegmentSequence seq, int segment)
      throws ReflectiveOperationException {
    Field f = profile.getClass().getDeclaredField("steps");
    f.setAccessible(true);
    scala.collection.immutable.List<?> steps = (scala.collection.immutable.List<?>) f.get(profile);
    if (profile instanceof OpenInjectionProfile) {
      List<OpenInjectionStep> out = new ArrayList<>();
      for (Object s : CollectionConverters.asJava(steps)) {
        out.add(switch (s) {
          case AtOnceOpenInjection a -> new AtOnceOpenInjection(seq.scale(segment, a.users()));
          case RampOpenInjection r -> new RampOpenInjection(seq.scale(segment, r.users()), r.duration());
          case HeavisideOpenInjection h -> new HeavisideOpenInjection(seq.scale(segment, h.users()), h.duration());
          case NothingForOpenInjection n -> n;
          case ConstantRateOpenInjection c -> new ConstantRateOpenInjection(seq.scaleRate(segment, c.rate()),
              c.duration());
          case RampRateOpenInjection r -> new RampRateOpenInjection(seq.scaleRate(segment, r.startRate()),
              seq.scaleRate(segment, r.endRate()), r.duration());
          default -> throw unsplittable(s);
        });
      }
      return new OpenInjectionProfile(CollectionConverters.asScala(out).toList());
    }
    if (profile instanceof ClosedInjectionProfile) {
      List<ClosedInjectionStep> out = new ArrayList<>();
      for (Object s : CollectionConverters.asJava(steps)) {
        out.add(switch (s) {
          case ConstantConcurrentUsersInjection c -> new ConstantConcurrentUsersInjection(
              (int) seq.scale(segment, c.number()), c.duration());
          case RampConcurrentUsersInjection r -> new RampConcurrentUsersInjection((int) seq.scale(segment, r.from()),
              (int) seq.scale(segment, r.to()), r.duration());
          default -> throw unsplittable(s);
        });
      }
      return new ClosedInjectionProfile(CollectionConverters.asScala(out).toList());
    }
    throw unsplittable(profile);
  }

  private static IllegalArgumentException unsplittable(Object step) {
    return new IllegalArgumentException("the gatling plug-in cannot split " + step.getClass().getSimpleName()
        + " over generators (at once, ramp, heaviside, constant and ramped rates, constant and ramped concurrent users"
        + " split); run it on one generator: \"generator\": {\"maxGenerators\": 1}");
  }
}
