package dev.loadtest.generator.http;

import java.net.HttpCookie;
import java.net.URI;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The cookies of one VU, as a browser keeps them: set by Set-Cookie, sent back to matching hosts and
 * paths, dropped when expired. Created when a VU first receives a cookie, so VUs of cookie-less tests
 * pay nothing. Used by its VU's thread only.
 */
public final class CookieJar {
  private final List<HttpCookie> cookies = new ArrayList<>(4);

  /** Stores the cookies of Set-Cookie header values received from {@code uri}. */
  public void store(URI uri, List<String> setCookieValues) {
    for (String v : setCookieValues) {
      List<HttpCookie> parsed;
      try {
        parsed = HttpCookie.parse("set-cookie:" + v);
      } catch (IllegalArgumentException e) {
        continue; // a malformed cookie is ignored, as browsers do
      }
      for (HttpCookie c : parsed) {
        if (c.getDomain() == null) {
          c.setDomain(uri.getHost());
        } else if (!HttpCookie.domainMatches(c.getDomain(), uri.getHost())
            && !c.getDomain().equalsIgnoreCase(uri.getHost())) {
          continue; // a host may not set cookies for another domain
        }
        if (c.getPath() == null) {
          String p = uri.getPath();
          int slash = p == null ? -1 : p.lastIndexOf('/');
          c.setPath(slash > 0 ? p.substring(0, slash) : "/");
        }
        cookies.removeIf(o -> o.getName().equals(c.getName()) && o.getDomain().equalsIgnoreCase(c.getDomain())
            && o.getPath().equals(c.getPath()));
        if (!c.hasExpired()) {
          cookies.add(c);
        }
      }
    }
  }

  /** The Cookie header value for a request to {@code uri}, or null when no cookie matches. */
  public String headerFor(URI uri) {
    StringBuilder sb = null;
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    String path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
    boolean secure = "https".equalsIgnoreCase(uri.getScheme());
    for (Iterator<HttpCookie> it = cookies.iterator(); it.hasNext(); ) {
      HttpCookie c = it.next();
      if (c.hasExpired()) {
        it.remove();
        continue;
      }
      boolean hostOk = c.getDomain().equalsIgnoreCase(host) || HttpCookie.domainMatches(c.getDomain(), host);
      if (!hostOk || !path.startsWith(c.getPath()) || (c.getSecure() && !secure)) {
        continue;
      }
      sb = sb == null ? new StringBuilder() : sb.append("; ");
      sb.append(c.getName()).append('=').append(c.getValue());
    }
    return sb == null ? null : sb.toString();
  }

  public int size() {
    return cookies.size();
  }
}
