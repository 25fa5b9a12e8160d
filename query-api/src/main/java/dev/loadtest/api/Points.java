package dev.loadtest.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.io.IOException;

/**
 * The points of one series of a time series, written as {@code [[t, stat1, stat2, ...], ...]} (t in epoch
 * ms, a stat without a value as null) straight from primitive arrays: a 60-minute panel of 50 series holds
 * 18,000 points, which as lists of boxed numbers cost more to build and write than to read from ClickHouse.
 */
@JsonSerialize(using = Points.Writer.class)
final class Points {
  private final long[] times;
  private final double[] values; // point i's stats at [i * stats, (i + 1) * stats); NaN: no value
  private final int stats;
  private int size;

  Points(int capacity, int stats) {
    this.times = new long[capacity];
    this.values = new double[capacity * stats];
    this.stats = stats;
  }

  /** Starts point {@code size()} at {@code timeMs}; its stats follow with {@link #set}. */
  void add(long timeMs) {
    times[size++] = timeMs;
  }

  /** Stat {@code k} of the last added point (null: no value). */
  void set(int k, Double value) {
    values[(size - 1) * stats + k] = value == null ? Double.NaN : value;
  }

  static final class Writer extends JsonSerializer<Points> {
    @Override
    public void serialize(Points p, JsonGenerator g, SerializerProvider provider) throws IOException {
      g.writeStartArray();
      for (int i = 0; i < p.size; i++) {
        g.writeStartArray();
        g.writeNumber(p.times[i]);
        for (int k = 0; k < p.stats; k++) {
          double v = p.values[i * p.stats + k];
          if (Double.isNaN(v)) {
            g.writeNull();
          } else {
            g.writeNumber(v);
          }
        }
        g.writeEndArray();
      }
      g.writeEndArray();
    }
  }
}
