package dev.loadtest.schemas.command;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Locale;

/**
 * When a scheduled plan runs: a cron expression ({@code "*&#47;15 8-18 * * mon-fri"}, five fields, UTC) or a
 * recurrence rule as k6 Cloud offers it ({@code {"frequency": "daily", "interval": 1, "startsAt": ISO-8601,
 * "until": ISO-8601, "count": N}}). {@link #next} gives the first start after a time, or -1 when there is
 * none any more. Immutable.
 */
public sealed interface ScheduleRule {
  /** The first start strictly after {@code afterMs} (epoch ms), or -1 when the rule has no more. */
  long next(long afterMs);

  /** The rule as its JSON text would say it, for messages. */
  String describe();

  /**
   * A cron expression: minute, hour, day of month, month, day of week (0 or 7 Sunday, or sun..sat), each
   * {@code *}, a number, a range {@code a-b}, a list {@code a,b}, with a step {@code /n}; in UTC. As in cron,
   * when both days are restricted a day matching either runs.
   */
  record Cron(String expression, BitSet minutes, BitSet hours, BitSet days, BitSet months, BitSet weekdays,
      boolean anyDay, boolean anyWeekday) implements ScheduleRule {
    private static final String[] DOW = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    private static final String[] MON = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
        "dec"};

    /** @throws IllegalArgumentException saying which field is wrong */
    public static Cron parse(String expression) {
      String[] f = expression == null ? new String[0] : expression.trim().split("\\s+");
      if (f.length != 5) {
        throw new IllegalArgumentException("a cron expression has 5 fields (minute hour day-of-month month"
            + " day-of-week), got \"" + expression + "\"");
      }
      BitSet weekdays = field(f[4], 0, 7, DOW, "day of week");
      if (weekdays.get(7)) {
        weekdays.set(0);
        weekdays.clear(7);
      }
      return new Cron(expression.trim(), field(f[0], 0, 59, null, "minute"), field(f[1], 0, 23, null, "hour"),
          field(f[2], 1, 31, null, "day of month"), field(f[3], 1, 12, MON, "month"), weekdays, f[2].equals("*"),
          f[4].equals("*"));
    }

    private static BitSet field(String text, int min, int max, String[] names, String what) {
      BitSet out = new BitSet();
      for (String part : text.split(",")) {
        String range = part;
        int step = 1;
        int slash = part.indexOf('/');
        if (slash >= 0) {
          range = part.substring(0, slash);
          step = number(part.substring(slash + 1), 1, max - min + 1, null, what, 1);
        }
        int from;
        int to;
        if (range.equals("*")) {
          from = min;
          to = max;
        } else if (range.contains("-")) {
          String[] ab = range.split("-", 2);
          from = number(ab[0], min, max, names, what, min);
          to = number(ab[1], min, max, names, what, min);
          if (to < from) {
            throw new IllegalArgumentException("the " + what + " range \"" + range + "\" runs backwards");
          }
        } else {
          from = number(range, min, max, names, what, min);
          to = slash >= 0 ? max : from;
        }
        for (int v = from; v <= to; v += step) {
          out.set(v);
        }
      }
      return out;
    }

    private static int number(String s, int min, int max, String[] names, String what, int nameBase) {
      if (names != null) {
        for (int i = 0; i < names.length; i++) {
          if (names[i].equalsIgnoreCase(s)) {
            return i + nameBase;
          }
        }
      }
      try {
        int v = Integer.parseInt(s);
        if (v < min || v > max) {
          throw new IllegalArgumentException("the " + what + " " + v + " is outside " + min + "-" + max);
        }
        return v;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("\"" + s + "\" is not a " + what + (names == null ? ""
            : " (a number or " + String.join(", ", names) + ")"));
      }
    }

    @Override
    public long next(long afterMs) {
      ZonedDateTime t = Instant.ofEpochMilli(afterMs).atZone(ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES)
          .plusMinutes(1);
      for (int i = 0; i < 4 * 366 * 24 * 60; i++) { // at most four years of minutes
        if (!months.get(t.getMonthValue())) {
          t = t.withDayOfMonth(1).withHour(0).withMinute(0).plusMonths(1);
          continue;
        }
        if (!dayMatches(t)) {
          t = t.withHour(0).withMinute(0).plusDays(1);
          continue;
        }
        if (!hours.get(t.getHour())) {
          t = t.withMinute(0).plusHours(1);
          continue;
        }
        if (!minutes.get(t.getMinute())) {
          t = t.plusMinutes(1);
          continue;
        }
        return t.toInstant().toEpochMilli();
      }
      return -1;
    }

    private boolean dayMatches(ZonedDateTime t) {
      boolean dom = days.get(t.getDayOfMonth());
      boolean dow = weekdays.get(t.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : t.getDayOfWeek().getValue());
      if (anyDay && anyWeekday) {
        return true;
      }
      if (anyDay) {
        return dow;
      }
      if (anyWeekday) {
        return dom;
      }
      return dom || dow;
    }

    @Override
    public String describe() {
      return "cron \"" + expression + "\" (UTC)";
    }
  }

  /** Every {@code interval} hours, days, weeks or months from {@code startsAtMs}, until a time or a count. */
  record Recurrence(String frequency, int interval, long startsAtMs, long untilMs, int count) implements ScheduleRule {
    public Recurrence {
      if (!java.util.List.of("hourly", "daily", "weekly", "monthly").contains(frequency)) {
        throw new IllegalArgumentException("frequency must be hourly, daily, weekly or monthly, got \"" + frequency
            + "\"");
      }
      if (interval < 1 || interval > 1000) {
        throw new IllegalArgumentException("interval must be from 1 to 1000, got " + interval);
      }
      if (count < 0) {
        throw new IllegalArgumentException("count must not be negative");
      }
    }

    /** The {@code k}-th start (0: the first). */
    long start(long k) {
      ZonedDateTime s = Instant.ofEpochMilli(startsAtMs).atZone(ZoneOffset.UTC);
      long n = k * interval;
      ZonedDateTime t = switch (frequency) {
        case "hourly" -> s.plusHours(n);
        case "daily" -> s.plusDays(n);
        case "weekly" -> s.plusWeeks(n);
        default -> s.plusMonths(n);
      };
      return t.toInstant().toEpochMilli();
    }

    @Override
    public long next(long afterMs) {
      long k = 0;
      if (afterMs >= startsAtMs) {
        long unit = switch (frequency) {
          case "hourly" -> 3_600_000L;
          case "daily" -> 86_400_000L;
          case "weekly" -> 7 * 86_400_000L;
          default -> 28 * 86_400_000L; // a lower bound for a month: the loop below finds the exact one
        };
        k = Math.max(0, (afterMs - startsAtMs) / (unit * interval) - 1);
        while (start(k) <= afterMs) {
          k++;
        }
      }
      if (count > 0 && k >= count) {
        return -1;
      }
      long t = start(k);
      return untilMs > 0 && t > untilMs ? -1 : t;
    }

    @Override
    public String describe() {
      return String.format(Locale.ROOT, "%s every %d from %s%s%s", frequency, interval, Instant.ofEpochMilli(startsAtMs),
          untilMs > 0 ? " until " + Instant.ofEpochMilli(untilMs) : "", count > 0 ? ", " + count + " times" : "");
    }
  }
}
