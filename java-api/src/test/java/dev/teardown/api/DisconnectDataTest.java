package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/**
 * DisconnectData where it cannot work: this test JVM does not run under the layer (the demo's
 * Java samples run it under the layer, in TransactionTimelineTest).
 */
class DisconnectDataTest {
  @Test
  void withoutTheLayerSendingDataIsRefusedAsWinsockRefusesItOnTcp() throws Exception {
    assertFalse(DisconnectData.available(), "surefire's JVM runs without LD_PRELOAD");
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        Socket server = listener.accept()) {
      DisconnectDataException refused =
          assertThrows(DisconnectDataException.class, () -> DisconnectData.send(client, new byte[] {42}));
      assertEquals(WinsockErrors.WSAENOPROTOOPT, refused.error());
      assertTrue(refused.getMessage().contains("teardown run"), refused.getMessage());
      client.getOutputStream().write(1);
      assertEquals(1, server.getInputStream().read(), "nothing changed: the connection is as it was");
    }
  }

  @Test
  void moreThanTheLimitIsRefusedBeforeAnythingElse() throws Exception {
    try (Socket unconnected = new Socket()) {
      DisconnectDataException refused = assertThrows(
          DisconnectDataException.class, () -> DisconnectData.send(unconnected, new byte[DisconnectData.MAX_LENGTH + 1]));
      assertEquals(WinsockErrors.WSAEINVAL, refused.error());
    }
  }
}
