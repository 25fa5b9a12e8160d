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
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
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
 * <p><b>Slow or absent ClickHouse.</b> A failed insert is retried with back-off (doubling from 100 ms up to
 * 5 s) for up to {@code maxRetryTime}, blocking the committer meanwhile, which back-pressures the job;
 * after that the commit fails, the job restarts from its last checkpoint and commits again. Counted in the
 * committer metrics {@code rowsInserted}, {@code insertRetries}.
 */
public final class ClickHouseSink<T> implements Sink<T>, SupportsCommitter<ClickHouseSink.Rows> {
  public static final int DEFAULT_MAX_ROWS_PER_INSERT = 50_000;
  public static final Duration DEFAULT_MAX_RETRY_TIME = Duration.ofMinutes(5);
  private static final long serialVersionUID = 1L;

  private final String uri;
  private final String user;
  private final String password;
  private final String database;
  private final RowBinaryRows<T> rows;
  private final int maxRowsPerInsert;
  private final long maxRetryTimeMs;

  private ClickHouseSink(Builder<T> b) {
    this.uri = b.uri.toString();
    this.user = b.user;
    this.password = b.password;
    this.database = ClickHouseHttp.identifier(b.database);
    this.rows = b.rows;
    this.maxRowsPerInsert = b.maxRowsPerInsert;
    this.maxRetryTimeMs = b.maxRetryTime.toMillis();
  }

  public static <T> Builder<T> builder(RowBinaryRows<T> rows) {
    return new Builder<>(rows);
  }

  /** One insert's worth of encoded rows: the committable that checkpoints carry. */
  public record Rows(String insert, byte[] data, int count) {}

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    return new Writer();
  }

  @Override
  public Committer<Rows> createCommitter(CommitterInitContext context) {
    return new InsertCommitter(context);
  }

  @Override
  public SimpleVersionedSerializer<Rows> getCommittableSerializer() {
    return new RowsSerializer();
  }

  /** Encodes elements per table; hands them over at each checkpoint. */
  private final class Writer implements CommittingSinkWriter<T, Rows> {
    private final List<String> inserts = rows.inserts();
    private final RowBinaryOutput[] open = new RowBinaryOutput[inserts.size()];
    private final int[] openCounts = new int[inserts.size()];
    private final List<Rows> sealed = new ArrayList<>();

    @Override
    public void write(T element, Context context) {
      int t = rows.table(element);
      if (open[t] == null) {
        open[t] = new RowBinaryOutput(64 * 1024);
      }
      rows.write(element, open[t]);
      if (++openCounts[t] >= maxRowsPerInsert) {
        seal(t);
      }
    }

    private void seal(int t) {
      if (openCounts[t] > 0) {
        sealed.add(new Rows(inserts.get(t), open[t].toByteArray(), openCounts[t]));
        open[t] = null;
        openCounts[t] = 0;
      }
    }

    @Override
    public void flush(boolean endOfInput) {
      // Nothing is sent here: rows leave only as committables of a checkpoint (see the class comment).
    }

    @Override
    public Collection<Rows> prepareCommit() {
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

    InsertCommitter(CommitterInitContext context) {
      inserted = context.metricGroup().counter("rowsInserted");
      retries = context.metricGroup().counter("insertRetries");
    }

    @Override
    public void commit(Collection<CommitRequest<Rows>> requests) throws InterruptedException {
      for (CommitRequest<Rows> request : requests) {
        Rows r = request.getCommittable();
        try {
          insertWithRetries(r);
          inserted.inc(r.count());
        } catch (ClickHouseException e) {
          request.signalFailedWithUnknownReason(new IOException("ClickHouse did not take " + r.count()
              + " rows within " + maxRetryTimeMs + " ms: " + e.getMessage(), e));
        }
      }
    }

    private void insertWithRetries(Rows r) throws InterruptedException {
      long deadline = System.nanoTime() + maxRetryTimeMs * 1_000_000;
      long backoffMs = 100;
      while (true) {
        try {
          ch.insert(database, r.insert(), r.data());
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

  /** Version 1: insert statement (UTF), row count, data length and bytes. */
  static final class RowsSerializer implements SimpleVersionedSerializer<Rows> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Rows r) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(r.data().length + 256);
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeUTF(r.insert());
        out.writeInt(r.count());
        out.writeInt(r.data().length);
        out.write(r.data());
      }
      return bytes.toByteArray();
    }

    @Override
    public Rows deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1) {
        throw new IOException("unknown version " + version + " of ClickHouse sink rows");
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        String insert = in.readUTF();
        int count = in.readInt();
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
