package dev.loadtest.schemas.plan;

/**
 * One problem found in a plan or command.
 *
 * @param path JSONPath of the offending value, e.g. {@code $.scenarios.browse.maxVUs} or
 *     {@code $.thresholds['http_req_duration{name:home}'][0]}
 * @param message a sentence a person understands: what is wrong and, where it helps, what to write
 */
public record PlanError(String path, String message) {
  @Override
  public String toString() {
    return path + ": " + message;
  }
}
