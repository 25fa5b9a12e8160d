package dev.loadtest.api.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Load tests (the runs of one plan name in one project, or of one explicit id: {@link Key}), the marks users put on runs (baseline) and the
 * deletion of runs with their aggregates (tables {@code runs}, {@code run_marks}, {@code run_deletions} and
 * every table keyed by run; migration V010). Deletions are ClickHouse mutations ({@code ALTER TABLE ...
 * DELETE}, on 18.16 and current releases), waited for, and recorded. Caller values reach SQL only as escaped
 * literals or parsed numbers. Thread-safe.
 */
public final class LoadTestStore {
  /** The tables that hold rows of a run, the run's own row last (a deletion cut short leaves it findable). */
  static final List<String> RUN_TABLES = List.of("metric_1s", "metric_10s", "metric_1m", "metric_run", "series",
      "thresholds", "insights", "run_marks", "runs");

  private final ClickHouseHttp ch;
  private final String database;
  /** Mark versions: microseconds of the wall clock, strictly rising in this process. */
  private final java.util.concurrent.atomic.AtomicLong versions = new java.util.concurrent.atomic.AtomicLong();

  public LoadTestStore(ClickHouseHttp ch, String database) {
    this.ch = ch;
    this.database = database;
  }

  /** The id of the load test of runs named {@code name} in {@code project}: stable, URL-safe. */
  public static String loadTestId(String project, String name) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest((project + "\n" + name).getBytes(StandardCharsets.UTF_8));
      return DERIVED_PREFIX + HexFormat.of().formatHex(h, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The prefix of ids derived from a project and a name; explicit ids never start with it. */
  static final String DERIVED_PREFIX = "lt-";

  /**
   * What makes runs one load test: the explicit id they were started with ({@code metadata.loadTest}), or
   * else their plan name in their project (and no explicit id).
   */
  public record Key(String explicitId, String project, String name) {
    public Key {
      explicitId = explicitId == null ? "" : explicitId;
      project = project == null ? "" : project;
      name = name == null ? "" : name;
    }

    /** The key of a run started with this metadata (null: none). */
    public static Key of(dev.loadtest.schemas.command.Command.Metadata m) {
      return m == null ? new Key("", "", "") : new Key(m.loadTest(), m.project(), m.name());
    }

    public String id() {
      return explicitId.isEmpty() ? loadTestId(project, name) : explicitId;
    }

    /** This load test's runs in table {@code runs}, as a WHERE condition. */
    String condition() {
      return explicitId.isEmpty() ? "load_test = '' AND project = " + MetricReader.q(project) + " AND name = "
          + MetricReader.q(name) : "load_test = " + MetricReader.q(explicitId);
    }

    @Override
    public String toString() {
      return explicitId.isEmpty() ? "load test " + id() + " (\"" + name + "\" in project \"" + project + "\")"
          : "load test " + explicitId;
    }
  }

  /** A load test in a list: its runs and when the last one was made (project and name: its newest run's). */
  public record LoadTest(String id, String project, String name, long runs, long lastCreatedSec, String lastRunId,
      String lastStatus, String lastVerdict, String baselineRunId, boolean explicitId) {}

  /** A page of load tests, newest activity first, and how many match in all. */
  public record Page(List<LoadTest> tests, long total) {}

  /** Load tests, optionally of one project and with names containing {@code nameContains} (their newest run's). */
  public Page list(String project, String nameContains, int limit, long offset) {
    // Each test's newest baseline in the same pass (argMaxIf: '' when none), not a query per test. A test of an
    // explicit id is grouped by that id alone (its runs may have several names), the others by project and name.
    String groups = "SELECT load_test, if(load_test = '', project, '') AS kp, if(load_test = '', name, '') AS kn,"
        + " argMax(project, created_at) AS lp, argMax(name, created_at) AS ln, count() AS runs,"
        + " max(created_at) AS last, argMax(test_run_id, created_at) AS last_id, argMax(status, created_at) AS"
        + " last_status, argMax(verdict, created_at) AS last_verdict, argMaxIf(test_run_id, created_at, test_run_id IN"
        + " (SELECT test_run_id FROM run_marks FINAL WHERE baseline = 1)) AS baseline_id FROM runs FINAL"
        + " GROUP BY load_test, kp, kn";
    String where = where(project, nameContains);
    long total = Long.parseLong(ch.execute(database, "SELECT count() FROM (" + groups + ")" + where
        + " FORMAT TabSeparated").strip());
    List<LoadTest> out = new ArrayList<>();
    for (JsonNode n : rows("SELECT load_test, lp, ln, runs, toUInt32(last) AS last_sec, last_id, last_status,"
        + " last_verdict, baseline_id FROM (" + groups + ")" + where + " ORDER BY last DESC, load_test, lp, ln"
        + " LIMIT " + limit + " OFFSET " + offset)) {
      String p = n.path("lp").asText();
      String name = n.path("ln").asText();
      String explicit = n.path("load_test").asText();
      String baseline = n.path("baseline_id").asText();
      out.add(new LoadTest(new Key(explicit, p, name).id(), p, name, n.path("runs").asLong(), n.path("last_sec").asLong(),
          n.path("last_id").asText(), n.path("last_status").asText(), n.path("last_verdict").asText(),
          baseline.isEmpty() ? null : baseline, !explicit.isEmpty()));
    }
    return new Page(out, total);
  }

  /** Load test {@code id}, if any run of it is stored; for an explicit id, with its newest run's project and name. */
  public Optional<Key> find(String id) {
    if (!id.startsWith(DERIVED_PREFIX)) {
      List<JsonNode> r = rows("SELECT argMax(project, created_at) AS lp, argMax(name, created_at) AS ln,"
          + " count() AS runs FROM runs FINAL WHERE load_test = " + MetricReader.q(id));
      return r.isEmpty() || r.get(0).path("runs").asLong() == 0 ? Optional.empty()
          : Optional.of(new Key(id, r.get(0).path("lp").asText(), r.get(0).path("ln").asText()));
    }
    // Derived ids are hashes: the stored (project, name) pairs are few enough to hash here (one row per load test).
    for (JsonNode n : rows("SELECT DISTINCT project, name FROM runs FINAL WHERE load_test = ''")) {
      String p = n.path("project").asText();
      String name = n.path("name").asText();
      if (loadTestId(p, name).equals(id)) {
        return Optional.of(new Key("", p, name));
      }
    }
    return Optional.empty();
  }

  /** A run of a load test. */
  public record TestRun(String testRunId, String status, String verdict, String reason, String planHash,
      long createdSec, long startedSec, long endedSec, boolean baseline) {}

  /** The runs of load test {@code key}, newest first. */
  public List<TestRun> runs(Key key, int limit) {
    List<TestRun> out = new ArrayList<>();
    for (JsonNode n : rows("SELECT test_run_id AS id, status, verdict, reason, plan_hash, toUInt32(created_at) AS c,"
        + " toUInt32(started_at) AS s, toUInt32(ended_at) AS e, baseline FROM (SELECT test_run_id, status, verdict,"
        + " reason, plan_hash, created_at, started_at, ended_at FROM runs FINAL WHERE " + key.condition()
        + ") AS r ANY LEFT JOIN (SELECT test_run_id, baseline FROM run_marks"
        + " FINAL) AS m USING test_run_id ORDER BY c DESC, id LIMIT " + limit)) {
      out.add(new TestRun(n.path("id").asText(), n.path("status").asText(), n.path("verdict").asText(),
          n.path("reason").asText(), n.path("plan_hash").asText(), n.path("c").asLong(), n.path("s").asLong(),
          n.path("e").asLong(), n.path("baseline").asInt() == 1));
    }
    return out;
  }

  /** The baseline of load test {@code key}: its newest run marked so, if any. */
  public Optional<String> baseline(Key key) {
    List<JsonNode> r = rows("SELECT test_run_id FROM runs FINAL WHERE " + key.condition() + " AND test_run_id IN"
        + " (SELECT test_run_id FROM run_marks FINAL WHERE baseline = 1) ORDER BY created_at DESC, test_run_id LIMIT 1");
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0).path("test_run_id").asText());
  }

  /**
   * The run a regression gate compares {@code run} with when no run is named: its load test's baseline, else
   * the newest earlier run of the same load test that finished without failing a threshold.
   */
  public Optional<String> autoBaseline(Key key, String run, long createdSec) {
    Optional<String> marked = baseline(key).filter(b -> !b.equals(run));
    if (marked.isPresent()) {
      return marked;
    }
    List<JsonNode> r = rows("SELECT test_run_id FROM runs FINAL WHERE " + key.condition() + " AND test_run_id != "
        + MetricReader.q(run) + " AND status = 'FINISHED'"
        + " AND verdict != 'failed' AND created_at <= toDateTime(" + Math.max(0, createdSec) + ")"
        + " ORDER BY created_at DESC, test_run_id DESC LIMIT 1");
    return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0).path("test_run_id").asText());
  }

  /** Whether {@code run} is marked baseline. */
  public boolean isBaseline(String run) {
    return !rows("SELECT test_run_id FROM run_marks FINAL WHERE test_run_id = " + MetricReader.q(run)
        + " AND baseline = 1").isEmpty();
  }

  /** Marks {@code run} baseline (or not), in a version after every earlier mark of it. */
  public void mark(String run, boolean baseline, String by) {
    long version = versions.updateAndGet(last -> Math.max(last + 1, System.currentTimeMillis() * 1000));
    ch.execute(database, "INSERT INTO run_marks (test_run_id, baseline, marked_by, updated_at, version) VALUES ("
        + MetricReader.q(run) + ", " + (baseline ? 1 : 0) + ", " + MetricReader.q(by) + ", now(), " + version + ")");
  }

  /** A finished run old enough for retention. */
  public record Expired(String testRunId, String name, String project, String status, long createdSec) {}

  /** Terminal runs created before {@code beforeSec} that are not baselines, oldest first. */
  public List<Expired> expired(long beforeSec, int limit) {
    List<Expired> out = new ArrayList<>();
    for (JsonNode n : rows("SELECT test_run_id, name, project, status, toUInt32(created_at) AS c FROM runs FINAL"
        + " WHERE status IN ('FINISHED', 'ABORTED', 'FAILED', 'REJECTED') AND created_at < toDateTime("
        + Math.max(0, beforeSec) + ") AND test_run_id NOT IN (SELECT test_run_id FROM run_marks FINAL WHERE"
        + " baseline = 1) ORDER BY created_at, test_run_id LIMIT " + limit)) {
      out.add(new Expired(n.path("test_run_id").asText(), n.path("name").asText(), n.path("project").asText(),
          n.path("status").asText(), n.path("c").asLong()));
    }
    return out;
  }

  /**
   * Deletes every row of {@code run} (its aggregates, series, thresholds, marks and state) and records the
   * deletion, waiting up to {@code wait} for ClickHouse's mutations to finish.
   *
   * @return whether every mutation finished within {@code wait} (they go on in ClickHouse otherwise)
   */
  public boolean delete(String run, String name, String project, String status, long createdSec, String reason,
      String by, Duration wait) throws InterruptedException {
    ch.execute(database, "INSERT INTO run_deletions (test_run_id, name, project, status, created_at, reason,"
        + " deleted_by, deleted_at) VALUES (" + MetricReader.q(run) + ", " + MetricReader.q(name) + ", "
        + MetricReader.q(project) + ", " + MetricReader.q(status) + ", toDateTime(" + Math.max(0, createdSec) + "), "
        + MetricReader.q(reason) + ", " + MetricReader.q(by) + ", now())");
    for (String table : RUN_TABLES) {
      ch.execute(database, "ALTER TABLE " + table + " DELETE WHERE test_run_id = " + MetricReader.q(run));
    }
    long deadline = System.nanoTime() + wait.toNanos();
    String pending = "SELECT count() FROM system.mutations WHERE database = " + MetricReader.q(database)
        + " AND is_done = 0 AND position(command, " + MetricReader.q(MetricReader.q(run)) + ") > 0 FORMAT TabSeparated";
    while (!ch.execute(null, pending).strip().equals("0")) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(50); // polling ClickHouse's own progress table, bounded by the deadline
    }
    return true;
  }

  /** A recorded deletion. */
  public record Deletion(String testRunId, String name, String project, String status, long createdSec, String reason,
      String deletedBy, long deletedSec) {}

  /** Deletions, newest first. */
  public List<Deletion> deletions(int limit, long offset) {
    List<Deletion> out = new ArrayList<>();
    for (JsonNode n : rows("SELECT test_run_id, name, project, status, toUInt32(created_at) AS c, reason, deleted_by,"
        + " toUInt32(deleted_at) AS d FROM run_deletions ORDER BY deleted_at DESC, test_run_id LIMIT " + limit
        + " OFFSET " + offset)) {
      out.add(new Deletion(n.path("test_run_id").asText(), n.path("name").asText(), n.path("project").asText(),
          n.path("status").asText(), n.path("c").asLong(), n.path("reason").asText(), n.path("deleted_by").asText(),
          n.path("d").asLong()));
    }
    return out;
  }

  /** Over a load test's group: its newest run's project and name. */
  private static String where(String project, String nameContains) {
    StringBuilder w = new StringBuilder(" WHERE 1");
    if (project != null) {
      w.append(" AND lp = ").append(MetricReader.q(project));
    }
    if (nameContains != null && !nameContains.isEmpty()) {
      w.append(" AND position(lowerUTF8(ln), lowerUTF8(").append(MetricReader.q(nameContains)).append(")) > 0");
    }
    return w.toString();
  }

  private List<JsonNode> rows(String sql) {
    List<JsonNode> out = new ArrayList<>();
    for (String line : ch.execute(database, sql + " FORMAT JSONEachRow").split("\n")) {
      if (!line.isEmpty()) {
        out.add(MetricReader.tree(line));
      }
    }
    return out;
  }
}
