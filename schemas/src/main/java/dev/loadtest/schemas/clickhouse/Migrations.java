package dev.loadtest.schemas.clickhouse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ClickHouse schema as numbered migrations ({@code clickhouse/migrations/V###__name.sql}, listed in
 * {@code index.txt}), and a runner that applies each one once per database and records it with its
 * checksum in {@code schema_migrations}. An applied migration whose file has changed since is an
 * error: the fix is a new migration, never an edit. Every statement runs on ClickHouse 18.16 and on
 * current releases, and is idempotent ({@code IF NOT EXISTS}; an {@code ADD COLUMN} of an existing column is
 * left out), so two runners racing do no harm and a crash between applying and recording is repaired.
 */
public final class Migrations {
  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
  private static final Pattern FILE = Pattern.compile("V(\\d{3})__([a-z0-9_]+)\\.sql");
  private static final String ROOT = "/clickhouse/migrations/";

  /** One migration: its number, name, statements and the checksum of its file. */
  public record Migration(int version, String name, List<String> statements, String checksum) {}

  /** What {@link #apply} did. */
  public record Result(String database, List<Migration> applied, List<Migration> alreadyApplied) {}

  private Migrations() {}

  /** The migrations shipped in this jar, in order. */
  public static List<Migration> bundled() {
    List<Migration> out = new ArrayList<>();
    for (String file : lines(ROOT + "index.txt")) {
      Matcher m = FILE.matcher(file);
      if (!m.matches()) {
        throw new IllegalStateException("migration file name " + file + " is not V###__name.sql");
      }
      String sql = String.join("\n", lines(ROOT + file));
      int version = Integer.parseInt(m.group(1));
      if (version != out.size() + 1) {
        throw new IllegalStateException("migration " + file + " breaks the numbering: expected V"
            + String.format("%03d", out.size() + 1));
      }
      out.add(new Migration(version, m.group(2), statements(sql), sha256(sql)));
    }
    return out;
  }

  /** Creates {@code database} if needed and applies every bundled migration it has not had yet. */
  public static Result apply(ClickHouseHttp ch, String database) {
    return apply(ch, database, Integer.MAX_VALUE);
  }

  /**
   * As {@link #apply(ClickHouseHttp, String)}, with the migrations up to version {@code upTo} only: the
   * schema of an earlier release, for tests that prove what it stored still reads after the rest.
   */
  public static Result apply(ClickHouseHttp ch, String database, int upTo) {
    String db = ClickHouseHttp.identifier(database);
    ch.execute(null, "CREATE DATABASE IF NOT EXISTS " + db);
    ch.execute(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String,"
        + " applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY version");
    Map<Integer, String> done = new HashMap<>();
    for (String line : ch.execute(db, "SELECT version, checksum FROM schema_migrations FORMAT TabSeparated").split("\n")) {
      if (!line.isBlank()) {
        String[] f = line.split("\t");
        done.put(Integer.parseInt(f[0]), f[1]);
      }
    }
    List<Migration> applied = new ArrayList<>();
    List<Migration> already = new ArrayList<>();
    for (Migration m : bundled()) {
      if (m.version() > upTo) {
        break;
      }
      String checksum = done.get(m.version());
      if (checksum != null) {
        if (!checksum.equals(m.checksum())) {
          throw new ClickHouseException("migration V" + String.format("%03d", m.version()) + " (" + m.name()
              + ") was applied to database " + db + " with checksum " + checksum + " but the file now has "
              + m.checksum() + ": migrations must not be edited once released; add a new one instead");
        }
        already.add(m);
        continue;
      }
      for (String statement : m.statements()) {
        String rest = withoutExistingColumns(statement, table -> existingColumns(ch, database, table));
        if (rest != null) {
          ch.execute(db, rest);
        }
      }
      ch.execute(db, "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ("
          + m.version() + ", " + ClickHouseHttp.quote(m.name()) + ", " + ClickHouseHttp.quote(m.checksum()) + ", now())");
      LOG.info("applied ClickHouse migration V{}__{} to {}", String.format("%03d", m.version()), m.name(), db);
      applied.add(m);
    }
    return new Result(db, applied, already);
  }

  private static final Pattern ADD_COLUMNS = Pattern.compile("(?is)\\s*ALTER\\s+TABLE\\s+(\\S+)\\s+(ADD\\s+COLUMN\\s.*)");
  private static final Pattern ADD_CLAUSE = Pattern.compile("(?is)ADD\\s+COLUMN\\s+`?(\\w+)`?\\s.*");

  /**
   * {@code statement} without the {@code ADD COLUMN} clauses whose column exists already, or null when
   * nothing is left to do; other statements as they are. So a migration that was applied but not recorded
   * (a crash between the two) applies again cleanly: {@code ADD COLUMN IF NOT EXISTS} does not parse on
   * 18.16, and a plain {@code ADD COLUMN} of an existing column fails on every version.
   *
   * @param columnsOf the existing columns of a table
   */
  static String withoutExistingColumns(String statement, java.util.function.Function<String, Set<String>> columnsOf) {
    Matcher alter = ADD_COLUMNS.matcher(statement);
    if (!alter.matches()) {
      return statement;
    }
    String table = alter.group(1).replace("`", "");
    Set<String> existing = columnsOf.apply(table);
    List<String> missing = new ArrayList<>();
    String[] clauses = alter.group(2).split("(?i),\\s*(?=ADD\\s+COLUMN\\b)");
    for (String clause : clauses) {
      Matcher c = ADD_CLAUSE.matcher(clause.strip());
      if (!c.matches() || !existing.contains(c.group(1))) {
        missing.add(clause.strip());
      }
    }
    if (missing.isEmpty()) {
      return null;
    }
    if (missing.size() == clauses.length) {
      return statement;
    }
    return "ALTER TABLE " + alter.group(1) + " " + String.join(", ", missing);
  }

  private static Set<String> existingColumns(ClickHouseHttp ch, String database, String table) {
    Set<String> out = new HashSet<>();
    for (String line : ch.execute(null, "SELECT name FROM system.columns WHERE database = " + ClickHouseHttp.quote(database)
        + " AND table = " + ClickHouseHttp.quote(table) + " FORMAT TabSeparated").split("\n")) {
      if (!line.isBlank()) {
        out.add(line.strip());
      }
    }
    return out;
  }

  /** Splits a file into statements at semicolons that end a line, dropping comment-only lines. */
  static List<String> statements(String sql) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : sql.split("\n")) {
      String t = line.strip();
      if (t.startsWith("--") || t.isEmpty()) {
        continue;
      }
      cur.append(line).append('\n');
      if (t.endsWith(";")) {
        out.add(cur.toString().strip().replaceAll(";$", ""));
        cur.setLength(0);
      }
    }
    if (!cur.toString().isBlank()) {
      out.add(cur.toString().strip());
    }
    return out;
  }

  private static List<String> lines(String resource) {
    try (InputStream in = Migrations.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource);
      }
      List<String> out = new ArrayList<>();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          if (resource.endsWith("index.txt") && line.isBlank()) {
            continue;
          }
          out.add(line);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
