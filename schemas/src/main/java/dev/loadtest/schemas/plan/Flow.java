package dev.loadtest.schemas.plan;

import java.util.List;

/** A named user journey: the steps one iteration of a VU runs, in order. */
public record Flow(String name, List<Step> steps) {
  public Flow {
    steps = List.copyOf(steps);
  }
}
