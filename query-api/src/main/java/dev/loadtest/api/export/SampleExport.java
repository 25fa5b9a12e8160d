package dev.loadtest.api.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.loadtest.schemas.sample.HttpMetric;
import dev.loadtest.schemas.sample.SampleBatch;
import dev.loadtest.schemas.sample.SampleBatchCodec;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;

/**
 * A run's raw samples as they are kept on {@code loadtest.samples}, streamed as NDJSON or CSV: one line per
 * sample and metric, as k6's JSON and CSV outputs write them (an HTTP request is a sample of each of
 * http_reqs, http_req_duration, the timing phases, http_req_failed, data_sent and data_received). Only the
 * run's partition is read (the topic is keyed by run), from the start (or the first offset at the range's
 * start) to the end it had when the export began. Not a computation over samples: a copy of them.
 */
public final class SampleExport {
  /** The tags with a column of their own in CSV (the others go into extra_tags), as k6's CSV output. */
  public static final List<String> CSV_TAGS = List.of("check", "error_code", "expected_response", "group", "method",
      "name", "proto", "scenario", "status", "url");
  public static final String CSV_HEADER = "metric_name,timestamp,metric_value," + String.join(",", CSV_TAGS)
      + ",extra_tags";
  private static final JsonFactory JSON = new JsonFactory();

  public enum Format { NDJSON, CSV }

  private final String bootstrapServers;
  private final String topic;

  public SampleExport(String bootstrapServers, String topic) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
  }

  /** Fails with a message when the samples topic cannot be read (before an answer starts streaming). */
  public void check() {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("the samples topic " + topic + " does not exist");
      }
    }
  }

  /**
   * Writes the run's samples with time in [fromMs, toMs) and (when not empty) of {@code metrics} to
   * {@code out}, a chunk of lines at a time (the consumer may block to apply back-pressure).
   *
   * @return how many lines were written
   */
  public long export(String run, long fromMs, long toMs, Set<String> metrics, Format format, Consumer<String> out) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("the samples topic " + topic + " does not exist");
      }
      // The producer's default partitioner for a keyed record.
      int partition = Utils.toPositive(Utils.murmur2(run.getBytes(StandardCharsets.UTF_8))) % infos.size();
      TopicPartition tp = new TopicPartition(topic, partition);
      consumer.assign(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      consumer.seekToBeginning(List.of(tp));
      if (fromMs > Long.MIN_VALUE) {
        // Batches are stamped when produced, after their samples: start a minute early to be safe.
        var start = consumer.offsetsForTimes(Map.of(tp, Math.max(0, fromMs - 60_000))).get(tp);
        if (start != null) {
          consumer.seek(tp, start.offset());
        }
      }
      long lines = 0;
      if (format == Format.CSV) {
        out.accept(CSV_HEADER + "\n");
      }
      while (consumer.position(tp) < end) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() >= end) {
            break;
          }
          if (r.key() == null || !run.equals(new String(r.key(), StandardCharsets.UTF_8)) || r.value() == null) {
            continue;
          }
          SampleBatch batch;
          try {
            batch = SampleBatchCodec.decode(r.value());
          } catch (RuntimeException e) {
            continue; // the aggregate job sent it to the DLQ; it has no samples to export
          }
          StringBuilder chunk = new StringBuilder();
          lines += write(batch, fromMs, toMs, metrics, format, chunk);
          if (!chunk.isEmpty()) {
            out.accept(chunk.toString());
          }
        }
      }
      return lines;
    }
  }

  static long write(SampleBatch b, long fromMs, long toMs, Set<String> metrics, Format format, StringBuilder out) {
    long n = 0;
    SampleBatch.HttpRequests r = b.requests();
    for (int i = 0; i < r.size(); i++) {
      long us = b.baseTimeUs() + r.offsetUs()[i];
      if (us / 1000 < fromMs || us / 1000 >= toMs) {
        continue;
      }
      String[] tags = b.tags(r.tagSet()[i]);
      for (HttpMetric m : HttpMetric.values()) {
        if (!metrics.isEmpty() && !metrics.contains(m.metric())) {
          continue;
        }
        long v = m.value(r, i);
        double value = m.type() == dev.loadtest.schemas.metrics.MetricType.TREND ? v / 1000.0 : v;
        line(m.metric(), us, value, tags, b, format, out);
        n++;
      }
    }
    SampleBatch.MetricPoints p = b.points();
    for (int i = 0; i < p.size(); i++) {
      long us = b.baseTimeUs() + p.offsetUs()[i];
      if (us / 1000 < fromMs || us / 1000 >= toMs) {
        continue;
      }
      SampleBatch.MetricDef def = b.metrics().get(p.metric()[i]);
      String name = b.strings().get(def.name());
      if (!metrics.isEmpty() && !metrics.contains(name)) {
        continue;
      }
      line(name, us, p.value()[i], b.tags(p.tagSet()[i]), b, format, out);
      n++;
    }
    return n;
  }

  private static void line(String metric, long us, double value, String[] tags, SampleBatch b, Format format,
      StringBuilder out) {
    if (format == Format.NDJSON) {
      StringWriter w = new StringWriter(160);
      try (JsonGenerator g = JSON.createGenerator(w)) {
        g.writeStartObject();
        g.writeStringField("metric", metric);
        g.writeStringField("type", "Point");
        g.writeObjectFieldStart("data");
        g.writeStringField("time", java.time.Instant.ofEpochSecond(0, us * 1000).toString());
        g.writeNumberField("value", value);
        g.writeObjectFieldStart("tags");
        for (int t = 0; t + 1 < tags.length; t += 2) {
          g.writeStringField(tags[t], tags[t + 1]);
        }
        g.writeStringField("generator", b.generatorId());
        g.writeStringField("load_zone", b.loadZone());
        g.writeEndObject();
        g.writeEndObject();
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      out.append(w).append('\n');
      return;
    }
    String[] columns = new String[CSV_TAGS.size()];
    Arrays.fill(columns, "");
    List<String> extra = new ArrayList<>();
    for (int t = 0; t + 1 < tags.length; t += 2) {
      int c = CSV_TAGS.indexOf(tags[t]);
      if (c >= 0) {
        columns[c] = tags[t + 1];
      } else {
        extra.add(tags[t] + "=" + tags[t + 1]);
      }
    }
    extra.add("generator=" + b.generatorId());
    extra.add("load_zone=" + b.loadZone());
    out.append(csv(metric)).append(',').append(us / 1_000_000).append('.')
        .append(String.format("%06d", Math.floorMod(us, 1_000_000))).append(',').append(value);
    for (String c : columns) {
      out.append(',').append(csv(c));
    }
    out.append(',').append(csv(String.join("&", extra))).append('\n');
  }

  /** A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
  static String csv(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
      return s;
    }
    return '"' + s.replace("\"", "\"\"") + '"';
  }
}
