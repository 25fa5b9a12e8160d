package dev.loadtest.generator.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.plan.PlanError;
import dev.loadtest.schemas.time.Durations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The script option of a plug-in that runs another tool's script: a file ({@code fileField}, read under a base
 * directory) or its text embedded in the plan ({@code textField}, as {@code loadtest run} sends it); and the
 * reading of plug-in options shared by those plug-ins. Errors name their JSON path under
 * {@code $.generator.options}.
 *
 * @param what what the script is, for messages ("a JMeter test plan (.jmx)")
 * @param example a file name for messages ("checkout.jmx")
 */
public record ToolScript(String fileField, String textField, String what, String example) {
  public static final String AT = "$.generator.options";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The options as a JSON object, with an error for each field {@code plugin} does not take. */
  public static JsonNode options(String json, Set<String> allowed, String plugin, List<PlanError> errors) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new InvalidPlanException(List.of(new PlanError(AT, "not JSON: " + e.getMessage())));
    }
    n.fieldNames().forEachRemaining(f -> {
      if (!allowed.contains(f)) {
        errors.add(new PlanError(AT + "." + f, "unknown option; the " + plugin + " plug-in takes "
            + String.join(", ", new TreeSet<>(allowed))));
      }
    });
    return n;
  }

  /** A duration option of at least 1 s; {@code dflt} when absent. */
  public static Duration duration(JsonNode n, String field, Duration dflt, List<PlanError> errors) {
    JsonNode v = n.get(field);
    if (v == null) {
      return dflt;
    }
    try {
      Duration d = Durations.parse(v.asText());
      if (d.toSeconds() < 1) {
        errors.add(new PlanError(AT + "." + field, "must be at least 1s"));
      }
      return d;
    } catch (IllegalArgumentException e) {
      errors.add(new PlanError(AT + "." + field, e.getMessage()));
      return dflt;
    }
  }

  /** Checks the pair: one of them, the file a path, the text a string. */
  public void check(JsonNode n, List<PlanError> errors) {
    JsonNode file = n.get(fileField);
    JsonNode text = n.get(textField);
    if (text != null && !text.isTextual()) {
      errors.add(new PlanError(AT + "." + textField, "must be the text of " + what));
    }
    if (file == null && text == null) {
      errors.add(new PlanError(AT + "." + fileField, "required: the path of " + what + ", e.g. \"" + example + "\""));
    } else if (file != null && (!file.isTextual() || file.asText().isBlank())) {
      errors.add(new PlanError(AT + "." + fileField, "must be the path of " + what + ", e.g. \"" + example + "\""));
    }
  }

  /** The file's path, or null when only the text is given. */
  public String file(JsonNode n) {
    return n.hasNonNull(fileField) ? n.get(fileField).asText() : null;
  }

  /** The embedded text, or null. */
  public String text(JsonNode n) {
    return n.hasNonNull(textField) ? n.get(textField).asText() : null;
  }

  /** The script: its embedded text, else its file read under {@code baseDir}; errors at the file's path. */
  public String read(String file, String text, Path baseDir) {
    if (text != null) {
      return text;
    }
    Path p = baseDir.resolve(file);
    if (!Files.isRegularFile(p)) {
      throw new InvalidPlanException(List.of(new PlanError(AT + "." + fileField, "there is no " + what.replaceFirst(
          "^an? ", "") + " at " + p.toAbsolutePath())));
    }
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new InvalidPlanException(List.of(new PlanError(AT + "." + fileField, "cannot read " + p.toAbsolutePath()
          + ": " + e.getMessage())));
    }
  }

  /** {@code optionsJson} with the file's text embedded (unchanged when it has its text, or no base directory). */
  public String embed(String optionsJson, Path baseDir) {
    try {
      ObjectNode n = (ObjectNode) JSON.readTree(optionsJson);
      if (n.hasNonNull(textField) || baseDir == null || !n.hasNonNull(fileField)) {
        return optionsJson;
      }
      n.put(textField, read(n.get(fileField).asText(), null, baseDir));
      return n.toString();
    } catch (IOException e) {
      throw new InvalidPlanException(List.of(new PlanError(AT, "not JSON: " + e.getMessage())));
    }
  }
}
