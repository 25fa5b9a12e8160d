package dev.loadtest.benchmarks;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * What Jetty HttpClient alone does on this machine, as the floor under the generator's throughput
 * figure: N connections looping GETs with no samples, no timing and no Kafka, either as plain async
 * callbacks (Jetty's best case) or as N virtual threads that block on each response (the generator's
 * VU model), with Jetty's selector on a platform thread ({@code vt}) or, as the generator runs it, on a
 * virtual thread too ({@code vtpool}). Usage: {@code JettyFloor async|vt|vtpool URL CONNECTIONS SECONDS};
 * prints requests/s.
 */
public final class JettyFloor {
  private JettyFloor() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String url = args[1];
    int connections = Integer.parseInt(args[2]);
    long seconds = Long.parseLong(args[3]);
    ClientConnector connector = new ClientConnector();
    connector.setSelectors(1);
    HttpClientTransportOverHTTP transport = new HttpClientTransportOverHTTP(connector);
    transport.setInvocationType(Invocable.InvocationType.NON_BLOCKING);
    HttpClient client = new HttpClient(transport);
    if (mode.equals("vtpool")) {
      client.setExecutor(new org.eclipse.jetty.util.thread.VirtualThreadPool()); // the selector too
    } else {
      QueuedThreadPool pool = new QueuedThreadPool(4, 1);
      pool.setReservedThreads(0);
      client.setExecutor(pool);
    }
    client.setMaxConnectionsPerDestination(connections);
    client.start();
    AtomicLong done = new AtomicLong();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    if (mode.equals("async")) {
      CountDownLatch finished = new CountDownLatch(connections);
      for (int i = 0; i < connections; i++) {
        new Runnable() {
          @Override
          public void run() {
            client.newRequest(url).send(r -> {
              done.incrementAndGet();
              if (System.nanoTime() < end) {
                run();
              } else {
                finished.countDown();
              }
            });
          }
        }.run();
      }
      finished.await();
    } else {
      Thread[] vus = new Thread[connections];
      for (int i = 0; i < connections; i++) {
        vus[i] = Thread.ofVirtual().start(() -> {
          while (System.nanoTime() < end) {
            CompletableFuture<Result> response = new CompletableFuture<>();
            client.newRequest(url).send(response::complete);
            try {
              response.get();
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
            done.incrementAndGet();
          }
        });
      }
      for (Thread t : vus) {
        t.join();
      }
    }
    System.out.printf("jetty-%s %.1f req/s%n", mode, done.get() / (double) seconds);
    client.stop();
  }
}
