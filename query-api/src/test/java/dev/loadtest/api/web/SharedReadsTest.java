package dev.loadtest.api.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SharedReadsTest {
  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final AtomicInteger computed = new AtomicInteger();

  Future<Buffer> compute(Promise<Buffer> p) {
    computed.incrementAndGet();
    return p.future();
  }

  @Test
  void readsInFlightAndWithinTheLifetimeAreComputedOnce() {
    SharedReads shared = new SharedReads(2_000, 10, now::get);
    Promise<Buffer> p = Promise.promise();
    Future<Buffer> a = shared.get("/runs/r/summary", () -> compute(p));
    Future<Buffer> b = shared.get("/runs/r/summary", () -> compute(Promise.promise()));
    assertSame(a, b, "a read asked while in flight waits for the same computation");
    p.complete(Buffer.buffer("{}"));
    now.addAndGet(1_999_000_000L);
    assertSame(a, shared.get("/runs/r/summary", () -> compute(Promise.promise())));
    assertEquals(1, computed.get());

    now.addAndGet(1_000_000L);
    Future<Buffer> c = shared.get("/runs/r/summary", () -> compute(Promise.promise()));
    assertNotSame(a, c, "after its lifetime the answer is computed again");
    assertEquals(2, computed.get());
  }

  @Test
  void differentReadsAreDifferentAnswers() {
    SharedReads shared = new SharedReads(2_000, 10, now::get);
    Future<Buffer> a = shared.get("/runs/r/summary", () -> compute(Promise.promise()));
    Future<Buffer> b = shared.get("/runs/r/summary?from=1", () -> compute(Promise.promise()));
    assertNotSame(a, b);
    assertEquals(2, computed.get());
  }

  @Test
  void failuresAreNotKept() {
    SharedReads shared = new SharedReads(2_000, 10, now::get);
    Promise<Buffer> p = Promise.promise();
    Future<Buffer> a = shared.get("/runs/r", () -> compute(p));
    p.fail(new IllegalStateException("ClickHouse is down"));
    Future<Buffer> b = shared.get("/runs/r", () -> compute(Promise.promise()));
    assertNotSame(a, b, "the next viewer asks again");
    assertEquals(2, computed.get());
  }

  @Test
  void aWriteForgetsEverything() {
    SharedReads shared = new SharedReads(2_000, 10, now::get);
    Promise<Buffer> p = Promise.promise();
    Future<Buffer> a = shared.get("/runs/r", () -> compute(p));
    p.complete(Buffer.buffer("{\"status\":\"RUNNING\"}"));
    shared.clear();
    assertEquals(0, shared.size());
    assertNotSame(a, shared.get("/runs/r", () -> compute(Promise.promise())));
  }

  @Test
  void answersAreKeptWithinAByteBudget() {
    SharedReads shared = new SharedReads(2_000, 100, 10, now::get);
    Promise<Buffer> small = Promise.promise();
    Future<Buffer> a = shared.get("/small", () -> compute(small));
    small.complete(Buffer.buffer("12345678"));
    assertEquals(8, shared.bytes());
    assertSame(a, shared.get("/small", () -> compute(Promise.promise())), "kept: within the budget");

    Promise<Buffer> big = Promise.promise();
    Future<Buffer> b1 = shared.get("/big", () -> compute(big));
    assertSame(b1, shared.get("/big", () -> compute(Promise.promise())), "shared while in flight");
    big.complete(Buffer.buffer("0123456789"));
    assertEquals(8, shared.bytes(), "an answer over the budget is not kept");
    assertNotSame(b1, shared.get("/big", () -> compute(Promise.promise())));

    shared.clear();
    assertEquals(0, shared.bytes());
  }

  @Test
  void boundedExpiredAnswersGoFirstAndWhenFullReadsAreNotShared() {
    SharedReads shared = new SharedReads(2_000, 2, now::get);
    Promise<Buffer> p1 = Promise.promise();
    shared.get("/a", () -> compute(p1));
    shared.get("/b", () -> compute(Promise.promise())); // stays in flight
    p1.complete(Buffer.buffer("1"));
    Future<Buffer> c1 = shared.get("/c", () -> compute(Promise.promise()));
    Future<Buffer> c2 = shared.get("/c", () -> compute(Promise.promise()));
    assertNotSame(c1, c2, "full of answers in use: not shared");
    assertEquals(2, shared.size());
    now.addAndGet(3_000_000_000L); // /a expires
    Future<Buffer> d1 = shared.get("/d", () -> compute(Promise.promise()));
    assertSame(d1, shared.get("/d", () -> compute(Promise.promise())), "room made by dropping the expired answer");
    assertEquals(2, shared.size());
  }
}
