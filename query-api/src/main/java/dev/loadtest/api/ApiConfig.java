package dev.loadtest.api;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the query API runs: where it listens, which ClickHouse and Kafka it reads, who may call it.
 *
 * @param tokens bearer token to scope; a write token may also read. Empty: the server makes one write
 *     token at start and prints it (never an open API)
 * @param corsOrigins origins allowed to call from a browser (empty: no CORS headers; {@code *}: any)
 * @param retentionDays runs that ended are deleted with their aggregates this many days after their creation,
 *     baselines excepted (0: kept for ever); each deletion is logged and recorded (GET /deletions)
 */
public record ApiConfig(String host, int port, URI clickHouseUri, String clickHouseUser, String clickHousePassword,
    String database, String bootstrapServers, Map<String, Scope> tokens, List<String> corsOrigins, Limits limits,
    int retentionDays) {

  /** What a token may do. */
  public enum Scope {
    READ, WRITE;

    public boolean allows(Scope needed) {
      return this == WRITE || needed == READ;
    }
  }

  public ApiConfig {
    tokens = Map.copyOf(tokens);
    corsOrigins = List.copyOf(corsOrigins);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be within 0..65535, got " + port);
    }
    if (retentionDays < 0 || retentionDays > 36_500) {
      throw new IllegalArgumentException("retention days must be within 0..36500 (0: keep runs for ever), got "
          + retentionDays);
    }
  }

  /** Without retention: runs are kept until deleted. */
  public ApiConfig(String host, int port, URI clickHouseUri, String clickHouseUser, String clickHousePassword,
      String database, String bootstrapServers, Map<String, Scope> tokens, List<String> corsOrigins, Limits limits) {
    this(host, port, clickHouseUri, clickHouseUser, clickHousePassword, database, bootstrapServers, tokens, corsOrigins,
        limits, 0);
  }

  /** This configuration with {@code tokens} instead. */
  public ApiConfig withTokens(Map<String, Scope> t) {
    return new ApiConfig(host, port, clickHouseUri, clickHouseUser, clickHousePassword, database, bootstrapServers, t,
        corsOrigins, limits, retentionDays);
  }

  public ApiConfig withCors(List<String> origins) {
    return new ApiConfig(host, port, clickHouseUri, clickHouseUser, clickHousePassword, database, bootstrapServers,
        tokens, origins, limits, retentionDays);
  }

  public ApiConfig withRetentionDays(int days) {
    return new ApiConfig(host, port, clickHouseUri, clickHouseUser, clickHousePassword, database, bootstrapServers,
        tokens, corsOrigins, limits, days);
  }

  public ApiConfig withLimits(Limits l) {
    return new ApiConfig(host, port, clickHouseUri, clickHouseUser, clickHousePassword, database, bootstrapServers,
        tokens, corsOrigins, l, retentionDays);
  }

  /**
   * Reads {@code --name value} options, then {@code LOADTEST_*} environment variables, then the embedded
   * defaults. Options: --host --port --clickhouse-url --clickhouse-user --clickhouse-password --database
   * --bootstrap --token SCOPE:TOKEN (repeatable) --cors-origin ORIGIN (repeatable) --retention-days N. Environment:
   * LOADTEST_API_HOST, LOADTEST_API_PORT, LOADTEST_CLICKHOUSE_URL, LOADTEST_CLICKHOUSE_USER,
   * LOADTEST_CLICKHOUSE_PASSWORD, LOADTEST_DATABASE, LOADTEST_KAFKA_BOOTSTRAP, LOADTEST_API_TOKENS
   * ({@code read:abc,write:def}), LOADTEST_API_CORS_ORIGINS (comma-separated), LOADTEST_RETENTION_DAYS.
   *
   * @throws IllegalArgumentException saying which option is wrong
   */
  public static ApiConfig parse(List<String> args, Map<String, String> env) {
    Map<String, List<String>> o = new LinkedHashMap<>();
    List<String> known = List.of("host", "port", "clickhouse-url", "clickhouse-user", "clickhouse-password",
        "database", "bootstrap", "token", "cors-origin", "retention-days");
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("--") || !known.contains(a.substring(2))) {
        throw new IllegalArgumentException("unknown option " + a + " (options: --" + String.join(" --", known) + ")");
      }
      if (i + 1 >= args.size()) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      o.computeIfAbsent(a.substring(2), k -> new ArrayList<>()).add(args.get(++i));
    }
    String host = one(o, env, "host", "LOADTEST_API_HOST", "127.0.0.1");
    int port;
    try {
      port = Integer.parseInt(one(o, env, "port", "LOADTEST_API_PORT", "8080"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--port must be a number");
    }
    Map<String, Scope> tokens = tokens(o.getOrDefault("token", List.of()), env);
    List<String> cors = new ArrayList<>(o.getOrDefault("cors-origin", List.of()));
    if (cors.isEmpty() && env.get("LOADTEST_API_CORS_ORIGINS") != null) {
      for (String c : env.get("LOADTEST_API_CORS_ORIGINS").split(",")) {
        if (!c.isBlank()) {
          cors.add(c.strip());
        }
      }
    }
    int retention;
    try {
      retention = Integer.parseInt(one(o, env, "retention-days", "LOADTEST_RETENTION_DAYS", "0").strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--retention-days (LOADTEST_RETENTION_DAYS) must be a whole number of days");
    }
    return new ApiConfig(host, port, URI.create(one(o, env, "clickhouse-url", "LOADTEST_CLICKHOUSE_URL",
        "http://127.0.0.1:8123/")), one(o, env, "clickhouse-user", "LOADTEST_CLICKHOUSE_USER", "default"),
        one(o, env, "clickhouse-password", "LOADTEST_CLICKHOUSE_PASSWORD", ""),
        one(o, env, "database", "LOADTEST_DATABASE", "loadtest"),
        one(o, env, "bootstrap", "LOADTEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092"), tokens, cors, Limits.DEFAULT, retention);
  }

  private static String one(Map<String, List<String>> o, Map<String, String> env, String name, String envName,
      String dflt) {
    List<String> v = o.get(name);
    if (v != null) {
      if (v.size() > 1) {
        throw new IllegalArgumentException("--" + name + " is given " + v.size() + " times");
      }
      return v.get(0);
    }
    return env.getOrDefault(envName, dflt);
  }

  /**
   * Tokens from {@code SCOPE:TOKEN} specs ({@code --token} values), or, when there are none, from
   * {@code LOADTEST_API_TOKENS} (comma-separated) in {@code env}; empty when neither gives any.
   *
   * @throws IllegalArgumentException naming the spec that is not read|write:TOKEN of 16 or more characters
   */
  public static Map<String, Scope> tokens(List<String> specs, Map<String, String> env) {
    List<String> all = new ArrayList<>(specs == null ? List.of() : specs);
    if (all.isEmpty() && env.get("LOADTEST_API_TOKENS") != null) {
      for (String t : env.get("LOADTEST_API_TOKENS").split(",")) {
        if (!t.isBlank()) {
          all.add(t.strip());
        }
      }
    }
    return tokens(all);
  }

  private static Map<String, Scope> tokens(List<String> specs) {
    Map<String, Scope> tokens = new LinkedHashMap<>();
    for (String spec : specs) {
      int colon = spec.indexOf(':');
      String scope = colon < 0 ? "" : spec.substring(0, colon);
      String token = colon < 0 ? "" : spec.substring(colon + 1);
      if (!scope.equals("read") && !scope.equals("write") || token.length() < 16) {
        throw new IllegalArgumentException("a token is SCOPE:TOKEN with scope read or write and a token of at least"
            + " 16 characters, got \"" + (colon < 0 ? "?" : scope + ":...") + "\"");
      }
      tokens.put(token, Scope.valueOf(scope.toUpperCase(java.util.Locale.ROOT)));
    }
    return tokens;
  }
}
