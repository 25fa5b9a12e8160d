package dev.loadtest.importers;

import dev.loadtest.generator.plugin.RequestTags;
import dev.loadtest.generator.plugin.ToolTimings;
import dev.loadtest.schemas.metrics.MetricType;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * JMeter's JTL as the JMeter plug-in streams a live run, so that an import of a run's JTL stores what the live run
 * stored:
 *
 * <ul>
 *   <li>CSV (JMeter's default, with its header line; timeStamp in epoch milliseconds, JMeter's default): each row
 *       is a request named by its label, its thread group the scenario; a transaction controller's row ("Number of
 *       samples in transaction") is a {@code group_duration}. CSV keeps neither assertion names nor sub-results
 *       (redirects, a transaction's samplers when it generates a parent sample): write XML for those.</li>
 *   <li>XML ({@code jmeter.save.saveservice.output_format=xml}): nested samples as JMeter nests them, each leaf
 *       {@code httpSample} a request (a redirect's hops under the parent's label; a transaction's samplers in its
 *       group), assertion results as {@code checks}.</li>
 * </ul>
 *
 * JTL has no HTTP method: imported requests have an empty {@code method}. Non-HTTP samples (JDBC, JSR223...) have
 * no k6 metric and are counted in the summary's notes, not imported.
 */
final class JtlReader {
  private static final String TRANSACTION = "Number of samples in transaction";
  private static final Pattern THREAD_SUFFIX = Pattern.compile(" \\d+-\\d+$");

  private JtlReader() {}

  static void read(BufferedReader in, Emitter out) throws IOException, InterruptedException {
    in.mark(4096);
    int ch;
    do {
      ch = in.read();
    } while (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t' || ch == 0xFEFF);
    in.reset();
    if (ch == '<') {
      xml(in, out);
    } else {
      csv(in, out);
    }
  }

  /** "Shoppers 1-3" is thread 3 of thread group 1 "Shoppers". */
  static String threadGroup(String threadName) {
    return THREAD_SUFFIX.matcher(threadName == null ? "" : threadName).replaceFirst("");
  }

  // ------------------------------------------------------------------------------------------------------ CSV

  private static void csv(BufferedReader in, Emitter out) throws IOException, InterruptedException {
    Csv csv = new Csv(in, ',');
    List<String> header = csv.next();
    Map<String, Integer> col = new HashMap<>();
    for (int i = 0; header != null && i < header.size(); i++) {
      col.put(header.get(i).strip(), i);
    }
    for (String required : List.of("timeStamp", "elapsed", "label")) {
      if (!col.containsKey(required)) {
        throw new ImportException("line 1", "a JTL in CSV needs JMeter's header line with timeStamp, elapsed and"
            + " label (jmeter.save.saveservice.print_field_names=true, JMeter's default); found "
            + (header == null ? "nothing" : String.join(",", header)));
      }
    }
    List<String> row;
    while ((row = csv.next()) != null) {
      String where = "line " + csv.line();
      if (row.size() < header.size()) {
        throw new ImportException(where, "has " + row.size() + " fields, the header " + header.size());
      }
      long ts = number(row, col, "timeStamp", where, -1);
      long elapsed = number(row, col, "elapsed", where, -1);
      String label = row.get(col.get("label"));
      String message = field(row, col, "responseMessage");
      String scenario = threadGroup(field(row, col, "threadName"));
      boolean success = !"false".equalsIgnoreCase(field(row, col, "success"));
      if (message.startsWith(TRANSACTION)) {
        out.point("group_duration", MetricType.TREND, (ts + elapsed) * 1000, Map.of("scenario", scenario, "group",
            "::" + label), elapsed);
        continue;
      }
      int status = RequestTags.status(field(row, col, "responseCode"));
      out.request(ts * 1000, label, "", status, scenario, "", !success, Map.of(), ToolTimings.jmeter(elapsed,
          number(row, col, "Latency", where, 0), number(row, col, "Connect", where, 0),
          number(row, col, "sentBytes", where, 0), number(row, col, "bytes", where, 0)));
    }
  }

  private static String field(List<String> row, Map<String, Integer> col, String name) {
    Integer i = col.get(name);
    return i == null || i >= row.size() ? "" : row.get(i);
  }

  /** A whole number field; {@code dflt} when the column is absent, an error when it is there but not a number. */
  private static long number(List<String> row, Map<String, Integer> col, String name, String where, long dflt) {
    Integer i = col.get(name);
    if (i == null) {
      if (dflt < 0) {
        throw new ImportException(where, "has no " + name);
      }
      return dflt;
    }
    String v = row.get(i).strip();
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ImportException(where, name + " \"" + (v.length() > 40 ? v.substring(0, 40) + "..." : v)
          + "\" is not a whole number" + (name.equals("timeStamp") ? " (JMeter's default timestamp format is epoch"
          + " milliseconds: jmeter.save.saveservice.timestamp_format=ms)" : ""));
    }
  }

  // ------------------------------------------------------------------------------------------------------ XML

  /** One sample of an XML JTL with its assertions and nested samples. */
  private record Node(boolean http, Map<String, String> a, List<Node> children, List<String[]> assertions, int line) {}

  private static void xml(BufferedReader in, Emitter out) throws IOException, InterruptedException {
    XMLInputFactory f = XMLInputFactory.newFactory();
    // a result file from elsewhere: no DTDs, no external entities
    f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    try {
      f.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    } catch (IllegalArgumentException ignored) {
      // not every StAX implementation knows it; DTDs are off anyway
    }
    try {
      XMLStreamReader x = f.createXMLStreamReader(in);
      while (x.hasNext()) {
        if (x.next() == XMLStreamConstants.START_ELEMENT && isSample(x.getLocalName())) {
          emit(sample(x), "", true, null, out);
        }
      }
    } catch (XMLStreamException e) {
      throw new ImportException(e.getLocation() == null ? "the XML" : "line " + e.getLocation().getLineNumber(),
          "not a JTL in XML: " + e.getMessage().lines().reduce((a, b) -> b).orElse(""));
    }
  }

  private static boolean isSample(String element) {
    return element.equals("httpSample") || element.equals("sample");
  }

  /** Reads the sample the reader stands on, to its end. */
  private static Node sample(XMLStreamReader x) throws XMLStreamException {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < x.getAttributeCount(); i++) {
      a.put(x.getAttributeLocalName(i), x.getAttributeValue(i));
    }
    Node n = new Node(x.getLocalName().equals("httpSample"), a, new ArrayList<>(), new ArrayList<>(),
        x.getLocation().getLineNumber());
    int depth = 1;
    while (depth > 0) {
      int e = x.next();
      if (e == XMLStreamConstants.START_ELEMENT) {
        if (isSample(x.getLocalName())) {
          n.children().add(sample(x));
        } else if (x.getLocalName().equals("assertionResult")) {
          n.assertions().add(assertion(x));
        } else {
          depth++;
        }
      } else if (e == XMLStreamConstants.END_ELEMENT) {
        depth--;
      }
    }
    return n;
  }

  /** {name, failure, error} of an assertionResult, read to its end. */
  private static String[] assertion(XMLStreamReader x) throws XMLStreamException {
    String[] r = {"", "false", "false"};
    String current = null;
    StringBuilder text = new StringBuilder();
    int depth = 1;
    while (depth > 0) {
      int e = x.next();
      if (e == XMLStreamConstants.START_ELEMENT) {
        depth++;
        current = x.getLocalName();
        text.setLength(0);
      } else if (e == XMLStreamConstants.CHARACTERS || e == XMLStreamConstants.CDATA) {
        text.append(x.getText());
      } else if (e == XMLStreamConstants.END_ELEMENT) {
        depth--;
        if (depth == 1 && current != null) {
          switch (current) {
            case "name" -> r[0] = text.toString().strip();
            case "failure" -> r[1] = text.toString().strip();
            case "error" -> r[2] = text.toString().strip();
            default -> { }
          }
          current = null;
        }
      }
    }
    return r;
  }

  /**
   * A sample as the live plug-in forwards it: a transaction's as its group_duration and its samplers in its group;
   * a sample with sub-results as those (under {@code label} when they are an HTTP sample's hops); a leaf as a
   * request.
   */
  private static void emit(Node n, String group, boolean top, String label, Emitter out) throws InterruptedException {
    String where = "line " + n.line();
    String name = label != null ? label : n.a().getOrDefault("lb", "");
    String scenario = threadGroup(n.a().get("tn"));
    long ts = attr(n, "ts", where, -1);
    long elapsed = attr(n, "t", where, 0);
    if (top && n.a().getOrDefault("rm", "").startsWith(TRANSACTION)) {
      String g = "::" + n.a().getOrDefault("lb", "");
      out.point("group_duration", MetricType.TREND, (ts + elapsed) * 1000, Map.of("scenario", scenario, "group", g),
          elapsed);
      for (Node c : n.children()) {
        emit(c, g, false, null, out);
      }
      return;
    }
    if (!n.children().isEmpty()) {
      for (Node c : n.children()) {
        emit(c, group, false, name, out);
      }
      return;
    }
    if (!n.http()) {
      out.note("non-HTTP samples (JDBC, JSR223, Debug...) not imported: k6 has no metric for them");
      return;
    }
    boolean success = !"false".equalsIgnoreCase(n.a().get("s"));
    out.request(ts * 1000, name, n.a().getOrDefault("method", ""), RequestTags.status(n.a().get("rc")), scenario,
        group, !success, Map.of(), ToolTimings.jmeter(elapsed, attr(n, "lt", where, 0), attr(n, "ct", where, 0),
            attr(n, "sby", where, 0), attr(n, "by", where, 0)));
    for (String[] a : n.assertions()) {
      out.point("checks", MetricType.RATE, (ts + elapsed) * 1000, Map.of("check", a[0], "name", name, "scenario",
          scenario, "group", group), "true".equals(a[1]) || "true".equals(a[2]) ? 0 : 1);
    }
  }

  private static long attr(Node n, String name, String where, long dflt) {
    String v = n.a().get(name);
    if (v == null) {
      if (dflt < 0) {
        throw new ImportException(where, "a sample without \"" + name + "\"");
      }
      return dflt;
    }
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new ImportException(where, name + "=\"" + (v.length() > 40 ? v.substring(0, 40) + "..." : v)
          + "\" is not a whole number");
    }
  }
}
