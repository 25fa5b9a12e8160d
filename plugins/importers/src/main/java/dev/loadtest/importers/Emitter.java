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
  private final Map<String, TagSet> tagSets = new HashMap<>();
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
    String key = name + '\n' + method + '\n' + status + '\n' + scenario + '\n' + group + '\n' + failed + '\n'
        + extraTags;
    TagSet tags = tagSets.computeIfAbsent(key, k -> {
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
    String key = metric + '\n' + tags;
    TagSet t = tagSets.computeIfAbsent(key, k -> {
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
