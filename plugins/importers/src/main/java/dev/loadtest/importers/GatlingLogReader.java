package dev.loadtest.importers;

import dev.loadtest.generator.plugin.ToolTimings;
import dev.loadtest.schemas.metrics.MetricType;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.Map;

/**
 * Gatling's text {@code simulation.log} (Gatling 3.0 to 3.10; 3.11 and later write a binary log this reader
 * refuses with that reason). Tab-separated records:
 *
 * <ul>
 *   <li>{@code REQUEST [user] groups name start end OK|KO message}: a request named {@code name}, its group
 *       {@code ::g1::g2} from Gatling's group path, failed when KO, its duration end - start (whole milliseconds).
 *       Gatling's log holds neither the HTTP method nor the status: both tags are empty;</li>
 *   <li>{@code GROUP groups start end cumulated OK|KO}: a {@code group_duration} of end - start;</li>
 *   <li>{@code USER scenario [user] START|END time}: the users running, as {@code vus} (one point a second), and an
 *       {@code iterations} count per user that ended;</li>
 *   <li>{@code RUN} and {@code ERROR}: nothing to store (errors are the KO requests' messages).</li>
 * </ul>
 */
public final class GatlingLogReader implements ResultLines {

  /** The records of a whole file. */
  static void read(BufferedReader in, Emitter out) throws IOException, InterruptedException {
    in.mark(16);
    int first = in.read();
    in.reset();
    if (first >= 0 && first != 'R' && first != 'U' && first != 'G' && first != 'E' && first != 'A'
        && !Character.isWhitespace(first)) {
      throw new ImportException("line 1", "not a text simulation.log: Gatling 3.11 and later write a binary log, which"
          + " cannot be read here; import the log of Gatling 3.10 or earlier");
    }
    GatlingLogReader log = new GatlingLogReader(out);
    Lines file = new Lines(in);
    String line;
    while ((line = file.next()) != null) {
      log.line(line, "line " + file.number());
    }
    log.end();
  }

  private final Emitter out;
  private long users;
  private long lastVusSecond = Long.MIN_VALUE;
  private long vusAtMs;
  private long vusValue;
  private String scenario = "";

  private GatlingLogReader(Emitter out) {
    this.out = out;
  }

  /**
   * A reader of records as Gatling writes them, one line at a time (the gatling plug-in follows a running
   * simulation's log with it), into {@code sink} with {@code planTags}.
   */
  public static ResultLines lines(dev.loadtest.generator.sink.SampleSink sink, Map<String, String> planTags) {
    return new GatlingLogReader(new Emitter(sink, planTags));
  }

  @Override
  public long requests() {
    return out.requests;
  }

  @Override
  public void line(String line, String where) throws InterruptedException {
    if (line.isBlank()) {
      return;
    }
    String[] f = line.split("\t", -1);
    switch (f[0]) {
      case "REQUEST" -> {
        // 3.x: REQUEST groups name start end status message; earlier 3.x: REQUEST user groups name start end ...
        int at = f.length >= 8 && isNumber(f[4]) && isNumber(f[5]) ? 2 : 1;
        if (f.length < at + 5) {
          throw new ImportException(where, "a REQUEST record needs groups, name, start, end and status");
        }
        long start = number(f[at + 2], "start", where);
        long end = number(f[at + 3], "end", where);
        boolean ko = switch (f[at + 4]) {
          case "OK" -> false;
          case "KO" -> true;
          default -> throw new ImportException(where, "status \"" + f[at + 4] + "\" is neither OK nor KO");
        };
        out.request(start * 1000, f[at + 1], "", -1, scenario.isEmpty() ? "gatling" : scenario, group(f[at]), ko,
            Map.of(), ToolTimings.responseTime((end - start) * 1000, 0));
      }
      case "GROUP" -> {
        if (f.length < 5) {
          throw new ImportException(where, "a GROUP record needs groups, start and end");
        }
        long start = number(f[2], "start", where);
        long end = number(f[3], "end", where);
        out.point("group_duration", MetricType.TREND, end * 1000, Map.of("scenario", scenario.isEmpty() ? "gatling"
            : scenario, "group", group(f[1])), end - start);
      }
      case "USER" -> {
        int phase = -1;
        for (int i = 2; i < f.length; i++) {
          if (f[i].equals("START") || f[i].equals("END")) {
            phase = i;
            break;
          }
        }
        if (phase < 0 || phase + 1 >= f.length) {
          throw new ImportException(where, "a USER record needs START or END and a time");
        }
        scenario = f[1];
        long t = number(f[phase + 1], "time", where);
        users += f[phase].equals("START") ? 1 : -1;
        if (f[phase].equals("END")) {
          out.point("iterations", MetricType.COUNTER, t * 1000, Map.of("scenario", scenario, "group", ""), 1);
        }
        // vus: the count at the end of each second with a user event (a gauge keeps the last value a second)
        long second = Math.floorDiv(t, 1000);
        if (second != lastVusSecond && lastVusSecond != Long.MIN_VALUE) {
          out.point("vus", MetricType.GAUGE, vusAtMs * 1000, Map.of(), vusValue);
        }
        lastVusSecond = second;
        vusAtMs = t;
        vusValue = Math.max(0, users);
      }
      case "RUN", "ERROR", "ASSERTION" -> { }
      default -> throw new ImportException(where, "\"" + (f[0].length() > 20 ? f[0].substring(0, 20) : f[0])
          + "\" is not a record of Gatling's simulation.log (RUN, USER, REQUEST, GROUP, ERROR)");
    }
  }

  @Override
  public void end() throws InterruptedException {
    if (lastVusSecond != Long.MIN_VALUE) {
      out.point("vus", MetricType.GAUGE, vusAtMs * 1000, Map.of(), vusValue);
      lastVusSecond = Long.MIN_VALUE;
    }
  }

  /** Gatling's group path "checkout,payment" as k6's "::checkout::payment". */
  static String group(String path) {
    return path.isBlank() ? "" : "::" + String.join("::", path.split(","));
  }

  private static boolean isNumber(String s) {
    return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
  }

  private static long number(String s, String what, String where) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      throw new ImportException(where, what + " \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s)
          + "\" is not epoch milliseconds");
    }
  }
}
