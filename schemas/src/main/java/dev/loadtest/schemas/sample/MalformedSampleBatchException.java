package dev.loadtest.schemas.sample;

/** A record of loadtest.samples that is not a readable sample batch; the message says why and where. */
public final class MalformedSampleBatchException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public MalformedSampleBatchException(String message) {
    super(message);
  }

  public MalformedSampleBatchException(String message, Throwable cause) {
    super(message, cause);
  }
}
