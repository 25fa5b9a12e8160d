package dev.loadtest.generator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.schemas.plan.Feeder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The plan's feeders, loaded once per run on a generator and shared by all its VUs (rows are immutable).
 * A VU picks a row of each feeder it uses: at random, in sequence (one shared cursor, so consecutive
 * iterations of all VUs walk the rows in order), or one row per VU for its whole life ({@code unique}:
 * VU n gets row n, wrapping around when there are more VUs than rows, which is logged once).
 */
public final class Feeders {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, Loaded> feeders;

  private record Loaded(Feeder feeder, List<Map<String, String>> rows, AtomicLong cursor) {}

  private Feeders(Map<String, Loaded> feeders) {
    this.feeders = feeders;
  }

  /**
   * Loads every feeder: inline rows as they are, files relative to {@code baseDir}.
   *
   * @throws IllegalArgumentException naming the feeder and what is wrong with its data
   */
  public static Feeders load(Map<String, Feeder> plan, Path baseDir) {
    Map<String, Loaded> m = new LinkedHashMap<>();
    for (Feeder f : plan.values()) {
      List<Map<String, String>> rows = f.file().isPresent() ? read(f, baseDir.resolve(f.file().get())) : f.data();
      if (rows.isEmpty()) {
        throw new IllegalArgumentException("feeder " + f.name() + " has no rows");
      }
      m.put(f.name(), new Loaded(f, List.copyOf(rows), new AtomicLong()));
    }
    return new Feeders(m);
  }

  private static List<Map<String, String>> read(Feeder f, Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      List<Map<String, String>> rows = new ArrayList<>();
      if (f.format() == Feeder.Format.JSON) {
        JsonNode arr = JSON.readTree(text);
        if (arr == null || !arr.isArray()) {
          throw new IllegalArgumentException("feeder " + f.name() + ": " + file + " must hold a JSON array of objects");
        }
        for (int i = 0; i < arr.size(); i++) {
          JsonNode o = arr.get(i);
          if (!o.isObject()) {
            throw new IllegalArgumentException("feeder " + f.name() + ": element " + i + " of " + file
                + " is not an object");
          }
          Map<String, String> row = new LinkedHashMap<>();
          o.properties().forEach(e -> row.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText()
              : e.getValue().toString()));
          rows.add(Map.copyOf(row));
        }
      } else {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
          throw new IllegalArgumentException("feeder " + f.name() + ": " + file + " is empty");
        }
        String[] header = Csv.split(lines.get(0));
        for (int i = 1; i < lines.size(); i++) {
          String[] cells = Csv.split(lines.get(i));
          if (cells.length != header.length) {
            throw new IllegalArgumentException("feeder " + f.name() + ": line " + (i + 1) + " of " + file + " has "
                + cells.length + " fields, the header has " + header.length);
          }
          Map<String, String> row = new LinkedHashMap<>();
          for (int c = 0; c < header.length; c++) {
            row.put(header[c], cells[c]);
          }
          rows.add(Map.copyOf(row));
        }
      }
      return rows;
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException("feeder " + f.name() + ": there is no file " + file
          + " (a relative path is read from the plan's directory)", e);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IllegalArgumentException("feeder " + f.name() + ": " + file + " is not UTF-8 text", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("feeder " + f.name() + ": cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  public boolean isEmpty() {
    return feeders.isEmpty();
  }

  public java.util.Set<String> names() {
    return feeders.keySet();
  }

  /** The row VU {@code vu} (1-based) uses of a feeder in an iteration. */
  Map<String, String> pick(String feeder, VirtualUser vu) {
    Loaded l = feeders.get(feeder);
    if (l == null) {
      return null;
    }
    int n = l.rows().size();
    return switch (l.feeder().pick()) {
      case RANDOM -> l.rows().get(vu.random().nextInt(n));
      case SEQUENTIAL -> l.rows().get((int) Math.floorMod(l.cursor().getAndIncrement(), (long) n));
      case UNIQUE -> l.rows().get(Math.floorMod(vu.number() - 1, n));
    };
  }

  boolean isPerVu(String feeder) {
    Loaded l = feeders.get(feeder);
    return l != null && l.feeder().pick() == Feeder.Pick.UNIQUE;
  }

  /** RFC 4180 fields of one line: commas, double quotes, doubled quotes inside quotes. */
  static final class Csv {
    private Csv() {}

    static String[] split(String line) {
      List<String> out = new ArrayList<>();
      StringBuilder cur = new StringBuilder();
      boolean quoted = false;
      for (int i = 0; i < line.length(); i++) {
        char c = line.charAt(i);
        if (quoted) {
          if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
            cur.append('"');
            i++;
          } else if (c == '"') {
            quoted = false;
          } else {
            cur.append(c);
          }
        } else if (c == '"') {
          quoted = true;
        } else if (c == ',') {
          out.add(cur.toString());
          cur.setLength(0);
        } else {
          cur.append(c);
        }
      }
      out.add(cur.toString());
      return out.toArray(String[]::new);
    }
  }
}
