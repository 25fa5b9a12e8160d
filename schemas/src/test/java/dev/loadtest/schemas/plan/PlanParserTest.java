package dev.loadtest.schemas.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.plan.Scenario.ConstantArrivalRate;
import dev.loadtest.schemas.plan.Scenario.RampingVus;
import dev.loadtest.schemas.plan.Step.Check;
import dev.loadtest.schemas.plan.Step.Extraction;
import dev.loadtest.schemas.threshold.ThresholdExpression.Aggregation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PlanParserTest {
  @Test
  void otherThresholdsReplaceThePlansOwnAndAreCheckedAtTheirPath() {
    String plan = Plans.base().toString();
    String bare = PlanParser.withThresholds(plan, "{\"http_req_duration{name:checkout}\": [\"p(99)<200\"]}");
    TestPlan replanned = PlanParser.parse(bare);
    assertEquals(1, replanned.thresholds().size(), "the plan's 6 thresholds are replaced");
    assertEquals("p(99)<200", replanned.thresholds().get(0).expression().source());
    assertEquals(Map.of("name", "checkout"), replanned.thresholds().get(0).selector().tags());
    assertEquals(PlanParser.parse(plan).scenarios(), replanned.scenarios(), "the rest of the plan is kept");

    String wrapped = PlanParser.withThresholds(plan, "{\"thresholds\": {\"coupon_applied\": [\"count>0\"]}}");
    assertEquals("coupon_applied", PlanParser.parse(wrapped).thresholds().get(0).selector().metric(),
        "a document with a thresholds object (a whole plan) gives its thresholds; the plan's user metrics are known");

    InvalidPlanException bad = assertThrows(InvalidPlanException.class, () -> PlanParser.withThresholds(plan,
        "{\"http_req_duration\": [\"p(95)<<1\"], \"no_such_metric\": [\"count>1\"]}"));
    assertEquals(List.of("$.thresholds.http_req_duration[0]", "$.thresholds.no_such_metric"),
        bad.errors().stream().map(PlanError::path).toList(), bad.getMessage());
    InvalidPlanException notJson = assertThrows(InvalidPlanException.class, () -> PlanParser.withThresholds(plan, "{"));
    assertTrue(notJson.getMessage().contains("$.thresholds: not valid JSON"), notJson.getMessage());
    assertThrows(InvalidPlanException.class, () -> PlanParser.withThresholds(plan, "[1]"));
  }

  @Test
  void parsesTheCheckoutPlanIntoItsModel() {
    TestPlan plan = PlanParser.parse(Plans.base().toString());
    assertEquals("checkout journey", plan.name());
    assertEquals(List.of("browse", "buy"), List.copyOf(plan.scenarios().keySet()));

    RampingVus browse = assertInstanceOf(RampingVus.class, plan.scenarios().get("browse").executor());
    assertEquals(0, browse.startVUs());
    assertEquals(3, browse.stages().size());
    assertEquals(Duration.ofMinutes(1), browse.stages().get(1).duration());
    assertEquals(Duration.ofSeconds(30), plan.scenarios().get("browse").gracefulStop(), "k6's default gracefulStop");

    Scenario buy = plan.scenarios().get("buy");
    ConstantArrivalRate car = assertInstanceOf(ConstantArrivalRate.class, buy.executor());
    assertEquals(new ConstantArrivalRate(10, Duration.ofSeconds(1), Duration.ofMinutes(2), 10, 50), car);
    assertEquals(Map.of("checkout", 7, "browse", 3), buy.exec());
    assertEquals(Duration.ofSeconds(30), buy.startTime());

    assertEquals(6, plan.thresholds().size());
    var abort = plan.thresholds().get(1);
    assertTrue(abort.abortOnFail());
    assertEquals(Duration.ofSeconds(10), abort.delayAbortEval());
    assertEquals(Map.of("name", "checkout"), abort.selector().tags());
    assertEquals(Aggregation.PERCENTILE, abort.expression().aggregation());
    assertEquals(Optional.of(Duration.ofMinutes(1)), plan.thresholds().get(4).expression().window());
    assertEquals(MetricType.COUNTER, plan.metrics().get("coupon_applied"));

    List<Step> checkout = plan.flows().get("checkout").steps();
    Step.Group cart = assertInstanceOf(Step.Group.class, checkout.get(0));
    Step.Request cartRequest = assertInstanceOf(Step.Request.class, cart.steps().get(0));
    assertEquals(Optional.of("{\"productId\":\"${productId}\",\"qty\":1}"), cartRequest.body());
    assertEquals(List.of(200, 201), assertInstanceOf(Check.Status.class, cartRequest.checks().get(0)).anyOf());
    assertEquals(0.3, checkout.get(1).probability());
    Step.Request pay = assertInstanceOf(Step.Request.class, checkout.get(3));
    assertEquals(Optional.of(Duration.ofSeconds(10)), pay.timeout());
    assertEquals(new Extraction("orderId", Extraction.Source.REGEX, "\"orderId\":\"([^\"]+)\"", 1), pay.extract().get(0));
    assertEquals("status is 200", ((Step.Request) plan.flows().get("browse").steps().get(0)).checks().get(0).name());
    assertEquals(Feeder.Pick.UNIQUE, plan.feeders().get("users").pick());
    assertEquals(60, plan.distribution().get("eu").percent());
  }

  /** A plan may ask for every sample to be tagged with its generator's id; by default none is. */
  @Test
  void theGeneratorSectionMayTagEverySampleWithItsGenerator() {
    assertEquals(false, PlanParser.parse(Plans.base().toString()).generator().tagGenerator());
    com.fasterxml.jackson.databind.node.ObjectNode root = Plans.base();
    Plans.set(root, "/generator", "{\"plugin\": \"http\", \"tagGenerator\": true}");
    TestPlan.GeneratorSpec g = PlanParser.parse(root.toString()).generator();
    assertEquals(new TestPlan.GeneratorSpec("http", "{}", 0, true), g);
  }

  @Test
  void appliesK6DefaultsWhereThePlanIsSilent() {
    TestPlan plan = PlanParser.parse("""
        {"scenarios": {"s": {"executor": "shared-iterations"}},
         "flows": {"default": {"steps": [{"request": {"url": "http://127.0.0.1:8080/"}}]}}}""");
    var s = assertInstanceOf(Scenario.SharedIterations.class, plan.scenarios().get("s").executor());
    assertEquals(new Scenario.SharedIterations(1, 1, Duration.ofMinutes(10)), s);
    assertEquals(Map.of("default", 1), plan.scenarios().get("s").exec());
    Step.Request r = (Step.Request) plan.flows().get("default").steps().get(0);
    assertEquals("GET", r.method());
    assertEquals("http://127.0.0.1:8080/", r.name(), "the name tag defaults to the URL");
    assertEquals(TestPlan.GeneratorLossPolicy.CONTINUE, plan.onGeneratorLoss());
  }

  @Test
  void reportsEveryErrorAtOnce() {
    var plan = Plans.base();
    Plans.set(plan, "/scenarios/buy/maxVUs", "5");
    Plans.set(plan, "/scenarios/browse/exec", "\"nope\"");
    Plans.set(plan, "/thresholds/checks/0", "\"rate>>1\"");
    Plans.set(plan, "/flows/browse/steps/1/think", "\"-1s\"");
    InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> PlanParser.parse(plan.toString()));
    assertEquals(List.of("$.flows.browse.steps[1].think", "$.scenarios.browse.exec", "$.scenarios.buy.maxVUs",
        "$.thresholds.checks[0]"), e.errors().stream().map(PlanError::path).sorted().toList(), e.getMessage());
    assertTrue(e.getMessage().startsWith("4 errors in the plan"), e.getMessage());
  }

  @Test
  void metricStepsNameDeclaredUserMetricsAndGiveNumbers() {
    InvalidPlanException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidPlanException.class, () -> PlanParser.parse("""
        {"name": "m", "metrics": {"orders": "counter"},
         "scenarios": {"s": {"executor": "constant-vus", "vus": 1, "duration": "1s", "exec": "f"}},
         "flows": {"f": {"steps": [{"metric": {"name": "orders", "value": 1}},
                                   {"group": {"name": "g", "steps": [{"metric": {"name": "ordres"}}]}},
                                   {"metric": {"name": "orders", "value": {"x": 1}}}]}}}"""));
    java.util.Map<String, String> byPath = new java.util.HashMap<>();
    e.errors().forEach(x -> byPath.put(x.path(), x.message()));
    org.junit.jupiter.api.Assertions.assertTrue(byPath.get("$.flows.f.steps[1].group.steps[0].metric.name")
        .contains("not declared"), byPath.toString());
    org.junit.jupiter.api.Assertions.assertTrue(byPath.get("$.flows.f.steps[2].metric.value").contains("a number"),
        byPath.toString());
    org.junit.jupiter.api.Assertions.assertEquals(2, e.errors().size(), byPath.toString());
  }

  @Test
  void insightsAPlanDisablesAreCheckedWhereTheyAre() {
    var ok = Plans.base();
    ok.putObject("insights").putArray("disabled").add("not-enough-data").add("too-many-urls").add("not-enough-data");
    assertEquals(java.util.List.of("not-enough-data", "too-many-urls"), PlanParser.parse(ok.toString()).disabledInsights());
    String[][] bad = {{"[]", "$.insights"}, {"{\"disabled\": \"x\"}", "$.insights.disabled"},
        {"{\"disabled\": [5]}", "$.insights.disabled[0]"}, {"{\"enabled\": []}", "$.insights.enabled"}};
    for (String[] b : bad) {
      String base = Plans.base().toString();
      String json = base.substring(0, base.length() - 1) + ", \"insights\": " + b[0] + "}";
      var e = assertThrows(InvalidPlanException.class, () -> PlanParser.parse(json), b[0]);
      assertTrue(e.errors().stream().anyMatch(x -> x.path().equals(b[1])), b[0] + " -> " + e.errors());
    }
  }
}
