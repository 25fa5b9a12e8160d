package dev.loadtest.schemas.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The checkout plan fixture and JSON-pointer edits of it, for table-driven tests. */
public final class Plans {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Plans() {}

  public static ObjectNode base() {
    try (InputStream in = Plans.class.getResourceAsStream("/plans/checkout.json")) {
      return (ObjectNode) JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sets the value at a JSON pointer (its parent must exist) to {@code json}, or removes it when null. */
  public static void set(ObjectNode root, String pointer, String json) {
    int slash = pointer.lastIndexOf('/');
    JsonNode parent = root.at(pointer.substring(0, slash));
    String last = pointer.substring(slash + 1).replace("~1", "/").replace("~0", "~");
    JsonNode value;
    try {
      value = json == null ? null : JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("bad test value " + json, e);
    }
    if (parent instanceof ObjectNode o) {
      if (value == null) {
        o.remove(last);
      } else {
        o.set(last, value);
      }
    } else if (parent instanceof ArrayNode a) {
      if (value == null) {
        a.remove(Integer.parseInt(last));
      } else {
        a.set(Integer.parseInt(last), value);
      }
    } else {
      throw new IllegalArgumentException("no parent at " + pointer);
    }
  }
}
