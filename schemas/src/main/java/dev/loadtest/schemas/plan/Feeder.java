package dev.loadtest.schemas.plan;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Test data loaded once per generator and shared by its VUs: rows from a CSV or JSON file (or inline),
 * picked per iteration at random, in sequence, or uniquely per VU. A template reads a field of the
 * current row as {@code ${feederName.field}}.
 */
public record Feeder(String name, Optional<String> file, List<Map<String, String>> data, Format format, Pick pick) {
  public Feeder {
    data = List.copyOf(data);
  }

  public enum Format { CSV, JSON }

  public enum Pick { RANDOM, SEQUENTIAL, UNIQUE }
}
