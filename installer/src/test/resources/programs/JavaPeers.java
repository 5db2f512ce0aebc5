import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;

/** A client and a server in one JVM; the client closes gracefully or with SO_LINGER 0 (args[0]). */
public class JavaPeers {
  public static void main(String[] args) throws Exception {
    boolean reset = args[0].equals("reset");
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try (Socket connection = listener.accept(); InputStream in = connection.getInputStream()) {
          while (in.read() >= 0) { }
        } catch (SocketException expectedOnReset) {
          // the client reset the connection
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      server.start();
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
        client.getOutputStream().write("request".getBytes());
        if (reset) {
          client.setSoLinger(true, 0);
        }
      }
      server.join(10_000);
    }
  }
}
