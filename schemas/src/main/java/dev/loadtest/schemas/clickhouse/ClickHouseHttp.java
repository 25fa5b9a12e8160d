package dev.loadtest.schemas.clickhouse;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * A minimal ClickHouse client over its HTTP interface, enough for DDL, migrations and small queries;
 * SQL must name its FORMAT where it reads rows. Works with ClickHouse 18.16 and current releases
 * (no response compression: 18.16 answers compress=1 with an empty body). Thread-safe.
 */
public final class ClickHouseHttp {
  private final URI baseUri;
  private final String user;
  private final String password;
  private final HttpClient http;
  private final Duration timeout;

  /**
   * @param baseUri e.g. {@code http://127.0.0.1:8123/}
   */
  public ClickHouseHttp(URI baseUri, String user, String password, Duration timeout) {
    this.baseUri = Objects.requireNonNull(baseUri, "baseUri");
    this.user = user == null ? "default" : user;
    this.password = password == null ? "" : password;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  public ClickHouseHttp(URI baseUri) {
    this(baseUri, "default", "", Duration.ofSeconds(60));
  }

  public URI baseUri() {
    return baseUri;
  }

  /** Runs one statement in {@code database} (null: the server's default) and returns the response body. */
  public String execute(String database, String sql) {
    return send(inDatabase(database), HttpRequest.BodyPublishers.ofString(sql, StandardCharsets.UTF_8), "statement", sql);
  }

  /**
   * Runs one query in {@code database} and returns the response body as bytes, for binary formats such
   * as {@code FORMAT RowBinary}.
   */
  public byte[] executeBinary(String database, String sql) {
    return send(inDatabase(database), HttpRequest.BodyPublishers.ofString(sql, StandardCharsets.UTF_8), "query", sql,
        HttpResponse.BodyHandlers.ofByteArray(), b -> new String(b, StandardCharsets.UTF_8));
  }

  private static String inDatabase(String database) {
    return database == null ? "" : "?" + databaseParams(database);
  }

  /**
   * {@code database=...&query_id=DATABASE~UUID}: the query id names the database, so that a statement in the
   * server's query log (which 18.16 keeps without its database) can be told apart and run again.
   */
  private static String databaseParams(String database) {
    return "database=" + URLEncoder.encode(database, StandardCharsets.UTF_8) + "&query_id="
        + URLEncoder.encode(database + QUERY_ID_SEPARATOR + java.util.UUID.randomUUID(), StandardCharsets.UTF_8);
  }

  /** Between the database and a random part in the query ids this client sets. */
  public static final char QUERY_ID_SEPARATOR = '~';

  /** Posts to the HTTP interface and returns the body; a refusal or an unreachable server is a ClickHouseException. */
  private String send(String query, HttpRequest.BodyPublisher body, String what, String statement) {
    return send(query, body, what, statement, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8), b -> b);
  }

  private <T> T send(String query, HttpRequest.BodyPublisher body, String what, String statement,
      HttpResponse.BodyHandler<T> handler, java.util.function.Function<T, String> text) {
    HttpRequest request = HttpRequest.newBuilder(baseUri.resolve("/" + query))
        .timeout(timeout)
        .header("X-ClickHouse-User", user)
        .header("X-ClickHouse-Key", password)
        .POST(body)
        .build();
    HttpResponse<T> response;
    try {
      response = http.send(request, handler);
    } catch (IOException e) {
      throw new ClickHouseException("ClickHouse at " + baseUri + " is unreachable: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClickHouseException("interrupted while waiting for ClickHouse", e);
    }
    if (response.statusCode() != 200) {
      throw new ClickHouseException("ClickHouse refused the " + what + " (HTTP " + response.statusCode() + "): "
          + text.apply(response.body()).strip() + "\n  statement: " + abbreviate(statement));
    }
    return response.body();
  }

  /**
   * Inserts rows sent as a binary body, e.g. {@code INSERT INTO metric_1s FORMAT RowBinary}: the
   * statement goes in the URL, the data in the body, as ClickHouse's HTTP interface takes them.
   */
  public void insert(String database, String insertStatement, byte[] body) {
    String query = "?query=" + URLEncoder.encode(insertStatement, StandardCharsets.UTF_8)
        + (database == null ? "" : "&" + databaseParams(database));
    send(query, HttpRequest.BodyPublishers.ofByteArray(body), "insert of " + body.length + " bytes", insertStatement);
  }

  /** The server's version, e.g. {@code 18.16.1}. */
  public String version() {
    return execute(null, "SELECT version() FORMAT TabSeparated").strip();
  }

  /** Whether the server answers {@code /ping}. */
  public boolean ping() {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(baseUri.resolve("/ping")).timeout(Duration.ofSeconds(2))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** A string literal for SQL: quoted, with backslashes and quotes escaped (18.16 has no query parameters). */
  public static String quote(String value) {
    StringBuilder b = new StringBuilder(value.length() + 2).append('\'');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> b.append("\\\\");
        case '\'' -> b.append("\\'");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\0' -> b.append("\\0");
        default -> b.append(c);
      }
    }
    return b.append('\'').toString();
  }

  /** An identifier for SQL, accepted only when it is plain (letters, digits, _): never escaped, whitelisted. */
  public static String identifier(String name) {
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,63}")) {
      throw new IllegalArgumentException("not a plain identifier: \"" + name + "\"");
    }
    return name;
  }

  private static String abbreviate(String sql) {
    String s = sql.strip().replaceAll("\\s+", " ");
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
