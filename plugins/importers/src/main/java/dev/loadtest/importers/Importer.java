package dev.loadtest.importers;

import dev.loadtest.generator.sink.SampleSink;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads another tool's result file into samples with k6's metric names and tags. {@link #check} reads it whole
 * without sending anything (a file with any error is refused before a sample leaves); {@link #read} then hands
 * every sample to a sink. Gzipped files ({@code .gz}) are read as they are.
 */
public final class Importer {
  private Importer() {}

  /** What a file held: its counts and time span, and what its format could not carry over. */
  public record Summary(long requests, long samples, long iterations, long firstMs, long lastMs, List<String> notes) {}

  /** Reads the whole file, sending nothing; every error of it as an {@link ImportException}. */
  public static Summary check(Path file, ResultFormat format) {
    try {
      return read(file, format, Map.of(), new Discard());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Reads the file, handing each sample to {@code sink} with {@code planTags} added to its own. */
  public static Summary read(Path file, ResultFormat format, Map<String, String> planTags, SampleSink sink)
      throws InterruptedException {
    Emitter out = new Emitter(sink, planTags);
    try (BufferedReader in = open(file)) {
      switch (format) {
        case K6_JSON -> K6Reader.json(in, out);
        case K6_CSV -> K6Reader.csv(in, out);
        case JMETER_JTL -> JtlReader.read(in, out);
        case GATLING_LOG -> GatlingLogReader.read(in, out);
        case LOCUST_CSV -> LocustHistoryReader.read(in, out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (ImportException e) {
      throw new ImportException(file.toString(), e.getMessage());
    }
    if (out.samples == 0) {
      throw new ImportException(file.toString(), "holds no samples of " + format.flag() + " (is it the right format?)");
    }
    List<String> notes = new ArrayList<>();
    out.notes().forEach((what, n) -> notes.add(n + " " + what));
    return new Summary(out.requests, out.samples, out.iterations, Math.floorDiv(out.firstUs, 1000),
        Math.floorDiv(out.lastUs, 1000), List.copyOf(notes));
  }

  private static BufferedReader open(Path file) throws IOException {
    InputStream in = Files.newInputStream(file);
    if (file.getFileName().toString().endsWith(".gz")) {
      in = new GZIPInputStream(in, 1 << 16);
    }
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
  }

  /** The sink of a check: counts nothing itself (the emitter counts), keeps nothing. */
  private static final class Discard implements SampleSink {
    @Override
    public void request(long startUs, TagSet tags, RequestTimings timings, boolean failed, int vu) {}

    @Override
    public void point(String metric, MetricType type, long timeUs, TagSet tags, double value) {}
  }
}
