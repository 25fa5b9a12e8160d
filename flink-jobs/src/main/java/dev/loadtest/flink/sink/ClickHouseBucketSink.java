package dev.loadtest.flink.sink;

import dev.loadtest.flink.aggregate.SeriesBucket;
import dev.loadtest.schemas.clickhouse.ClickHouseException;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;

/**
 * Writes buckets to {@code metric_1s} in RowBinary batches. A batch is sent when it holds
 * {@code maxRows} rows and whenever Flink flushes the writer (before every checkpoint and at the end of
 * input), so what a checkpoint covers is in ClickHouse. After a restart, rows since the last checkpoint
 * are written again: they carry the same key (series, second, writer id) and ReplacingMergeTree keeps
 * one of each, so nothing counts twice (readers use FINAL).
 *
 * <p>A refused or failed insert is retried with back-off (doubling from 100 ms, up to
 * {@code maxAttempts}), blocking the writer meanwhile, which back-pressures the job when ClickHouse is slow
 * or down; after the last attempt the job fails and restarts from its checkpoint. Counted in the
 * metrics {@code rowsWritten}, {@code insertRetries}.
 */
public final class ClickHouseBucketSink implements Sink<SeriesBucket> {
  public static final int DEFAULT_MAX_ROWS = 20_000;
  public static final int DEFAULT_MAX_ATTEMPTS = 8;

  private final String uri;
  private final String user;
  private final String password;
  private final String database;
  private final int maxRows;
  private final int maxAttempts;

  public ClickHouseBucketSink(URI uri, String user, String password, String database, int maxRows, int maxAttempts) {
    if (maxRows < 1 || maxAttempts < 1) {
      throw new IllegalArgumentException("maxRows and maxAttempts must be at least 1");
    }
    this.uri = uri.toString();
    this.user = user;
    this.password = password;
    this.database = ClickHouseHttp.identifier(database);
    this.maxRows = maxRows;
    this.maxAttempts = maxAttempts;
  }

  @Override
  public SinkWriter<SeriesBucket> createWriter(WriterInitContext context) {
    return new Writer(context);
  }

  private final class Writer implements SinkWriter<SeriesBucket> {
    private final ClickHouseHttp ch = new ClickHouseHttp(URI.create(uri), user, password, Duration.ofSeconds(60));
    private final List<SeriesBucket> buffer = new ArrayList<>();
    private final Counter rowsWritten;
    private final Counter retries;

    Writer(WriterInitContext context) {
      rowsWritten = context.metricGroup().counter("rowsWritten");
      retries = context.metricGroup().counter("insertRetries");
    }

    @Override
    public void write(SeriesBucket bucket, Context context) throws IOException, InterruptedException {
      buffer.add(bucket);
      if (buffer.size() >= maxRows) {
        send();
      }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException, InterruptedException {
      send();
    }

    private void send() throws IOException, InterruptedException {
      if (buffer.isEmpty()) {
        return;
      }
      byte[] rows = MetricRowBinary.encode(buffer);
      long backoffMs = 100;
      for (int attempt = 1; ; attempt++) {
        try {
          ch.insert(database, MetricRowBinary.INSERT, rows);
          break;
        } catch (ClickHouseException e) {
          if (attempt >= maxAttempts) {
            throw new IOException("ClickHouse did not take " + buffer.size() + " rows after " + attempt + " attempts", e);
          }
          retries.inc();
          Thread.sleep(backoffMs); // back-off between attempts, holding the job back meanwhile
          backoffMs = Math.min(backoffMs * 2, 10_000);
        }
      }
      rowsWritten.inc(buffer.size());
      buffer.clear();
    }

    @Override
    public void close() {
      // Flink flushes before close at the end of input; an unflushed buffer here is from a failing task,
      // and its rows come again from the last checkpoint.
    }
  }
}
