package dev.loadtest.generator.plugin;

import dev.loadtest.schemas.sample.TagSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * The tags of one HTTP request sample as k6 sets them, for plug-ins and importers that turn another tool's
 * requests into samples: the plan's tags, {@code name}, {@code method}, {@code status}, {@code scenario},
 * {@code group}, {@code expected_response}, and {@code error_code} where k6 sets one (1000 for a request without an
 * HTTP status, 1000 + status for 4xx and 5xx). A status below 0 is one the tool did not record (Gatling's log):
 * {@code status} is then empty and no {@code error_code} is set; so is a method it did not record.
 */
public final class RequestTags {
  private RequestTags() {}

  public static TagSet of(Map<String, String> planTags, String name, String method, int status, String scenario,
      String group, boolean expected) {
    TreeMap<String, String> m = new TreeMap<>(planTags);
    m.put("name", name);
    m.put("method", method == null ? "" : method);
    m.put("status", status < 0 ? "" : Integer.toString(status));
    m.put("scenario", scenario);
    m.put("group", group);
    m.put("expected_response", Boolean.toString(expected));
    if (status < 0) {
      // unknown: no error code either
    } else if (status == 0) {
      m.putIfAbsent("error_code", "1000");
    } else if (status >= 400) {
      m.putIfAbsent("error_code", Integer.toString(1000 + status));
    }
    return TagSet.of(m);
  }

  /** An HTTP status code from another tool's text ({@code "200"}); 0 for anything else (a network error). */
  public static int status(String code) {
    if (code == null || code.length() != 3) {
      return 0;
    }
    try {
      int s = Integer.parseInt(code);
      return s >= 100 && s <= 599 ? s : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
