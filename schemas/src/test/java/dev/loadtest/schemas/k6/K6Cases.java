package dev.loadtest.schemas.k6;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * Rows of a file of cases carried over from k6's tests ({@code src/test/resources/k6/*.tsv}, tab-separated,
 * {@code #} comments), one dynamic test per row named after the file, line and input.
 */
public final class K6Cases {
  /** One row: its fields (missing trailing fields read as empty), where it is, and its text. */
  public record Row(String file, int line, List<String> fields) {
    public String get(int i) {
      return i < fields.size() ? fields.get(i) : "";
    }

    /** The deliberate difference this row notes ({@code deliberate: ...} in any field), or null. */
    public String deliberate() {
      return fields.stream().filter(f -> f.startsWith("deliberate: ")).findFirst().orElse(null);
    }

    @Override
    public String toString() {
      return file + ":" + line + " " + String.join(" | ", fields);
    }
  }

  private K6Cases() {}

  public static List<Row> read(String file) {
    try (InputStream in = K6Cases.class.getResourceAsStream("/k6/" + file)) {
      if (in == null) {
        throw new IllegalStateException("no case file /k6/" + file + " on the test class path");
      }
      List<Row> rows = new ArrayList<>();
      String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        if (lines[i].startsWith("#") || lines[i].isEmpty()) {
          continue;
        }
        rows.add(new Row(file, i + 1, Arrays.asList(lines[i].split("\t", -1))));
      }
      if (rows.isEmpty()) {
        throw new IllegalStateException("case file /k6/" + file + " has no cases");
      }
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Stream<DynamicTest> tests(String file, Consumer<Row> check) {
    return read(file).stream().map(row -> DynamicTest.dynamicTest(row.toString(), () -> check.accept(row)));
  }
}
