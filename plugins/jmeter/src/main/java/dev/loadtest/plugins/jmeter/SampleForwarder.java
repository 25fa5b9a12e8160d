package dev.loadtest.plugins.jmeter;

import dev.loadtest.generator.plugin.PluginContext;
import dev.loadtest.generator.plugin.RequestTags;
import dev.loadtest.generator.plugin.ToolTimings;
import dev.loadtest.schemas.metrics.MetricType;
import dev.loadtest.schemas.sample.TagSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.jmeter.assertions.AssertionResult;
import org.apache.jmeter.control.TransactionController;
import org.apache.jmeter.protocol.http.sampler.HTTPSampleResult;
import org.apache.jmeter.samplers.SampleEvent;
import org.apache.jmeter.samplers.SampleListener;
import org.apache.jmeter.samplers.SampleResult;
import org.apache.jmeter.testelement.AbstractTestElement;
import org.apache.jmeter.testelement.ThreadListener;
import org.apache.jmeter.threads.JMeterContext;
import org.apache.jmeter.threads.JMeterContextService;
import org.apache.jmeter.engine.util.NoThreadClone;

/**
 * A JMeter listener that turns each sample into k6 samples as JMeter reports it, on the sampling thread:
 *
 * <ul>
 *   <li>an HTTP sample is one request ({@code http_reqs} and the other {@code http_req_*} metrics) tagged
 *       {@code name} (its label), {@code method}, {@code status}, {@code scenario} (its thread group),
 *       {@code group} and {@code expected_response}; a sample with sub-results (redirects, embedded resources)
 *       is its sub-results, each a request under the parent's label, as k6 counts each redirect;</li>
 *   <li>{@code http_req_failed} is JMeter's own verdict (status and assertions), so a plan's assertions count
 *       as they do in JMeter's reports;</li>
 *   <li>timings, JMeter's whole milliseconds: connecting = connect time, waiting = latency - connect time,
 *       receiving = elapsed - latency, and {@code http_req_duration} = waiting + receiving (k6 leaves
 *       connecting out of it); bytes sent and received as JMeter counts them;</li>
 *   <li>each assertion result is a {@code checks} sample tagged {@code check} (the assertion's name);</li>
 *   <li>a transaction controller's sample is a {@code group_duration} sample of group {@code ::NAME}; with
 *       "generate parent sample" its samplers' results are requests of that group;</li>
 *   <li>each thread's loop is an iteration ({@code iterations}, {@code iteration_duration} from its first
 *       sample's start to its last sample's end).</li>
 * </ul>
 *
 * Samples of other samplers (JDBC, JSR223, Debug...) have no k6 metric: they are counted as unsupported and
 * reported with the run's failed iterations, never stored as requests.
 */
final class SampleForwarder extends AbstractTestElement implements SampleListener, ThreadListener, NoThreadClone {
  private static final long serialVersionUID = 1L;
  private final transient PluginContext c;
  private final transient Map<String, String> planTags;
  private final transient Map<String, TagSet> tagSets = new ConcurrentHashMap<>();
  private final transient Map<Thread, long[]> loops = new ConcurrentHashMap<>();
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicLong iterations = new AtomicLong();
  private final AtomicLong unsupported = new AtomicLong();
  private final transient List<String> unsupportedReasons = new CopyOnWriteArrayList<>();
  private volatile boolean interrupted;

  SampleForwarder(PluginContext c) {
    this.c = c;
    this.planTags = c.plan().tags();
    setName("loadtest sample forwarder");
  }

  @Override
  public void sampleOccurred(SampleEvent e) {
    if (interrupted) {
      return;
    }
    SampleResult r = e.getResult();
    String scenario = e.getThreadGroup() == null ? "" : e.getThreadGroup();
    try {
      if (e.isTransactionSampleEvent() || TransactionController.isFromTransactionController(r)) {
        String group = "::" + r.getSampleLabel();
        c.sink().point("group_duration", MetricType.TREND, r.getEndTime() * 1000, tags(Map.of("scenario", scenario,
            "group", group)), r.getTime());
        for (SampleResult sub : r.getSubResults()) {
          forward(sub, sub.getSampleLabel(), scenario, group);
        }
      } else {
        forward(r, r.getSampleLabel(), scenario, "");
      }
      iteration(r);
    } catch (InterruptedException ex) {
      interrupted = true;
      Thread.currentThread().interrupt();
    }
  }

