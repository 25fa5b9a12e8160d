package dev.loadtest.importers;

import dev.loadtest.generator.plugin.RequestTags;
import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the readers hand their samples to: tags built once per distinct set, counts and the time span kept for
 * the run's totals, and notes of what a format could not carry over (counted, said once in the summary).
 */
final class Emitter {
  private final SampleSink sink;
  private final Map<String, String> planTags;
  /** Tag sets built so far, by what they are made of; emptied when it reaches {@link #MAX_TAG_SETS}. */
  private final Map<Object, TagSet> tagSets = new HashMap<>();
  static final int MAX_TAG_SETS = 100_000;
  private final Map<String, Long> notes = new LinkedHashMap<>();
  long requests;
  long samples;
  long iterations;
  long firstUs = Long.MAX_VALUE;
  long lastUs = Long.MIN_VALUE;

  Emitter(SampleSink sink, Map<String, String> planTags) {
    this.sink = sink;
    this.planTags = planTags;
  }

  void request(long startUs, String name, String method, int status, String scenario, String group, boolean failed,
      Map<String, String> extraTags, SampleSink.RequestTimings t) throws InterruptedException {
    TagSet tags = tagSet(new RequestKey(name, method, status, scenario, group, failed, extraTags), () -> {
      Map<String, String> base = planTags;
      if (!extraTags.isEmpty()) {
        base = new TreeMap<>(planTags);
        base.putAll(extraTags);
      }
      return RequestTags.of(base, name, method, status, scenario, group, !failed);
    });
    sink.request(startUs, tags, t, failed, 0);
    requests++;
    samples++;
    span(startUs);
    span(startUs + t.durationUs());
  }

  void point(String metric, MetricType type, long timeUs, Map<String, String> tags, double value)
      throws InterruptedException {
    TagSet t = tagSet(tags, () -> {
      TreeMap<String, String> m = new TreeMap<>(planTags);
      m.putAll(tags);
      return TagSet.of(m);
    });
    sink.point(metric, type, timeUs, t, value);
    samples++;
    if (metric.equals("iterations")) {
      iterations += (long) value;
    }
    span(timeUs);
  }

  private record RequestKey(String name, String method, int status, String scenario, String group, boolean failed,
      Map<String, String> extra) {}

  /**
   * The tag set of {@code key}, built once; a file of more distinct sets than the cache holds (a name per request)
   * only costs building them again.
   */
  private TagSet tagSet(Object key, java.util.function.Supplier<TagSet> build) {
    TagSet t = tagSets.get(key);
    if (t == null) {
      if (tagSets.size() >= MAX_TAG_SETS) {
        tagSets.clear();
      }
      t = build.get();
      tagSets.put(key, t);
    }
    return t;
  }

  private void span(long us) {
    firstUs = Math.min(firstUs, us);
    lastUs = Math.max(lastUs, us);
  }

  /** Counts one more of something the format could not carry over. */
  void note(String what) {
    notes.merge(what, 1L, Long::sum);
  }

  Map<String, Long> notes() {
    return notes;
  }
}
