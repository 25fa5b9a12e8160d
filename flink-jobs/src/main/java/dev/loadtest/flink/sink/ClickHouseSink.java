package dev.loadtest.flink.sink;

import dev.loadtest.schemas.clickhouse.ClickHouseException;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.api.connector.sink2.SupportsPreCommitTopology;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.metrics.Counter;

/**
 * Writes elements to ClickHouse tables in RowBinary batches, exactly once with respect to Flink's
 * checkpoints. Built with {@link #builder}.
 *
 * <p><b>How nothing counts twice.</b> The writer only encodes: at each checkpoint it hands its encoded
 * rows over as committables (at most {@code maxRowsPerInsert} rows each), which Flink stores in the
 * checkpoint, and the committer inserts them once the checkpoint is complete. So ClickHouse only ever holds
 * rows of completed checkpoints: after a failure the job restarts from the last one, re-computes what came
 * after it, and those rows, never inserted, are inserted once. What may repeat is the insert of a
 * committable that was in flight when the job failed: Flink commits it again after the restore, and
 * because the tables are ReplacingMergeTree keyed on each row's identity (series, bucket, writer id),
 * the repeated rows collapse to the first (readers use FINAL). A checkpoint interval is therefore required;
 * the rows become readable one checkpoint after they are computed.
 *
 * <p><b>Staged rows</b> ({@link Builder#staging}). Kept in the checkpoint, every row is copied several times
 * into each checkpoint's state (Flink nests the committables' serialisations) and written with it: at 55,000
 * series that was a tenth of the job's CPU and most of each checkpoint's size. With a staging directory
 * the writer writes each insert's rows to a file there when it hands them over, and the committable, so the
 * checkpoint, holds only the file's path; the committer inserts the file, then deletes it. A committable
 * whose file is gone was inserted before (a file is only deleted after its insert, or when it is older than
 * {@link #STAGED_FILE_MAX_AGE}: a checkpoint that never completed left it), so a repeated commit skips it.
 * The directory must be reachable by every TaskManager that may restore the job (the checkpoint directory's
 * file system, not a local temporary directory on a cluster); it is created when missing.
 *
 * <p><b>Inserts beside the work.</b> The committer runs in a task of its own (a new chain after the writer, see
 * {@link #addPreCommitTopology}), not chained to the operator that makes the rows: Flink calls a committer in
 * its task's thread when a checkpoint completes, and chained, every insert held the operator back while
 * ClickHouse took the rows (at 55,000 series, 65 s of a 157 s catch-up the aggregate task spent waiting on
 * inserts). Apart, the task computes the next checkpoint's rows while ClickHouse takes the last's. A
 * committer still busy with one checkpoint's inserts holds back the next checkpoint's barrier, so at most
 * about one checkpoint's rows wait to be inserted, and a slow ClickHouse still back-pressures the job.
 *
 * <p><b>Slow or absent ClickHouse.</b> A failed insert is retried with back-off (doubling from 100 ms up to
 * 5 s) for up to {@code maxRetryTime}, blocking the committer meanwhile, which back-pressures the job;
 * after that the commit fails, the job restarts from its last checkpoint and commits again. Counted in the
 * committer metrics {@code rowsInserted}, {@code insertRetries}.
 */
