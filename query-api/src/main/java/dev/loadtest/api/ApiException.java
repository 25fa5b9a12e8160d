package dev.loadtest.api;

/**
 * An answer other than success, with its HTTP status and a message that says what is wrong and where
 * ({@code parameter}: the query parameter, path parameter or body field it is about, or null).
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String parameter;

  public ApiException(int status, String parameter, String message) {
    super(message);
    this.status = status;
    this.parameter = parameter;
  }

  public static ApiException badRequest(String parameter, String message) {
    return new ApiException(400, parameter, message);
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, null, message);
  }

  /** The request is sound but the resource's state forbids it now (409). */
  public static ApiException conflict(String message) {
    return new ApiException(409, null, message);
  }

  public int status() {
    return status;
  }

  public String parameter() {
    return parameter;
  }
}
