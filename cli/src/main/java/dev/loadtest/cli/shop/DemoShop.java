package dev.loadtest.cli.shop;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The demo system under test: a small shop API (products, carts, coupons, checkout) whose URLs carry ids,
 * so that requests must be named to be grouped. Latency, error rate and capacity are configurable, and can
 * be changed while it runs ({@code PUT /admin/faults}), so that a test can watch a service degrade.
 *
 * <p>Every request to {@code /api/...} is counted as it arrives ({@link #requests()}, {@code GET /stats});
 * {@code /health}, {@code /stats} and {@code /admin} are not. A request is served after a latency drawn
 * from a log-normal distribution around the configured median (scaled per route: checkout is the slow
 * one) while it holds one of {@code workers} slots; requests beyond that wait their turn, so latency
 * grows with load once the shop is saturated, as a real service's does (a breakpoint test finds it).
 */
public final class DemoShop implements AutoCloseable {
  /** The coupons the shop accepts, with their discount in percent. */
  public static final Map<String, Integer> COUPONS = Map.of("SAVE10", 10, "SAVE20", 20, "WELCOME5", 5);
  static final int PRODUCTS = 100;
  private static final int MAX_CARTS = 100_000;

  /**
   * How the shop misbehaves.
   *
   * @param latency median service time of a plain request (checkout takes 3x, a product page 0.5x)
   * @param errorRate fraction of requests answered 503 (injected errors)
   * @param workers requests served at once; the others queue
   */
  public record Faults(Duration latency, double errorRate, int workers) {
    public Faults {
      Objects.requireNonNull(latency, "latency");
      if (latency.isNegative()) {
        throw new IllegalArgumentException("latency must not be negative, got " + latency);
      }
      if (!(errorRate >= 0 && errorRate <= 1)) {
        throw new IllegalArgumentException("errorRate must be within [0, 1], got " + errorRate);
      }
      if (workers < 1) {
        throw new IllegalArgumentException("workers must be at least 1, got " + workers);
      }
    }

    public static Faults defaults() {
      return new Faults(Duration.ofMillis(20), 0.002, 256);
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final LongAdder requests = new LongAdder();
  private final Map<String, LongAdder> byRoute = new ConcurrentHashMap<>();
  private final Map<String, Cart> carts = java.util.Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cart> eldest) {
      return size() > MAX_CARTS; // a long soak must not grow the shop's memory without bound
    }
  });
  private final AtomicLong ids = new AtomicLong();
  private final Object slots = new Object();
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private volatile Faults faults;
  private int busy;

  private DemoShop(Faults faults) {
    this.faults = faults;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(1));
    Router router = Router.router(vertx);
    router.get("/health").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
    router.get("/stats").handler(ctx -> json(ctx, 200, stats()));
    router.put("/admin/faults").handler(BodyHandler.create().setBodyLimit(4096)).handler(this::changeFaults);
    router.route("/api/*").handler(ctx -> {
      requests.increment();
      ctx.next();
    });
    router.route("/api/*").handler(BodyHandler.create().setBodyLimit(16 * 1024));
    route(router.get("/api/products"), "GET /api/products", 1.0, this::products);
    route(router.get("/api/products/:id"), "GET /api/products/:id", 0.5, this::product);
    route(router.post("/api/carts"), "POST /api/carts", 0.5, this::newCart);
    route(router.get("/api/carts/:id"), "GET /api/carts/:id", 0.5, this::cart);
    route(router.post("/api/carts/:id/items"), "POST /api/carts/:id/items", 1.0, this::addItem);
    route(router.post("/api/carts/:id/coupon"), "POST /api/carts/:id/coupon", 1.0, this::coupon);
    route(router.post("/api/carts/:id/checkout"), "POST /api/carts/:id/checkout", 3.0, this::checkout);
    router.route("/api/*").handler(ctx -> {
      byRoute.computeIfAbsent("unknown", k -> new LongAdder()).increment();
      json(ctx, 404, error("no such resource: " + ctx.request().method() + " " + ctx.request().path()));
    });
    this.server = vertx.createHttpServer().requestHandler(router);
  }

  /** Starts the shop on {@code host:port} (port 0: a free one). */
  public static DemoShop start(String host, int port, Faults faults) {
    DemoShop shop = new DemoShop(faults);
    try {
      shop.server.listen(port, host).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      shop.close();
      throw new IllegalStateException("the demo shop cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    return shop;
  }

  /** The base URL, e.g. {@code http://127.0.0.1:41234}. */
  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** Requests received on {@code /api/...} since the start. */
  public long requests() {
    return requests.sum();
  }

  public Faults faults() {
    return faults;
  }

  public void faults(Faults next) {
    this.faults = Objects.requireNonNull(next);
  }

  /** Counts per route template. */
  public Map<String, Long> requestsByRoute() {
    Map<String, Long> out = new TreeMap<>();
    byRoute.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  private JsonObject stats() {
    JsonObject routes = new JsonObject();
    requestsByRoute().forEach(routes::put);
    Faults f = faults;
    return new JsonObject().put("requests", requests()).put("byRoute", routes).put("carts", carts.size())
        .put("faults", new JsonObject().put("latencyMs", f.latency().toMillis()).put("errorRate", f.errorRate())
            .put("workers", f.workers()));
  }

  private void changeFaults(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      json(ctx, 400, error("the body is not a JSON object: " + e.getMessage()));
      return;
    }
    if (body == null) {
      json(ctx, 400, error("the body must be {\"latencyMs\": N, \"errorRate\": R, \"workers\": W} (any of them)"));
      return;
    }
    Faults f = faults;
    try {
      for (String k : body.fieldNames()) {
        if (!java.util.Set.of("latencyMs", "errorRate", "workers").contains(k)) {
          throw new IllegalArgumentException("unknown field \"" + k + "\" (allowed: latencyMs, errorRate, workers)");
        }
      }
      Faults next = new Faults(Duration.ofMillis(number(body, "latencyMs", f.latency().toMillis()).longValue()),
          number(body, "errorRate", f.errorRate()).doubleValue(), number(body, "workers", f.workers()).intValue());
      faults(next);
    } catch (IllegalArgumentException e) {
      json(ctx, 400, error(e.getMessage()));
      return;
    }
    json(ctx, 200, stats().getJsonObject("faults"));
  }

  private static Number number(JsonObject body, String field, Number fallback) {
    Object v = body.getValue(field);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException("\"" + field + "\" must be a number, got " + v);
    }
    return n;
  }

  // ---------------------------------------------------------------- serving with latency and capacity

  private void route(io.vertx.ext.web.Route route, String template, double weight,
      java.util.function.Consumer<RoutingContext> answer) {
    LongAdder counter = byRoute.computeIfAbsent(template, k -> new LongAdder());
    route.handler(ctx -> {
      counter.increment();
      Context context = vertx.getOrCreateContext();
      admit(() -> context.runOnContext(v -> {
        Faults f = faults;
        long delayMs = Math.round(f.latency().toMillis() * weight * Math.exp(0.5 * ThreadLocalRandom.current().nextGaussian()));
        Runnable respond = () -> {
          try {
            if (ThreadLocalRandom.current().nextDouble() < f.errorRate()) {
              json(ctx, 503, error("injected error (error rate " + f.errorRate() + ")"));
            } else {
              answer.accept(ctx);
            }
          } catch (RuntimeException e) {
            json(ctx, 500, error(e.toString()));
          } finally {
            release();
          }
        };
        if (delayMs <= 0) {
          respond.run();
        } else {
          vertx.setTimer(delayMs, id -> respond.run());
        }
      }));
    });
  }

  private void admit(Runnable serve) {
    synchronized (slots) {
      if (busy >= faults.workers()) {
        waiting.add(serve);
        return;
      }
      busy++;
    }
    serve.run();
  }

  private void release() {
    Runnable next;
    synchronized (slots) {
      next = waiting.poll();
      if (next == null) {
        busy--;
        return;
      }
    }
    next.run(); // the slot passes to the next request in line
  }

  // ---------------------------------------------------------------- the shop

  private record Cart(String id, Map<String, Integer> items, String coupon) {}

  static JsonObject product(int n) {
    return new JsonObject().put("id", String.format("p-%03d", n)).put("name", "Product " + n)
        .put("price", price(n));
  }

  private static double price(int n) {
    return 5 + (n * 37 % 200) + 0.99;
  }

  private static int productNumber(String id) {
    if (id == null || !id.matches("p-\\d{3}")) {
      return -1;
    }
    int n = Integer.parseInt(id.substring(2));
    return n >= 1 && n <= PRODUCTS ? n : -1;
  }

  private void products(RoutingContext ctx) {
    int page;
    int size;
    try {
      page = Integer.parseInt(Objects.requireNonNullElse(ctx.queryParams().get("page"), "1"));
      size = Integer.parseInt(Objects.requireNonNullElse(ctx.queryParams().get("size"), "20"));
    } catch (NumberFormatException e) {
      json(ctx, 400, error("page and size must be integers"));
      return;
    }
    if (page < 1 || size < 1 || size > 100) {
      json(ctx, 400, error("page must be >= 1 and size within 1..100"));
      return;
    }
    JsonArray items = new JsonArray();
    for (int n = (page - 1) * size + 1; n <= Math.min(PRODUCTS, page * size); n++) {
      items.add(product(n));
    }
    json(ctx, 200, new JsonObject().put("page", page).put("size", size).put("total", PRODUCTS).put("items", items));
  }

  private void product(RoutingContext ctx) {
    int n = productNumber(ctx.pathParam("id"));
    if (n < 0) {
      json(ctx, 404, error("no product " + ctx.pathParam("id")));
      return;
    }
    json(ctx, 200, product(n).put("description", "A fine product, number " + n + ".").put("stock", 10 + n % 17));
  }

  private void newCart(RoutingContext ctx) {
    Cart c = new Cart("c-" + ids.incrementAndGet(), new TreeMap<>(), null);
    carts.put(c.id(), c);
    json(ctx, 201, cartJson(c));
  }

  private Cart existingCart(RoutingContext ctx) {
    Cart c = carts.get(ctx.pathParam("id"));
    if (c == null) {
      json(ctx, 404, error("no cart " + ctx.pathParam("id")));
    }
    return c;
  }

  private void cart(RoutingContext ctx) {
    Cart c = existingCart(ctx);
    if (c != null) {
      json(ctx, 200, cartJson(c));
    }
  }

  /** Calls {@code then} with the path's cart and the JSON body, or answers 404 / 400 when there is none. */
  private void withCartAndBody(RoutingContext ctx, java.util.function.BiConsumer<Cart, JsonObject> then) {
    Cart c = existingCart(ctx);
    JsonObject body = c == null ? null : bodyObject(ctx);
    if (body != null) {
      then.accept(c, body);
    }
  }

  private void addItem(RoutingContext ctx) {
    withCartAndBody(ctx, (c, body) -> addItem(ctx, c, body));
  }

  private void addItem(RoutingContext ctx, Cart c, JsonObject body) {
    int n = productNumber(body.getValue("productId") instanceof String s ? s : null);
    Object q = body.getValue("quantity", 1);
    if (n < 0) {
      json(ctx, 422, error("productId must name a product (p-001 .. p-" + PRODUCTS + "), got " + body.getValue("productId")));
      return;
    }
    if (!(q instanceof Number qn) || qn.intValue() < 1 || qn.intValue() > 99) {
      json(ctx, 422, error("quantity must be an integer within 1..99, got " + q));
      return;
    }
    synchronized (c) {
      c.items().merge(String.format("p-%03d", n), qn.intValue(), Integer::sum);
    }
    json(ctx, 200, cartJson(c));
  }

  private void coupon(RoutingContext ctx) {
    withCartAndBody(ctx, (c, body) -> coupon(ctx, c, body));
  }

  private void coupon(RoutingContext ctx, Cart c, JsonObject body) {
    String code = body.getValue("code") instanceof String s ? s : null;
    if (code == null || !COUPONS.containsKey(code)) {
      json(ctx, 422, error("unknown coupon " + body.getValue("code")));
      return;
    }
    Cart with = new Cart(c.id(), c.items(), code);
    carts.put(c.id(), with);
    json(ctx, 200, cartJson(with));
  }

  private void checkout(RoutingContext ctx) {
    Cart c = existingCart(ctx);
    if (c == null) {
      return;
    }
    if (c.items().isEmpty()) {
      json(ctx, 409, error("cart " + c.id() + " is empty"));
      return;
    }
    carts.remove(c.id());
    json(ctx, 201, new JsonObject().put("orderId", "o-" + ids.incrementAndGet()).put("total", total(c))
        .put("status", "CONFIRMED"));
  }

  private JsonObject bodyObject(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body != null) {
        return body;
      }
    } catch (RuntimeException e) {
      // answered below
    }
    json(ctx, 400, error("the body must be a JSON object"));
    return null;
  }

  private static double total(Cart c) {
    double sum;
    synchronized (c) {
      sum = c.items().entrySet().stream().mapToDouble(e -> price(productNumber(e.getKey())) * e.getValue()).sum();
    }
    int discount = c.coupon() == null ? 0 : COUPONS.get(c.coupon());
    return Math.round(sum * (100 - discount)) / 100.0;
  }

  private static JsonObject cartJson(Cart c) {
    JsonArray items = new JsonArray();
    synchronized (c) {
      c.items().forEach((id, q) -> items.add(new JsonObject().put("productId", id).put("quantity", q)));
    }
    return new JsonObject().put("id", c.id()).put("items", items).put("coupon", c.coupon()).put("total", total(c));
  }

  private static JsonObject error(String message) {
    return new JsonObject().put("error", message);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
