package dev.loadtest.generator.engine;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The distinct hosts a run's requests went to on this generator (reported each second as the gauge
 * {@code generator_hosts}, which the insight {@code third-party-hosts} reads). Bounded: past
 * {@link #MAX} hosts only the count matters. Thread-safe.
 */
public final class RequestHosts {
  static final int MAX = 1000;
  /** Origins ({@code scheme://authority}) seen, checked first: a request to one of them allocates nothing. */
  static final int KNOWN_ORIGINS = 8;
  private final Set<String> hosts = ConcurrentHashMap.newKeySet();
  private volatile String[] origins = new String[0];

  /**
   * Notes the host of {@code url} (scheme://host[:port]/...). Called for every request: a URL of an origin
   * seen before is matched by prefix without parsing or allocating; only a new origin is parsed.
   */
  public void note(String url) {
    if (url == null) {
      return;
    }
    for (String o : origins) {
      if (url.startsWith(o) && (url.length() == o.length() || "/?#".indexOf(url.charAt(o.length())) >= 0)) {
        return;
      }
    }
    String host = host(url);
    if (host == null) {
      return;
    }
    if (hosts.size() < MAX) {
      hosts.add(host);
    }
    int end = url.indexOf("://") + 3;
    while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
      end++;
    }
    synchronized (this) {
      String[] known = origins;
      if (known.length < KNOWN_ORIGINS) {
        String[] more = java.util.Arrays.copyOf(known, known.length + 1);
        more[known.length] = url.substring(0, end);
        origins = more;
      }
    }
  }

  public int count() {
    return hosts.size();
  }

  /** The host of an absolute URL, lower case, without port or user info; null when there is none. */
  static String host(String url) {
    int scheme = url == null ? -1 : url.indexOf("://");
    if (scheme < 0) {
      return null;
    }
    int from = scheme + 3;
    int to = from;
    while (to < url.length() && "/?#".indexOf(url.charAt(to)) < 0) {
      to++;
    }
    String authority = url.substring(from, to);
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      authority = authority.substring(at + 1);
    }
    if (authority.startsWith("[")) { // an IPv6 literal
      int close = authority.indexOf(']');
      return close < 0 ? null : authority.substring(0, close + 1).toLowerCase(java.util.Locale.ROOT);
    }
    int colon = authority.indexOf(':');
    String host = colon < 0 ? authority : authority.substring(0, colon);
    return host.isEmpty() ? null : host.toLowerCase(java.util.Locale.ROOT);
  }
}
