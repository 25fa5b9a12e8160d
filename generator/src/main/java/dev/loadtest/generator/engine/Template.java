package dev.loadtest.generator.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A compiled template: literal text and {@code ${var}}, {@code ${ENV.NAME}} and {@code ${feeder.field}}
 * references, resolved per VU at render time. Compiled once per step; immutable and thread-safe.
 */
public final class Template {
  private sealed interface Part {}

  private record Literal(String text) implements Part {}

  private record Env(String name) implements Part {}

  private record Var(String name) implements Part {}

  private record Field(String feeder, String field) implements Part {}

  private final List<Part> parts;
  private final String source;

  private Template(String source, List<Part> parts) {
    this.source = source;
    this.parts = List.copyOf(parts);
  }

  /** Compiles a template that the plan parser has checked (references closed and well-formed). */
  public static Template compile(String text, java.util.Set<String> feeders) {
    List<Part> parts = new ArrayList<>();
    int at = 0;
    while (at < text.length()) {
      int open = text.indexOf("${", at);
      if (open < 0) {
        parts.add(new Literal(text.substring(at)));
        break;
      }
      int close = text.indexOf('}', open);
      if (close < 0) {
        throw new IllegalArgumentException("template reference at character " + (open + 1) + " is not closed");
      }
      if (open > at) {
        parts.add(new Literal(text.substring(at, open)));
      }
      String ref = text.substring(open + 2, close).trim();
      int dot = ref.indexOf('.');
      if (ref.startsWith("ENV.")) {
        parts.add(new Env(ref.substring(4)));
      } else if (dot > 0 && feeders.contains(ref.substring(0, dot))) {
        parts.add(new Field(ref.substring(0, dot), ref.substring(dot + 1)));
      } else {
        parts.add(new Var(ref));
      }
      at = close + 1;
    }
    return new Template(text, parts);
  }

  public boolean isConstant() {
    return parts.stream().allMatch(p -> p instanceof Literal);
  }

  /**
   * Renders the template for a VU.
   *
   * @throws MissingValueException when a reference has no value; its message names the reference, never
   *     a value (values may be secrets)
   */
  public String render(VirtualUser vu) {
    if (parts.size() == 1 && parts.get(0) instanceof Literal l) {
      return l.text();
    }
    StringBuilder sb = new StringBuilder(source.length() + 32);
    for (Part p : parts) {
      switch (p) {
        case Literal l -> sb.append(l.text());
        case Env e -> sb.append(require(vu.env(e.name()), "${ENV." + e.name() + "}", "the plan's env has no "
            + e.name()));
        case Var v -> sb.append(require(vu.variable(v.name()), "${" + v.name() + "}",
            "the VU has no variable " + v.name() + " (set it with an extraction or in setup)"));
        case Field f -> sb.append(require(vu.feederField(f.feeder(), f.field()), "${" + f.feeder() + "." + f.field()
            + "}", "feeder " + f.feeder() + " has no field " + f.field()));
      }
    }
    return sb.toString();
  }

  private static String require(String value, String ref, String why) {
    if (value == null) {
      throw new MissingValueException(ref + ": " + why);
    }
    return value;
  }

  @Override
  public String toString() {
    return source;
  }

  /** A template referred to a value that does not exist when it was rendered. */
  public static final class MissingValueException extends RuntimeException {
    public MissingValueException(String message) {
      super(message, null, false, false);
    }
  }
}
