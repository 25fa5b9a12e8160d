package dev.loadtest.api.web;

import dev.loadtest.api.ApiConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web app's sessions: a token given once is exchanged for a random session id, sent back only as an
 * HttpOnly, SameSite=Strict cookie, so the token never sits in a URL or in storage a page script can read.
 * A session carries the token's scope and a CSRF secret that cookie-authenticated writes must echo in a
 * header (a page of another origin can neither read it nor set the header). Sessions live in this process:
 * a restarted API asks for the token again.
 */
public final class WebSessions {
  /** The cookie's name. */
  public static final String COOKIE = "loadtest_session";
  /** The header a cookie-authenticated write must carry, with the session's CSRF secret. */
  public static final String CSRF_HEADER = "X-Loadtest-Csrf";

  /** One session: what its token may do, its CSRF secret, and when it expires. */
  public record Session(ApiConfig.Scope scope, String csrf, long expiresAtMs) {
    /** Whether {@code given} is this session's CSRF secret (compared in constant time). */
    public boolean csrfMatches(String given) {
      return given != null && MessageDigest.isEqual(csrf.getBytes(StandardCharsets.UTF_8),
          given.getBytes(StandardCharsets.UTF_8));
    }
  }

  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Duration ttl;
  private final int max;
  private final Clock clock;

  public WebSessions(Duration ttl, int max, Clock clock) {
    if (ttl.isNegative() || ttl.isZero() || max < 1) {
      throw new IllegalArgumentException("a session needs a positive lifetime and room for one");
    }
    this.ttl = ttl;
    this.max = max;
    this.clock = clock;
  }

  public Duration ttl() {
    return ttl;
  }

  /** Opens a session for a token of {@code scope}; returns its id (the cookie's value). */
  public String open(ApiConfig.Scope scope) {
    long now = clock.millis();
    if (sessions.size() >= max) {
      evict(now);
    }
    String id = hex(32);
    sessions.put(id, new Session(scope, hex(24), now + ttl.toMillis()));
    return id;
  }

  /** The live session of {@code id}, or null (unknown, malformed or expired). */
  public Session find(String id) {
    if (id == null || id.length() != 64) {
      return null;
    }
    Session s = sessions.get(id);
    if (s != null && s.expiresAtMs() <= clock.millis()) {
      sessions.remove(id, s);
      return null;
    }
    return s;
  }

  public void close(String id) {
    if (id != null) {
      sessions.remove(id);
    }
  }

  public int size() {
    return sessions.size();
  }

  /** Drops expired sessions and, when still full, the ones closest to expiring (the oldest). */
  private void evict(long now) {
    sessions.values().removeIf(s -> s.expiresAtMs() <= now);
    while (sessions.size() >= max) {
      String oldest = null;
      long at = Long.MAX_VALUE;
      for (Iterator<Map.Entry<String, Session>> it = sessions.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, Session> e = it.next();
        if (e.getValue().expiresAtMs() < at) {
          at = e.getValue().expiresAtMs();
          oldest = e.getKey();
        }
      }
      if (oldest == null) {
        return;
      }
      sessions.remove(oldest);
    }
  }

  private String hex(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}
