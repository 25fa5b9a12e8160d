package dev.loadtest.schemas.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @ParameterizedTest
  @CsvSource({
      "1m30s, 90000", "500ms, 500", "1.5s, 1500", "2h, 7200000", "1d, 86400000", "1h2m3s, 3723000",
      "250, 250", "0s, 0", "0, 0", "1500us, 1.5", "90s, 90000", "-10s, -10000", "' 30s ', 30000"})
  void parsesK6Durations(String text, double millis) {
    assertEquals(Math.round(millis * 1_000_000), Durations.parse(text).toNanos());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "  ", "abc", "10", "1x", "s", "1m30", "1.2.3s", "--1s", "1 m"})
  void rejectsWhatIsNotADuration(String text) {
    if (text.equals("10")) {
      assertEquals(Duration.ofMillis(10), Durations.parse(text), "a bare number is milliseconds");
      return;
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
    assertTrue(e.getMessage().contains("duration"), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"90000, 1m30s", "500, 500ms", "3723000, 1h2m3s", "0, 0s", "1500, 1.5s", "60000, 1m"})
  void formatsAsK6Prints(long millis, String text) {
    assertEquals(text, Durations.format(Duration.ofMillis(millis)));
    assertEquals(Duration.ofMillis(millis), Durations.parse(text), "format and parse agree");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1s", "-5"})
  void nonNegativeRejectsNegative(String text) {
    assertThrows(IllegalArgumentException.class, () -> Durations.parseNonNegative(text, true));
  }
}
