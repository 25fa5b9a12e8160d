package dev.loadtest.api.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.api.ApiConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class WebSessionsTest {
  /** A clock the test moves. */
  static final class Manual extends Clock {
    long ms = 1_000_000;

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(ms);
    }
  }

  @Test
  void aSessionKeepsItsScopeUntilItExpires() {
    Manual clock = new Manual();
    WebSessions s = new WebSessions(Duration.ofMinutes(10), 100, clock);
    String id = s.open(ApiConfig.Scope.READ);
    assertEquals(64, id.length());
    assertTrue(id.matches("[0-9a-f]{64}"));
    WebSessions.Session found = s.find(id);
    assertNotNull(found);
    assertEquals(ApiConfig.Scope.READ, found.scope());
    assertEquals(clock.ms + 600_000, found.expiresAtMs());

    clock.ms += 599_999;
    assertNotNull(s.find(id));
    clock.ms += 1;
    assertNull(s.find(id), "expired at its time");
    assertEquals(0, s.size(), "an expired session is dropped when looked up");
  }

  @Test
  void idsAndCsrfSecretsAreRandomAndDistinct() {
    WebSessions s = new WebSessions(Duration.ofHours(1), 100, Clock.systemUTC());
    String a = s.open(ApiConfig.Scope.WRITE);
    String b = s.open(ApiConfig.Scope.WRITE);
    assertNotEquals(a, b);
    assertNotEquals(s.find(a).csrf(), s.find(b).csrf());
    assertNotEquals(a, s.find(a).csrf(), "the CSRF secret is not the cookie's value");
  }

  @Test
  void theCsrfSecretMustMatchExactly() {
    WebSessions s = new WebSessions(Duration.ofHours(1), 10, Clock.systemUTC());
    WebSessions.Session x = s.find(s.open(ApiConfig.Scope.WRITE));
    assertTrue(x.csrfMatches(x.csrf()));
    assertFalse(x.csrfMatches(null));
    assertFalse(x.csrfMatches(""));
    assertFalse(x.csrfMatches(x.csrf().substring(1)));
    assertFalse(x.csrfMatches(x.csrf() + "0"));
  }

  @Test
  void unknownMalformedAndClosedIdsFindNothing() {
    WebSessions s = new WebSessions(Duration.ofHours(1), 10, Clock.systemUTC());
    String id = s.open(ApiConfig.Scope.READ);
    assertNull(s.find(null));
    assertNull(s.find(""));
    assertNull(s.find("x".repeat(64)));
    assertNull(s.find(id + "0"), "a longer id");
    assertNull(s.find(id.substring(1)), "a shorter id");
    s.close(id);
    assertNull(s.find(id));
    s.close(null); // closing nothing is harmless
  }

  @Test
  void whenFullTheSessionsClosestToExpiringGo() {
    Manual clock = new Manual();
    WebSessions s = new WebSessions(Duration.ofMinutes(5), 3, clock);
    String first = s.open(ApiConfig.Scope.READ);
    clock.ms += 1;
    String second = s.open(ApiConfig.Scope.READ);
    clock.ms += 1;
    String third = s.open(ApiConfig.Scope.READ);
    clock.ms += 1;
    String fourth = s.open(ApiConfig.Scope.WRITE);
    assertEquals(3, s.size(), "bounded");
    assertNull(s.find(first), "the oldest went");
    assertNotNull(s.find(second));
    assertNotNull(s.find(third));
    assertNotNull(s.find(fourth));

    clock.ms += Duration.ofMinutes(5).toMillis();
    String fifth = s.open(ApiConfig.Scope.READ);
    assertEquals(1, s.size(), "expired sessions are swept first");
    assertNotNull(s.find(fifth));
  }

  @Test
  void aLifetimeAndARoomAreRequired() {
    assertThrows(IllegalArgumentException.class, () -> new WebSessions(Duration.ZERO, 1, Clock.systemUTC()));
    assertThrows(IllegalArgumentException.class, () -> new WebSessions(Duration.ofMinutes(1), 0, Clock.systemUTC()));
  }
}
