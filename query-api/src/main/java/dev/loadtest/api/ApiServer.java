package dev.loadtest.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.loadtest.api.export.SampleExport;
import dev.loadtest.api.live.LiveHub;
import dev.loadtest.api.store.Agg;
import dev.loadtest.api.store.MetricReader;
import dev.loadtest.api.store.RunReader;
import dev.loadtest.schemas.clickhouse.ClickHouseException;
import dev.loadtest.schemas.clickhouse.ClickHouseHttp;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.topics.Topics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The query API: a Vert.x HTTP server under {@code /api/v1} over ClickHouse (stored aggregates, runs,
 * thresholds) and Kafka (commands out, live topics and raw samples in). Handlers run on the event loop;
 * every ClickHouse or Kafka call runs on a bounded worker pool, which also bounds the queries in flight.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  static final String BASE = "/api/v1";
  static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private final ApiConfig config;
  private final Vertx vertx;
  private final HttpServer server;
  private final QueryService queries;
  private final LoadTests loadTests;
  private final dev.loadtest.api.notify.WebhookStore webhooks;
  private final dev.loadtest.api.notify.Notifier notifier;
  private final dev.loadtest.api.live.SchedulesView schedules;
  private final RunCommands commands;
  private final LiveHub live;
  private final dev.loadtest.api.live.HealthReport health;
  private final SampleExport export;
  private final ClickHouseHttp clickHouse;
  private final Map<String, ApiConfig.Scope> tokens;
  private final String generatedToken;
  /** A web app page's read (cookie session, GET): its answer may be shared with other viewers' (SharedReads). */
  private static final String SHARED_READ = "loadtest.sharedRead";
  /** Answers the web app's viewers share for 2 s: viewers of one run cost the store about what one does. */
  private final dev.loadtest.api.web.SharedReads sharedReads = new dev.loadtest.api.web.SharedReads(2_000, 1_000,
      System::nanoTime);
  /** The web app's sessions (a token exchanged for an HttpOnly cookie). */
  private final dev.loadtest.api.web.WebSessions sessions = new dev.loadtest.api.web.WebSessions(Duration.ofHours(12),
      10_000, Clock.systemUTC());
  private final Router router;

  private ApiServer(ApiConfig config) throws Exception {
    this.config = config;
    if (config.tokens().isEmpty()) {
      byte[] b = new byte[24];
      new SecureRandom().nextBytes(b);
      this.generatedToken = HexFormat.of().formatHex(b);
      this.tokens = Map.of(generatedToken, ApiConfig.Scope.WRITE);
    } else {
      this.generatedToken = null;
      this.tokens = config.tokens();
    }
    this.clickHouse = new ClickHouseHttp(config.clickHouseUri(), config.clickHouseUser(), config.clickHousePassword(),
        Duration.ofSeconds(30));
    this.queries = new QueryService(new MetricReader(clickHouse, config.database()),
        new RunReader(clickHouse, config.database()), config.limits(), Clock.systemUTC());
    this.webhooks = new dev.loadtest.api.notify.WebhookStore(clickHouse, config.database());
    this.notifier = new dev.loadtest.api.notify.Notifier(config.bootstrapServers(), Topics.RUNS, Topics.INSIGHTS,
        webhooks, BASE, Duration.ofSeconds(1));
    this.loadTests = new LoadTests(queries, new dev.loadtest.api.store.LoadTestStore(clickHouse, config.database()),
        notifier);
    this.schedules = new dev.loadtest.api.live.SchedulesView(config.bootstrapServers(), Topics.SCHEDULES);
    this.commands = new RunCommands(config.bootstrapServers(), Topics.COMMANDS);
    this.live = new LiveHub(config.bootstrapServers(), Topics.AGGREGATES, Topics.THRESHOLDS, Topics.RUNS, Topics.INSIGHTS,
        Duration.ofMillis(700));
    queries.withRecentRuns(live.recent());
    this.export = new SampleExport(config.bootstrapServers(), Topics.SAMPLES);
    this.health = new dev.loadtest.api.live.HealthReport(config.bootstrapServers(), clickHouse::version, live);
    this.vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(32).setEventLoopPoolSize(2));
    this.router = router();
    // Every 2 s, while anyone watches a run live: how far ingestion is behind (the same figures as /health),
    // so that a live view can tell stale numbers from a quiet system.
    vertx.setPeriodic(2_000, t -> {
      if (live.listenerCount() > 0) {
        vertx.executeBlocking(() -> {
          live.broadcast("ingestion", write(health.ingestion()));
          return null;
        }, false);
      }
    });
    if (config.retentionDays() > 0) {
      // Hourly (the first a minute after start): ended runs past retention, baselines kept, 100 at a time.
      vertx.setTimer(60_000, first -> {
        retention();
        vertx.setPeriodic(3_600_000, t -> retention());
      });
    }
    this.server = vertx.createHttpServer(new HttpServerOptions().setHost(config.host()).setPort(config.port())
        .setCompressionSupported(true)).requestHandler(router).invalidRequestHandler(ApiServer::invalidRequest)
        .listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /**
   * A request the HTTP decoder refused (a URI or headers over the limits, a malformed line): answered as
   * every error is, in JSON, with what was wrong.
   */
  private static void invalidRequest(io.vertx.core.http.HttpServerRequest req) {
    Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
    int status;
    String error;
    if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
      status = 414;
      error = "the request line is longer than the server takes (" + HttpServerOptions.DEFAULT_MAX_INITIAL_LINE_LENGTH
          + " bytes): send fewer or shorter parameters";
    } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
      status = 431;
      error = "the request's headers are larger than the server takes (" + HttpServerOptions.DEFAULT_MAX_HEADER_SIZE
          + " bytes)";
    } else {
      status = 400;
      error = "the request is not valid HTTP" + (cause == null ? "" : ": " + cause.getMessage());
    }
    try {
      req.response().setStatusCode(status).putHeader("Content-Type", "application/json").putHeader("Connection", "close")
          .end(JSON.writeValueAsString(Map.of("status", status, "error", error)));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      req.response().setStatusCode(status).end();
    }
  }

  private void retention() {
    vertx.executeBlocking(() -> loadTests.applyRetention(config.retentionDays(), System.currentTimeMillis(), 100), false)
        .onFailure(e -> LOG.warn("retention failed (tried again in an hour): {}", e.toString()));
  }

  /**
   * Starts the API; with no tokens configured, it makes a write token and logs it.
   *
   * @throws Exception when the port cannot be bound
   */
  public static ApiServer start(ApiConfig config) throws Exception {
    ApiServer s = new ApiServer(config);
    if (s.generatedToken != null) {
      LOG.info("no API tokens configured: use this write token for this process: {}", s.generatedToken);
    }
    return s;
  }

  public int port() {
    return server.actualPort();
  }

  public String url() {
    return "http://" + (config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host()) + ":" + port() + BASE;
  }

  /** The web app's address: this server's origin, path {@code /}. */
  public String appUrl() {
    return url().substring(0, url().length() - BASE.length()) + "/";
  }

  /** The token made at start when none was configured (null otherwise). */
  public String generatedToken() {
    return generatedToken;
  }

  public LiveHub live() {
    return live;
  }

  /** Sends run events to the projects' webhooks. */
  public dev.loadtest.api.notify.Notifier notifier() {
    return notifier;
  }

  /** The routes, as registered (method and path with {@code :param}). */
  public List<String> routes() {
    return router.getRoutes().stream().filter(r -> r.getPath() != null && r.methods() != null
            && !r.methods().isEmpty())
        .flatMap(r -> r.methods().stream().map(m -> m.name() + " " + r.getPath())).sorted().toList();
  }

  private Router router() {
    Router r = Router.router(vertx);
    if (!config.corsOrigins().isEmpty()) {
      CorsHandler cors = config.corsOrigins().contains("*") ? CorsHandler.create()
          : CorsHandler.create().addOrigins(config.corsOrigins());
      r.route(BASE + "/*").handler(cors.allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE))
          .allowedHeaders(Set.of("Authorization", "Content-Type")).maxAgeSeconds(600));
    }
    r.route(BASE + "/*").handler(BodyHandler.create().setBodyLimit(2L << 20).setHandleFileUploads(false));
    String openapi = openapi();
    r.get(BASE + "/openapi.json").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json")
        .end(openapi));
    r.get(BASE + "/health").handler(ctx -> blocking(ctx, health::now, 200));

    r.get(BASE + "/runs").handler(read(ctx -> {
      Params p = params(ctx, "status", "name", "project", "tag", "from", "to", "limit", "offset", "stats");
      boolean withStats = p.bool("stats");
      List<String> statuses = p.list("status").stream().map(s -> s.toUpperCase(java.util.Locale.ROOT)).toList();
      for (String s : statuses) {
        try {
          dev.loadtest.schemas.run.RunStatus.valueOf(s);
        } catch (IllegalArgumentException e) {
          throw ApiException.badRequest("status", "unknown status \"" + Params.abbreviate(s) + "\" (one of "
              + java.util.Arrays.toString(dev.loadtest.schemas.run.RunStatus.values()) + ")");
        }
      }
      String name = p.one("name");
      if (name != null && name.length() > 200) {
        throw ApiException.badRequest("name", "name is longer than 200 characters");
      }
      String project = p.one("project");
      if (project != null && project.length() > 200) {
        throw ApiException.badRequest("project", "project is longer than 200 characters");
      }
      Long from = p.time("from");
      Long to = p.time("to");
      int limit = (int) p.integer("limit", 50, 1, config.limits().maxPage());
      long offset = p.integer("offset", 0, 0, 1_000_000);
      List<dev.loadtest.api.store.MetricReader.TagFilter> tags = p.tags();
      blocking(ctx, () -> {
        RunReader.Page page = queries.runs().list(new RunReader.RunFilter(statuses, name, project, tags,
            from == null ? null : Math.floorDiv(from, 1000), to == null ? null : -Math.floorDiv(-to, 1000)), limit,
            offset);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total", page.total());
        m.put("limit", limit);
        m.put("offset", offset);
        m.put("runs", page.runs().stream().map(row -> {
          Map<String, Object> out = runRow(row);
          if (withStats) {
            out.put("stats", loadTests.numbers(row.testRunId(), row.status(), row.endedAtSec()));
          }
          return out;
        }).toList());
        return m;
      }, 200);
    }));
    r.post(BASE + "/runs").handler(write(ctx -> {
      params(ctx);
      String body = ctx.body().asString();
      blocking(ctx, () -> {
        RunCommands.Sent sent = commands.start(body == null ? "" : body);
        live.recent().accepted(sent.testRunId(), sent.commandId(), commands.planOf(body), System.currentTimeMillis());
        return sentBody(sent);
      }, 202);
    }));
    r.get(BASE + "/runs/:id").handler(read(ctx -> {
      Params p = params(ctx);
      String id = p.runId("id");
      blocking(ctx, () -> {
        RunState s = queries.run(id);
        Map<String, Object> body = runBody(s);
        if (ingestionMatters(s, System.currentTimeMillis())) {
          body.put("ingestion", health.ingestion());
        }
        return body;
      }, 200);
    }));
    r.post(BASE + "/runs/:id/stop").handler(write(ctx -> {
      Params p = params(ctx, "reason");
      String id = p.runId("id");
      String reason = reasonOf(p, ctx, "requested through the API");
      blocking(ctx, () -> sentBody(commands.stop(id, reason)), 202);
    }));
    r.post(BASE + "/runs/:id/abort").handler(write(ctx -> {
      Params p = params(ctx, "reason");
      String id = p.runId("id");
      String reason = reasonOf(p, ctx, "requested through the API");
      blocking(ctx, () -> sentBody(commands.abort(id, reason)), 202);
    }));
    r.get(BASE + "/runs/:id/summary").handler(read(ctx -> {
      Params p = params(ctx, "analysis", "from", "to", "trendStats", "submetric", "percentiles");
      String id = p.runId("id");
      String analysis = p.analysis();
      Long from = p.time("from");
      Long to = p.time("to");
      List<String> trendStats = p.stats("trendStats", Agg.DEFAULT_TREND_STATS);
      var subs = p.submetrics();
      var method = p.percentileMethod("percentiles");
      blocking(ctx, () -> queries.summary(id, analysis, from, to, trendStats, subs, method), 200);
    }));
    r.get(BASE + "/runs/:id/insights").handler(read(ctx -> {
      String id = params(ctx).runId("id");
      blocking(ctx, () -> queries.insights(id), 200);
    }));
    r.get(BASE + "/runs/:id/thresholds").handler(read(ctx -> {
      Params p = params(ctx, "analysis");
      String id = p.runId("id");
      String analysis = p.analysis();
      blocking(ctx, () -> queries.thresholds(id, analysis), 200);
    }));
    r.get(BASE + "/runs/:id/series").handler(read(ctx -> {
      Params p = params(ctx, "analysis", "metric", "tag", "limit", "offset");
      String id = p.runId("id");
      String analysis = p.analysis();
      String metric = p.metric("metric", false);
      var tags = p.tags();
      int limit = (int) p.integer("limit", 100, 1, config.limits().maxPage());
      long offset = p.integer("offset", 0, 0, 10_000_000);
      blocking(ctx, () -> queries.series(id, analysis, metric, tags, limit, offset), 200);
    }));
    r.get(BASE + "/runs/:id/series/top").handler(read(ctx -> {
      Params p = params(ctx, "analysis", "metric", "by", "tag", "k", "minCount", "from", "to");
      String id = p.runId("id");
      String analysis = p.analysis();
      String metric = p.metric("metric", true);
      String by = p.one("by") == null ? "count" : p.one("by");
      var tags = p.tags();
      int k = (int) p.integer("k", 10, 1, config.limits().maxTopK());
      long minCount = p.integer("minCount", 1, 1, Long.MAX_VALUE);
      Long from = p.time("from");
      Long to = p.time("to");
      blocking(ctx, () -> queries.top(id, analysis, metric, by, tags, minCount, k, from, to), 200);
    }));
    r.get(BASE + "/runs/:id/timeseries").handler(read(ctx -> {
      Params p = params(ctx, "analysis", "metric", "stat", "tag", "groupBy", "from", "to", "maxPoints", "top", "rankBy",
          "order", "page");
      QueryService.SeriesRequest req = seriesRequest(p, p.stats("stat", List.of()));
      if (req.stats().isEmpty()) {
        throw ApiException.badRequest("stat", "stat is required (e.g. stat=p(95) or stat=count,rate)");
      }
      blocking(ctx, () -> queries.timeseries(req), 200);
    }));
    r.get(BASE + "/runs/:id/heatmap").handler(read(ctx -> {
      Params p = params(ctx, "analysis", "metric", "tag", "from", "to", "maxPoints");
      QueryService.SeriesRequest req = seriesRequest(p, List.of());
      blocking(ctx, () -> queries.heatmap(req), 200);
    }));
    r.get(BASE + "/runs/:id/live").handler(read(this::liveStream));
    r.get(BASE + "/runs/:id/samples").handler(read(this::exportSamples));
    r.get(BASE + "/compare").handler(read(ctx -> {
      Params p = params(ctx, "a", "b", "analysisA", "analysisB", "trendStats");
      String a = Params.id("a", p.required("a"));
      String b = Params.id("b", p.required("b"));
      String aa = p.one("analysisA") == null ? "" : Params.id("analysisA", p.one("analysisA"));
      String ab = p.one("analysisB") == null ? "" : Params.id("analysisB", p.one("analysisB"));
      List<String> trendStats = p.stats("trendStats", Agg.DEFAULT_TREND_STATS);
      blocking(ctx, () -> queries.compare(a, aa, b, ab, trendStats), 200);
    }));
    r.get(BASE + "/load-tests").handler(read(ctx -> {
      Params p = params(ctx, "project", "name", "limit", "offset");
      String project = p.one("project");
      String name = p.one("name");
      if (project != null && project.length() > 200 || name != null && name.length() > 200) {
        throw ApiException.badRequest(name != null && name.length() > 200 ? "name" : "project",
            "longer than 200 characters");
      }
      int limit = (int) p.integer("limit", 50, 1, config.limits().maxPage());
      long offset = p.integer("offset", 0, 0, 1_000_000);
      blocking(ctx, () -> loadTests.list(project, name, limit, offset), 200);
    }));
    r.get(BASE + "/load-tests/:id").handler(read(ctx -> {
      Params p = params(ctx, "limit");
      String id = ctx.pathParam("id");
      if (id == null || !id.matches("lt-[0-9a-f]{16}")
          && !dev.loadtest.schemas.command.Command.Metadata.LOAD_TEST_ID.matcher(id).matches()) {
        throw ApiException.badRequest("id", "a load test id is lt- and 16 hex digits, or the explicit id runs were"
            + " started with (metadata.loadTest: letters, digits and . _ : -) (see GET " + BASE + "/load-tests), got \""
            + Params.abbreviate(id) + "\"");
      }
      int limit = (int) p.integer("limit", 50, 1, config.limits().maxPage());
      blocking(ctx, () -> loadTests.get(id, limit), 200);
    }));
    r.get(BASE + "/runs/:id/compare").handler(read(ctx -> {
      Params p = params(ctx, "baseline", "regression");
      String id = p.runId("id");
      String baseline = p.one("baseline") == null || p.one("baseline").equals("auto") ? "auto"
          : Params.id("baseline", p.one("baseline"));
      List<Regression> limits = new java.util.ArrayList<>();
      List<String> given = p.all("regression");
      if (given.size() > config.limits().maxSubmetrics()) {
        throw ApiException.badRequest("regression", given.size() + " regression limits, more than the limit of "
            + config.limits().maxSubmetrics());
      }
      for (String g : given) {
        try {
          limits.add(Regression.parse(g));
        } catch (IllegalArgumentException e) {
          throw ApiException.badRequest("regression", e.getMessage());
        }
      }
      blocking(ctx, () -> loadTests.compare(id, baseline, limits), 200);
    }));
    r.post(BASE + "/runs/:id/baseline").handler(write(ctx -> {
      String id = params(ctx).runId("id");
      blocking(ctx, () -> loadTests.mark(id, true, "api"), 200);
    }));
    r.delete(BASE + "/runs/:id/baseline").handler(write(ctx -> {
      String id = params(ctx).runId("id");
      blocking(ctx, () -> loadTests.mark(id, false, "api"), 200);
    }));
    r.delete(BASE + "/runs/:id").handler(write(ctx -> {
      Params p = params(ctx, "reason");
      String id = p.runId("id");
      String reason = reasonOf(p, ctx, "deleted through the API");
      blocking(ctx, () -> loadTests.delete(id, reason, "api"), 200);
    }));
    r.get(BASE + "/deletions").handler(read(ctx -> {
      Params p = params(ctx, "limit", "offset");
      int limit = (int) p.integer("limit", 50, 1, config.limits().maxPage());
      long offset = p.integer("offset", 0, 0, 1_000_000);
      blocking(ctx, () -> loadTests.deletions(limit, offset), 200);
    }));
    r.post(BASE + "/schedules").handler(write(ctx -> {
      params(ctx);
      String body = ctx.body().asString();
      blocking(ctx, () -> {
        RunCommands.Sent sent = commands.schedule(body == null ? "" : body);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scheduleId", sent.testRunId());
        m.put("commandId", sent.commandId());
        m.put("schedule", BASE + "/schedules/" + sent.testRunId());
        return m;
      }, 202);
    }));
    r.get(BASE + "/schedules").handler(read(ctx -> {
      params(ctx);
      blocking(ctx, () -> Map.of("schedules", schedules.list()), 200);
    }));
    r.get(BASE + "/schedules/:id").handler(read(ctx -> {
      String id = params(ctx).runId("id");
      blocking(ctx, () -> schedules.get(id).orElseThrow(() -> ApiException.notFound("no schedule \"" + id + "\"")),
          200);
    }));
    r.delete(BASE + "/schedules/:id").handler(write(ctx -> {
      String id = params(ctx).runId("id");
      blocking(ctx, () -> {
        if (schedules.get(id).isEmpty()) {
          throw ApiException.notFound("no schedule \"" + id + "\"");
        }
        RunCommands.Sent sent = commands.unschedule(id);
        return Map.of("scheduleId", id, "commandId", sent.commandId());
      }, 202);
    }));
    r.post(BASE + "/webhooks").handler(write(ctx -> {
      params(ctx);
      WebhookRequest m = webhookRequest(ctx.body().asString());
      blocking(ctx, () -> webhookBody(webhooks.create(m.project(), m.url(), m.events(), m.format(), m.secret())), 201);
    }));
    r.get(BASE + "/webhooks").handler(read(ctx -> {
      Params p = params(ctx, "project");
      String project = p.one("project");
      blocking(ctx, () -> Map.of("webhooks", webhooks.list(project).stream().map(ApiServer::webhookBody).toList()),
          200);
    }));
    r.delete(BASE + "/webhooks/:id").handler(write(ctx -> {
      params(ctx);
      String id = webhookId(ctx.pathParam("id"));
      blocking(ctx, () -> {
        if (!webhooks.delete(id)) {
          throw ApiException.notFound("no webhook \"" + id + "\"");
        }
        return Map.of("id", id, "deleted", true);
      }, 200);
    }));
    r.get(BASE + "/webhooks/:id/deliveries").handler(read(ctx -> {
      Params p = params(ctx, "limit");
      String id = webhookId(ctx.pathParam("id"));
      int limit = (int) p.integer("limit", 50, 1, config.limits().maxPage());
      blocking(ctx, () -> {
        if (webhooks.get(id).isEmpty()) {
          throw ApiException.notFound("no webhook \"" + id + "\"");
        }
        return Map.of("deliveries", webhooks.deliveries(id, limit));
      }, 200);
    }));
    dev.loadtest.api.web.WebApp.routes(r, BASE, sessions, this::scopeOf, ApiServer::fail);
    r.route(BASE + "/*").last().handler(ctx -> fail(ctx, new ApiException(404, null, "no endpoint "
        + ctx.request().method() + " " + ctx.request().path() + " (see " + BASE + "/openapi.json)")));
    r.route().failureHandler(ctx -> {
      Throwable t = ctx.failure();
      if (t instanceof ApiException e) {
        fail(ctx, e);
      } else if (ctx.statusCode() == 403 && t != null && String.valueOf(t.getMessage()).startsWith("CORS")) {
        fail(ctx, new ApiException(403, null, "this origin may not call the API (CORS): " + ctx.request()
            .getHeader("Origin")));
      } else if (ctx.statusCode() == 413) {
        fail(ctx, new ApiException(413, null, "the body is larger than 2 MiB"));
      } else if (ctx.statusCode() == 405) {
        fail(ctx, new ApiException(405, null, "method " + ctx.request().method() + " is not allowed here"));
      } else if (ctx.statusCode() > 0 && t == null) {
        fail(ctx, new ApiException(ctx.statusCode(), null, "HTTP " + ctx.statusCode()));
      } else {
        LOG.error("unexpected failure of {} {}", ctx.request().method(), ctx.request().uri(), t);
        fail(ctx, new ApiException(500, null, "internal error: " + t));
      }
    });
    return r;
  }

  private static String webhookId(String id) {
    if (id == null || !id.matches("wh-[0-9a-f]{16}")) {
      throw ApiException.badRequest("id", "a webhook id is wh- and 16 hex digits, got \"" + Params.abbreviate(id) + "\"");
    }
    return id;
  }

  /** A webhook as the API shows it: its secret is never shown, only whether it has one. */
  private static Map<String, Object> webhookBody(dev.loadtest.api.notify.WebhookStore.Webhook w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", w.id());
    m.put("project", w.project());
    m.put("url", w.url());
    m.put("events", w.events().isEmpty() ? dev.loadtest.api.notify.Notifier.EVENTS : w.events());
    m.put("format", w.format());
    m.put("signed", !w.secret().isEmpty());
    m.put("createdAt", w.createdAtSec() * 1000);
    return m;
  }

  /**
   * A webhook to create: {@code {"project": "shop", "url": "https://...", "events": [...], "format": "json"|"slack",
   * "secret": "..."}}, every field checked.
   */
  record WebhookRequest(String project, String url, List<String> events, String format, String secret) {}

  static WebhookRequest webhookRequest(String body) {
    com.fasterxml.jackson.databind.JsonNode n;
    try {
      n = body == null || body.isBlank() ? null : new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw ApiException.badRequest("body", "the body is not JSON: " + e.getOriginalMessage());
    }
    if (n == null || !n.isObject()) {
      throw ApiException.badRequest("body", "the body must be {\"project\": ..., \"url\": ..., \"events\": [...],"
          + " \"format\": \"json\"|\"slack\", \"secret\": ...}");
    }
    for (java.util.Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!List.of("project", "url", "events", "format", "secret").contains(f)) {
        throw ApiException.badRequest(f, "unknown field \"" + Params.abbreviate(f) + "\" (project, url, events, format,"
            + " secret)");
      }
    }
    if (!n.path("project").isTextual() || n.path("project").asText().length() > 200) {
      throw ApiException.badRequest("project", "project is required: the project whose runs' events are sent"
          + " (at most 200 characters)");
    }
    String url = n.path("url").asText("");
    java.net.URI uri;
    try {
      uri = java.net.URI.create(url);
    } catch (IllegalArgumentException e) {
      uri = null;
    }
    if (uri == null || url.length() > 2000 || uri.getHost() == null || !List.of("http", "https").contains(
        String.valueOf(uri.getScheme()).toLowerCase(java.util.Locale.ROOT))) {
      throw ApiException.badRequest("url", "url must be an absolute http or https URL, got \"" + Params.abbreviate(url)
          + "\"");
    }
    List<String> events = new java.util.ArrayList<>();
    if (n.has("events")) {
      if (!n.get("events").isArray()) {
        throw ApiException.badRequest("events", "events must be an array of " + dev.loadtest.api.notify.Notifier.EVENTS);
      }
      for (com.fasterxml.jackson.databind.JsonNode e : n.get("events")) {
        if (!dev.loadtest.api.notify.Notifier.EVENTS.contains(e.asText())) {
          throw ApiException.badRequest("events", "unknown event \"" + Params.abbreviate(e.asText()) + "\" (one of "
              + dev.loadtest.api.notify.Notifier.EVENTS + ")");
        }
        events.add(e.asText());
      }
    }
    String format = n.path("format").asText("json");
    if (!format.equals("json") && !format.equals("slack")) {
      throw ApiException.badRequest("format", "format must be json or slack, got \"" + Params.abbreviate(format) + "\"");
    }
    String secret = n.path("secret").asText("");
    if (secret.length() > 256) {
      throw ApiException.badRequest("secret", "secret is longer than 256 characters");
    }
    return new WebhookRequest(n.path("project").asText(), url, events, format, secret);
  }

  /**
   * A stop's, abort's or deletion's reason: the {@code reason} parameter, or a JSON body's {@code "reason"}, or
   * {@code dflt} when neither gives one.
   */
  private static String reasonOf(Params p, RoutingContext ctx, String dflt) {
    String reason = p.one("reason");
    String body = ctx.body() == null ? null : ctx.body().asString();
    if (reason == null && body != null && !body.isBlank()) {
      JsonNode n;
      try {
        n = JSON.readTree(body);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw ApiException.badRequest("reason", "the body must be JSON such as {\"reason\": \"...\"}: "
            + e.getOriginalMessage());
      }
      JsonNode r = n == null ? null : n.get("reason");
      if (n == null || !n.isObject() || (r != null && !r.isTextual() && !r.isNull())) {
        throw ApiException.badRequest("reason", "the body must be {\"reason\": \"...\"} with a text reason");
      }
      reason = r == null || r.isNull() || r.asText().isBlank() ? null : r.asText().strip();
    }
    if (reason != null && reason.length() > 500) {
      throw ApiException.badRequest("reason", "reason is longer than 500 characters");
    }
    return reason == null ? dflt : reason;
  }

  private QueryService.SeriesRequest seriesRequest(Params p, List<String> stats) {
    String id = p.runId("id");
    String analysis = p.analysis();
    String metric = p.metric("metric", true);
    var tags = p.tags();
    List<String> groupBy = p.groupBy();
    Long from = p.time("from");
    Long to = p.time("to");
    int maxPoints = (int) p.integer("maxPoints", config.limits().maxPoints(), 1, config.limits().maxPoints());
    int top = (int) p.integer("top", config.limits().maxGroups(), 1, config.limits().maxGroups());
    List<String> rankBy = p.stats("rankBy", List.of());
    if (rankBy.size() > 1) {
      throw ApiException.badRequest("rankBy", "one stat ranks the groups, e.g. rankBy=p(95)");
    }
    String order = p.one("order") == null ? "desc" : p.one("order");
    if (!order.equals("desc") && !order.equals("asc")) {
      throw ApiException.badRequest("order", "order is desc (highest first, the default) or asc");
    }
    int page = (int) p.integer("page", 0, 0, 1_000_000);
    return new QueryService.SeriesRequest(id, analysis, metric, stats, tags, groupBy, from, to, maxPoints, top,
        rankBy.isEmpty() ? null : rankBy.get(0), order.equals("asc"), page);
  }

  // ---------------------------------------------------------------- live and export

  private void liveStream(RoutingContext ctx) {
    Params p = params(ctx);
    String id = p.runId("id");
    HttpServerResponse resp = ctx.response();
    Context context = vertx.getOrCreateContext();
    blocking(ctx, () -> queries.findRun(id), null).onSuccess(state -> {
      resp.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
          .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
      resp.write("retry: 2000\n\n");
      if (state.isPresent()) {
        resp.write(sse("status", write(LiveHub.statusEvent(state.get()))));
      }
      AutoCloseable sub = live.subscribe(id, (event, json) -> context.runOnContext(v -> {
        if (resp.closed() || resp.ended()) {
          return;
        }
        if (resp.writeQueueFull()) {
          resp.reset(); // a client this far behind reconnects and catches up from the stored data
          return;
        }
        resp.write(sse(event, json));
      }));
      long timer = vertx.setPeriodic(15_000, t -> {
        if (!resp.closed() && !resp.ended()) {
          resp.write(": keep-alive\n\n");
        }
      });
      resp.closeHandler(v -> {
        vertx.cancelTimer(timer);
        try {
          sub.close();
        } catch (Exception e) {
          LOG.debug("unsubscribe", e);
        }
      });
    });
  }

  private static String sse(String event, String json) {
    return "event: " + event + "\ndata: " + json + "\n\n";
  }

  private void exportSamples(RoutingContext ctx) {
    Params p = params(ctx, "format", "from", "to", "metric");
    String id = p.runId("id");
    String f = p.one("format") == null ? "ndjson" : p.one("format");
    SampleExport.Format format = switch (f) {
      case "ndjson", "json" -> SampleExport.Format.NDJSON;
      case "csv" -> SampleExport.Format.CSV;
      default -> throw ApiException.badRequest("format", "format must be ndjson or csv, got \""
          + Params.abbreviate(f) + "\"");
    };
    Long from = p.time("from");
    Long to = p.time("to");
    Set<String> metrics = new java.util.HashSet<>();
    for (String m : p.list("metric")) {
      if (!dev.loadtest.schemas.metrics.BuiltinMetrics.NAME.matcher(m).matches()) {
        throw ApiException.badRequest("metric", "\"" + Params.abbreviate(m) + "\" is not a metric name");
      }
      metrics.add(m);
    }
    blocking(ctx, () -> {
      queries.run(id); // 404 for a run nobody knows, before any byte of the answer is written
      try {
        export.check();
        return true;
      } catch (RuntimeException e) {
        throw new ApiException(503, null, "raw samples cannot be read: " + e.getMessage());
      }
    }, null).onSuccess(ok -> streamSamples(ctx, id, format, from, to, metrics));
  }

  private void streamSamples(RoutingContext ctx, String id, SampleExport.Format format, Long from, Long to,
      Set<String> metrics) {
    HttpServerResponse resp = ctx.response();
    Context context = vertx.getOrCreateContext();
    resp.setChunked(true).putHeader("Content-Type", format == SampleExport.Format.CSV ? "text/csv; charset=utf-8"
            : "application/x-ndjson")
        .putHeader("Content-Disposition", "attachment; filename=\"" + id + (format == SampleExport.Format.CSV
            ? ".csv" : ".ndjson") + "\"");
    Consumer<String> out = chunk -> {
      CompletableFuture<Void> written = new CompletableFuture<>();
      context.runOnContext(v -> {
        if (resp.closed()) {
          written.completeExceptionally(new IllegalStateException("the client went away"));
          return;
        }
        resp.write(chunk);
        if (resp.writeQueueFull()) {
          resp.drainHandler(x -> written.complete(null));
        } else {
          written.complete(null);
        }
      });
      try {
        written.get(120, TimeUnit.SECONDS); // back-pressure: read Kafka no faster than the client takes lines
      } catch (Exception e) {
        throw new IllegalStateException("export stopped: " + e.getMessage(), e);
      }
    };
    vertx.executeBlocking(() -> export.export(id, from == null ? Long.MIN_VALUE : from,
        to == null ? Long.MAX_VALUE : to, metrics, format, out), false).onComplete(ar -> {
          if (ar.succeeded()) {
            resp.end();
          } else {
            LOG.warn("export of {} failed: {}", id, ar.cause().toString());
            resp.reset();
          }
        });
  }

  // ---------------------------------------------------------------- plumbing

  private Handler<RoutingContext> read(Handler<RoutingContext> h) {
    return scoped(ApiConfig.Scope.READ, h);
  }

  private Handler<RoutingContext> write(Handler<RoutingContext> h) {
    return scoped(ApiConfig.Scope.WRITE, h);
  }

  /** Bearer token check, then the handler; a thrown ApiException becomes its answer. */
  private Handler<RoutingContext> scoped(ApiConfig.Scope needed, Handler<RoutingContext> h) {
    return ctx -> {
      try {
        String auth = ctx.request().getHeader("Authorization");
        String token = null;
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
          token = auth.substring(7).strip();
        } else if (ctx.request().method() == HttpMethod.GET && (ctx.request().path().endsWith("/live")
            || ctx.request().path().endsWith("/samples"))) {
          token = ctx.request().getParam("access_token"); // EventSource and download links cannot set headers
        }
        ApiConfig.Scope scope;
        if ((token == null || token.isEmpty()) && auth == null && ctx.request().getCookie(
            dev.loadtest.api.web.WebSessions.COOKIE) != null) {
          scope = dev.loadtest.api.web.WebApp.sessionScope(ctx, sessions);
          if (!scope.allows(needed)) {
            throw new ApiException(403, null, "this session's token may only read; this needs the write scope");
          }
          if (ctx.request().method() == HttpMethod.GET) {
            ctx.put(SHARED_READ, Boolean.TRUE);
          } else {
            sharedReads.clear();
          }
          h.handle(ctx);
          return;
        }
        if (token == null || token.isEmpty()) {
          ctx.response().putHeader("WWW-Authenticate", "Bearer");
          throw new ApiException(401, null, "a bearer token is required (Authorization: Bearer TOKEN)");
        }
        scope = scopeOf(token);
        if (scope == null) {
          ctx.response().putHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
          throw new ApiException(401, null, "the bearer token is not valid");
        }
        if (!scope.allows(needed)) {
          throw new ApiException(403, null, "this token may only " + scope.name().toLowerCase(java.util.Locale.ROOT)
              + "; this endpoint needs the " + needed.name().toLowerCase(java.util.Locale.ROOT) + " scope");
        }
        if (ctx.request().method() != HttpMethod.GET) {
          sharedReads.clear(); // the app's pages show what this write changes
        }
        h.handle(ctx);
      } catch (ApiException e) {
        fail(ctx, e);
      }
    };
  }

  ApiConfig.Scope scopeOf(String token) {
    byte[] given = token.getBytes(StandardCharsets.UTF_8);
    ApiConfig.Scope found = null;
    for (Map.Entry<String, ApiConfig.Scope> e : tokens.entrySet()) {
      if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
        found = e.getValue();
      }
    }
    return found;
  }

  private static Params params(RoutingContext ctx, String... allowed) {
    return new Params(ctx.queryParams(), ctx.pathParams(), Set.of(allowed));
  }

  /**
   * Runs {@code work} on the worker pool and answers with its JSON (when {@code status} is not null),
   * written there too, as bytes: a panel's answer can be half a megabyte, which the event loop should
   * only send.
   */
  private <T> Future<T> blocking(RoutingContext ctx, Callable<T> work, Integer status) {
    if (status == null) {
      return failOn(ctx, vertx.executeBlocking(work, false));
    }
    Callable<Buffer> answer = () -> Buffer.buffer(JSON.writeValueAsBytes(work.call()));
    Future<Buffer> body = failOn(ctx, status == 200 && ctx.get(SHARED_READ) != null
        ? sharedReads.get(ctx.request().uri(), () -> vertx.executeBlocking(answer, false))
        : vertx.executeBlocking(answer, false));
    body.onSuccess(b -> {
      if (!ctx.response().ended() && !ctx.response().closed()) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(b);
      }
    });
    return body.map(b -> null);
  }

  /** Answers a failure of {@code f} with its status and message. */
  private <T> Future<T> failOn(RoutingContext ctx, Future<T> f) {
    f.onFailure(t -> {
      if (t instanceof ApiException e) {
        fail(ctx, e);
      } else if (t instanceof RunCommands.Invalid inv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", 400);
        m.put("error", "the request is not a valid start command: " + inv.errors().size() + " error(s)");
        m.put("errors", inv.errors().stream().map(e -> Map.of("path", e.path(), "message", e.message())).toList());
        json(ctx, 400, m);
      } else if (t instanceof ClickHouseException) {
        LOG.warn("ClickHouse failed for {} {}: {}", ctx.request().method(), ctx.request().uri(), t.getMessage());
        fail(ctx, new ApiException(503, null, "the metric store is not available: "
            + t.getMessage().lines().findFirst().orElse("")));
      } else {
        LOG.error("failure of {} {}", ctx.request().method(), ctx.request().uri(), t);
        fail(ctx, new ApiException(500, null, "internal error: " + t));
      }
    });
    return f;
  }

  private static void fail(RoutingContext ctx, ApiException e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", e.status());
    m.put("error", e.getMessage());
    if (e.parameter() != null) {
      m.put("parameter", e.parameter());
    }
    json(ctx, e.status(), m);
  }

  private static void json(RoutingContext ctx, int status, Object body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(write(body));
  }

  static String write(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Object> sentBody(RunCommands.Sent s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("testRunId", s.testRunId());
    m.put("commandId", s.commandId());
    m.put("command", s.type());
    m.put("run", BASE + "/runs/" + s.testRunId());
    return m;
  }

  private static Map<String, Object> runRow(RunReader.RunRow r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("testRunId", r.testRunId());
    m.put("name", r.name());
    m.put("project", r.project());
    m.put("status", r.status());
    m.put("reason", r.reason().isEmpty() ? null : r.reason());
    m.put("tags", r.tags());
    m.put("createdAt", r.createdAtSec() * 1000);
    m.put("startedAt", r.startedAtSec() == 0 ? null : r.startedAtSec() * 1000);
    m.put("endedAt", r.endedAtSec() == 0 ? null : r.endedAtSec() * 1000);
    m.put("verdict", r.verdict().isEmpty() ? null : r.verdict());
    return m;
  }

  /**
   * Whether a run's state should say how far ingestion is behind: while it runs, and for ten minutes after
   * its end (while its results may still be arriving).
   */
  static boolean ingestionMatters(RunState s, long nowMs) {
    if (!s.status().terminal()) {
      return true;
    }
    return !s.history().isEmpty() && nowMs - s.history().get(s.history().size() - 1).atMs() < 600_000;
  }

  static Map<String, Object> runBody(RunState s) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("testRunId", s.testRunId());
    m.put("status", s.status().name());
    m.put("version", s.version());
    m.put("metadata", s.metadata());
    m.put("planHash", s.planHash());
    m.put("plan", s.plan() == null || s.plan().isEmpty() ? null : JSON.readTree(s.plan()));
    m.put("history", s.history());
    m.put("errors", s.errors());
    m.put("abortSource", s.abortSource());
    m.put("verdict", s.verdict());
    m.put("totals", s.totals());
    m.put("warnings", s.warnings());
    return m;
  }

  private static String openapi() {
    try (InputStream in = ApiServer.class.getResourceAsStream("/openapi.json")) {
      if (in == null) {
        throw new IllegalStateException("openapi.json is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.debug("closing the HTTP server", e);
    }
    live.close();
    notifier.close();
    schedules.close();
    health.close();
    commands.close();
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.debug("closing Vert.x", e);
    }
  }

  /** Runs the API until the process is stopped: {@code QueryApi [options]} (see {@link ApiConfig#parse}). */
  public static void main(String[] args) throws Exception {
    ApiConfig config;
    try {
      config = ApiConfig.parse(List.of(args), System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("query-api: " + e.getMessage());
      System.exit(2);
      return;
    }
    ApiServer s = start(config);
    System.out.println("query API at " + s.url() + (s.generatedToken() == null ? ""
        : "  (write token: " + s.generatedToken() + ")"));
    Runtime.getRuntime().addShutdownHook(new Thread(s::close));
    Thread.currentThread().join();
  }
}
