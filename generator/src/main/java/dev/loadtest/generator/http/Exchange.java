package dev.loadtest.generator.http;

/**
 * The moments of one request/response exchange, in {@link System#nanoTime()}, written by Jetty's
 * threads and read by the VU after the exchange completes (the completion hand-off orders them). A
 * moment that did not happen stays 0.
 */
final class Exchange {
  long sendNanos;
  volatile long connectStartNanos;
  volatile long connectEndNanos;
  volatile boolean tls;
  volatile long beginNanos;
  volatile long commitNanos;
  volatile long requestDoneNanos;
  volatile long responseBeginNanos;
  volatile long endNanos;
}
