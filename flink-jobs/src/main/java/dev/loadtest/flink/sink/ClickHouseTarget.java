package dev.loadtest.flink.sink;

import java.io.Serializable;
import java.net.URI;
import java.util.Objects;

/** Where a job writes in ClickHouse: the HTTP interface, credentials and database. */
public record ClickHouseTarget(URI uri, String user, String password, String database) implements Serializable {
  public ClickHouseTarget {
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(database, "database");
  }

  /** A sink of {@code rows} into this target. */
  public <T> ClickHouseSink<T> sink(RowBinaryRows<T> rows) {
    return ClickHouseSink.builder(rows).server(uri, user, password).database(database).build();
  }
}
