package dev.loadtest.generator.testing;

import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** A sample sink that keeps every sample in memory, for tests of the engine and the executors. */
public final class CollectingSink implements SampleSink {
  public record Req(long startUs, TagSet tags, RequestTimings timings, boolean failed, int vu) {
    public String tag(String k) {
      return tags.toMap().get(k);
    }
  }

  public record Point(String metric, MetricType type, long timeUs, TagSet tags, double value) {
    public String tag(String k) {
      return tags.toMap().get(k);
    }
  }

  public final List<Req> requests = new CopyOnWriteArrayList<>();
  public final List<Point> points = new CopyOnWriteArrayList<>();

  @Override
  public void request(long startUs, TagSet tags, RequestTimings timings, boolean failed, int vu) {
    requests.add(new Req(startUs, tags, timings, failed, vu));
  }

  @Override
  public void point(String metric, MetricType type, long timeUs, TagSet tags, double value) {
    points.add(new Point(metric, type, timeUs, tags, value));
  }

  public List<Req> requests(Predicate<Req> p) {
    return requests.stream().filter(p).toList();
  }

  public List<Point> points(String metric) {
    return points.stream().filter(p -> p.metric().equals(metric)).toList();
  }

  public double sum(String metric) {
    return points(metric).stream().mapToDouble(Point::value).sum();
  }
}
