package dev.loadtest.generator.http;

import java.io.IOException;
import java.net.SocketAddress;
import java.util.Map;
import org.eclipse.jetty.client.Destination;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;

/**
 * A {@link ClientConnector} that stamps when a TCP connection is dialed and established on the exchange
 * of the VU it is opened for (found through the destination's tag), which gives k6's
 * {@code http_req_connecting}.
 */
final class TimingClientConnector extends ClientConnector {
  @Override
  public void connect(SocketAddress address, Map<String, Object> context) {
    Exchange x = exchangeOf(context);
    if (x != null) {
      x.connectStartNanos = System.nanoTime();
    }
    super.connect(address, context);
  }

  @Override
  protected Connection newConnection(EndPoint endPoint, Map<String, Object> context) throws IOException {
    Exchange x = exchangeOf(context);
    if (x != null) {
      x.connectEndNanos = System.nanoTime();
      x.tls = isHttps(context);
    }
    return super.newConnection(endPoint, context);
  }

  private static boolean isHttps(Map<String, Object> context) {
    for (Object v : context.values()) {
      if (v instanceof Destination d) {
        return "https".equalsIgnoreCase(d.getOrigin().getScheme());
      }
    }
    return false;
  }

  private static Exchange exchangeOf(Map<String, Object> context) {
    for (Object v : context.values()) {
      if (v instanceof Destination d && d.getOrigin().getTag() instanceof VuSession c) {
        return c.current;
      }
    }
    return null;
  }
}
