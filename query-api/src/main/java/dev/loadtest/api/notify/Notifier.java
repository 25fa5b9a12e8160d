package dev.loadtest.api.notify;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loadtest.schemas.insight.Insight;
import dev.loadtest.schemas.run.RunState;
import dev.loadtest.schemas.run.RunStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends run events to the webhooks of the run's project: it reads {@code loadtest.runs} and
 * {@code loadtest.insights} in its own consumer group (so that among several API processes each event is
 * sent by one) and is told of regressions by the API's gates. Events: {@code finished},
 * {@code thresholds-failed}, {@code aborted-by-threshold}, {@code aborted-by-user}, {@code aborted-by-system},
 * {@code failed}, {@code regression}, {@code insight}; each at most once per run (per insight rule and
 * subject): each has a stable id ({@code eventId} in the body, {@code X-Loadtest-Event-Id}), and one delivered
 * already (recorded in {@code webhook_deliveries}) is not sent again by a restarted or another API process. A delivery is a POST of a JSON body (or Slack's {@code {"text": ...}} form), signed
 * with the webhook's secret ({@code X-Loadtest-Signature: sha256=HMAC}); it is retried with backoff (1, 2, 4,
 * 8 s) until a 2xx answer or {@link #ATTEMPTS} attempts, and every attempt is recorded. Secrets and bodies
 * are never logged.
 */
public final class Notifier implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  public static final List<String> EVENTS = List.of("finished", "thresholds-failed", "aborted-by-threshold",
      "aborted-by-user", "aborted-by-system", "failed", "regression", "insight");
  public static final String GROUP = "loadtest-notifier";
  static final int ATTEMPTS = 5;
  private static final int SENT_KEPT = 100_000;

  private final WebhookStore store;
  private final String apiBase;
  private final Duration firstBackoff;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ScheduledExecutorService sender = Executors.newScheduledThreadPool(2,
      Thread.ofPlatform().name("webhook-sender-", 0).daemon().factory());
  private final Set<String> sent = java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > SENT_KEPT;
        }
      }));
  /** Project and name of the runs seen on the runs topic (insights carry only the run id). */
  private final Map<String, String[]> runs = java.util.Collections.synchronizedMap(new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String[]> eldest) {
      return size() > SENT_KEPT;
    }
  });
  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final java.util.concurrent.CountDownLatch assigned = new java.util.concurrent.CountDownLatch(1);

  /**
   * @param apiBase the API's public base URL, for links in the bodies (may be relative)
   * @param firstBackoff the wait before the second attempt (doubled for each next one)
   */
  public Notifier(String bootstrapServers, String runsTopic, String insightsTopic, WebhookStore store, String apiBase,
      Duration firstBackoff) {
    this.store = store;
    this.apiBase = apiBase;
    this.firstBackoff = firstBackoff;
    this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.GROUP_ID_CONFIG, GROUP, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true, ConsumerConfig.CLIENT_ID_CONFIG, "query-api-notifier"),
        new StringDeserializer(), new StringDeserializer());
    this.thread = Thread.ofPlatform().name("notifier").daemon().start(() -> loop(runsTopic, insightsTopic));
  }

  private void loop(String runsTopic, String insightsTopic) {
    try {
      consumer.subscribe(List.of(runsTopic, insightsTopic), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(java.util.Collection<org.apache.kafka.common.TopicPartition> parts) {}

        @Override
        public void onPartitionsAssigned(java.util.Collection<org.apache.kafka.common.TopicPartition> parts) {
          parts.forEach(consumer::position); // resolve "latest" now: events after this point are sent
          assigned.countDown();
        }
      });
      while (running.get()) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          try {
            if (r.value() == null) {
              continue;
            }
            if (r.topic().equals(runsTopic)) {
              onRunState(RunState.fromJson(r.value()));
            } else {
              onInsight(Insight.fromJson(r.value()));
            }
          } catch (RuntimeException e) {
            LOG.warn("notifier skipped an unreadable record of {} at offset {}: {}", r.topic(), r.offset(),
                e.getMessage());
          }
        }
      }
    } catch (org.apache.kafka.common.errors.WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOG.error("the notifier stopped: {}", e.toString());
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  /** Waits until the notifier reads its topics (events from then on are sent). */
  public boolean awaitAssigned(Duration timeout) throws InterruptedException {
    return assigned.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The events a run state means (at most once each per run). */
  static List<String> events(RunState s) {
    List<String> out = new ArrayList<>();
    switch (s.status()) {
      case FINISHED -> {
        out.add("finished");
        if (s.verdict() != null && (!s.verdict().failed().isEmpty() || !s.verdict().noData().isEmpty())) {
          out.add("thresholds-failed");
        }
      }
      case ABORTED -> out.add(switch (s.abortSource() == null ? "" : s.abortSource().toLowerCase(java.util.Locale.ROOT)) {
        case "threshold" -> "aborted-by-threshold";
        case "user" -> "aborted-by-user";
        default -> "aborted-by-system";
      });
      case FAILED -> out.add("failed");
      default -> { }
    }
    return out;
  }

  void onRunState(RunState s) {
    String project = s.metadata() == null || s.metadata().project() == null ? "" : s.metadata().project();
    String name = s.metadata() == null || s.metadata().name() == null ? "" : s.metadata().name();
    runs.put(s.testRunId(), new String[] {project, name});
    for (String event : events(s)) {
      Map<String, Object> body = base(event, s.testRunId(), project, name);
      body.put("status", s.status().name());
      body.put("reason", s.lastReason());
      if (s.verdict() != null) {
        body.put("verdict", Map.of("passed", s.verdict().passed(), "failed", s.verdict().failed(), "noData",
            s.verdict().noData()));
      }
      String text = "run " + label(s.testRunId(), name) + " " + switch (event) {
        case "finished" -> "finished";
        case "thresholds-failed" -> "failed thresholds: " + String.join(", ", s.verdict().failed())
            + (s.verdict().noData().isEmpty() ? "" : " (no data: " + String.join(", ", s.verdict().noData()) + ")");
        case "failed" -> "failed: " + s.lastReason();
        default -> "was aborted (" + event.substring("aborted-by-".length()) + "): " + s.lastReason();
      };
      notify(project, event, s.testRunId(), event, body, text);
    }
  }

  void onInsight(Insight i) {
    if (i.rule().equals(Insight.JUDGED)) {
      return;
    }
    String[] pn = runs.getOrDefault(i.testRunId(), new String[] {"", ""});
    Map<String, Object> body = base("insight", i.testRunId(), pn[0], pn[1]);
    body.put("insight", Map.of("rule", i.rule(), "subject", i.subject(), "severity", i.severity() == null ? ""
        : i.severity(), "title", i.title() == null ? "" : i.title(), "message", i.message(), "from", i.fromMs(),
        "to", i.toMs(), "values", i.values()));
    notify(pn[0], "insight", i.testRunId(), "insight/" + i.rule() + "/" + i.subject(), body,
        "run " + label(i.testRunId(), pn[1]) + ": " + i.title() + ": " + i.message());
  }

  /** A regression gate found {@code run} past a limit against {@code baseline}. */
  public void regression(String run, String project, String name, String baseline, List<Map<String, Object>> checks) {
    Map<String, Object> body = base("regression", run, project, name);
    body.put("baseline", baseline);
    body.put("regressions", checks);
    List<String> exceeded = new ArrayList<>();
    checks.stream().filter(c -> "EXCEEDED".equals(c.get("state"))).forEach(c -> exceeded.add(String.valueOf(
        c.get("message"))));
    notify(project, "regression", run, "regression", body, "run " + label(run, name) + " regressed against run "
        + baseline + ": " + String.join("; ", exceeded));
  }

  private Map<String, Object> base(String event, String run, String project, String name) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("event", event);
    body.put("testRunId", run);
    body.put("project", project);
    body.put("name", name);
    body.put("link", apiBase + "/runs/" + run);
    body.put("at", System.currentTimeMillis());
    return body;
  }

  private static String label(String run, String name) {
    return name.isEmpty() ? run : "\"" + name + "\" (" + run + ")";
  }

  private void notify(String project, String event, String run, String dedupe, Map<String, Object> body, String text) {
    List<WebhookStore.Webhook> hooks;
    try {
      hooks = store.list(project);
    } catch (RuntimeException e) {
      LOG.warn("cannot read the webhooks of project {}: {}", project, e.getMessage());
      return;
    }
    for (WebhookStore.Webhook w : hooks) {
      if (w.wants(event) && sent.add(w.id() + "/" + run + "/" + dedupe)) {
        String eventId = eventId(w.id(), run, dedupe);
        String payload;
        try {
          Map<String, Object> withId = new LinkedHashMap<>(body);
          withId.put("eventId", eventId);
          payload = w.format().equals("slack") ? JSON.writeValueAsString(Map.of("text", "*loadtest* " + text))
              : JSON.writeValueAsString(withId);
        } catch (java.io.IOException e) {
          throw new IllegalStateException(e);
        }
        sender.execute(() -> {
          try {
            if (store.delivered(w.id(), eventId)) { // by this API before a restart, or by another API process
              skippedAsDelivered.incrementAndGet();
              LOG.info("webhook {}: {} of run {} was delivered already (event {})", w.id(), event, run, eventId);
              return;
            }
          } catch (RuntimeException e) {
            LOG.warn("cannot check the deliveries of webhook {} ({}); sending", w.id(), e.getMessage());
          }
          attempt(w, run, event, eventId, payload, 1);
        });
      }
    }
  }

  private final java.util.concurrent.atomic.AtomicLong skippedAsDelivered = new java.util.concurrent.atomic.AtomicLong();

  /** Events this notifier did not send because the store says they were delivered already. */
  public long skippedAsDelivered() {
    return skippedAsDelivered.get();
  }

  /** One event's id for one webhook: the same in every process, so that receivers and the store can tell repeats. */
  static String eventId(String webhookId, String run, String dedupe) {
    try {
      byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest((webhookId + "\n" + run + "\n" + dedupe)
          .getBytes(StandardCharsets.UTF_8));
      return "ev-" + HexFormat.of().formatHex(h, 0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void attempt(WebhookStore.Webhook w, String run, String event, String eventId, String payload, int attempt) {
    int status = 0;
    String error = null;
    try {
      HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(w.url())).timeout(Duration.ofSeconds(10))
          .header("Content-Type", "application/json").header("User-Agent", "loadtest-notifier")
          .header("X-Loadtest-Event", event).header("X-Loadtest-Webhook", w.id()).header("X-Loadtest-Event-Id", eventId)
          .POST(HttpRequest.BodyPublishers.ofString(payload));
      if (!w.secret().isEmpty()) {
        r.header("X-Loadtest-Signature", "sha256=" + sign(w.secret(), payload));
      }
      status = http.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status / 100 != 2) {
        error = "HTTP " + status;
      }
    } catch (java.io.IOException | IllegalArgumentException e) {
      error = e.getClass().getSimpleName() + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    boolean ok = error == null;
    try {
      store.record(new WebhookStore.Delivery(w.id(), run, event, attempt, status, error, ok,
          System.currentTimeMillis(), eventId));
    } catch (RuntimeException e) {
      LOG.warn("cannot record a delivery of webhook {}: {}", w.id(), e.getMessage());
    }
    if (!ok && attempt < ATTEMPTS && !sender.isShutdown()) {
      long wait = firstBackoff.toMillis() << (attempt - 1);
      LOG.info("webhook {} ({} of run {}) attempt {} failed ({}); again in {} ms", w.id(), event, run, attempt, error,
          wait);
      sender.schedule(() -> attempt(w, run, event, eventId, payload, attempt + 1), wait, TimeUnit.MILLISECONDS);
    } else if (!ok) {
      LOG.warn("webhook {} ({} of run {}) failed {} times, the last: {}; given up", w.id(), event, run, attempt, error);
    }
  }

  static String sign(String secret, String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(payload.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    sender.shutdownNow();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
