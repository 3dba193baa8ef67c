package dev.windhash.local;

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * DynamoDB Local listening on one address only.
 *
 * <p>DynamoDB Local has no option for the address it listens on: its ServerRunner builds a Jetty server
 * from the port alone, which listens on every interface. This launcher takes {@code -host ADDRESS} and
 * passes every other argument to DynamoDB Local's own embedded-server API
 * ({@code ServerRunner.createServerFromCommandLineArgs}, the documented way to run it inside a process),
 * then binds the Jetty connector of the server it built to ADDRESS before starting it. Everything else
 * (storage, sharedDb, telemetry off) is DynamoDB Local's own handling of its arguments.
 */
public final class LoopbackDynamoDbLocal {
  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    String host = null;
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("-host") && i + 1 < args.length) {
        host = args[++i];
      } else {
        rest.add(args[i]);
      }
    }
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("-host ADDRESS is required: the address to listen on");
    }
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(rest.toArray(new String[0]));
    // DynamoDBProxyServer keeps its Jetty server private and offers no way to set the host.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) {
      throw new IllegalStateException("DynamoDB Local built a server without a connector");
    }
    for (Connector connector : connectors) {
      ((ServerConnector) connector).setHost(host);
    }
    proxy.start();
    proxy.join();
  }
}
