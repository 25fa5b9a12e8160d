package dev.loadtest.schemas.clickhouse;

/** ClickHouse could not be reached or refused a statement; the message carries the server's own words. */
public final class ClickHouseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ClickHouseException(String message) {
    super(message);
  }

  public ClickHouseException(String message, Throwable cause) {
    super(message, cause);
  }
}
