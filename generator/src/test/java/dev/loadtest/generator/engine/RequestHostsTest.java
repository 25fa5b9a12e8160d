package dev.loadtest.generator.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class RequestHostsTest {
  @Test
  void theHostOfAUrlWithoutPortUserOrCase() {
    assertEquals("shop.example", RequestHosts.host("https://Shop.Example:8443/cart?x=1"));
    assertEquals("127.0.0.1", RequestHosts.host("http://user:pw@127.0.0.1/"));
    assertEquals("[::1]", RequestHosts.host("http://[::1]:8080/a"));
    assertEquals("cdn.example", RequestHosts.host("http://cdn.example#top"));
    assertNull(RequestHosts.host("/relative/path"));
    assertNull(RequestHosts.host("http:///nohost"));
  }

  @Test
  void distinctHostsAreCounted() {
    RequestHosts h = new RequestHosts();
    for (int i = 0; i < 30; i++) {
      h.note("http://127.0.0." + (i % 12 + 1) + ":8080/x" + i);
    }
    assertEquals(12, h.count(), "past the origins kept for the fast path, hosts are still counted");
    h.note("HTTP://127.0.0.1:8080/other");
    h.note("http://127.0.0.1:8080");
    h.note("http://127.0.0.1:80801/x"); // another port, the same host
    h.note("http://127.0.0.13");
    h.note(null);
    h.note("not a url");
    assertEquals(13, h.count());
  }
}
