package dev.loadtest.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.api.ApiConfig;
import dev.loadtest.api.ApiException;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The web app, served by the query API on its own origin: static pages (under {@code webapp/} on the
 * class path, uPlot from its WebJar) at {@code /}, and the session endpoints that exchange a token for an
 * HttpOnly cookie ({@code POST|GET|DELETE /api/v1/session}). Pages get a strict Content-Security-Policy:
 * scripts and connections of this origin only, no framing.
 */
public final class WebApp {
  /** The uPlot release of the WebJar on the class path (query-api's pom names the same). */
  static final String UPLOT_VERSION = "1.6.30";
  static final String UPLOT_ROOT = "META-INF/resources/webjars/uplot/" + UPLOT_VERSION + "/dist";
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      + "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
  private static final ObjectMapper JSON = new ObjectMapper();

  private WebApp() {}

  /**
   * Adds the session endpoints under {@code base} and the pages at {@code /} to {@code r}; {@code scopeOf}
   * tells a token's scope (null: not a token), {@code fail} answers an error as the API does.
   */
  public static void routes(Router r, String base, WebSessions sessions, Function<String, ApiConfig.Scope> scopeOf,
      BiConsumer<RoutingContext, ApiException> fail) {
    r.post(base + "/session").handler(ctx -> {
      try {
        String token = tokenOf(ctx.body() == null ? null : ctx.body().asString());
        ApiConfig.Scope scope = scopeOf.apply(token);
        if (scope == null) {
          throw new ApiException(401, "token", "the token is not valid");
        }
        String id = sessions.open(scope);
        ctx.response().addCookie(Cookie.cookie(WebSessions.COOKIE, id).setHttpOnly(true)
            .setSameSite(CookieSameSite.STRICT).setPath(base).setSecure(ctx.request().isSSL())
            .setMaxAge(sessions.ttl().toSeconds()));
        json(ctx, 200, body(sessions.find(id)));
      } catch (ApiException e) {
        fail.accept(ctx, e);
      }
    });
    r.get(base + "/session").handler(ctx -> {
      try {
        sessionScope(ctx, sessions);
        json(ctx, 200, body(sessions.find(ctx.request().getCookie(WebSessions.COOKIE).getValue())));
      } catch (ApiException e) {
        fail.accept(ctx, e);
      }
    });
    r.delete(base + "/session").handler(ctx -> {
      try {
        sessionScope(ctx, sessions);
        sessions.close(ctx.request().getCookie(WebSessions.COOKIE).getValue());
        ctx.response().addCookie(Cookie.cookie(WebSessions.COOKIE, "").setHttpOnly(true)
            .setSameSite(CookieSameSite.STRICT).setPath(base).setMaxAge(0));
        ctx.response().setStatusCode(204).end();
      } catch (ApiException e) {
        fail.accept(ctx, e);
      }
    });

    String pages = "^/(?!api/).*";
    r.routeWithRegex(pages).handler(ctx -> {
      if (ctx.request().method() != HttpMethod.GET && ctx.request().method() != HttpMethod.HEAD) {
        fail.accept(ctx, new ApiException(405, null, "the web app's pages are read with GET"));
        return;
      }
      ctx.response().putHeader("Content-Security-Policy", CSP).putHeader("X-Content-Type-Options", "nosniff")
          .putHeader("Referrer-Policy", "no-referrer").putHeader("X-Frame-Options", "DENY");
      ctx.next();
    });
    r.route("/vendor/uplot/*").handler(StaticHandler.create(UPLOT_ROOT).setMaxAgeSeconds(86_400)
        .setDirectoryListing(false));
    r.routeWithRegex(pages).handler(StaticHandler.create("webapp").setIndexPage("index.html")
        .setCachingEnabled(false).setDirectoryListing(false));
  }

  /**
   * The scope of the request's session cookie. A write (any method but GET and HEAD) must also come from
   * this origin (its {@code Origin}, when sent, names this host) and echo the session's CSRF secret.
   *
   * @throws ApiException 401 when the session is unknown or expired, 403 when a write fails those checks
   */
  public static ApiConfig.Scope sessionScope(RoutingContext ctx, WebSessions sessions) {
    Cookie c = ctx.request().getCookie(WebSessions.COOKIE);
    WebSessions.Session s = sessions.find(c == null ? null : c.getValue());
    if (s == null) {
      throw new ApiException(401, null, "the session is unknown or has expired: sign in again with a token");
    }
    HttpMethod m = ctx.request().method();
    if (m != HttpMethod.GET && m != HttpMethod.HEAD) {
      String origin = ctx.request().getHeader("Origin");
      io.vertx.core.net.HostAndPort a = ctx.request().authority(); // Host, or HTTP/2's :authority
      String host = a == null ? null : a.host() + (a.port() >= 0 ? ":" + a.port() : "");
      if (origin != null && (host == null || !origin.toLowerCase(Locale.ROOT).replaceFirst("^https?://", "")
          .equals(host.toLowerCase(Locale.ROOT)))) {
        throw new ApiException(403, null, "a write with a session cookie must come from the app's own origin, not "
            + origin);
      }
      if (!s.csrfMatches(ctx.request().getHeader(WebSessions.CSRF_HEADER))) {
        throw new ApiException(403, null, "a write with a session cookie needs the session's " + WebSessions.CSRF_HEADER
            + " header (GET /api/v1/session gives it)");
      }
    }
    return s.scope();
  }

  private static String tokenOf(String body) {
    if (body == null || body.isBlank()) {
      throw ApiException.badRequest("token", "the body must be {\"token\": \"...\"}");
    }
    if (body.length() > 4096) {
      throw ApiException.badRequest("token", "the body is longer than 4096 characters");
    }
    JsonNode n;
    try {
      n = JSON.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw ApiException.badRequest("token", "the body is not JSON: " + e.getOriginalMessage());
    }
    JsonNode t = n == null ? null : n.get("token");
    if (t == null || !t.isTextual() || t.asText().isBlank()) {
      throw ApiException.badRequest("token", "the body must be {\"token\": \"...\"} with a non-empty token");
    }
    return t.asText().strip();
  }

  private static Map<String, Object> body(WebSessions.Session s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("scope", s.scope().name().toLowerCase(Locale.ROOT));
    m.put("csrf", s.csrf());
    m.put("expiresAt", s.expiresAtMs());
    return m;
  }

  private static void json(RoutingContext ctx, int status, Object body) {
    try {
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
          .putHeader("Cache-Control", "no-store").end(JSON.writeValueAsString(body));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
