package dev.loadtest.schemas.run;

/** The lifecycle of a test run, as published on loadtest.runs. */
public enum RunStatus {
  CREATED, VALIDATED, QUEUED, ALLOCATED, RUNNING, FINISHED, ABORTED, FAILED, REJECTED;

  /** Whether the run has ended: no command changes it any more. */
  public boolean terminal() {
    return this == FINISHED || this == ABORTED || this == FAILED || this == REJECTED;
  }
}
