package dev.loadtest.importers;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Records of a CSV file as JMeter and k6 write them (RFC 4180: a field in double quotes may hold the delimiter,
 * doubled quotes and line breaks). Counts lines, so that an error can say where.
 */
final class Csv {
  private final Lines in;
  private final char delimiter;
  private long recordLine;

  Csv(BufferedReader in, char delimiter) {
    this.in = new Lines(in);
    this.delimiter = delimiter;
  }

  /** The line the last record started on (1-based). */
  long line() {
    return recordLine;
  }

  /** The next record's fields, or null at the end; blank lines are skipped. */
  List<String> next() throws IOException {
    String text = in.next();
    while (text != null && text.isBlank()) {
      text = in.next();
    }
    if (text == null) {
      return null;
    }
    recordLine = in.number();
    int chars = 0;
    List<String> fields = new ArrayList<>();
    StringBuilder f = new StringBuilder();
    boolean quoted = false;
    int i = 0;
    while (true) {
      if (i == text.length()) {
        if (!quoted) {
          fields.add(f.toString());
          return fields;
        }
        String more = in.next(); // a line break inside quotes
        chars += text.length();
        if (chars > Lines.MAX_CHARS) {
          throw new ImportException("line " + recordLine, "a record longer than " + Lines.MAX_CHARS + " characters (a"
              + " quoted field that does not end?)");
        }
        if (more == null) {
          throw new ImportException("line " + recordLine, "a quoted field is not closed before the end of the file");
        }
        f.append('\n');
        text = more;
        i = 0;
        continue;
      }
      char ch = text.charAt(i++);
      if (quoted) {
        if (ch == '"') {
          if (i < text.length() && text.charAt(i) == '"') {
            f.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          f.append(ch);
        }
      } else if (ch == '"' && f.isEmpty()) {
        quoted = true;
      } else if (ch == delimiter) {
        fields.add(f.toString());
        f.setLength(0);
      } else {
        f.append(ch);
      }
    }
  }
}
