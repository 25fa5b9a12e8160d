package dev.loadtest.generator.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;

/**
 * The {@link Warmup}'s target: on 127.0.0.1 and an ephemeral port, answers every request with the same
 * 200 and a 100-byte body, headed as a web server heads it (Server, Date, Content-Type, Content-Length),
 * keeping connections open. One platform thread and a selector; requests may arrive split or pipelined.
 * It reads requests up to their blank line only, so it serves requests without a body (the warm-up's
 * GETs).
 */
final class LoopbackResponder implements AutoCloseable {
  static final int BODY_BYTES = 100;
  private static final byte[] BODY = "warm".repeat(BODY_BYTES / 4).getBytes(StandardCharsets.US_ASCII);

  private final ServerSocketChannel server;
  private final Selector selector;
  private final Thread thread;
  private volatile boolean closed;
  private long responseSecond = -1;
  private byte[] response;

  private LoopbackResponder() throws IOException {
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    server.configureBlocking(false);
    selector = Selector.open();
    server.register(selector, SelectionKey.OP_ACCEPT);
    thread = Thread.ofPlatform().daemon().name("warm-up-responder").unstarted(this::loop);
  }

  static LoopbackResponder start() throws IOException {
    LoopbackResponder r = new LoopbackResponder();
    r.thread.start();
    return r;
  }

  int port() {
    return server.socket().getLocalPort();
  }

  private void loop() {
    try {
      while (!closed) {
        selector.select(200);
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          if (!key.isValid()) {
            continue;
          }
          if (key.isAcceptable()) {
            accept();
          } else {
            serve(key);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        throw new IllegalStateException("the warm-up responder stopped", e);
      }
    }
  }

  private void accept() throws IOException {
    SocketChannel ch;
    while ((ch = server.accept()) != null) {
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.register(selector, SelectionKey.OP_READ, new Conn());
    }
  }

  private void serve(SelectionKey key) {
    SocketChannel ch = (SocketChannel) key.channel();
    Conn c = (Conn) key.attachment();
    try {
      if (key.isReadable()) {
        c.in.clear();
        int n = ch.read(c.in);
        if (n < 0) {
          key.cancel();
          ch.close();
          return;
        }
        for (int i = 0; i < n; i++) {
          if (c.endOfHead(c.in.get(i))) {
            c.queue(response());
          }
        }
      }
      c.out.flip();
      ch.write(c.out);
      boolean pending = c.out.hasRemaining();
      c.out.compact();
      key.interestOps(pending ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    } catch (IOException e) {
      key.cancel();
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing a broken connection
      }
    }
  }

  /** The response bytes, with a Date header renewed each second. */
  private byte[] response() {
    long second = System.currentTimeMillis() / 1000;
    if (second != responseSecond) {
      String head = "HTTP/1.1 200 OK\r\nServer: loadtest-warm-up\r\nDate: "
          + DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC))
          + "\r\nContent-Type: text/plain\r\nContent-Length: " + BODY.length + "\r\nConnection: keep-alive\r\n\r\n";
      byte[] h = head.getBytes(StandardCharsets.US_ASCII);
      byte[] r = new byte[h.length + BODY.length];
      System.arraycopy(h, 0, r, 0, h.length);
      System.arraycopy(BODY, 0, r, h.length, BODY.length);
      response = r;
      responseSecond = second;
    }
    return response;
  }

  @Override
  public void close() throws InterruptedException {
    closed = true;
    selector.wakeup();
    thread.join(5_000);
    try {
      for (SelectionKey k : selector.keys()) {
        k.channel().close();
      }
      selector.close();
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** One connection: where the current request's head has got to, and response bytes not yet written. */
  static final class Conn {
    final ByteBuffer in = ByteBuffer.allocate(16 * 1024);
    ByteBuffer out = ByteBuffer.allocate(4 * 1024);
    private int matched; // how much of CR LF CR LF the bytes read so far end with

    boolean endOfHead(byte b) {
      matched = switch (b) {
        case '\r' -> matched == 2 ? 3 : 1;
        case '\n' -> matched == 1 || matched == 3 ? matched + 1 : 0;
        default -> 0;
      };
      if (matched == 4) {
        matched = 0;
        return true;
      }
      return false;
    }

    void queue(byte[] bytes) {
      if (out.remaining() < bytes.length) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + bytes.length));
        out.flip();
        bigger.put(out);
        out = bigger;
      }
      out.put(bytes);
    }
  }
}
