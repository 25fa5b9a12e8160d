package dev.loadtest.importers;

/**
 * A tool's result records read one line at a time, as the tool writes them: the plug-ins that run Gatling and k6
 * follow the tool's output with it, so a live run and an import of its file store the same samples.
 */
public interface ResultLines {
  /** One record; {@code where} names it in an error ({@link ImportException}). */
  void line(String line, String where) throws InterruptedException;

  /** No more records. */
  void end() throws InterruptedException;

  /** The requests read so far. */
  long requests();
}
