package dev.loadtest.generator.agent;

import dev.loadtest.generator.sink.KafkaPublisher;
import dev.loadtest.schemas.generator.Assignment;
import dev.loadtest.schemas.generator.GeneratorJson;
import dev.loadtest.schemas.plan.InvalidPlanException;
import dev.loadtest.schemas.segment.ExecutionSegmentSequence;
import dev.loadtest.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generator joined to a cluster: sends its {@link dev.loadtest.schemas.generator.Heartbeat} to
 * {@code loadtest.generators} every interval (and at once when a run of it ends), and carries out the
 * assignments keyed by its id on {@code loadtest.assignments}: start at the assigned time, stop
 * gracefully, abort at once.
 *
 * <p>Assignments are read from the end of the topic when the agent starts (a restarted agent does not
 * replay old runs), and a start whose time is more than {@link #STALE_START} past is refused as stale. An
 * assignment the agent cannot carry out (invalid, unknown plug-in, already running) is reported in the
 * next heartbeat as a FAILED run with the reason; the agent goes on.
 */
public final class GeneratorAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GeneratorAgent.class);
  static final Duration STALE_START = Duration.ofMinutes(1);

  private final Generator generator;
  private final KafkaProducer<String, String> heartbeats;
  private final KafkaConsumer<String, String> assignments;
  private final Thread heartbeatThread;
  private final Thread assignmentThread;
  private final Path baseDir;
  private final AutoCloseable ownedPublisher;
  private volatile boolean closed;
  private volatile boolean ready;

  public GeneratorAgent(Generator generator, Path baseDir) {
    this(generator, baseDir, null);
  }

  private GeneratorAgent(Generator generator, Path baseDir, AutoCloseable ownedPublisher) {
    this.ownedPublisher = ownedPublisher;
    this.generator = generator;
    this.baseDir = baseDir;
    GeneratorConfig c = generator.config();
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
    pp.put(ProducerConfig.CLIENT_ID_CONFIG, "generator-" + c.generatorId() + "-heartbeat");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    this.heartbeats = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer());
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
    cp.put(ConsumerConfig.GROUP_ID_CONFIG, "generator-" + c.generatorId());
    cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "generator-" + c.generatorId() + "-assignments");
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true);
    this.assignments = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer());
    this.heartbeatThread = Thread.ofPlatform().name("heartbeat").unstarted(this::heartbeatLoop);
    this.assignmentThread = Thread.ofPlatform().name("assignments").unstarted(this::assignmentLoop);
  }

  /**
   * An agent of {@code config} publishing samples to its bootstrap servers with a Kafka publisher of its own
   * (closed with the agent), started.
   */
  public static GeneratorAgent join(GeneratorConfig config, Path baseDir) throws InterruptedException {
    KafkaPublisher publisher = new KafkaPublisher(config.bootstrapServers(), config.generatorId(), Map.of());
    return new GeneratorAgent(new Generator(config, publisher), baseDir, publisher).start();
  }

  /** Starts heartbeats and listening; returns once the agent is subscribed and its first heartbeat is sent. */
  public GeneratorAgent start() throws InterruptedException {
    assignmentThread.start();
    sendHeartbeat();
    heartbeatThread.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    synchronized (this) {
      while (!ready && System.nanoTime() < deadline) {
        wait(100);
      }
    }
    if (!ready) {
      throw new IllegalStateException("the agent could not join the assignments topic within 30 s");
    }
    return this;
  }

  public Generator generator() {
    return generator;
  }

  private void heartbeatLoop() {
    while (!closed) {
      try {
        Thread.sleep(generator.config().heartbeatInterval());
      } catch (InterruptedException e) {
        return;
      }
      sendHeartbeat();
    }
  }

  private synchronized void sendHeartbeat() {
    var h = generator.heartbeat();
    heartbeats.send(new ProducerRecord<>(Topics.GENERATORS, h.generatorId(), GeneratorJson.heartbeat(h)), (m, e) -> {
      if (e != null) {
        LOG.warn("heartbeat not delivered: {}", e.toString());
      }
    });
  }

  private void assignmentLoop() {
    String me = generator.config().generatorId();
    try {
      assignments.subscribe(List.of(Topics.ASSIGNMENTS), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(java.util.Collection<org.apache.kafka.common.TopicPartition> p) {}

        @Override
        public void onPartitionsAssigned(java.util.Collection<org.apache.kafka.common.TopicPartition> p) {
          // Resolve the "latest" positions now, so that nothing sent after start() is missed.
          p.forEach(assignments::position);
          synchronized (GeneratorAgent.this) {
            ready = true;
            GeneratorAgent.this.notifyAll();
          }
        }
      });
      while (!closed) {
        for (ConsumerRecord<String, String> r : assignments.poll(Duration.ofMillis(200))) {
          if (me.equals(r.key())) {
            handle(r.value());
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      assignments.close();
    }
  }

  void handle(String json) {
    Assignment a;
    try {
      a = GeneratorJson.parseAssignment(json);
    } catch (IllegalArgumentException e) {
      LOG.warn("ignored a malformed assignment: {}", e.getMessage());
      return;
    }
    switch (a) {
      case Assignment.Start s -> start(s);
      case Assignment.Stop s -> {
        var run = generator.run(s.testRunId());
        if (run != null) {
          LOG.info("run {}: stopping gracefully", s.testRunId());
          run.stop();
        }
      }
      case Assignment.Abort ab -> {
        var run = generator.run(ab.testRunId());
        if (run != null) {
          LOG.info("run {}: aborting ({})", ab.testRunId(), ab.reason());
          run.abort();
        }
      }
    }
  }

  private void start(Assignment.Start s) {
    String why;
    try {
      if (System.currentTimeMillis() - s.startAtMs() > STALE_START.toMillis()) {
        throw new IllegalArgumentException("its start time passed more than " + STALE_START.toSeconds() + " s ago");
      }
      ExecutionSegmentSequence seq = ExecutionSegmentSequence.parse(s.sequence());
      if (s.segmentIndex() < 0 || s.segmentIndex() >= seq.segmentCount()) {
        throw new IllegalArgumentException("segment " + s.segmentIndex() + " is not in " + seq);
      }
      generator.start(s.testRunId(), s.planJson(), seq, s.segmentIndex(), s.startAtMs(), Map.of(), baseDir,
          report -> {
            LOG.info("run {}: {} on segment {} ({} iterations, {} samples delivered, {} undelivered)",
                report.testRunId(), report.phase(), report.segment(), report.iterations(), report.samples().delivered(),
                report.samples().undelivered());
            sendHeartbeat();
          });
      LOG.info("run {}: segment {} of {} starts in {} ms", s.testRunId(), s.segmentIndex(), s.sequence(),
          s.startAtMs() - System.currentTimeMillis());
      sendHeartbeat();
      return;
    } catch (InvalidPlanException e) {
      why = "invalid plan: " + e.getMessage();
    } catch (RuntimeException e) {
      why = "cannot start: " + e.getMessage();
    }
    LOG.warn("run {}: assignment refused: {}", s.testRunId(), why);
    generator.refused(s.testRunId(), why);
    sendHeartbeat();
  }

  @Override
  public void close() throws Exception {
    closed = true;
    assignments.wakeup();
    heartbeatThread.interrupt();
    assignmentThread.join(10_000);
    heartbeatThread.join(10_000);
    generator.close();
    try {
      // A tombstone after the last heartbeat: the coordinator allocates no new run to a generator that has
      // left (rather than until its silence makes it lost), and compaction forgets it.
      heartbeats.send(new ProducerRecord<>(Topics.GENERATORS, generator.config().generatorId(), null))
          .get(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn("generator {}: could not say it leaves ({}); it is taken for lost after its silence",
          generator.config().generatorId(), e.getMessage());
    }
    heartbeats.close(Duration.ofSeconds(5));
    if (ownedPublisher != null) {
      ownedPublisher.close();
    }
  }
}
