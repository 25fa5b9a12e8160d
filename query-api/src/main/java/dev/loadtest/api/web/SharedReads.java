package dev.loadtest.api.web;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Answers the web app's viewers share: the same read (path and query) asked by several pages of a run within
 * {@code ttl} of each other is computed once, and asked while it is being computed, waits for that
 * computation instead of starting another. Sixteen people opening the page of one live run cost the store
 * about what one does. Only successful answers are kept, at most {@code max} of them and {@code maxBytes}
 * together (an answer beyond the budget is shared only while in flight); any write through the
 * API drops them all ({@link #clear}), so a page never shows a run as it was before a change made through
 * this API. Calls with a bearer token (the CLI, CI gates) never come here: they always read afresh.
 */
public final class SharedReads {
  private static final class Entry {
    final Future<Buffer> answer;
    volatile long doneAtNanos; // 0 while in flight
    volatile long bytes; // counted in the budget once done

    Entry(Future<Buffer> answer) {
      this.answer = answer;
    }
  }

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final long ttlNanos;
  private final int max;
  private final long maxBytes;
  private final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
  private final LongSupplier nanoTime;

  /** At most {@code max} answers of together at most {@code maxBytes}, each shared for {@code ttlMillis}. */
  public SharedReads(long ttlMillis, int max, long maxBytes, LongSupplier nanoTime) {
    if (ttlMillis < 0 || max < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("a non-negative lifetime and room for one answer are needed");
    }
    this.ttlNanos = ttlMillis * 1_000_000L;
    this.max = max;
    this.maxBytes = maxBytes;
    this.nanoTime = nanoTime;
  }

  public SharedReads(long ttlMillis, int max, LongSupplier nanoTime) {
    this(ttlMillis, max, 64L << 20, nanoTime);
  }

  /** The shared answer to {@code key}: a fresh or in-flight one, else what {@code compute} starts. */
  public Future<Buffer> get(String key, Supplier<Future<Buffer>> compute) {
    Entry e = entries.get(key);
    if (e != null && usable(e)) {
      return e.answer;
    }
    if (entries.size() >= max || bytes.get() >= maxBytes) {
      entries.entrySet().removeIf(x -> {
        Entry v = x.getValue();
        if (v.doneAtNanos != 0 && !usable(v)) {
          bytes.addAndGet(-v.bytes);
          return true;
        }
        return false;
      });
      if (entries.size() >= max || bytes.get() >= maxBytes) {
        return compute.get(); // full of answers in use: this one is not shared
      }
    }
    Entry[] mine = new Entry[1];
    Entry winner = entries.compute(key, (k, old) -> {
      if (old != null && usable(old)) {
        return old;
      }
      if (old != null) {
        bytes.addAndGet(-old.bytes); // an expired answer replaced
      }
      mine[0] = new Entry(compute.get());
      return mine[0];
    });
    if (winner == mine[0]) {
      Entry m = mine[0];
      m.answer.onComplete(r -> {
        if (r.succeeded() && bytes.get() + r.result().length() <= maxBytes) {
          m.bytes = r.result().length();
          bytes.addAndGet(m.bytes);
          m.doneAtNanos = Math.max(1, nanoTime.getAsLong());
        } else {
          // errors are never shared after the fact, nor answers beyond the budget (their waiters had them)
          entries.remove(key, m);
        }
      });
    }
    return winner.answer;
  }

  private boolean usable(Entry e) {
    long done = e.doneAtNanos;
    return done == 0 ? !e.answer.failed() : nanoTime.getAsLong() - done < ttlNanos;
  }

  /** Forgets every answer (after a write). */
  public void clear() {
    entries.values().removeIf(e -> {
      bytes.addAndGet(-e.bytes);
      return true;
    });
  }

  /** The bytes of the answers kept. */
  public long bytes() {
    return bytes.get();
  }

  public int size() {
    return entries.size();
  }
}
