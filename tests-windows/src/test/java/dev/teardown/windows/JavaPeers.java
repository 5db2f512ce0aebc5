package dev.teardown.windows;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The seed's teardowns from Java sockets, run by {@link JavaSocketsOnWindowsTest} in a JVM of its own, so
 * that Winsock in it reads the catalog with Teardown installed. Prints "pid N", then
 * "role NAME LOCALPORT" for each socket, then what the application saw; exits 0 when every check
 * held.
 */
public final class JavaPeers {
  private static final int TIMEOUT_MS = 10_000;

  private JavaPeers() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: JavaPeers graceful|abortive|async");
      System.exit(2);
    }
    System.out.println("pid " + ProcessHandle.current().pid());
    switch (args[0]) {
      case "graceful" -> graceful();
      case "abortive" -> abortive();
      case "async" -> async();
      default -> {
        System.err.println("no scenario " + args[0]);
        System.exit(2);
      }
    }
    System.out.println("ok");
  }

  /** The client shuts down output; the server reads to the end, answers and closes. */
  @SuppressWarnings("try") // the server closes before the client: the order is the scenario
  private static void graceful() throws IOException {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        Socket server = listener.accept()) {
      roles(client, server);
      client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      client.shutdownOutput();
      expect(readToEnd(server.getInputStream()) == 5, "the server reads 5 bytes, then the end");
      server.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
      server.close();
      expect(readToEnd(client.getInputStream()) == 3, "the client reads 3 bytes, then the end");
    }
  }

  /** SO_LINGER {1,0}: the client's close resets the connection. */
  @SuppressWarnings("try") // the client closes while the server still reads
  private static void abortive() throws IOException {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        Socket server = listener.accept()) {
      roles(client, server);
      client.setSoLinger(true, 0);
      client.close();
      try {
        int read = server.getInputStream().read();
        System.out.println("server read " + read);
      } catch (SocketException reset) {
        System.out.println("server read failed: " + reset.getMessage());
      }
    }
  }

  /** AcceptEx, ConnectEx and overlapped receives through a completion port, as NIO.2 does them. */
  private static void async() throws Exception {
    try (AsynchronousServerSocketChannel listener = AsynchronousServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Future<AsynchronousSocketChannel> accepting = listener.accept();
      try (AsynchronousSocketChannel client = AsynchronousSocketChannel.open()) {
        client.connect(listener.getLocalAddress()).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        try (AsynchronousSocketChannel server = accepting.get(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
          System.out.println("role client " + port(client));
          System.out.println("role server " + port(server));
          client.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)))
              .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
          client.shutdownOutput();
          ByteBuffer buffer = ByteBuffer.allocate(64);
          int total = 0;
          for (int read; (read = server.read(buffer).get(TIMEOUT_MS, TimeUnit.MILLISECONDS)) >= 0; ) {
            total += read;
            buffer.clear();
          }
          expect(total == 5, "the server reads 5 bytes, then the end");
        }
      }
    }
  }

  private static void roles(Socket client, Socket server) throws SocketException {
    client.setSoTimeout(TIMEOUT_MS);
    server.setSoTimeout(TIMEOUT_MS);
    System.out.println("role client " + client.getLocalPort());
    System.out.println("role server " + server.getLocalPort());
  }

  private static int port(AsynchronousSocketChannel channel) throws IOException {
    return ((InetSocketAddress) channel.getLocalAddress()).getPort();
  }

  private static int readToEnd(InputStream in) throws IOException {
    return in.readAllBytes().length;
  }

  private static void expect(boolean condition, String what) {
    if (!condition) {
      System.out.println("FAILED: " + what);
      System.exit(1);
    }
  }
}
