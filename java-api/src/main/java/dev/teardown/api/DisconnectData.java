package dev.teardown.api;

import dev.teardown.api.internal.ProcessLayer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;

/**
 * Disconnect data on this program's own TCP sockets: the seed's WSPSendDisconnect and
 * WSPRecvDisconnect, for Java. TCP has no disconnect data; Teardown carries it on the ports an
 * administrator lists in {@link Configuration#emulationPorts()}, at both ends, when the program
 * runs under Teardown's layer ({@code teardown run -- java ...} on Linux).
 *
 * <p>On a connection that cannot carry it (a port not listed, or no layer in this process)
 * sending data fails with {@link DisconnectDataException} saying so, as Winsock's
 * WSAENOPROTOOPT does, and changes nothing.
 */
public final class DisconnectData {
  /** The most disconnect data one side can send. */
  public static final int MAX_LENGTH = 1024;

  private static final int ENOPROTOOPT = 92;
  private static final int EINVAL = 22;
  private static final int EAGAIN = 11;
  private static final int EMSGSIZE = 90;

  private DisconnectData() {}

  /** Whether this process runs under Teardown's layer, which carries disconnect data. */
  public static boolean available() {
    return ProcessLayer.find() != null;
  }

  /**
   * Ends sending on {@code socket} with {@code data} (at most {@link #MAX_LENGTH} bytes; empty for
   * none): the peer reads the end of the stream, then receives the data with {@link #receive}.
   */
  public static void send(Socket socket, byte[] data) throws IOException {
    if (data.length > MAX_LENGTH) {
      throw new DisconnectDataException(
          "disconnect data is at most " + MAX_LENGTH + " bytes, not " + data.length, WinsockErrors.WSAEINVAL);
    }
    ProcessLayer layer = layer();
    int error = layer.sendDisconnect(descriptor(socket), data);
    if (error != 0) {
      throw failure("send", error);
    }
  }

  /**
   * Ends receiving on {@code socket} and returns the peer's disconnect data: empty when it sent
   * none (or has not yet ended its side: wait for the end of the stream first). Data the program
   * had not read is discarded.
   */
  public static byte[] receive(Socket socket) throws IOException {
    ProcessLayer layer = layer();
    byte[] buffer = new byte[MAX_LENGTH];
    long received = layer.recvDisconnect(descriptor(socket), buffer);
    if (received < 0) {
      throw failure("receive", (int) -received);
    }
    return Arrays.copyOf(buffer, (int) received);
  }

  private static ProcessLayer layer() throws DisconnectDataException {
    ProcessLayer layer = ProcessLayer.find();
    if (layer == null) {
      throw new DisconnectDataException(
          "this process does not run under Teardown's layer (teardown run -- java ...): TCP carries no"
              + " disconnect data without it",
          WinsockErrors.WSAENOPROTOOPT);
    }
    return layer;
  }

  private static int descriptor(Socket socket) throws IOException {
    if (!socket.isConnected() || socket.isClosed()) {
      throw new DisconnectDataException("the socket is not connected", WinsockErrors.WSAENOTCONN);
    }
    return ProcessLayer.descriptorOf(
        (InetSocketAddress) socket.getLocalSocketAddress(), (InetSocketAddress) socket.getRemoteSocketAddress());
  }

  private static DisconnectDataException failure(String what, int errno) {
    return switch (errno) {
      case ENOPROTOOPT -> new DisconnectDataException(
          "this connection carries no disconnect data: list its port in the configuration's emulation"
              + " ports, at both ends", WinsockErrors.WSAENOPROTOOPT);
      case EINVAL -> new DisconnectDataException(
          "disconnect data is at most " + MAX_LENGTH + " bytes", WinsockErrors.WSAEINVAL);
      case EAGAIN -> new DisconnectDataException(
          "a send on this socket is unfinished: send the rest first", WinsockErrors.WSAEWOULDBLOCK);
      case EMSGSIZE -> new DisconnectDataException(
          "the peer's disconnect data does not fit", WinsockErrors.WSAEFAULT);
      default -> new DisconnectDataException(
          "could not " + what + " disconnect data (errno " + errno + ")", -errno);
    };
  }
}
