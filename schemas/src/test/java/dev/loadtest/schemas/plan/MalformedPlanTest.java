package dev.loadtest.schemas.plan;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed plans, each an edit of the valid checkout plan, with the JSON path and the words the error
 * must have. {@code structural} marks the cases the JSON Schema alone also rejects (see
 * {@code PlanJsonSchemaTest}); the others need cross-field or semantic rules only the parser has.
 */
class MalformedPlanTest {
  record Case(String name, Supplier<String> plan, String path, String message, boolean structural) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case edit(String name, String pointer, String json, String path, String message, boolean structural) {
    return new Case(name, () -> {
      ObjectNode p = Plans.base();
      Plans.set(p, pointer, json);
      return p.toString();
    }, path, message, structural);
  }

  static Case raw(String name, String text, String path, String message) {
    return new Case(name, () -> text, path, message, false);
  }

  static List<Case> cases() {
    String thr = "$.thresholds['http_req_duration{name:checkout}']";
    return List.of(
        raw("not JSON", "{\"scenarios\": ", "$", "not valid JSON"),
        raw("an array", "[1, 2]", "$", "must be a JSON object"),
        raw("duplicate key", "{\"flows\": {}, \"flows\": {}}", "$", "Duplicate field"),
        edit("unknown top-level field", "/scenarioz", "{}", "$.scenarioz", "unknown field \"scenarioz\"", true),
        // k6 runs 1 VU for 1 iteration of the default function: here the flow "default", which this plan lacks.
        edit("scenarios missing", "/scenarios", null, "$", "runs the flow \"default\", which the plan does not define", false),
        edit("a shortcut beside scenarios", "/duration", "\"30s\"", "$.duration", "\"duration\") and \"scenarios\" together is not allowed", false),
        edit("scenarios empty", "/scenarios", "{}", "$.scenarios", "at least one scenario", true),
        edit("scenario name with a space", "/scenarios/my scenario", "{\"executor\": \"constant-vus\", \"duration\": \"1s\", \"exec\": \"browse\"}",
            "$.scenarios['my scenario']", "may only use letters, digits", true),
        edit("executor missing", "/scenarios/browse/executor", null, "$.scenarios.browse.executor", "\"executor\" is required", true),
        edit("unknown executor", "/scenarios/browse/executor", "\"ramping-users\"", "$.scenarios.browse.executor", "unknown executor \"ramping-users\"", true),
        edit("negative duration", "/scenarios/buy/duration", "\"-1m\"", "$.scenarios.buy.duration", "must not be negative", false),
        edit("unparseable duration", "/scenarios/buy/duration", "\"2 minutes\"", "$.scenarios.buy.duration", "is not a duration", true),
        edit("zero duration", "/scenarios/buy/duration", "\"0s\"", "$.scenarios.buy.duration", "greater than zero", false),
        edit("maxVUs below preAllocatedVUs", "/scenarios/buy/maxVUs", "5", "$.scenarios.buy.maxVUs", "\"maxVUs\" (5) must be at least \"preAllocatedVUs\" (10)", false),
        edit("preAllocatedVUs missing", "/scenarios/buy/preAllocatedVUs", null, "$.scenarios.buy.preAllocatedVUs", "\"preAllocatedVUs\" is required", true),
        edit("rate zero", "/scenarios/buy/rate", "0", "$.scenarios.buy.rate", "\"rate\" must be at least 1", true),
        edit("maxGenerators zero", "/generator", "{\"plugin\": \"http\", \"maxGenerators\": 0}",
            "$.generator.maxGenerators", "must be at least 1", true),
        edit("maxGenerators too large", "/generator", "{\"plugin\": \"http\", \"maxGenerators\": 10001}",
            "$.generator.maxGenerators", "must be at most 10000", true),
        edit("maxGenerators a fraction", "/generator", "{\"plugin\": \"http\", \"maxGenerators\": 2.5}",
            "$.generator.maxGenerators", "must be a whole number", true),
        edit("maxGenerators as a string", "/generator", "{\"plugin\": \"http\", \"maxGenerators\": \"2\"}",
            "$.generator.maxGenerators", "must be a whole number", true),
        edit("tagGenerator as a string", "/generator", "{\"plugin\": \"http\", \"tagGenerator\": \"yes\"}",
            "$.generator.tagGenerator", "must be true or false, got the string \"yes\"", true),
        edit("tagGenerator as a number", "/generator", "{\"plugin\": \"http\", \"tagGenerator\": 1}",
            "$.generator.tagGenerator", "must be true or false, got the number 1", true),
        edit("tagGenerator as a list", "/generator", "{\"plugin\": \"http\", \"tagGenerator\": [true]}",
            "$.generator.tagGenerator", "must be true or false", true),
        edit("rate as a string", "/scenarios/buy/rate", "\"10\"", "$.scenarios.buy.rate", "must be a whole number, got the string \"10\"", true),
        edit("fractional VUs", "/scenarios/buy/preAllocatedVUs", "1.5", "$.scenarios.buy.preAllocatedVUs", "must be a whole number", true),
        edit("empty stages", "/scenarios/browse/stages", "[]", "$.scenarios.browse.stages", "\"stages\" must not be empty", true),
        edit("stage without target", "/scenarios/browse/stages/0/target", null, "$.scenarios.browse.stages[0].target", "\"target\" is required", true),
        edit("negative stage target", "/scenarios/browse/stages/1/target", "-3", "$.scenarios.browse.stages[1].target", "must be at least 0", true),
        edit("field of another executor", "/scenarios/browse/rate", "5", "$.scenarios.browse.rate", "unknown field \"rate\" in a ramping-vus scenario", true),
        edit("field name typo", "/scenarios/buy/maxVus", "50", "$.scenarios.buy.maxVus", "did you mean \"maxVUs\"", true),
        edit("exec names no flow", "/scenarios/browse/exec", "\"brows\"", "$.scenarios.browse.exec", "flow \"brows\" does not exist", false),
        edit("weighted exec names no flow", "/scenarios/buy/exec/pay", "1", "$.scenarios.buy.exec.pay", "flow \"pay\" does not exist", false),
        edit("zero weight", "/scenarios/buy/exec/checkout", "0", "$.scenarios.buy.exec.checkout", "weight must be a whole number from 1", true),
        edit("no exec and no default flow", "/scenarios/browse/exec", null, "$.scenarios.browse", "runs the flow \"default\"", false),
        edit("shared iterations fewer than VUs", "/scenarios/browse", "{\"executor\": \"shared-iterations\", \"vus\": 10, \"iterations\": 5, \"exec\": \"browse\"}",
            "$.scenarios.browse.iterations", "\"iterations\" (5) must not be less than \"vus\" (10)", false),
        edit("negative gracefulStop", "/scenarios/buy/gracefulStop", "\"-5s\"", "$.scenarios.buy.gracefulStop", "must not be negative", false),
        edit("threshold does not parse", "/thresholds/http_req_failed/0", "\"rate<<0.01\"", "$.thresholds.http_req_failed[0]", "is not a threshold expression", false),
        edit("threshold on unknown metric", "/thresholds/http_req_durations", "[\"p(95)<1\"]", "$.thresholds.http_req_durations", "unknown metric \"http_req_durations\"", false),
        edit("aggregation of another metric type", "/thresholds/http_req_failed/0", "\"p(95)<1\"", "$.thresholds.http_req_failed[0]", "\"p(95)\" does not apply to http_req_failed, a rate metric", false),
        edit("threshold list not an array", "/thresholds/checks", "\"rate>0.9\"", "$.thresholds.checks", "must be an array", true),
        edit("threshold object without expression", "/thresholds/checks/0", "{\"abortOnFail\": true}", "$.thresholds.checks[0].threshold", "\"threshold\" is required", true),
        edit("bad delayAbortEval", "/thresholds/http_req_duration{name:checkout}/1/delayAbortEval", "\"soon\"", thr + "[1].delayAbortEval", "is not a duration", true),
        edit("abortOnFail not boolean", "/thresholds/http_req_duration{name:checkout}/1/abortOnFail", "\"yes\"", thr + "[1].abortOnFail", "must be true or false", true),
        edit("malformed sub-metric selector", "/thresholds/http_req_duration{name}", "[\"p(95)<1\"]", "$.thresholds['http_req_duration{name}']", "is not tag:value", false),
        edit("window of zero", "/thresholds/http_req_duration/0", "\"p(95)<800 over 0s\"", "$.thresholds.http_req_duration[0]", "longer than zero", false),
        edit("flows missing", "/flows", null, "$.flows", "\"flows\" is required", true),
        edit("flow without steps", "/flows/browse/steps", null, "$.flows.browse.steps", "\"steps\" is required", true),
        edit("flow with empty steps", "/flows/browse/steps", "[]", "$.flows.browse.steps", "\"steps\" must not be empty", true),
        edit("step of two kinds", "/flows/browse/steps/1/request", "{\"url\": \"http://127.0.0.1/\"}", "$.flows.browse.steps[1]", "exactly one of \"request\", \"think\", \"group\" or \"metric\", this one has", true),
        edit("step of no kind", "/flows/browse/steps/1", "{\"probability\": 0.5}", "$.flows.browse.steps[1]", "exactly one of", true),
        edit("probability above one", "/flows/checkout/steps/1/probability", "1.5", "$.flows.checkout.steps[1].probability", "between 0 and 1, got 1.5", true),
        edit("request without URL", "/flows/browse/steps/2/request/url", null, "$.flows.browse.steps[2].request.url", "\"url\" is required", true),
        edit("unknown HTTP method", "/flows/browse/steps/0/request/method", "\"FETCH\"", "$.flows.browse.steps[0].request.method", "unknown HTTP method \"FETCH\"", true),
        edit("URL without scheme", "/flows/browse/steps/2/request/url", "\"ftp://127.0.0.1/x\"", "$.flows.browse.steps[2].request.url", "must start with http:// or https://", false),
        edit("unclosed template", "/flows/browse/steps/2/request/url", "\"${ENV.BASE_URL/products\"", "$.flows.browse.steps[2].request.url", "is not closed", false),
        // k6 sends header, env and tag values as strings; a number here used to make a run of 0 requests.
        edit("a header value that is a number", "/flows/checkout/steps/3/request/headers/X-Count", "5", "$.flows.checkout.steps[3].request.headers['X-Count']", "must be a string, got the number 5 (write it in quotes: \"5\")", true),
        edit("an env value that is a number", "/env/RETRIES", "3", "$.env.RETRIES", "must be a string, got the number 3", true),
        edit("a scenario env value that is a boolean", "/scenarios/buy/env/FAST", "true", "$.scenarios.buy.env.FAST", "must be a string, got true (write it in quotes: \"true\")", true),
        edit("an undefined env value", "/flows/browse/steps/2/request/url", "\"${ENV.BASE}/products\"", "$.flows.browse.steps[2].request.url", "names env value \"BASE\", which the plan does not define", false),
        edit("an undefined env value in a body", "/flows/checkout/steps/3/request/body", "{\"who\": \"${ENV.WHO}\"}", "$.flows.checkout.steps[3].request.body", "give it with -e WHO=...", false),
        edit("template names no feeder", "/flows/checkout/steps/3/request/headers/X-User", "\"${people.email}\"", "$.flows.checkout.steps[3].request.headers['X-User']", "names feeder \"people\"", false),
        edit("check of no kind", "/flows/browse/steps/0/request/checks/0", "{\"name\": \"ok\"}", "$.flows.browse.steps[0].request.checks[0]", "exactly one of \"status\", \"header\"", true),
        edit("impossible status code", "/flows/browse/steps/0/request/checks/0/status", "999", "$.flows.browse.steps[0].request.checks[0].status", "HTTP status code (100-599)", true),
        edit("bad extraction regex", "/flows/checkout/steps/3/request/extract/0/regex", "\"([a-z\"", "$.flows.checkout.steps[3].request.extract[0].regex", "not a valid regular expression", false),
        edit("bad variable name", "/flows/browse/steps/0/request/extract/0/var", "\"1st\"", "$.flows.browse.steps[0].request.extract[0].var", "variable name \"1st\"", true),
        edit("uniform think max below min", "/flows/browse/steps/1/think/uniform", "[\"3s\", \"1s\"]", "$.flows.browse.steps[1].think.uniform", "max is less than its min", false),
        edit("group without steps", "/flows/checkout/steps/0/group/steps", null, "$.flows.checkout.steps[0].group.steps", "\"steps\" is required", true),
        edit("feeder with file and data", "/feeders/users/file", "\"users.csv\"", "$.feeders.users", "exactly one of \"file\"", false),
        edit("feeder pick unknown", "/feeders/users/pick", "\"shuffle\"", "$.feeders.users.pick", "\"pick\" must be \"random\", \"sequential\" or \"unique\"", true),
        edit("distribution short of 100", "/distribution/us/percent", "30", "$.distribution", "add up to 90, not 100", false),
        edit("onGeneratorLoss unknown", "/onGeneratorLoss", "\"retry\"", "$.onGeneratorLoss", "must be \"continue\" or \"abort\"", true),
        edit("user metric with unknown type", "/metrics/coupon_applied", "\"histogram\"", "$.metrics.coupon_applied", "metric type must be counter, gauge, rate or trend", true),
        edit("user metric shadows a built-in", "/metrics/http_reqs", "\"counter\"", "$.metrics.http_reqs", "is a built-in metric", false));
  }

  static Stream<Arguments> table() {
    return cases().stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void rejectsWithPathAndMessage(Case c) {
    InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> PlanParser.parse(c.plan().get()));
    assertTrue(e.errors().stream().anyMatch(err -> err.path().equals(c.path()) && err.message().contains(c.message())),
        "expected an error at " + c.path() + " saying '" + c.message() + "', got:\n" + e.getMessage());
  }
}
