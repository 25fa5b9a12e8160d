package dev.loadtest.schemas.plan;

import java.util.List;
import java.util.stream.Collectors;

/** A plan or command was rejected; {@link #errors()} holds every problem found, not just the first. */
public final class InvalidPlanException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final transient List<PlanError> errors;

  public InvalidPlanException(List<PlanError> errors) {
    super(errors.size() + (errors.size() == 1 ? " error" : " errors") + " in the plan:\n  "
        + errors.stream().map(PlanError::toString).collect(Collectors.joining("\n  ")));
    this.errors = List.copyOf(errors);
  }

  public List<PlanError> errors() {
    return errors;
  }
}
