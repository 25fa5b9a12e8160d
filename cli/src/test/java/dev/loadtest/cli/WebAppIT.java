package dev.loadtest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.cli.shop.DemoShop;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web app in a real browser (Debian's Chromium through its chromedriver) against the whole embedded
 * stack, a generator and the demo shop: sign in (the token becomes an HttpOnly cookie that no script can
 * read), a plan error shown inline with its JSON path, a run started from the browser whose live numbers
 * change while it runs, a failing threshold turning red, stop, the runs list, compare, and an accessibility
 * check (axe-core) of each page. Screenshots go to {@code target/screenshots/web-app}.
 */
@Timeout(600)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebAppIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path SHOTS = Path.of("target", "screenshots", "web-app");
  /** The zone of the one generator here: the page filter offers it. */
  static final String GENERATOR_ZONE = "local";
  static final String GENERATOR_ID = "webapp-it-generator";
  static EmbeddedStack stack;
  static DemoShop shop;
  static WebDriver browser;
  static WebDriverWait wait;
  /** A short run started through the API at the beginning, to compare with the browser's run. */
  static String firstRun;
  static String browserRun;

  @BeforeAll
  static void start() throws Exception {
    Files.createDirectories(SHOTS);
    shop = DemoShop.start("127.0.0.1", 0, new DemoShop.Faults(Duration.ofMillis(5), 0, 256));
    stack = EmbeddedStack.start("webapp_it", new PrintStream(System.out, true));
    stack.addGenerator(GENERATOR_ID, GENERATOR_ZONE, Path.of("."));
    firstRun = startByApi(plan("api run", "10s", "{\"http_req_failed\": [\"rate<0.5\"]}"));
    browser = chrome();
    wait = new WebDriverWait(browser, Duration.ofSeconds(90), Duration.ofMillis(100));
    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class); // live pages re-render
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      try {
        for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
          System.out.println("browser console: " + e);
        }
      } catch (RuntimeException e) {
        System.out.println("browser console not readable: " + e);
      }
      browser.quit();
    }
    if (stack != null) {
      stack.close();
    }
    if (shop != null) {
      shop.close();
    }
  }

  static WebDriver chrome() {
    String binary = Chromium.binary();
    Path driver = Path.of("/usr/bin/chromedriver");
    if (!Files.isExecutable(driver)) {
      throw new AssertionError("the browser tests need Debian's chromedriver: apt-get install -y chromium-driver"
          + " (./run-tests installs it when it runs as root)");
    }
    ChromeOptions o = new ChromeOptions();
    o.setBinary(binary);
    o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1400,1800", "--user-data-dir=" + SHOTS.toAbsolutePath().resolve("profile"));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, java.util.logging.Level.ALL);
    o.setCapability("goog:loggingPrefs", logs);
    return new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile()).build(), o);
  }

  static String plan(String name, String duration, String thresholds) {
    return """
        {"name": "%s", "env": {"BASE_URL": "%s"},
         "scenarios": {"probe": {"executor": "constant-arrival-rate", "rate": 30, "timeUnit": "1s",
           "duration": "%s", "preAllocatedVUs": 4, "maxVUs": 30, "exec": "products"}},
         "thresholds": %s,
         "flows": {"products": {"steps": [{"request": {"url": "${ENV.BASE_URL}/api/products", "name": "products",
           "checks": [{"status": 200}]}}]}}}
        """.formatted(name, shop.url(), duration, thresholds);
  }

  static String startByApi(String plan) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.apiUrl() + "/runs"))
        .header("Authorization", "Bearer " + stack.apiToken()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"plan\": " + plan + "}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
    return JSON.readTree(r.body()).path("testRunId").asText();
  }

  static void shot(String name) throws Exception {
    Files.write(SHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
  }

  static WebElement until(By by) {
    return wait.until(d -> {
      List<WebElement> found = d.findElements(by);
      return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
    });
  }

  /** The text of the element {@code by} finds (found again when the page re-rendered it meanwhile). */
  static String text(By by) {
    return wait.until(d -> until(by).getText());
  }

  static Object js(String script, Object... args) {
    return ((JavascriptExecutor) browser).executeScript(script, args);
  }

  /** axe-core's serious and critical violations on the page as it is now. */
  @SuppressWarnings("unchecked")
  static List<String> accessibilityViolations() throws Exception {
    Path axe = Path.of(System.getenv().getOrDefault("LOADTEST_AXE_JS",
        System.getenv().getOrDefault("LOADTEST_AXE_DIR", System.getProperty("user.home") + "/.cache/loadtest-axe")
            + "/node_modules/axe-core/axe.min.js"));
    if (!Files.exists(axe)) {
      throw new AssertionError("axe-core is needed for the accessibility check and is not at " + axe
          + ": scripts/ensure-test-tools.sh installs it (npm install axe-core in ~/.cache/loadtest-axe)");
    }
    js(Files.readString(axe));
    Object result = ((JavascriptExecutor) browser).executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)))
           .catch(e => done('error: ' + e));
        """);
    String s = String.valueOf(result);
    if (s.startsWith("error:")) {
      throw new AssertionError("axe-core failed: " + s);
    }
    List<String> serious = new ArrayList<>();
    for (JsonNode v : JSON.readTree(s)) {
      String impact = v.path("impact").asText();
      if (impact.equals("serious") || impact.equals("critical")) {
        serious.add(impact + " " + v.path("id").asText() + ": " + v.path("help").asText() + " at "
            + v.path("nodes").path(0).path("target"));
      }
    }
    return serious;
  }

  @Test
  @Order(1)
  void signInExchangesTheTokenForACookieNoScriptCanRead() throws Exception {
    browser.get(stack.appUrl());
    until(By.id("token")).sendKeys("not-the-token");
    browser.findElement(By.cssSelector("form button[type=submit]")).click();
    assertTrue(text(By.cssSelector("[role=alert]")).contains("not valid"), "a wrong token is refused in the page");
    assertEquals(List.of(), accessibilityViolations(), "sign-in page");
    shot("01-sign-in");

    WebElement token = browser.findElement(By.id("token"));
    token.clear();
    token.sendKeys(stack.apiToken());
    browser.findElement(By.cssSelector("form button[type=submit]")).click();
    until(By.id("runs"));
    assertEquals("", js("return document.cookie"), "the session cookie is HttpOnly");
    assertEquals(0L, js("return localStorage.length + sessionStorage.length"), "nothing kept in page storage");
    assertFalse(browser.getCurrentUrl().contains(stack.apiToken()), "the token is never in a URL");
    assertFalse(browser.getPageSource().contains(stack.apiToken()), "the token is not left in the page");
    // the browser's own view of the cookie (its path is the API's, so only the devtools see it from here)
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> cookies = (List<Map<String, Object>>) ((ChromeDriver) browser).executeCdpCommand(
        "Network.getAllCookies", Map.of()).get("cookies");
    Map<String, Object> session = cookies.stream().filter(c -> "loadtest_session".equals(c.get("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no session cookie: " + cookies));
    assertEquals(true, session.get("httpOnly"), String.valueOf(session));
    assertEquals("Strict", session.get("sameSite"), String.valueOf(session));
    assertEquals("/api/v1", session.get("path"), String.valueOf(session));
    assertNotEquals(stack.apiToken(), session.get("value"), "the cookie holds a session id, not the token");
  }

  @Test
  @Order(2)
  void aPlanErrorIsShownInlineWithItsPath() throws Exception {
    browser.get(stack.appUrl() + "#/new");
    WebElement plan = until(By.id("plan"));
    plan.sendKeys(plan("broken", "20s", "{}").replace("constant-arrival-rate", "no-such-executor"));
    browser.findElement(By.id("submit-run")).click();
    String errors = text(By.id("error-list"));
    assertTrue(errors.contains("$.plan.scenarios.probe.executor") && errors.contains("no-such-executor"), errors);
    assertTrue(browser.getCurrentUrl().endsWith("#/new"), "stays on the form");
    assertEquals(List.of(), accessibilityViolations(), "new run page");
    shot("02-plan-error");
  }

  @Test
  @Order(3)
  void aRunStartedFromTheBrowserIsLiveItsFailingThresholdTurnsRedAndItStops() throws Exception {
    browser.get(stack.appUrl() + "#/new");
    WebElement plan = until(By.id("plan"));
    plan.clear();
    // tagged per generator: the page filter offers the generator too
    js("arguments[0].value = arguments[1]", plan, plan("browser run", "90s",
        "{\"http_req_duration\": [\"p(95)<0.001\"], \"checks\": [\"rate>0.9\"]}")
        .replaceFirst("\\{", "{\"generator\": {\"plugin\": \"http\", \"tagGenerator\": true}, "));
    browser.findElement(By.id("env")).sendKeys("UNUSED=1");
    browser.findElement(By.id("submit-run")).click();
    wait.until(d -> d.getCurrentUrl().contains("#/runs/run-"));
    browserRun = java.net.URLDecoder.decode(browser.getCurrentUrl().replaceFirst(".*#/runs/", ""),
        java.nio.charset.StandardCharsets.UTF_8);

    // live: the request count moves while the run goes, from the shared stream
    wait.until(d -> text(By.id("status-line")).contains("RUNNING"));
    String first = wait.until(d -> {
      String t = text(By.cssSelector("#kpi-requests .v"));
      return t.matches("[0-9,]+") && !t.equals("0") ? t : null;
    });
    String later = wait.until(d -> {
      String t = text(By.cssSelector("#kpi-requests .v"));
      return !t.equals(first) ? t : null;
    });
    assertNotEquals(first, later);
    long firstN = Long.parseLong(first.replace(",", ""));
    long laterN = Long.parseLong(later.replace(",", ""));
    assertTrue(laterN > firstN, first + " then " + later);

    // the threshold that cannot pass turns red while the run goes
    By failing = By.cssSelector("tr[data-threshold=\"http_req_duration: p(95)<0.001\"]");
    wait.until(d -> {
      List<WebElement> rows = d.findElements(failing);
      return !rows.isEmpty() && rows.get(0).getAttribute("class").contains("fail") ? rows.get(0) : null;
    });
    assertTrue(text(By.id("kpi-thresholds")).contains("1"), text(By.id("kpi-thresholds")));
    // read inside the wait: the live header re-renders every second, so an element found a moment ago may be gone
    String kpiClass = wait.until(d -> d.findElement(By.id("kpi-thresholds")).getAttribute("class"));
    assertTrue(kpiClass.contains("fail"), kpiClass);
    wait.until(d -> !d.findElements(By.cssSelector(".chart canvas")).isEmpty());
    shot("03-live-run");
    assertEquals(List.of(), accessibilityViolations(), "live run page");

    // stop: iterations finish, the run ends
    until(By.id("stop")).click();
    wait.until(d -> text(By.id("status-line")).matches("(?s).*(FINISHED|ABORTED).*"));
    assertTrue(text(By.id("status-line")).contains("thresholds failed"), text(By.id("status-line")));
    wait.until(d -> !d.findElements(By.cssSelector("#request-table tbody tr")).isEmpty());
    String requests = text(By.id("request-table"));
    assertTrue(requests.contains("products") && requests.contains("GET") && requests.contains("200"), requests);
    assertTrue(requests.matches("(?s).*\\d+(\\.\\d+)? ms.*"), "the rows' percentiles: " + requests);
    // the page filter offers the run's load zone (every series carries its generator's), read once data came
    List<String> zones = wait.until(d -> {
      List<String> options = d.findElements(By.cssSelector("#filter-load_zone option")).stream()
          .map(WebElement::getText).toList();
      return options.isEmpty() ? null : options;
    });
    assertEquals(List.of("all", GENERATOR_ZONE), zones);
    assertEquals(List.of("all", GENERATOR_ID), browser.findElements(By.cssSelector("#filter-generator option")).stream()
        .map(WebElement::getText).toList());
    // filtered by that zone, the page reads the same requests (all of them are in it)
    String unfiltered = text(By.cssSelector("#request-table tbody"));
    new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("filter-load_zone"))).selectByValue(GENERATOR_ZONE);
    browser.findElement(By.cssSelector("#page-filter button[type=submit]")).click();
    wait.until(d -> text(By.cssSelector("#request-table tbody")).equals(unfiltered));
    shot("04-run-stopped");

    // the JUnit file the page makes: the failing threshold is a failed case, as `loadtest run -o junit.xml` has it
    Path downloads = Files.createDirectories(SHOTS.resolve("downloads"));
    ((ChromeDriver) browser).executeCdpCommand("Browser.setDownloadBehavior", Map.of("behavior", "allow",
        "downloadPath", downloads.toAbsolutePath().toString()));
    Path junit = downloads.resolve(browserRun + "-junit.xml");
    Files.deleteIfExists(junit);
    until(By.id("junit")).click();
    wait.until(d -> Files.exists(junit) && junit.toFile().length() > 0);
    String xml = Files.readString(junit);
    assertTrue(xml.contains("<testcase classname=\"http_req_duration\" name=\"p(95)&lt;0.001\">")
        && xml.contains("<failure message=\"threshold p(95)&lt;0.001 failed on http_req_duration"), xml);
    assertTrue(xml.contains("<testcase classname=\"checks\" name=\"rate&gt;0.9\"/>"), xml);
  }

  @Test
  @Order(4)
  void theRunsListShowsBothRunsWithTheirStatusAndNumbers() throws Exception {
    awaitEnded(firstRun);
    browser.get(stack.appUrl() + "#/runs");
    wait.until(d -> d.findElement(By.cssSelector("tr[data-run=\"" + firstRun + "\"]")).getText().contains("FINISHED"));
    String text = text(By.cssSelector("tr[data-run=\"" + firstRun + "\"]"));
    assertTrue(text.contains("api run") && text.contains("passed"), text);
    assertTrue(text.matches("(?s).*\\d+(\\.\\d+)? m?s.*"), "p(95) shown (ms, or s on a busy machine): " + text);
    String browserRow = text(By.cssSelector("tr[data-run=\"" + browserRun + "\"]"));
    assertTrue(browserRow.contains("browser run"), browserRow);
    assertEquals(List.of(), accessibilityViolations(), "runs list");
    shot("05-runs");
  }

  @Test
  @Order(5)
  void twoRunsAreComparedSideBySide() throws Exception {
    awaitEnded(browserRun);
    browser.get(stack.appUrl() + "#/runs");
    until(By.cssSelector("input[value=\"" + firstRun + "\"]")).click();
    until(By.cssSelector("input[value=\"" + browserRun + "\"]")).click();
    wait.until(d -> { // the list may re-render between finding the button and clicking it
      d.findElement(By.xpath("//button[contains(., 'Compare the two selected')]")).click();
      return true;
    });
    String table = text(By.id("compare-table"));
    assertTrue(table.contains("http_req_duration") && table.contains("p(95)") && table.contains("http_reqs"), table);
    assertTrue(table.contains("%"), "differences in percent: " + table);
    wait.until(d -> d.findElements(By.cssSelector("#compare-out .chart canvas")).size() >= 2);
    assertEquals(List.of(), accessibilityViolations(), "compare page");
    shot("06-compare");
  }

  @Test
  @Order(6)
  void aLoadTestShowsItsTrendAndARunIsMarkedItsBaselineFromThePage() throws Exception {
    awaitEnded(firstRun);
    String again = startByApi(plan("api run", "5s", "{\"http_req_failed\": [\"rate<0.5\"]}")); // the same load test
    awaitEnded(again);
    // Load tests are read from ClickHouse's runs table, which the threshold job writes a moment after the API knows.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!lastRunStored(again)) {
      assertTrue(System.nanoTime() < deadline, "the load test's last run stored as FINISHED: " + apiGet("/load-tests"));
      Thread.sleep(250);
    }
    browser.get(stack.appUrl() + "#/load-tests");
    WebElement row = wait.until(d -> d.findElements(By.cssSelector("#load-tests tbody tr")).stream()
        .filter(r -> r.getText().contains("api run")).findFirst().orElse(null));
    String id = row.getAttribute("data-load-test");
    assertTrue(row.getText().contains(again) && row.getText().contains("FINISHED") && row.getText().contains("2"),
        row.getText());
    row.findElement(By.cssSelector("a")).click();
    wait.until(d -> d.findElements(By.cssSelector("#trend-charts .chart canvas")).size() == 3);
    String runs = text(By.id("load-test-runs"));
    assertTrue(runs.contains(firstRun) && runs.contains(again) && runs.indexOf(again) < runs.indexOf(firstRun)
        && runs.contains("passed"), "both runs, newest first: " + runs);
    assertTrue(text(By.id("plan-versions")).contains(firstRun), "the plan version it ran");
    wait.until(d -> { // the page re-renders once marked
      d.findElement(By.cssSelector("#load-test-runs tr[data-run=\"" + firstRun + "\"] button")).click();
      return true;
    });
    wait.until(d -> d.findElement(By.cssSelector("#load-test-runs tr[data-run=\"" + firstRun + "\"]")).getText()
        .contains("Unmark"));
    JsonNode test = apiGet("/load-tests/" + id);
    assertEquals(firstRun, test.path("baseline").asText(), test.toString());
    assertEquals(List.of(), accessibilityViolations(), "load test page");
    shot("07-load-test");
  }

  /** Whether the load tests list shows {@code run} as its load test's last run, FINISHED. */
  static boolean lastRunStored(String run) throws Exception {
    for (JsonNode t : apiGet("/load-tests").path("loadTests")) {
      if (t.path("lastRun").path("testRunId").asText().equals(run)) {
        return t.path("lastRun").path("status").asText().equals("FINISHED");
      }
    }
    return false;
  }

  static JsonNode apiGet(String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.apiUrl() + path))
        .header("Authorization", "Bearer " + stack.apiToken()).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return JSON.readTree(r.body());
  }

  static void awaitEnded(String run) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.apiUrl() + "/runs/" + run))
          .header("Authorization", "Bearer " + stack.apiToken()).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && Map.of("FINISHED", 1, "ABORTED", 1, "FAILED", 1)
          .containsKey(JSON.readTree(r.body()).path("status").asText())) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("run " + run + " did not end within 120 s");
  }
}
