package dev.loadtest.importers;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * Lines of a result file with a bound on each: a file from elsewhere may hold a line of gigabytes (a binary file, a
 * response body saved into a CSV field), which must be refused with its line number, not read into memory whole.
 */
final class Lines {
  /** The longest line (or CSV record) read: 1 MiB of characters. */
  static final int MAX_CHARS = 1 << 20;

  private final BufferedReader in;
  private final StringBuilder line = new StringBuilder();
  private final char[] buf = new char[1 << 16];
  private int pos;
  private int end;
  private long number;

  Lines(BufferedReader in) {
    this.in = in;
  }

  /** The number of the last line read (1-based). */
  long number() {
    return number;
  }

  /** The next line without its end ({@code \n} or {@code \r\n}), or null at the end of the file. */
  String next() throws IOException {
    line.setLength(0);
    boolean any = false;
    while (true) {
      if (pos == end) {
        end = in.read(buf, 0, buf.length);
        pos = 0;
        if (end <= 0) {
          end = 0;
          if (!any) {
            return null;
          }
          break;
        }
      }
      any = true;
      int start = pos;
      while (pos < end && buf[pos] != '\n') {
        pos++;
      }
      if (line.length() + (pos - start) > MAX_CHARS) {
        throw new ImportException("line " + (number + 1), "is longer than " + MAX_CHARS + " characters: not a result"
            + " file of this format");
      }
      line.append(buf, start, pos - start);
      if (pos < end) {
        pos++; // the \n
        break;
      }
    }
    number++;
    int n = line.length();
    if (n > 0 && line.charAt(n - 1) == '\r') {
      line.setLength(n - 1);
    }
    return line.toString();
  }
}
