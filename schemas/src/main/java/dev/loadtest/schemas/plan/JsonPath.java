package dev.loadtest.schemas.plan;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The JSON path subset that checks and extractions use: {@code $}, then any number of {@code .field},
 * {@code ['field']} and {@code [index]} (a negative index counts from the end), e.g.
 * {@code $.items[0].id} or {@code $['order id']}. Compiled once when the plan is parsed; immutable and
 * thread-safe.
 */
public final class JsonPath {
  private final String text;
  private final List<Object> segments;

  private JsonPath(String text, List<Object> segments) {
    this.text = text;
    this.segments = List.copyOf(segments);
  }

  /**
   * Compiles a path.
   *
   * @throws IllegalArgumentException saying what is wrong and at which character
   */
  public static JsonPath compile(String text) {
    if (!text.startsWith("$")) {
      throw new IllegalArgumentException("a JSON path starts with \"$\", e.g. \"$.items[0].id\", got \"" + text + "\"");
    }
    List<Object> segments = new ArrayList<>();
    int i = 1;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '.') {
        int end = i + 1;
        while (end < text.length() && text.charAt(end) != '.' && text.charAt(end) != '[') {
          end++;
        }
        if (end == i + 1) {
          throw error(text, i, "a field name must follow '.'");
        }
        segments.add(text.substring(i + 1, end));
        i = end;
      } else if (c == '[') {
        int close = text.indexOf(']', i);
        if (close < 0) {
          throw error(text, i, "'[' is not closed with ']'");
        }
        String inner = text.substring(i + 1, close).trim();
        if (inner.length() >= 2 && (inner.charAt(0) == '\'' || inner.charAt(0) == '"')
            && inner.charAt(inner.length() - 1) == inner.charAt(0)) {
          segments.add(inner.substring(1, inner.length() - 1));
        } else {
          try {
            segments.add(Integer.parseInt(inner));
          } catch (NumberFormatException e) {
            throw error(text, i, "write [index] or ['field'], got [" + inner + "]");
          }
        }
        i = close + 1;
      } else {
        throw error(text, i, "expected '.' or '['");
      }
    }
    return new JsonPath(text, segments);
  }

  private static IllegalArgumentException error(String text, int at, String what) {
    return new IllegalArgumentException("JSON path \"" + text + "\" at character " + (at + 1) + ": " + what);
  }

  /** The node the path leads to in {@code root}, if there is one. */
  public Optional<JsonNode> find(JsonNode root) {
    JsonNode n = root;
    for (Object s : segments) {
      if (n == null) {
        return Optional.empty();
      }
      if (s instanceof Integer index) {
        if (!n.isArray()) {
          return Optional.empty();
        }
        int k = index < 0 ? n.size() + index : index;
        n = k >= 0 && k < n.size() ? n.get(k) : null;
      } else {
        n = n.isObject() ? n.get((String) s) : null;
      }
    }
    return Optional.ofNullable(n);
  }

  @Override
  public String toString() {
    return text;
  }
}
