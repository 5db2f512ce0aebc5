package dev.teardown.windows;

import static dev.teardown.windows.Machine.WSAECONNABORTED;
import static dev.teardown.windows.Machine.WSAECONNRESET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.Initiator;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TcpState;
import dev.teardown.api.TeardownEvent;
import dev.teardown.windows.Machine.Run;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The seed's rules through the installed LSP, from a native program (teardown_probe.exe, 64-bit)
 * in a fresh process for each scenario: the program checks what Winsock gave it, these tests check
 * what Teardown recorded of it, in the mode it is installed in ({@link Machine#mode}): in
 * compatible mode, completions that reach a completion port, and AcceptEx's first bytes, pass
 * Teardown by.
 */
@EnabledOnOs(value = OS.WINDOWS, disabledReason = "needs real Windows with Teardown installed: runs on the GitHub windows job")
class SeedRulesOnWindowsTest {
  private static final int WSAENOPROTOOPT = 10042;

  @Test
  void gracefulShutdownIsRecordedAtBothEndsWithTheConnectionsSummary() throws Exception {
    Run run = Machine.probe(64, "graceful");
    assertEquals(List.of(EventKind.SHUTDOWN, EventKind.EOF, EventKind.CLOSE), run.kinds("client"));
    assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), run.kinds("server"));
    assertEquals(ShutdownHow.SEND, run.single("client", EventKind.SHUTDOWN).shutdownHow());
    TeardownEvent client = run.single("client", EventKind.CLOSE);
    TeardownEvent server = run.single("server", EventKind.CLOSE);
    assertEquals(CloseMode.GRACEFUL, client.closeMode());
    assertEquals(CloseMode.GRACEFUL, server.closeMode());
    assertEquals(5, client.summary().bytesSent());
    assertEquals(3, client.summary().bytesReceived());
    assertEquals(Initiator.LOCAL, client.summary().firstShutdown());
    assertEquals(Initiator.REMOTE, server.summary().firstShutdown());
    assertEquals(Ending.GRACEFUL, client.summary().ending());
    // The kernel's view at the server's close (SIO_TCP_INFO): the client's FIN in, its own not sent.
    assertEquals(TcpState.CLOSE_WAIT, server.summary().kernelState());
    assertEquals(client.local(), server.remote(), "both ends name one connection");
    assertEquals(client.remote(), server.local());
    assertEquals("teardown_probe.exe", client.processName().toLowerCase());
  }

  @Test
  void lingerZeroClosesAbortivelyAndThePeerIsReset() throws Exception {
    Run run = Machine.probe(64, "abortive");
    TeardownEvent close = run.single("client", EventKind.CLOSE);
    assertEquals(CloseMode.ABORTIVE, close.closeMode());
    assertEquals(Ending.ABORTIVE, close.summary().ending());
    int given = run.printed("server recv error");
    assertEquals(WSAECONNRESET, given, "Windows gives the next recv WSAECONNRESET");
    assertEquals(given, run.single("server", EventKind.RESET).error());
  }

  @Test
  void thePolicyPerformsAnAbortiveCloseGracefully() throws Exception {
    Run run = Machine.withConfiguration(config -> config.abortiveToGraceful(true),
        () -> Machine.probe(64, "abortive"));
    TeardownEvent close = run.single("client", EventKind.CLOSE);
    assertEquals(CloseMode.GRACEFUL, close.closeMode());
    assertTrue(close.converted(), "the event says the close was converted");
    assertEquals(0, run.printed("server recv"), "the peer reads the end, not a reset");
    run.single("server", EventKind.EOF);
    assertTrue(run.kinds("server").stream().noneMatch(k -> k == EventKind.RESET), run.kinds("server").toString());
  }

  @Test
  void lingerWithATimeoutIsAGracefulCloseThatWaits() throws Exception {
    Run run = Machine.probe(64, "linger-timeout");
    TeardownEvent close = run.single("client", EventKind.CLOSE);
    assertEquals(CloseMode.GRACEFUL_LINGER, close.closeMode());
    assertEquals(Duration.ofSeconds(5), close.linger());
    run.single("server", EventKind.EOF);
  }

  @Test
  void shutdownIsRecordedForEachHowAndOnlySendingEndsThePeersStream() throws Exception {
    Run run = Machine.probe(64, "shutdown-each-way");
    assertEquals(ShutdownHow.RECEIVE, run.single("client-receive", EventKind.SHUTDOWN).shutdownHow());
    assertEquals(ShutdownHow.SEND, run.single("client-send", EventKind.SHUTDOWN).shutdownHow());
    assertEquals(ShutdownHow.BOTH, run.single("client-both", EventKind.SHUTDOWN).shutdownHow());
    run.single("server-send", EventKind.EOF);
    run.single("server-both", EventKind.EOF);
    assertTrue(run.kinds("server-receive").stream().noneMatch(k -> k == EventKind.EOF),
        "shutting down receiving sends nothing to the peer");
  }

  @Test
  void disconnectDataOnTcpIsRecordedWithWhatWinsockAnswered() throws Exception {
    Run run = Machine.probe(64, "disconnect-data");
    TeardownEvent sent = run.single("client", EventKind.SEND_DISCONNECT);
    int answered = Integer.parseInt(run.output().replaceAll("(?s).*WSASendDisconnect with data: -?\\d+, error (\\d+).*", "$1"));
    assertEquals(answered, sent.error(), "the event carries the error the application was given");
    assertTrue(answered == 0 || answered == WSAENOPROTOOPT, "TCP has no disconnect data: " + answered);
    assertEquals(2, sent.dataLength());
  }

  @Test
  void onAnEmulatedPortTheSeedsTotalsTravelAsDisconnectDataOverTcp() throws Exception {
    Assumptions.assumeTrue(Machine.mode() == Machine.Mode.FULL,
        "disconnect-data emulation needs every request through Teardown: full mode only");
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Run run = Machine.withConfiguration(config -> config.emulationPorts(List.of(port)),
        () -> Machine.probe(64, "emulated-totals", Map.of("TEARDOWN_TEST_PORT", Integer.toString(port))));
    assertTrue(run.output().contains("server disconnect data client-total=17"), run.output());
    assertTrue(run.output().contains("client disconnect data grand-total=1234"), run.output());
    assertEquals(List.of(EventKind.SEND_DISCONNECT, EventKind.FD_CLOSE, EventKind.RECV_DISCONNECT,
        EventKind.CLOSE), run.kinds("client"));
    assertEquals(List.of(EventKind.EOF, EventKind.RECV_DISCONNECT, EventKind.SEND_DISCONNECT,
        EventKind.CLOSE), run.kinds("server"));
    assertEquals("client-total=17", text(run.single("server", EventKind.RECV_DISCONNECT)));
    assertEquals("grand-total=1234", text(run.single("client", EventKind.RECV_DISCONNECT)));
    assertEquals(10, run.single("server", EventKind.CLOSE).summary().bytesReceived(),
        "the application's bytes, not the records'");
  }

  private static String text(TeardownEvent event) {
    return new String(event.captured(), java.nio.charset.StandardCharsets.US_ASCII);
  }

  @Test
  void eventSelectDeliversFdCloseWithoutErrorAfterAGracefulShutdown() throws Exception {
    Run run = Machine.probe(64, "event-select");
    assertEquals(0, run.printed("server FD_CLOSE error"));
    TeardownEvent fdClose = run.single("server", EventKind.FD_CLOSE);
    assertEquals(0, fdClose.error());
    assertTrue(run.single("server", EventKind.CLOSE).flags().contains(EventFlag.NON_BLOCKING),
        "WSAEventSelect made the socket non-blocking");
  }

  @Test
  void eventSelectDeliversFdCloseWithTheResetsError() throws Exception {
    Run run = Machine.probe(64, "event-select-reset");
    int given = run.printed("server FD_CLOSE error");
    assertTrue(given == WSAECONNRESET || given == WSAECONNABORTED, "FD_CLOSE after a reset: " + given);
    assertEquals(given, run.single("server", EventKind.FD_CLOSE).error());
    assertEquals(CloseMode.ABORTIVE, run.single("client", EventKind.CLOSE).closeMode());
  }

  @Test
  void asyncSelectDeliversFdCloseToTheWindow() throws Exception {
    Run run = Machine.probe(64, "async-select");
    assertEquals(0, run.printed("server FD_CLOSE error"));
    assertEquals(0, run.single("server", EventKind.FD_CLOSE).error());
  }

  @Test
  void overlappedReceivesOfTheEndAreRecordedForEachCompletionStyle() throws Exception {
    Run run = Machine.probe(64, "overlapped");
    for (String style : List.of("event", "routine", "port")) {
      assertEquals(List.of(EventKind.SHUTDOWN, EventKind.CLOSE), run.kinds("client-" + style), style);
    }
    run.single("server-event", EventKind.EOF);
    run.single("server-routine", EventKind.EOF);
    if (Machine.mode() == Machine.Mode.FULL) {
      run.single("server-port", EventKind.EOF);
    } else {
      // The port's completion reaches the program straight from the provider below.
      assertEquals(List.of(EventKind.CLOSE), run.kinds("server-port"));
    }
    assertEquals(4, run.single("server-event", EventKind.CLOSE).summary().bytesReceived(),
        "the first overlapped receive's bytes are counted");
  }

  @Test
  void anOverlappedReceiveFailingWithAResetRecordsTheReset() throws Exception {
    Run run = Machine.probe(64, "overlapped-reset");
    int given = run.printed("server receive error");
    assertTrue(given == WSAECONNRESET || given == WSAECONNABORTED, "the completion's error: " + given);
    assertEquals(given, run.single("server", EventKind.RESET).error());
  }

  @Test
  void closingWithAReceivePendingAbortsItAndRecordsOneClose() throws Exception {
    Run run = Machine.probe(64, "close-with-pending-io");
    assertEquals(List.of(EventKind.CLOSE), run.kinds("server"), "an aborted receive is no teardown of the peer's");
    assertTrue(run.output().contains("completed with status"), run.output());
    assertEquals(0, run.single("server", EventKind.CLOSE).error(), "the close itself succeeded");
  }

  @Test
  void acceptExConnectExAndDisconnectExAreRecordedThroughTeardownsWrappers() throws Exception {
    Run run = Machine.probe(64, "extension-functions");
    assertEquals(List.of(EventKind.CLOSE), run.kinds("client"),
        "DisconnectEx ends the connection; the later closesocket is no second end");
    TeardownEvent disconnect = run.single("client", EventKind.CLOSE);
    assertEquals(CloseMode.GRACEFUL, disconnect.closeMode());
    assertEquals(5, disconnect.summary().bytesSent(), "ConnectEx's first bytes");
    assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), run.kinds("server"));
    TeardownEvent server = run.single("server", EventKind.CLOSE);
    // In compatible mode the accepted connection starts at SO_UPDATE_ACCEPT_CONTEXT, after
    // AcceptEx's completion reached the program alone.
    assertEquals(Machine.mode() == Machine.Mode.FULL ? 5 : 0, server.summary().bytesReceived(),
        "AcceptEx's first bytes");
    assertEquals(Initiator.REMOTE, server.summary().firstShutdown());
    assertEquals(disconnect.local(), server.remote(), "SO_UPDATE_ACCEPT_CONTEXT gave the endpoints");
  }

  @Test
  void aSocketReusedByDisconnectExRecordsEachConnectionOnce() throws Exception {
    Run run = Machine.probe(64, "accept-reuse");
    List<TeardownEvent> closes = run.of("server").stream().filter(e -> e.kind() == EventKind.CLOSE).toList();
    assertEquals(2, closes.size(), "one end per connection: " + run.of("server"));
    assertEquals(run.single("client", EventKind.CLOSE).local(), closes.get(0).remote(), "the first client");
    TeardownEvent second = run.single("client-again", EventKind.CLOSE);
    assertEquals(second.local(), closes.get(1).remote(), "the second client, on the reused socket");
    assertEquals(Machine.mode() == Machine.Mode.FULL ? 5 : 0, closes.get(1).summary().bytesReceived(),
        "the counts start again with the new connection (its first bytes AcceptEx's)");
  }

  @Test
  void transmitFileWithTfDisconnectEndsTheConnection() throws Exception {
    Run run = Machine.probe(64, "transmit-file");
    TeardownEvent end = run.of("server").stream().filter(e -> e.kind() == EventKind.CLOSE).findFirst()
        .orElseThrow(() -> new AssertionError("no CLOSE on the server: " + run.of("server")));
    assertEquals(1000, end.summary().bytesSent(), "TransmitFile's bytes");
    assertEquals(Initiator.LOCAL, end.summary().firstShutdown());
    run.single("client", EventKind.EOF);
  }

  @Test
  void transmitPacketsWithTfDisconnectEndsTheConnection() throws Exception {
    Run run = Machine.probe(64, "transmit-packets");
    TeardownEvent end = run.of("server").stream().filter(e -> e.kind() == EventKind.CLOSE).findFirst()
        .orElseThrow(() -> new AssertionError("no CLOSE on the server: " + run.of("server")));
    assertEquals(1000, end.summary().bytesSent(), "TransmitPackets' bytes");
    run.single("client", EventKind.EOF);
  }

  @Test
  void baseHandleQueriesNameTheBaseProvidersSocket() throws Exception {
    // The probe checks that SIO_BSP_HANDLE_SELECT agrees with SIO_BASE_HANDLE and that
    // SIO_BSP_HANDLE and SIO_BSP_HANDLE_POLL name the application's handle.
    Run run = Machine.probe(64, "bsp-handles");
    if (Machine.mode() == Machine.Mode.FULL) {
      assertTrue(run.output().contains("base differs from the application's socket"),
          "full mode: the application's handle is Teardown's own\n" + run.output());
    } else {
      assertTrue(run.output().contains("base is the application's socket"),
          "compatible mode: the application's handle is the base provider's own\n" + run.output());
    }
  }

  @Test
  void wsaSendMsgAndWsaPollReachTeardown() throws Exception {
    // ws2_32 routes them to the provider SIO_BSP_HANDLE and SIO_BSP_HANDLE_POLL name: the probe
    // checks the sends, the overlapped one's completion and the polls; here, what was recorded.
    Run run = Machine.probe(64, "routed-calls");
    TeardownEvent close = run.single("client", EventKind.CLOSE);
    // WSASendMsg on TCP does what the base provider's own sockets do (the probe compared them):
    // where it sends, both of its calls are counted.
    boolean sends = run.output().contains("WSASendMsg on TCP: sends");
    assertEquals(sends ? 4 + 4 + 1 : 1, close.summary().bytesSent(), run.output());
    run.single("server", EventKind.FD_CLOSE);
  }

  @Test
  void everyEventOfAProbeCarriesItsProcessAndLoopbackEndpoints() throws Exception {
    Run run = Machine.probe(64, "graceful");
    assertTrue(run.all().size() >= 5, run.all().toString());
    for (TeardownEvent event : run.all()) {
      assertEquals(run.pid(), event.pid());
      assertEquals(6, event.protocol());
      assertNotNull(event.local(), event.toString());
      assertTrue(event.local().getAddress().isLoopbackAddress(), event.toString());
      assertFalse(event.flags().contains(EventFlag.AT_EXIT), "every socket was closed before the probe exited");
    }
  }
}
