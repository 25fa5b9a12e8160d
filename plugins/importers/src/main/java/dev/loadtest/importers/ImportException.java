package dev.loadtest.importers;

/** A result file that cannot be imported, with where (line, or element) and why. Nothing of it was sent. */
public final class ImportException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ImportException(String where, String message) {
    super(where + ": " + message);
  }
}
