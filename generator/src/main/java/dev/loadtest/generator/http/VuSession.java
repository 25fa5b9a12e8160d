package dev.loadtest.generator.http;

/**
 * What one VU keeps between its requests, as k6 keeps it per VU: its own connections (Jetty keeps one
 * destination, with its own connection pool, per request tag, and this object is the tag) and its own
 * cookie jar, created when the first cookie arrives.
 *
 * <p>It also tells the connector which exchange a new connection is opened for, so that the connect
 * time is charged to that request. A VU runs one exchange at a time: {@code current} is written by the
 * VU before each send and read by a Jetty thread after it.
 */
public final class VuSession {
  private final int vu;
  private CookieJar cookies;
  volatile Exchange current;

  public VuSession(int vu) {
    this.vu = vu;
  }

  public int vu() {
    return vu;
  }

  /** The VU's cookies, or null while it has none. */
  public CookieJar cookiesOrNull() {
    return cookies;
  }

  public CookieJar cookies() {
    if (cookies == null) {
      cookies = new CookieJar();
    }
    return cookies;
  }

  @Override
  public String toString() {
    return "vu-" + vu;
  }
}