  /** {@code r} as requests named {@code label}: itself, or its sub-results when it has some. */
  private void forward(SampleResult r, String label, String scenario, String group) throws InterruptedException {
    SampleResult[] subs = r.getSubResults();
    if (subs.length > 0) {
      for (SampleResult s : subs) {
        forward(s, label, scenario, group);
      }
      return;
    }
    if (!(r instanceof HTTPSampleResult http)) {
      unsupported.incrementAndGet();
      if (unsupportedReasons.size() < 5) {
        String reason = "JMeter sample \"" + label + "\" (" + r.getClass().getSimpleName()
            + ") is not an HTTP sample: not stored";
        if (!unsupportedReasons.contains(reason)) {
          unsupportedReasons.add(reason);
        }
      }
      return;
    }
    int status = RequestTags.status(r.getResponseCode());
    boolean ok = r.isSuccessful();
    TagSet t = tagSet(label, http.getHTTPMethod(), status, scenario, group, ok);
    c.sink().request(r.getStartTime() * 1000, t, ToolTimings.jmeter(r.getTime(), r.getLatency(), r.getConnectTime(),
        r.getSentBytes(), r.getBytesAsLong()), !ok, vu());
    for (AssertionResult a : r.getAssertionResults()) {
      TreeMap<String, String> m = new TreeMap<>(planTags);
      m.put("check", a.getName() == null ? "" : a.getName());
      m.put("name", label);
      m.put("scenario", scenario);
      m.put("group", group);
      c.sink().point("checks", MetricType.RATE, r.getEndTime() * 1000, TagSet.of(m),
          a.isFailure() || a.isError() ? 0 : 1);
    }
  }

  /** A loop of this thread ended when its next one's first sample arrives (or when the thread ends). */
  private void iteration(SampleResult r) throws InterruptedException {
    JMeterContext ctx = JMeterContextService.getContext();
    int it = ctx.getVariables() == null ? 0 : ctx.getVariables().getIteration();
    long[] s = loops.computeIfAbsent(Thread.currentThread(), k -> new long[] {-1, 0, 0, 0});
    if (s[0] != it) {
      endIteration(s);
      s[0] = it;
      s[1] = r.getStartTime();
    }
    s[2] = Math.max(s[2], r.getEndTime());
    s[3] = 1;
  }

  private void endIteration(long[] s) throws InterruptedException {
    if (s[3] == 0) {
      return;
    }
    String scenario = JMeterContextService.getContext().getThreadGroup() == null ? ""
        : JMeterContextService.getContext().getThreadGroup().getName();
    TagSet t = tags(Map.of("scenario", scenario, "group", ""));
    c.sink().point("iterations", MetricType.COUNTER, s[2] * 1000, t, 1);
    c.sink().point("iteration_duration", MetricType.TREND, s[2] * 1000, t, Math.max(0, s[2] - s[1]));
    iterations.incrementAndGet();
    s[2] = 0;
    s[3] = 0;
  }

  private TagSet tagSet(String label, String method, int status, String scenario, String group, boolean ok) {
    String key = label + '\n' + method + '\n' + status + '\n' + scenario + '\n' + group + '\n' + ok;
    return tagSets.computeIfAbsent(key, k -> RequestTags.of(planTags, label, method, status, scenario, group, ok));
  }

  private TagSet tags(Map<String, String> extra) {
    TreeMap<String, String> m = new TreeMap<>(planTags);
    m.putAll(extra);
    return TagSet.of(m);
  }

  private static int vu() {
    return JMeterContextService.getContext().getThreadNum() + 1;
  }

  @Override
  public void sampleStarted(SampleEvent e) {}

  @Override
  public void sampleStopped(SampleEvent e) {}

  @Override
  public void threadStarted() {
    active.incrementAndGet();
  }

  @Override
  public void threadFinished() {
    active.decrementAndGet();
    long[] s = loops.remove(Thread.currentThread());
    if (s != null && !interrupted) {
      try {
        endIteration(s);
      } catch (InterruptedException e) {
        interrupted = true;
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Called once the engine has ended: no thread of the run is left. */
  void endOfRun() {
    loops.clear();
  }

  boolean interrupted() {
    return interrupted;
  }

  long iterations() {
    return iterations.get();
  }

  int activeThreads() {
    return Math.max(0, active.get());
  }

  long unsupportedSamples() {
    return unsupported.get();
  }

  List<String> unsupportedReasons() {
    return List.copyOf(unsupportedReasons);
  }
}
