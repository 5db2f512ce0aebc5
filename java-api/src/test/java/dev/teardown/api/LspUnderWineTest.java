package dev.teardown.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Inet6Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * teardown_lsp.dll under Wine, driven by the SPI host (native-lsp/test/spi_host), observed through
 * this API: each scenario runs the host once, then the events its sockets produced are checked
 * against the seed's rules. Every scenario runs with Teardown installed in each mode: compatible
 * (the application's sockets are the base provider's, its requests complete without Teardown) and
 * full (Teardown's own handles, every request completed by Teardown). The channel is the one the DLL always uses, %ProgramData%\Teardown,
 * which in the Wine prefix is a directory both sides map.
 *
 * <p>Needs wine (wine64) and Xvfb; {@code ./teardown test} installs them. Their absence fails the
 * tests, naming the package: it is never a silent skip.
 */
@EnabledOnOs(value = OS.LINUX, disabledReason = "runs the Windows LSP under Wine")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LspUnderWineTest {
  private static final Path WINE = Path.of("/usr/lib/wine/wine64");
  private static final Path WINESERVER = Path.of("/usr/lib/wine/wineserver");
  private static final Path HOST_DIR = Path.of("..", "native-lsp", "target", "spi-host");
  private static final Path PROBE_DIR = Path.of("..", "native-lsp", "target", "probe-x64");
  private static final long RUN_TIMEOUT_SECONDS = 180;
  private static final int WSAECONNRESET = 10054;
  private static final int WSAENOPROTOOPT = 10042;
  private static final int WSAEDISCON = 10101;
  private static final int WSAEWOULDBLOCK = 10035;

  /** How Teardown is installed: the host builds its catalog accordingly. */
  enum Mode {
    COMPATIBLE,
    FULL;

    String environment() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private Path prefix;
  private Process xvfb;
  private String display;
  private TeardownChannel channel;
  private EventReader reader;
  private final Map<Long, List<TeardownEvent>> bySocket = new HashMap<>();

  /** What one run of the host printed, and the events of its sockets by role. */
  private record Run(long pid, Map<String, List<TeardownEvent>> roles, List<TeardownEvent> all,
      String output) {
    List<TeardownEvent> of(String role) {
      List<TeardownEvent> events = roles.get(role);
      assertNotNull(events, "the host announced no socket \"" + role + "\":\n" + output);
      return events;
    }
  }

  @BeforeAll
  void startWine() throws Exception {
    assertTrue(Files.isExecutable(WINE), WINE + " is missing: apt-get install wine wine64 "
        + "(./teardown test installs it)");
    assertTrue(onPath("Xvfb"), "Xvfb is missing: apt-get install xvfb (./teardown test installs it)");
    Path host = HOST_DIR.resolve("teardown_spi_host.exe");
    assertTrue(Files.isRegularFile(host), host + " is missing: build native-lsp first");
    prefix = Path.of("target", "wine-prefix").toAbsolutePath();
    if (!Files.exists(prefix.resolve("system.reg"))) {
      // A new prefix is made by the first program run in it; wineboot does it, then its server
      // is waited for, so that the persistent one started next is the only one.
      awaitExit(wine(List.of(WINE.toString(), "wineboot", "-i"), prefix.resolve("../wineboot.log")),
          "wineboot");
      awaitExit(wine(List.of(WINESERVER.toString(), "-w"), prefix.resolve("../wineserver-w.log")),
          "wineserver -w");
    }
    wine(List.of(WINESERVER.toString(), "-p"), prefix.resolve("../wineserver.log"));
    display = startXvfb();
    Path channelDir = prefix.resolve("drive_c/ProgramData/Teardown");
    // A channel left in the prefix by an earlier run keeps its own ring size: start anew, with
    // room for the largest scenario's events between two reads in one lane (a thread publishes
    // into one, and a ring has up to four): 32,768 each.
    deleteTree(channelDir);
    channel = TeardownChannel.create(channelDir, 1 << 17);
    // Wine derives a file's DACL from its unix mode and knows no sticky bit: the shared rings
    // directory (1777) reads to the LSP as one where everyone may delete anyone's ring, which it
    // rightly refuses to record into. Mode 0755 derives what `teardown install` gives the LSP's
    // user on Windows: a directory nobody else can take its ring from.
    Files.setPosixFilePermissions(channelDir.resolve("rings"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    channel.configure(Configuration.builder().captureBytes(64).build());
    reader = channel.reader(TeardownChannel.ReadFrom.NEWEST);
  }

  @AfterAll
  void stopWine() throws Exception {
    if (reader != null) reader.close();
    if (channel != null) channel.close();
    if (prefix != null) {
      awaitExit(wine(List.of(WINESERVER.toString(), "-k"), prefix.resolve("../wineserver-k.log")),
          "wineserver -k");
    }
    if (xvfb != null) {
      xvfb.destroy();
      xvfb.waitFor(10, TimeUnit.SECONDS);
    }
  }

  // --- The scenarios --------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(Mode.class)
  void blockingExchangeRecordsShutdownEofAndGracefulCloses(Mode mode) throws Exception {
    Run run = run(mode, "blocking");
    checkBlockingExchange(run, false);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void ipv6ExchangeIsRecordedWithItsAddresses(Mode mode) throws Exception {
    Run run = run(mode, "ipv6");
    checkBlockingExchange(run, true);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aConnectionNobodyRecordsAsksNothingOfTheProviderBelow(Mode mode) throws Exception {
    Configuration before = channel.configuration();
    channel.configure(before.toBuilder().processes(List.of("somebody-else.exe")).build());
    try {
      Run run = run(mode, "lower-calls", Map.of("TEARDOWN_TEST_RECORDED", "0"));
      assertEquals(List.of(), run.all(), "nothing recorded");
    } finally {
      channel.configure(before);
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aRecordedConnectionAsksItsOwnAddressOnceAndRecordsIt(Mode mode) throws Exception {
    Run run = run(mode, "lower-calls", Map.of("TEARDOWN_TEST_RECORDED", "1"));
    List<TeardownEvent> closes =
        run.all().stream().filter(event -> event.kind() == EventKind.CLOSE).toList();
    assertEquals(20, closes.size(), "both ends of the 10 connections made through Teardown (the"
        + " other 10 go to the base provider alone)\n" + run.output());
    for (TeardownEvent close : closes) {
      assertNotNull(close.local(), "the connecting end's address, asked at its first event: " + close);
      assertTrue(close.local().getAddress().isLoopbackAddress(), close.toString());
      assertTrue(close.local().getPort() > 0, close.toString());
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anotherLspBelowTeardownIsLoadedAndHandedTheChain(Mode mode) throws Exception {
    checkBlockingExchange(run(mode, "layered-over-another"), false);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void underAnotherLspTeardownFindsItsPlaceInTheChain(Mode mode) throws Exception {
    checkBlockingExchange(run(mode, "layered-under-another"), false);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void eventSelectDeliversFdCloseWithoutError(Mode mode) throws Exception {
    Run run = run(mode, "event-select");
    TeardownEvent fdClose = single(run.of("server"), EventKind.FD_CLOSE);
    assertEquals(0, fdClose.error());
    assertEquals(CloseMode.GRACEFUL, single(run.of("client"), EventKind.CLOSE).closeMode());
    assertTrue(single(run.of("server"), EventKind.CLOSE).flags().contains(EventFlag.NON_BLOCKING),
        "WSPEventSelect made the server non-blocking");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void fdCloseAfterAResetCarriesTheErrorTheApplicationWasGiven(Mode mode) throws Exception {
    Run run = run(mode, "event-select-reset");
    Matcher given = Pattern.compile("server FD_CLOSE error (\\d+)").matcher(run.output());
    assertTrue(given.find(), run.output());
    assertEquals(Integer.parseInt(given.group(1)),
        single(run.of("server"), EventKind.FD_CLOSE).error());
    assertEquals(CloseMode.ABORTIVE, single(run.of("client"), EventKind.CLOSE).closeMode());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void lingeringNonBlockingCloseWouldBlockAndTheSocketLivesOn(Mode mode) throws Exception {
    Run run = run(mode, "close-linger-nonblocking");
    List<TeardownEvent> closes =
        run.of("client").stream().filter(e -> e.kind() == EventKind.CLOSE).toList();
    assertEquals(2, closes.size(), "the refused close and the real one: " + closes);
    assertEquals(WSAEWOULDBLOCK, closes.get(0).error());
    assertTrue(closes.get(0).flags().contains(EventFlag.NON_BLOCKING));
    assertNull(closes.get(0).summary(), "no summary while the socket lives on");
    assertEquals(0, closes.get(1).error());
    assertNotNull(closes.get(1).summary());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void theLiveConfigurationDecidesWhatIsRecorded(Mode mode) throws Exception {
    Configuration before = channel.configuration();
    try {
      channel.configure(before.toBuilder().kinds(EventKind.EOF).build());
      Run onlyEof = run(mode, "blocking");
      assertEquals(List.of(EventKind.EOF), kinds(onlyEof.of("client")));
      assertEquals(List.of(EventKind.EOF), kinds(onlyEof.of("server")));
      channel.configure(before.toBuilder().processes(List.of("someone-else.exe")).build());
      Run otherProcess = run(mode, "blocking");
      assertTrue(otherProcess.roles().values().stream().allMatch(List::isEmpty),
          "another process selected: nothing recorded");
      channel.configure(before.toBuilder().enabled(false).build());
      Run disabled = run(mode, "blocking");
      assertTrue(disabled.roles().values().stream().allMatch(List::isEmpty), "disabled");
    } finally {
      channel.configure(before);
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void asyncSelectDeliversFdCloseThroughTheLayersWindow(Mode mode) throws Exception {
    Run run = run(mode, "async-select");
    assertEquals(0, single(run.of("server"), EventKind.FD_CLOSE).error());
    assertEquals(CloseMode.GRACEFUL, single(run.of("server"), EventKind.CLOSE).closeMode());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void shutdownIsRecordedForEachHow(Mode mode) throws Exception {
    Run run = run(mode, "shutdown-each-way");
    assertEquals(ShutdownHow.RECEIVE,
        single(run.of("client-receive"), EventKind.SHUTDOWN).shutdownHow());
    assertEquals(ShutdownHow.SEND, single(run.of("client-send"), EventKind.SHUTDOWN).shutdownHow());
    assertEquals(ShutdownHow.BOTH, single(run.of("client-both"), EventKind.SHUTDOWN).shutdownHow());
    single(run.of("server-send"), EventKind.EOF);
    single(run.of("server-both"), EventKind.EOF);
    assertTrue(kinds(run.of("server-receive")).stream().noneMatch(k -> k == EventKind.EOF),
        "shutting down receiving sends nothing to the peer");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void defaultCloseIsGracefulAndThePeerReadsTheEnd(Mode mode) throws Exception {
    Run run = run(mode, "close-dontlinger");
    TeardownEvent close = single(run.of("client"), EventKind.CLOSE);
    assertEquals(CloseMode.GRACEFUL, close.closeMode());
    assertEquals(Ending.GRACEFUL, close.summary().ending());
    single(run.of("server"), EventKind.EOF);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void lingerZeroCloseIsAbortiveAndThePeerIsReset(Mode mode) throws Exception {
    Run run = run(mode, "close-abortive");
    TeardownEvent close = single(run.of("client"), EventKind.CLOSE);
    assertEquals(CloseMode.ABORTIVE, close.closeMode());
    assertEquals(Ending.ABORTIVE, close.summary().ending());
    TeardownEvent reset = single(run.of("server"), EventKind.RESET);
    assertEquals(WSAECONNRESET, reset.error());
    assertTrue(run.output().contains("server saw error 10054"), run.output());
    assertNotNull(reset.kernel(), "a receive that lost the connection reads the kernel too");
    assertEquals(KernelView.UNKNOWN, reset.kernel().unreadBytes(), "not asked then");
  }

  // The kernel's view at close: what the client never read, or read where Teardown did not see it
  // (a completion port's, in compatible mode), still decides who began and how.
  @ParameterizedTest
  @EnumSource(Mode.class)
  void aClosesSummaryTakesTheKernelsViewOfWhatTheProgramNeverRead(Mode mode) throws Exception {
    Run run = run(mode, "unread-endings");
    for (String server : List.of("fin-server", "port-server")) {
      TeardownEvent close = single(run.of(server), EventKind.CLOSE);
      assertEquals(Initiator.LOCAL, close.summary().firstShutdown(), server);
      assertEquals(TcpState.ESTABLISHED, close.summary().kernelState(), server);
    }
    TeardownEvent fin = single(run.of("fin-client"), EventKind.CLOSE);
    assertEquals(List.of(EventKind.CLOSE), kinds(run.of("fin-client")), "the client read nothing");
    assertEquals(TcpState.CLOSE_WAIT, fin.summary().kernelState());
    assertNotNull(fin.kernel(), "the kernel's view goes with the close");
    assertEquals(0, fin.kernel().unreadBytes(), "FIONREAD of the socket below");
    assertEquals(KernelView.UNKNOWN, fin.kernel().bytesAcked(), "the state is all the system told");
    assertNull(fin.kernel().rtt());
    assertEquals(Initiator.REMOTE, fin.summary().firstShutdown(), "the server's FIN came first");
    assertEquals(Ending.GRACEFUL, fin.summary().ending());

    TeardownEvent reset = single(run.of("reset-client"), EventKind.CLOSE);
    assertEquals(List.of(EventKind.CLOSE), kinds(run.of("reset-client")), "the client read nothing");
    assertEquals(TcpState.CLOSED, reset.summary().kernelState());
    assertEquals(Initiator.REMOTE, reset.summary().firstShutdown());
    assertEquals(Ending.ABORTIVE, reset.summary().ending(), "the server's reset, never read");

    TeardownEvent ported = single(run.of("port-client"), EventKind.CLOSE);
    assertEquals(TcpState.CLOSE_WAIT, ported.summary().kernelState());
    assertEquals(Initiator.REMOTE, ported.summary().firstShutdown(),
        "the end read through the port: seen by Teardown in full mode, told by the kernel in both");
    assertEquals(mode == Mode.FULL ? List.of(EventKind.EOF, EventKind.CLOSE) : List.of(EventKind.CLOSE),
        kinds(run.of("port-client")));
  }

  // Connects that made no connection are events of their own, with the address tried; their
  // sockets' closes end nothing. Connections made are CONNECTED events, where asked for.
  @ParameterizedTest
  @EnumSource(Mode.class)
  void aRefusedConnectIsRecordedAndAConnectionMadeWhereAskedFor(Mode mode) throws Exception {
    Configuration before = channel.configuration();
    channel.configure(before.toBuilder().kinds(java.util.EnumSet.allOf(EventKind.class)).build());
    try {
      Run run = run(mode, "connect-refused");
      assertTrue(run.output().contains("fd_connect 10061"), run.output());
      for (String client : List.of("client", "nb-client")) {
        assertEquals(List.of(EventKind.CONNECT_FAILED), kinds(run.of(client)), client + ": and no close");
        TeardownEvent failed = single(run.of(client), EventKind.CONNECT_FAILED);
        assertEquals(10061, failed.error(), client + ": WSAECONNREFUSED");
        assertEquals(0, failed.osError(), "Windows' numbers are Winsock's");
        assertNotNull(failed.remote(), client + ": the address tried");
        assertNotNull(failed.summary(), client + ": how long the attempt took");
      }
      assertEquals(single(run.of("client"), EventKind.CONNECT_FAILED).remote(),
          single(run.of("nb-client"), EventKind.CONNECT_FAILED).remote());
      TeardownEvent made = single(run.of("made-client"), EventKind.CONNECTED);
      assertFalse(made.accepted());
      TeardownEvent accepted = single(run.of("made-server"), EventKind.CONNECTED);
      assertTrue(accepted.accepted(), "the server's end came from accept");
      assertTrue(single(run.of("made-server"), EventKind.CLOSE).accepted(), "every event of it says so");
    } finally {
      channel.configure(before);
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void thePolicyClosesGracefullyWhatWasAskedToBeAbortive(Mode mode) throws Exception {
    Configuration before = channel.configuration();
    channel.configure(before.toBuilder().abortiveToGraceful(true).build());
    try {
      Run run = run(mode, "close-abortive");
      TeardownEvent close = single(run.of("client"), EventKind.CLOSE);
      assertEquals(CloseMode.GRACEFUL, close.closeMode());
      assertTrue(close.converted(), "the event says the close was converted");
      single(run.of("server"), EventKind.EOF);
      assertTrue(kinds(run.of("server")).stream().noneMatch(k -> k == EventKind.RESET));
      assertTrue(run.output().contains("server saw end-of-stream"), run.output());
    } finally {
      channel.configure(before);
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void lingerWithTimeoutIsGracefulAndSaysHowLong(Mode mode) throws Exception {
    Run run = run(mode, "close-linger");
    TeardownEvent close = single(run.of("client"), EventKind.CLOSE);
    assertEquals(CloseMode.GRACEFUL_LINGER, close.closeMode());
    assertEquals(Duration.ofSeconds(2), close.linger());
    single(run.of("server"), EventKind.EOF);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void messageOrientedPeerEndIsDiscon(Mode mode) throws Exception {
    Run run = run(mode, "discon");
    assertEquals(WSAEDISCON, single(run.of("server"), EventKind.DISCON).error());
    assertTrue(kinds(run.of("server")).stream().noneMatch(k -> k == EventKind.EOF),
        "a message-oriented socket has no end of stream");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void transactionTotalsRunStepsOneToEightWithTheirData(Mode mode) throws Exception {
    Run run = run(mode, "transaction-totals");
    List<TeardownEvent> client = run.of("client");
    List<TeardownEvent> server = run.of("server");
    assertEquals(List.of(EventKind.SEND_DISCONNECT, EventKind.FD_CLOSE,
        EventKind.RECV_DISCONNECT, EventKind.CLOSE), kinds(client));
    assertEquals(List.of(EventKind.EOF, EventKind.RECV_DISCONNECT, EventKind.SEND_DISCONNECT,
        EventKind.CLOSE), kinds(server));
    byte[] clientTotal = "client-total=17".getBytes(StandardCharsets.US_ASCII);
    byte[] grandTotal = "grand-total=1234".getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(clientTotal, client.get(0).captured(), "(1) carries the client's total");
    assertArrayEquals(clientTotal, server.get(1).captured(), "(3) receives it");
    assertArrayEquals(grandTotal, server.get(2).captured(), "(5) carries the grand total");
    assertArrayEquals(grandTotal, client.get(2).captured(), "(7) receives it");
    // (1) before (2) before (3) ... : one process, so the channel's sequence is the order.
    assertTrue(client.get(0).sequence() < server.get(0).sequence(), "(1) before (2)");
    assertTrue(server.get(2).sequence() < client.get(1).sequence(), "(5) before (6)");
    assertTrue(server.get(2).sequence() < server.get(3).sequence(), "(5') follows (5)");
    assertEquals(Initiator.LOCAL, client.get(3).summary().firstShutdown());
    assertEquals(Initiator.REMOTE, server.get(3).summary().firstShutdown());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void theLspsEventsLandInTheHistoryAndAreJudgedLikeLinuxOnes(Mode mode) throws Exception {
    Run abortive = run(mode, "close-abortive");
    Run totals = run(mode, "transaction-totals");
    Path db = Files.createTempDirectory("teardown-wine-history").resolve("history.db");
    try (dev.teardown.history.Recorder recorder =
        dev.teardown.history.Recorder.open(channel, db, dev.teardown.history.Recorder.Options.DEFAULT)) {
      recorder.stop();
      long before;
      do {  // once stopped, each run is one read and one commit: until nothing more comes
        before = recorder.progress().recorded();
        recorder.run();
      } while (recorder.progress().recorded() > before);
    }
    try (dev.teardown.history.TeardownHistory history = dev.teardown.history.TeardownHistory.open(db)) {
      List<dev.teardown.history.RecordedConnection> reset =
          history.connections(dev.teardown.history.HistoryQuery.ALL.withPid(abortive.pid()));
      assertEquals(1, reset.size(), "the host's one connection: " + reset);
      assertEquals(dev.teardown.history.Cause.LINGER_ZERO_CLOSE, reset.get(0).cause());
      assertEquals(dev.teardown.history.Mechanism.RST, reset.get(0).mechanism());
      assertEquals(2, reset.get(0).ends().size(), "both ends, joined");
      String client = endpoint(single(abortive.of("client"), EventKind.CLOSE).local());
      assertEquals(client, reset.get(0).initiatorText());

      List<dev.teardown.history.RecordedConnection> exchange =
          history.connections(dev.teardown.history.HistoryQuery.ALL.withPid(totals.pid()));
      assertEquals(1, exchange.size(), exchange.toString());
      assertEquals(dev.teardown.history.Cause.DISCONNECT_DATA, exchange.get(0).cause());
      assertEquals(dev.teardown.history.Mechanism.FIN, exchange.get(0).mechanism());
      assertEquals(totals.of("client").get(0).local(), exchange.get(0).initiator());
      assertEquals(8, exchange.get(0).events().size(), "the seed's steps with their closes");
      assertArrayEquals("client-total=17".getBytes(StandardCharsets.US_ASCII),
          exchange.get(0).events().get(0).captured(), "(1), as captured");
    }
  }

  private static String endpoint(java.net.InetSocketAddress address) {
    String host = address.getAddress().getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void disconnectDataOverPlainTcpIsRefusedAndRecordedWithTheError(Mode mode) throws Exception {
    Run run = run(mode, "disconnect-data-refused");
    TeardownEvent sent = single(run.of("client"), EventKind.SEND_DISCONNECT);
    assertEquals(WSAENOPROTOOPT, sent.error());
    assertEquals(2, sent.dataLength());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void selectSeesTheApplicationsHandlesAndTheEofIsRecorded(Mode mode) throws Exception {
    Run run = run(mode, "select");
    single(run.of("server"), EventKind.EOF);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void duplicatedSocketsAreMarkedSharedAndTheOtherEntriesPassThrough(Mode mode) throws Exception {
    Run run = run(mode, "entry-points");
    assertTrue(single(run.of("duplicate"), EventKind.CLOSE).flags().contains(EventFlag.SHARED));
    assertTrue(single(run.of("client"), EventKind.CLOSE).flags().contains(EventFlag.SHARED));
    assertFalse(single(run.of("server"), EventKind.CLOSE).flags().contains(EventFlag.SHARED));
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void pointersTheApplicationCouldNotHaveMeantGetWsaefaultNeverAFault(Mode mode) throws Exception {
    // The host checks each call's WSAEFAULT; here, that the connection lived on and ended as usual.
    Run run = run(mode, "bad-pointers");
    assertEquals(2, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
    assertEquals(CloseMode.GRACEFUL, single(run.of("client"), EventKind.CLOSE).closeMode());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void tenThousandSocketsLeaveNothingBehind(Mode mode) throws Exception {
    Run run = run(mode, "lifecycle");
    assertTrue(run.output().contains("ok"), run.output());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void unloadingTheDllGivesBackTheChannelAndItsMemory(Mode mode) throws Exception {
    // 50 times loaded, started, used, cleaned up and unloaded; the host checks its address space.
    Run run = run(mode, "reload");
    assertTrue(run.output().contains("mapped before"), run.output());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anOverlappedReceiveCompletedByItsEventRecordsBytesAndTheEnd(Mode mode) throws Exception {
    Run run = run(mode, "overlapped-event");
    single(run.of("server"), EventKind.EOF);
    TeardownEvent close = single(run.of("server"), EventKind.CLOSE);
    assertEquals(5, close.summary().bytesReceived(), "counted when the completion came");
    assertEquals(Initiator.REMOTE, close.summary().firstShutdown());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anEventLeftSignalledIsResetWhenARequestStartsSoNoFalseEndIsSeen(Mode mode) throws Exception {
    Run run = run(mode, "overlapped-stale-event");
    assertTrue(run.of("server").stream().noneMatch(e -> e.kind() == EventKind.EOF), run.output());
    assertEquals(5, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aSharedEventNeverCompletesTheOtherRequestsWait(Mode mode) throws Exception {
    Run run = run(mode, "overlapped-shared-event");
    assertEquals(3, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
    assertEquals(4, single(run.of("second-server"), EventKind.CLOSE).summary().bytesReceived());
    // In compatible mode the provider below answers a waiting call woken by the other request's
    // event, and answers success with 0 bytes for a request still pending: no end of stream.
    assertTrue(run.of("second-server").stream().noneMatch(e -> e.kind() == EventKind.EOF),
        run.output());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aFailedRequestCompletedByItsRoutineLeavesItsFailureInTheOverlapped(Mode mode) throws Exception {
    Run run = run(mode, "overlapped-routine-failure");
    assertEquals(1, run.of("server").stream().filter(e -> e.kind() == EventKind.RESET).count());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anOverlappedReceiveCompletedByARoutineRecordsTheReset(Mode mode) throws Exception {
    Run run = run(mode, "overlapped-routine");
    Matcher given = Pattern.compile("routine error (\\d+)").matcher(run.output());
    assertTrue(given.find(), run.output());
    assertEquals(Integer.parseInt(given.group(1)), single(run.of("server"), EventKind.RESET).error());
    assertEquals(3, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anOverlappedReceiveCompletedThroughTheApplicationsPortRecordsTheEnd(Mode mode)
      throws Exception {
    // The host checks who completed the requests: Teardown in full mode, the provider below alone
    // in compatible mode.
    Run run = run(mode, "overlapped-port");
    TeardownEvent close = single(run.of("server"), EventKind.CLOSE);
    if (mode == Mode.FULL) {
      single(run.of("server"), EventKind.EOF);
      assertEquals(4, close.summary().bytesReceived());
    } else {
      // Completions that reach the application's port never pass Teardown.
      assertEquals(List.of(EventKind.CLOSE), kinds(run.of("server")));
      assertEquals(0, close.summary().bytesReceived());
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aSocketBoundToAPortOfItsProvidersOwnHasEveryRequestCompletedAndRecorded(Mode mode)
      throws Exception {
    // The host checks that the application's OVERLAPPEDs never reached the provider in full mode
    // (Teardown waited on requests of its own) and did in compatible mode.
    Run run = run(mode, "overlapped-unbindable");
    single(run.of("server"), EventKind.EOF);
    TeardownEvent close = single(run.of("server"), EventKind.CLOSE);
    assertEquals(mode == Mode.FULL ? 5 + 4 : 5, close.summary().bytesReceived(),
        "the receives by event (and, in full mode, by port) counted");
    assertEquals(Initiator.REMOTE, close.summary().firstShutdown());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void eightFirstRequestsAtOnceAreEachCompletedWithTheirByte(Mode mode) throws Exception {
    Run run = run(mode, "overlapped-first-race");
    assertTrue(run.output().contains("first-race: 8 of 8"), run.output());
    assertEquals(8, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void closingWithAReceivePendingAbortsItAndRecordsOneClose(Mode mode) throws Exception {
    Run run = run(mode, "close-with-pending-io");
    if (mode == Mode.FULL) {
      assertTrue(run.output().contains("completed with error 995"), run.output());
    }
    List<EventKind> server = kinds(run.of("server"));
    assertEquals(List.of(EventKind.CLOSE), server, "an aborted request is no teardown of the peer's");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void theLastCleanupClosesEverySocketCancelsRequestsAndRunsNothingAfterUnload(Mode mode) throws Exception {
    // The host checks the handles, the cancelled requests and the unload; here, the closes.
    Run run = run(mode, "cleanup-with-requests");
    // Full mode: the cancelled request's routine never runs. Compatible mode: the provider below
    // ends its own requests, and both routines run through Teardown's wrapper.
    assertTrue(run.output().contains("routines run after cleanup: " + (mode == Mode.FULL ? 1 : 2)),
        run.output());
    // A handle value is used again by the connection made after the cleanup: its close is not one.
    for (String role : List.of("client", "server", "second-server")) {
      List<TeardownEvent> closedByCleanup = run.of(role).stream()
          .filter(e -> e.kind() == EventKind.CLOSE && e.flags().contains(EventFlag.CLEANUP))
          .toList();
      assertEquals(1, closedByCleanup.size(), role + ": " + run.of(role));
      assertEquals(CloseMode.GRACEFUL, closedByCleanup.get(0).closeMode(),
          role + ": closed as closesocket would");
      if (role.equals("second-server")) {
        // In compatible mode a routine's result is seen when the routine runs, after the cleanup.
        assertEquals(mode == Mode.FULL ? 4 : 0, closedByCleanup.get(0).summary().bytesReceived(),
            "the receive completed before the cleanup is counted");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void wsaSendMsgAndWsaPollComeThroughTeardownAndSelectStaysTheBaseProviders(Mode mode) throws Exception {
    // The host checks the handles each ioctl names, the sends, the polls and the refusal of RIO.
    Run run = run(mode, "routed-calls");
    TeardownEvent client = single(run.of("client"), EventKind.CLOSE);
    assertEquals(4 + 3 + 1, client.summary().bytesSent(), "both WSASendMsg calls are counted");
    assertEquals(Initiator.LOCAL, client.summary().firstShutdown());
    TeardownEvent hangUp = single(run.of("server"), EventKind.FD_CLOSE);
    assertEquals(0, hangUp.error(), "WSAPoll's hang-up after a graceful end");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void tenThousandConnectionsClosedWithIoPendingLeaveNothingBehind(Mode mode) throws Exception {
    Run run = run(mode, "overlapped-lifecycle");
    assertTrue(run.output().contains("overlapped: private memory"), run.output());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void acceptExConnectExAndDisconnectExAreRecordedThroughTeardownsWrappers(Mode mode) throws Exception {
    Run run = run(mode, "extension-functions");
    List<TeardownEvent> client = run.of("client");
    List<TeardownEvent> server = run.of("server");
    assertEquals(List.of(EventKind.CLOSE), kinds(client),
        "DisconnectEx ends the connection once; the later close of the reusable socket is no second end");
    TeardownEvent disconnect = client.get(0);
    assertEquals(CloseMode.GRACEFUL, disconnect.closeMode());
    assertEquals(5, disconnect.summary().bytesSent(), "ConnectEx's first bytes");
    assertEquals(Initiator.LOCAL, disconnect.summary().firstShutdown());
    assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), kinds(server));
    TeardownEvent serverClose = server.get(1);
    // In compatible mode the accepted connection starts at SO_UPDATE_ACCEPT_CONTEXT, after
    // AcceptEx's completion reached the application alone.
    assertEquals(mode == Mode.FULL ? 5 : 0, serverClose.summary().bytesReceived(),
        "AcceptEx's first bytes");
    assertEquals(Initiator.REMOTE, serverClose.summary().firstShutdown());
    assertEquals(disconnect.local(), serverClose.remote(), "SO_UPDATE_ACCEPT_CONTEXT gave the endpoints");
    assertEquals(disconnect.remote(), serverClose.local());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void transmitFileAndWsaRecvMsgBytesAreCountedThroughTheWrappers(Mode mode) throws Exception {
    Run run = run(mode, "transmit-file");
    TeardownEvent close = single(run.of("server"), EventKind.CLOSE);
    assertEquals(1000 + 503 + 7, close.summary().bytesSent(),
        "1,000 by an overlapped TransmitFile, 3 and 500 by one done at once, 7 by WSPSend");
    assertEquals(Initiator.LOCAL, close.summary().firstShutdown());
    single(run.of("client"), EventKind.EOF);
    assertEquals(1000 + 503 + 7, single(run.of("client"), EventKind.CLOSE).summary().bytesReceived(),
        "the last 7 read by WSARecvMsg");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void fourThreadsAtOnceHaveEveryCloseRecordedOnce(Mode mode) throws Exception {
    Run run = run(mode, "threads");
    long closes = run.all().stream().filter(e -> e.kind() == EventKind.CLOSE).count();
    assertEquals(2000, closes, "1,000 connections, each closed at both ends");
    assertTrue(run.all().stream().filter(e -> e.kind() == EventKind.CLOSE)
        .allMatch(e -> e.summary() != null && e.error() == 0));
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aSocketClosedUnderABlockedReceiveIsClosedOnce(Mode mode) throws Exception {
    Run run = run(mode, "close-while-receiving");
    assertEquals(List.of(EventKind.CLOSE), kinds(run.of("server")),
        "the interrupted receive is no teardown of the peer's");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void withoutAChannelEverythingPassesThrough(Mode mode) throws Exception {
    Run run = withChannelReplaced(null, () -> run(mode, "blocking"));
    assertTrue(run.roles().values().stream().allMatch(List::isEmpty), "nothing was recorded");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aDamagedChannelIsIgnoredAndEverythingPassesThrough(Mode mode) throws Exception {
    Run run = withChannelReplaced(new byte[8192], () -> run(mode, "blocking"));
    assertTrue(run.roles().values().stream().allMatch(List::isEmpty), "nothing was recorded");
  }

  // --- Disconnect-data emulation over plain TCP ------------------------------------------------

  @Test
  void theSeedsTotalsTravelAsDisconnectDataOverTcpOnAnEmulatedPort() throws Exception {
    Run run = emulated("emulated-totals");
    List<TeardownEvent> client = run.of("client");
    List<TeardownEvent> server = run.of("server");
    assertEquals(List.of(EventKind.SEND_DISCONNECT, EventKind.SEND_DISCONNECT, EventKind.FD_CLOSE,
        EventKind.RECV_DISCONNECT, EventKind.RECV_DISCONNECT, EventKind.CLOSE), kinds(client));
    assertEquals(List.of(EventKind.EOF, EventKind.RECV_DISCONNECT, EventKind.SEND_DISCONNECT,
        EventKind.CLOSE), kinds(server));
    assertEquals(WinsockErrors.WSAEINVAL, client.get(0).error(), "1,025 bytes are over the limit");
    assertEquals("client-total=17", text(client.get(1)), "(1)");
    assertEquals("client-total=17", text(server.get(1)), "(3)");
    assertEquals("grand-total=1234", text(server.get(2)), "(5)");
    assertEquals(WinsockErrors.WSAEFAULT, client.get(3).error(), "a 4-byte buffer is too small");
    assertEquals("grand-total=1234", text(client.get(4)), "(7)");
    assertEquals(10, client.get(5).summary().bytesSent(), "the application's bytes, not the wire's");
    assertEquals(10, server.get(3).summary().bytesReceived());
    assertEquals(Initiator.LOCAL, client.get(5).summary().firstShutdown());
  }

  @Test
  void aNonBlockingStreamIsExactThroughEveryReceiveOnAnEmulatedPort() throws Exception {
    Run run = emulated("emulated-stream");
    assertEquals(1 << 20, single(run.of("client"), EventKind.CLOSE).summary().bytesSent());
    assertEquals(1 << 20, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
    assertEquals(0, single(run.of("server"), EventKind.RECV_DISCONNECT).dataLength());
  }

  @Test
  void aShutdownWakesASendBlockedOnAnEmulatedPortAndFionreadCountsTheApplicationsBytes()
      throws Exception {
    Run run = emulated("emulated-unblocking");
    assertEquals(List.of(EventKind.SHUTDOWN, EventKind.CLOSE),
        kinds(run.of("client")).stream().filter(k -> k != EventKind.RESET).toList());
  }

  @Test
  void overlappedRequestsOnAnEmulatedPortCompleteWithTheApplicationsBytes() throws Exception {
    Run run = emulated("emulated-overlapped");
    assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), kinds(run.of("server")));
    TeardownEvent server = single(run.of("server"), EventKind.CLOSE);
    assertEquals(100_000, server.summary().bytesSent());
    assertEquals(16, server.summary().bytesReceived(), "first, second and third");
  }

  @Test
  void wsaSendMsgAndWsaPollOnAnEmulatedPortKeepTheApplicationsStream() throws Exception {
    Run run = emulated("emulated-routed-calls");
    assertEquals(11, single(run.of("client"), EventKind.CLOSE).summary().bytesSent());
    assertEquals(11, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
    assertTrue(run.all().stream().noneMatch(e -> e.kind() == EventKind.RESET),
        "the framing held: " + run.all());
  }

  @Test
  void urgentDataOnAnEmulatedPortLeavesTheRecordsWhole() throws Exception {
    // The host checks the bytes on each side; here, that no framing failure was recorded.
    Run run = emulated("emulated-urgent");
    assertTrue(run.all().stream().noneMatch(e -> e.kind() == EventKind.RESET), run.all().toString());
    assertEquals(6 + 4, single(run.of("client"), EventKind.CLOSE).summary().bytesSent());
  }

  @Test
  void aPeerConfiguredOtherwiseIsRefusedWithAFramingResetEitherWay() throws Exception {
    Run run = emulated("emulated-plain-peer");
    TeardownEvent reset = single(run.of("server-refusing"), EventKind.RESET);
    assertEquals(FramingError.NOT_FRAMED, reset.framingError());
    assertEquals(WinsockErrors.WSAECONNABORTED, reset.error());
    assertEquals(CloseMode.ABORTIVE, single(run.of("server-refusing"), EventKind.CLOSE).closeMode());
    assertEquals("42", text(single(run.of("server-framing"), EventKind.SEND_DISCONNECT)));
    for (String role : List.of("server-sniffing", "server-sniffing-overlapped")) {
      TeardownEvent framed = single(run.of(role), EventKind.RESET);
      assertEquals(FramingError.UNEXPECTED, framed.framingError(), role + ": the peer frames, this side does not");
      assertEquals(WinsockErrors.WSAECONNABORTED, framed.error());
    }
  }

  @Test
  void acceptExAndConnectExOnAnEmulatedPortFrameTheirFirstBytesToo() throws Exception {
    Run run = emulated("emulated-extension-functions");
    assertEquals(List.of(EventKind.CLOSE), kinds(run.of("client")), "DisconnectEx ends it");
    assertEquals(11, single(run.of("client"), EventKind.CLOSE).summary().bytesSent(),
        "ConnectEx's 5 bytes and 6 more, not the records around them");
    assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), kinds(run.of("server")));
    assertEquals(11, single(run.of("server"), EventKind.CLOSE).summary().bytesReceived());
  }

  @Test
  void compatibleModeNeverChangesAStreamEvenOnAnEmulatedPort() throws Exception {
    // The host checks the bytes on the wire and the refusal; here, that nothing was reset.
    Run run = emulated(Mode.COMPATIBLE, "emulation-needs-full");
    assertTrue(run.all().stream().noneMatch(e -> e.kind() == EventKind.RESET), run.all().toString());
    assertEquals(WSAENOPROTOOPT, single(run.of("client"), EventKind.SEND_DISCONNECT).error());
    assertEquals(5, single(run.of("server-plain-peer"), EventKind.CLOSE).summary().bytesReceived(),
        "the peer outside Teardown was read as it wrote");
  }

  /**
   * Runs {@code scenario} with disconnect data emulated on a free port, then as configured before.
   * Emulation needs every request through Teardown: full mode, unless {@code mode} says otherwise.
   */
  private Run emulated(String scenario) throws Exception {
    return emulated(Mode.FULL, scenario);
  }

  private Run emulated(Mode mode, String scenario) throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Configuration before = channel.configuration();
    channel.configure(before.toBuilder().emulationPorts(List.of(port)).build());
    try {
      return run(mode, scenario, Map.of("TEARDOWN_TEST_PORT", Integer.toString(port)));
    } finally {
      channel.configure(before);
    }
  }

  private static String text(TeardownEvent event) {
    return new String(event.captured(), StandardCharsets.US_ASCII);
  }

  // --- The probe that tests-windows runs, checked against Wine's own sockets ------------------
  // Wine's ws2_32 loads no layered provider, so the probe runs on Wine's sockets alone: what this
  // checks is the probe's own logic, before the first real Windows run trusts it.

  @Test
  void theProbeForRealWindowsHoldsItsOwnChecksUnderWine() throws Exception {
    for (String scenario : List.of("graceful", "abortive", "linger-timeout", "shutdown-each-way",
        "disconnect-data", "event-select", "event-select-reset", "async-select", "overlapped",
        "overlapped-reset", "close-with-pending-io", "extension-functions", "routed-calls")) {
      ProbeRun run = probe(scenario);
      assertEquals(List.of(), run.failed(), scenario + ":\n" + run.output());
      assertEquals(0, run.exit(), scenario + ":\n" + run.output());
      assertTrue(run.output().contains("lsp absent"), "no LSP under Wine:\n" + run.output());
    }
  }

  @Test
  void theProbeFailsUnderWineExactlyWhereWineLacksWhatWindowsHas() throws Exception {
    // Wine's TransmitFile ignores TF_DISCONNECT: the bytes arrive, the end never does.
    ProbeRun transmitFile = probe("transmit-file");
    assertEquals(List.of("the client reads 1,000 bytes, then the end"), transmitFile.failed(),
        transmitFile.output());
    assertTrue(transmitFile.output().contains("client read 1000, then"), transmitFile.output());
    // No TransmitPackets, no SIO_BSP_HANDLE*, and AcceptEx cannot take a reused socket.
    assertEquals(List.of("SIO_GET_EXTENSION_FUNCTION_POINTER"), probe("transmit-packets").failed());
    assertEquals(List.of("SIO_BSP_HANDLE", "SIO_BSP_HANDLE_SELECT", "SIO_BSP_HANDLE_POLL",
        "SIO_BSP_HANDLE_SELECT agrees with SIO_BASE_HANDLE: select goes to the base provider",
        "SIO_BSP_HANDLE and SIO_BSP_HANDLE_POLL name the application's socket"),
        probe("bsp-handles").failed());
    assertEquals(List.of("AcceptEx accepts with the first bytes", "AcceptEx's bytes are ConnectEx's",
        "GetAcceptExSockaddrs names the client", "the reused socket reads the end"),
        probe("accept-reuse").failed());
  }

  @Test
  void theProbeRefusesAnUnknownScenarioWithItsList() throws Exception {
    ProbeRun run = probe("no-such-scenario");
    assertEquals(2, run.exit());
    assertTrue(run.output().contains("usage: teardown_probe <scenario>; scenarios: graceful"), run.output());
  }

  /** One run of the probe: its exit status, output, and the checks it reported failed. */
  private record ProbeRun(int exit, String output, List<String> failed) {}

  private ProbeRun probe(String scenario) throws Exception {
    Path output = prefix.resolve("../probe-" + scenario + ".out").normalize();
    Path exe = PROBE_DIR.resolve("teardown_probe.exe").toAbsolutePath();
    assertTrue(Files.isRegularFile(exe), exe + " is missing: build native-lsp first");
    Process process = start(new ProcessBuilder(WINE.toString(), exe.toString(), scenario), output);
    assertTrue(process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS), scenario + " finishes");
    String printed = Files.readString(output);
    List<String> failed = new ArrayList<>();
    for (String line : printed.split("\\R")) {
      if (line.startsWith("FAILED: ")) {
        failed.add(line.substring("FAILED: ".length()).replaceFirst(" \\(last error -?\\d+\\)$", ""));
      }
    }
    collect(-1);  // the probe's sockets are Wine's own: nothing of them reaches the channel
    return new ProbeRun(process.exitValue(), printed, failed);
  }

  private interface Scenario {
    Run run() throws Exception;
  }

  /**
   * Runs with the channel directory moved aside (this side keeps its mapping) and, unless
   * {@code damage} is null, files of those bytes in its place; then puts the channel back.
   */
  private Run withChannelReplaced(byte[] damage, Scenario scenario) throws Exception {
    Path live = channel.path();
    Path aside = live.resolveSibling("Teardown.aside");
    Files.move(live, aside);
    try {
      if (damage != null) {
        Files.createDirectories(live.resolve("rings"));
        Files.write(live.resolve("config"), damage);
        try (var rings = Files.list(aside.resolve("rings"))) {
          for (Path ring : rings.toList()) {
            Files.write(live.resolve("rings").resolve(ring.getFileName()), damage);
          }
        }
      }
      return scenario.run();
    } finally {
      deleteTree(live);
      Files.move(aside, live);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var all = Files.walk(root)) {
      for (Path path : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  // --- Checks shared by scenarios -------------------------------------------------------------

  private void checkBlockingExchange(Run run, boolean ipv6) {
    List<TeardownEvent> client = run.of("client");
    List<TeardownEvent> server = run.of("server");
    assertEquals(List.of(EventKind.SHUTDOWN, EventKind.EOF, EventKind.CLOSE), kinds(client));
    assertEquals(List.of(EventKind.EOF, EventKind.CLOSE), kinds(server));
    assertEquals(ShutdownHow.SEND, client.get(0).shutdownHow());
    TeardownEvent clientClose = client.get(2);
    assertEquals(CloseMode.GRACEFUL, clientClose.closeMode());
    assertEquals(5, clientClose.summary().bytesSent());
    assertEquals(3, clientClose.summary().bytesReceived());
    assertEquals(Initiator.LOCAL, clientClose.summary().firstShutdown());
    TeardownEvent serverClose = server.get(1);
    assertEquals(Initiator.REMOTE, serverClose.summary().firstShutdown());
    assertEquals(5, serverClose.summary().bytesReceived());
    assertEquals(clientClose.remote(), serverClose.local(), "the two ends agree on the address");
    assertEquals(clientClose.local(), serverClose.remote(), "the two ends agree on the address");
    assertEquals(ipv6, clientClose.local().getAddress() instanceof Inet6Address);
    assertTrue(clientClose.local().getAddress().isLoopbackAddress());
    assertEquals("teardown_spi_host.exe", clientClose.processName());
    assertEquals(run.pid(), clientClose.pid());
  }

  private static List<EventKind> kinds(List<TeardownEvent> events) {
    return events.stream().map(TeardownEvent::kind).toList();
  }

  private static TeardownEvent single(List<TeardownEvent> events, EventKind kind) {
    List<TeardownEvent> found = events.stream().filter(e -> e.kind() == kind).toList();
    assertEquals(1, found.size(), "one " + kind + " among " + events);
    return found.get(0);
  }

  // --- Running the host -----------------------------------------------------------------------

  private Run run(Mode mode, String scenario) throws Exception {
    return run(mode, scenario, Map.of());
  }

  private Run run(Mode mode, String scenario, Map<String, String> environment) throws Exception {
    Path output =
        prefix.resolve("../host-" + mode.environment() + "-" + scenario + ".out").normalize();
    Path host = HOST_DIR.resolve("teardown_spi_host.exe").toAbsolutePath();
    ProcessBuilder builder = new ProcessBuilder(WINE.toString(), host.toString(), scenario);
    builder.environment().putAll(environment);
    builder.environment().put("TEARDOWN_TEST_MODE", mode.environment());
    Process process = start(builder, output);
    assertTrue(process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS), scenario + " finishes");
    String printed = Files.readString(output);
    assertEquals(0, process.exitValue(), "the host's checks of " + scenario + ":\n" + printed);
    // A host that crashed can still exit 0 under Wine: it must have reached its last word.
    assertTrue(printed.strip().endsWith("\nok"), "the host ran " + scenario + " to its end:\n"
        + printed);
    assertTrue(printed.lines().anyMatch(line -> line.strip().equals("mode " + mode.environment())),
        "the host ran in " + mode + " mode:\n" + printed);
    long pid = -1;
    Map<String, Long> sockets = new HashMap<>();
    for (String line : printed.split("\\R")) {
      String[] words = line.trim().split(" ");
      if (words.length == 2 && words[0].equals("pid")) pid = Long.parseLong(words[1]);
      if (words.length == 3 && words[0].equals("role")) {
        sockets.put(words[1], Long.parseLong(words[2]));
      }
    }
    assertTrue(pid > 0, "the host printed its pid:\n" + printed);
    collect(pid);
    Map<String, List<TeardownEvent>> roles = new HashMap<>();
    for (Map.Entry<String, Long> socket : sockets.entrySet()) {
      roles.put(socket.getKey(), bySocket.getOrDefault(socket.getValue(), List.of()));
    }
    List<TeardownEvent> all = new ArrayList<>();
    bySocket.values().forEach(all::addAll);
    return new Run(pid, roles, all, printed);
  }

  /** The events of process {@code pid}, by socket, in the order they were published. */
  private void collect(long pid) {
    bySocket.clear();
    for (EventReader.Batch batch = reader.read(); !batch.isEmpty(); batch = reader.read()) {
      assertEquals(0, batch.lost(), "no event lost");
      for (TeardownEvent event : batch.events()) {
        if (event.pid() == pid) {
          bySocket.computeIfAbsent(event.socketId(), id -> new ArrayList<>()).add(event);
        }
      }
    }
  }

  private Process wine(List<String> command, Path log) throws IOException {
    return start(new ProcessBuilder(command), log.normalize());
  }

  /** Starts a Wine program; its output goes to a file, never a pipe (Wine's helpers hold it). */
  private Process start(ProcessBuilder builder, Path log) throws IOException {
    builder.environment().put("WINEPREFIX", prefix.toString());
    builder.environment().put("WINEDEBUG", "-all");
    if (display != null) builder.environment().put("DISPLAY", display);
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    return builder.start();
  }

  private static void awaitExit(Process process, String what) throws InterruptedException {
    assertTrue(process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS), what + " finishes");
  }

  /** An Xvfb on the first free display from :90: window-based paths need one under Wine. */
  private String startXvfb() throws Exception {
    for (int number = 90; number < 130; number++) {
      if (Files.exists(Path.of("/tmp/.X11-unix/X" + number))
          || Files.exists(Path.of("/tmp/.X" + number + "-lock"))) {
        continue;
      }
      Path log = prefix.resolve("../xvfb.log").normalize();
      xvfb = new ProcessBuilder("Xvfb", ":" + number, "-nolisten", "tcp")
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      for (int wait = 0; wait < 100 && xvfb.isAlive(); wait++) {
        if (Files.exists(Path.of("/tmp/.X11-unix/X" + number))) return ":" + number;
        Thread.sleep(50);
      }
      xvfb.destroy();
    }
    throw new AssertionError("no Xvfb display could be started");
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    for (String dir : path.split(":")) {
      if (Files.isExecutable(Path.of(dir, program))) return true;
    }
    return false;
  }
}
