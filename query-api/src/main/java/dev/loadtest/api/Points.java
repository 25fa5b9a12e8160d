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
      char[] buf = new char[24];
      g.writeStartArray();
      for (int i = 0; i < p.size; i++) {
        g.writeStartArray();
        g.writeNumber(p.times[i]);
        for (int k = 0; k < p.stats; k++) {
          double v = p.values[i * p.stats + k];
          if (Double.isNaN(v)) {
            g.writeNull();
          } else {
            int len = thousandths(v, buf);
            if (len > 0) {
              g.writeNumber(buf, 0, len);
            } else {
              g.writeNumber(v);
            }
          }
        }
        g.writeEndArray();
      }
      g.writeEndArray();
    }
  }

  /**
   * Writes {@code v} into {@code buf} as a decimal with at most three fraction digits (no trailing zeros)
   * when that is exactly {@code v} (a duration in whole microseconds as milliseconds, a count), and returns
   * its length; 0 otherwise. The decimal reads back as the same double (both are the nearest double to
   * the same fraction of a thousand), written without the general shortest-decimal search.
   */
  static int thousandths(double v, char[] buf) {
    if (!(Math.abs(v) < 1e15)) {
      return 0;
    }
    long m = Math.round(v * 1000);
    if (m / 1000.0 != v) {
      return 0;
    }
    int len = 0;
    if (m < 0) {
      buf[len++] = '-';
      m = -m;
    }
    long whole = m / 1000;
    int frac = (int) (m % 1000);
    String w = Long.toString(whole);
    w.getChars(0, w.length(), buf, len);
    len += w.length();
    if (frac != 0) {
      buf[len++] = '.';
      buf[len++] = (char) ('0' + frac / 100);
      frac %= 100;
      if (frac != 0) {
        buf[len++] = (char) ('0' + frac / 10);
        frac %= 10;
        if (frac != 0) {
          buf[len++] = (char) ('0' + frac);
        }
      }
    }
    return len;
  }
}
