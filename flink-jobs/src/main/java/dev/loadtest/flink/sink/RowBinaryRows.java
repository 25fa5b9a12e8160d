package dev.loadtest.flink.sink;

import java.io.Serializable;
import java.util.List;

/**
 * How a {@link ClickHouseSink} turns its elements into rows: the tables it writes (one INSERT statement
 * each, {@code FORMAT RowBinary}), which table an element goes to, and the element's row. Implementations
 * are stateless and serializable (they travel with the job graph).
 */
public interface RowBinaryRows<T> extends Serializable {
  /** The insert statements, indexed by {@link #table}. */
  List<String> inserts();

  /** What {@link #table} answers for an element that is no row: the sink skips it. */
  int NO_ROW = -1;

  /**
   * The index in {@link #inserts()} of the table {@code element} goes to (the only one, by default), or
   * {@link #NO_ROW}.
   */
  default int table(T element) {
    return 0;
  }

  /**
   * The order of table {@code table}'s sorting key in its rows' leading fields, or null when the rows are
   * inserted as they come: a sink then hands ClickHouse each insert's rows sorted ({@link RowOrder}).
   */
  default RowOrder order(int table) {
    return null;
  }

  /**
   * Appends {@code element}'s row.
   *
   * @throws IllegalArgumentException when the element cannot be a row of its table
   */
  void write(T element, RowBinaryOutput out);

  /**
   * Writes {@code rows} with {@code encoder} in one insert per table, outside a job (tools, tests,
   * benchmarks filling tables as the sink would).
   */
  static <T> void insertAll(dev.loadtest.schemas.clickhouse.ClickHouseHttp ch, String database,
      RowBinaryRows<T> encoder, List<T> rows) {
    java.util.Map<Integer, RowBinaryOutput> outs = new java.util.TreeMap<>();
    for (T r : rows) {
      int table = encoder.table(r);
      if (table != NO_ROW) {
        encoder.write(r, outs.computeIfAbsent(table, t -> new RowBinaryOutput(1 << 16)));
      }
    }
    outs.forEach((t, out) -> ch.insert(database, encoder.inserts().get(t), out.toByteArray()));
  }

  /** Whether {@code parse} accepts {@code json}: the filter in front of an encoder of JSON records. */
  static boolean parses(String json, java.util.function.Consumer<String> parse) {
    try {
      parse.accept(json);
      return true;
    } catch (IllegalArgumentException | NullPointerException e) {
      return false;
    }
  }
}