public final class ClickHouseSink<T>
    implements Sink<T>, SupportsCommitter<ClickHouseSink.Rows>, SupportsPreCommitTopology<ClickHouseSink.Rows,
        ClickHouseSink.Rows> {
  public static final int DEFAULT_MAX_ROWS_PER_INSERT = 50_000;
  public static final Duration DEFAULT_MAX_RETRY_TIME = Duration.ofMinutes(5);
  /** Staged files older than this are deleted when a committer starts (left by checkpoints that failed). */
  public static final Duration STAGED_FILE_MAX_AGE = Duration.ofDays(2);
  private static final String STAGED_PREFIX = "rows-";
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClickHouseSink.class);
  private static final long serialVersionUID = 1L;

  private final String uri;
  private final String user;
  private final String password;
  private final String database;
  private final RowBinaryRows<T> rows;
  private final int maxRowsPerInsert;
  private final long maxRetryTimeMs;
  /** Empty: rows inline in committables. */
  private final String stagingDir;

  private ClickHouseSink(Builder<T> b) {
    this.uri = b.uri.toString();
    this.user = b.user;
    this.password = b.password;
    this.database = ClickHouseHttp.identifier(b.database);
    this.rows = b.rows;
    this.maxRowsPerInsert = b.maxRowsPerInsert;
    this.maxRetryTimeMs = b.maxRetryTime.toMillis();
    this.stagingDir = b.stagingDir;
  }

  public static <T> Builder<T> builder(RowBinaryRows<T> rows) {
    return new Builder<>(rows);
  }

  /**
   * One insert's worth of encoded rows, the committable that checkpoints carry: inline ({@code data}), or
   * staged in a file ({@code file}, a Flink file system URI; {@code data} null).
   */
  public record Rows(String insert, byte[] data, int count, String file) {
    public Rows(String insert, byte[] data, int count) {
      this(insert, data, count, null);
    }
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    return new Writer(context.getTaskInfo().getIndexOfThisSubtask());
  }

  @Override
  public Committer<Rows> createCommitter(CommitterInitContext context) {
    return new InsertCommitter(context);
  }

  @Override
  public SimpleVersionedSerializer<Rows> getCommittableSerializer() {
    return new RowsSerializer();
  }

  /**
   * The committables as they are, passed on to a new chain: the committer, which Flink chains to what comes
   * before it, then runs in a task of its own rather than in the writer's (see the class comment).
   */
  @Override
  public DataStream<CommittableMessage<Rows>> addPreCommitTopology(DataStream<CommittableMessage<Rows>> written) {
    return written.map(m -> m).returns(written.getType()).name("to the inserts").startNewChain();
  }

  @Override
  public SimpleVersionedSerializer<Rows> getWriteResultSerializer() {
    return new RowsSerializer();
  }

  /** Encodes elements per table; hands them over at each checkpoint. */
  private final class Writer implements CommittingSinkWriter<T, Rows> {
    private final List<String> inserts = rows.inserts();
    private final RowBinaryOutput[] open = new RowBinaryOutput[inserts.size()];
    private final int[] openCounts = new int[inserts.size()];
    /** Per table, its key's order (null: rows as they come), and where each open row starts. */
    private final RowOrder[] orders = new RowOrder[inserts.size()];
    private final int[][] starts = new int[inserts.size()][];
    private final List<Rows> sealed = new ArrayList<>();
    private final int subtask;
    private boolean stagingReady;

    Writer(int subtask) {
      this.subtask = subtask;
      for (int t = 0; t < orders.length; t++) {
        orders[t] = rows.order(t);
      }
    }

    @Override
    public void write(T element, Context context) throws IOException {
      int t = rows.table(element);
      if (t == RowBinaryRows.NO_ROW) {
        return;
      }
      if (open[t] == null) {
        open[t] = new RowBinaryOutput(64 * 1024);
      }
      if (orders[t] != null) {
        int n = openCounts[t];
        if (starts[t] == null || starts[t].length == n) {
          starts[t] = java.util.Arrays.copyOf(starts[t] == null ? new int[0] : starts[t], Math.max(1024, n * 2));
        }
        starts[t][n] = open[t].size();
      }
      rows.write(element, open[t]);
      if (++openCounts[t] >= maxRowsPerInsert) {
        seal(t);
      }
    }

    private void seal(int t) throws IOException {
      if (openCounts[t] == 0) {
        return;
      }
      // in the table's key order when it has one (ClickHouse then need not sort them: see RowOrder)
      byte[] sorted = orders[t] == null || openCounts[t] < 2 ? null
          : orders[t].sort(open[t].buffer(), open[t].size(), starts[t], openCounts[t]);
      if (stagingDir.isEmpty()) {
        sealed.add(new Rows(inserts.get(t), sorted != null ? sorted : open[t].toByteArray(), openCounts[t]));
        open[t] = null;
      } else { // written from the buffer as it is, which is then reused: no copy, no new buffer
        Path file = new Path(stagingDir, STAGED_PREFIX + subtask + "-" + UUID.randomUUID() + ".bin");
        FileSystem fs = file.getFileSystem();
        if (!stagingReady) {
          fs.mkdirs(file.getParent());
          stagingReady = true;
        }
        try (FSDataOutputStream out = fs.create(file, FileSystem.WriteMode.NO_OVERWRITE)) {
          if (sorted != null) {
            out.write(sorted);
          } else {
            open[t].writeTo(out);
          }
        }
        sealed.add(new Rows(inserts.get(t), null, openCounts[t], file.toUri().toString()));
        open[t].reset();
      }
      openCounts[t] = 0;
    }

    @Override
    public void flush(boolean endOfInput) {
      // Nothing is sent here: rows leave only as committables of a checkpoint (see the class comment).
    }

    @Override
    public Collection<Rows> prepareCommit() throws IOException {
      for (int t = 0; t < open.length; t++) {
        seal(t);
      }
      List<Rows> out = List.copyOf(sealed);
      sealed.clear();
      return out;
    }

    @Override
    public void close() {
      // Uncommitted rows belong to an unfinished checkpoint; after a restore they are computed again.
    }
  }

  /** Inserts the committables of completed checkpoints, retrying while ClickHouse is away. */
  private final class InsertCommitter implements Committer<Rows> {
    private final ClickHouseHttp ch = new ClickHouseHttp(URI.create(uri), user, password, Duration.ofSeconds(60));
    private final Counter inserted;
    private final Counter retries;
    private final Counter stagedBefore;

    InsertCommitter(CommitterInitContext context) {
      inserted = context.metricGroup().counter("rowsInserted");
      retries = context.metricGroup().counter("insertRetries");
      stagedBefore = context.metricGroup().counter("stagedRowsInsertedBefore");
      if (!stagingDir.isEmpty()) {
        deleteOldStagedFiles(new Path(stagingDir), System.currentTimeMillis() - STAGED_FILE_MAX_AGE.toMillis());
      }
    }

    @Override
    public void commit(Collection<CommitRequest<Rows>> requests) throws IOException, InterruptedException {
      for (CommitRequest<Rows> request : requests) {
        Rows r = request.getCommittable();
        byte[] data = r.data();
        Path file = r.file() == null ? null : new Path(r.file());
        if (file != null) {
          data = readStaged(file);
          if (data == null) { // inserted by an earlier commit of this committable, then deleted
            stagedBefore.inc(r.count());
            LOG.info("{} rows staged in {} were inserted before (the file is gone): not inserted again", r.count(),
                file);
            continue;
          }
        }
        try {
          insertWithRetries(r.insert(), data);
          inserted.inc(r.count());
        } catch (ClickHouseException e) {
          request.signalFailedWithUnknownReason(new IOException("ClickHouse did not take " + r.count()
              + " rows within " + maxRetryTimeMs + " ms: " + e.getMessage(), e));
          continue;
        }
        if (file != null) {
          file.getFileSystem().delete(file, false);
        }
      }
    }

    /** The file's bytes, or null when it does not exist. */
    private byte[] readStaged(Path file) throws IOException {
      FileSystem fs = file.getFileSystem();
      if (!fs.exists(file)) {
        return null;
      }
      long length = fs.getFileStatus(file).getLen();
      if (length > Integer.MAX_VALUE - 16) {
        throw new IOException("staged rows " + file + " are too large to insert at once: " + length + " bytes");
      }
      byte[] data = new byte[(int) length];
      try (FSDataInputStream in = fs.open(file)) {
        new DataInputStream(in).readFully(data);
      }
      return data;
    }

    private void insertWithRetries(String insert, byte[] data) throws InterruptedException {
      long deadline = System.nanoTime() + maxRetryTimeMs * 1_000_000;
      long backoffMs = 100;
      while (true) {
        try {
          ch.insert(database, insert, data);
          return;
        } catch (ClickHouseException e) {
          if (System.nanoTime() + backoffMs * 1_000_000 > deadline) {
            throw e;
          }
          retries.inc();
          Thread.sleep(backoffMs); // back-off between attempts, holding the job back meanwhile
          backoffMs = Math.min(backoffMs * 2, 5_000);
        }
      }
    }

    @Override
    public void close() {}
  }

  /** Deletes the staged files in {@code dir} last modified before {@code beforeMs}; failures are only logged. */
  static void deleteOldStagedFiles(Path dir, long beforeMs) {
    try {
      FileSystem fs = dir.getFileSystem();
      if (!fs.exists(dir)) {
        return;
      }
      for (FileStatus f : fs.listStatus(dir)) {
        if (!f.isDir() && f.getPath().getName().startsWith(STAGED_PREFIX) && f.getModificationTime() < beforeMs) {
          LOG.warn("deleting staged rows {} of {}: no checkpoint completed with them", f.getPath(),
              java.time.Instant.ofEpochMilli(f.getModificationTime()));
          fs.delete(f.getPath(), false);
        }
      }
    } catch (IOException e) {
      LOG.warn("could not clean the staging directory {}: {}", dir, e.toString());
    }
  }

  /**
   * Version 2: insert statement (UTF), row count, then whether staged: the file (UTF), or the data's length
   * and bytes. Version 1 (always inline: insert, count, length, bytes) is still read.
   */
  static final class RowsSerializer implements SimpleVersionedSerializer<Rows> {
    @Override
    public int getVersion() {
      return 2;
    }

    @Override
    public byte[] serialize(Rows r) throws IOException {
      int size = 64 + r.insert().length() * 3 + (r.file() == null ? r.data().length : r.file().length() * 3);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeUTF(r.insert());
        out.writeInt(r.count());
        out.writeBoolean(r.file() != null);
        if (r.file() != null) {
          out.writeUTF(r.file());
        } else {
          out.writeInt(r.data().length);
          out.write(r.data());
        }
      }
      return bytes.toByteArray();
    }

    @Override
    public Rows deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1 && version != 2) {
        throw new IOException("unknown version " + version + " of ClickHouse sink rows");
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        String insert = in.readUTF();
        int count = in.readInt();
        if (version == 2 && in.readBoolean()) {
          return new Rows(insert, null, count, in.readUTF());
        }
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new Rows(insert, data, count);
      }
    }
  }

  /** Where and how the sink writes; checked in {@link #build()}. */
  public static final class Builder<T> {
    private final RowBinaryRows<T> rows;
    private URI uri;
    private String user = "default";
    private String password = "";
    private String database;
    private int maxRowsPerInsert = DEFAULT_MAX_ROWS_PER_INSERT;
    private Duration maxRetryTime = DEFAULT_MAX_RETRY_TIME;
    private String stagingDir = "";

    private Builder(RowBinaryRows<T> rows) {
      this.rows = rows;
    }

    public Builder<T> server(URI uri, String user, String password) {
      this.uri = uri;
      this.user = user;
      this.password = password;
      return this;
    }

    public Builder<T> database(String database) {
      this.database = database;
      return this;
    }

    public Builder<T> maxRowsPerInsert(int maxRowsPerInsert) {
      this.maxRowsPerInsert = maxRowsPerInsert;
      return this;
    }

    public Builder<T> maxRetryTime(Duration maxRetryTime) {
      this.maxRetryTime = maxRetryTime;
      return this;
    }

    /**
     * Stages each checkpoint's rows as files in {@code dir} (a Flink file system URI, e.g. {@code file:///...}
     * or the checkpoint storage's), the checkpoint holding only their paths; null or empty: rows inline.
     */
    public Builder<T> staging(String dir) {
      this.stagingDir = dir == null ? "" : dir;
      return this;
    }

    public ClickHouseSink<T> build() {
      if (rows == null || uri == null || database == null) {
        throw new IllegalArgumentException("a ClickHouse sink needs its rows, a server URI and a database");
      }
      if (maxRowsPerInsert < 1 || maxRetryTime.isNegative()) {
        throw new IllegalArgumentException("maxRowsPerInsert must be at least 1 and maxRetryTime not negative");
      }
      return new ClickHouseSink<>(this);
    }
  }
}
