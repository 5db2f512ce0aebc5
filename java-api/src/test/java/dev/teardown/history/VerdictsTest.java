package dev.teardown.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.teardown.api.CloseMode;
import dev.teardown.api.Ending;
import dev.teardown.api.EventFlag;
import dev.teardown.api.EventKind;
import dev.teardown.api.FramingError;
import dev.teardown.api.Initiator;
import dev.teardown.api.KernelView;
import dev.teardown.api.ShutdownHow;
import dev.teardown.api.TcpState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each cause of the vocabulary, from the events that make it, with one end and with both. */
class VerdictsTest {
  private static final String CLIENT = "127.0.0.1:50000";
  private static final String SERVER = "127.0.0.1:8080";

  private static EndScript client() {
    return new EndScript(100, "client", 3, 50000, 8080);
  }

  private static EndScript server() {
    return new EndScript(200, "server", 7, 8080, 50000);
  }

  private static RecordedConnection judge(EndScript... ends) {
    List<RecordedEnd> recorded = new java.util.ArrayList<>();
    for (int i = 0; i < ends.length; i++) {
      recorded.add(ends[i].recorded(i + 1));
    }
    return Verdicts.judge(recorded, List.of());
  }

  private static void assertVerdict(RecordedConnection connection, String initiator, Mechanism mechanism, Cause cause) {
    assertEquals(cause, connection.cause(), "cause");
    assertEquals(initiator, connection.initiatorText(), "initiator");
    assertEquals(mechanism, connection.mechanism(), "mechanism");
  }

  @Test
  void aGracefulCloseByTheClient() {
    RecordedConnection both = judge(
        server().remote(11, EventKind.EOF).close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL),
        client().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL));
    assertVerdict(both, CLIENT, Mechanism.FIN, Cause.GRACEFUL_CLOSE);
    assertEquals(200, both.ends().get(1).pid(), "the initiator's end comes first");
    assertEquals(100, both.ends().get(0).pid());
  }

  @Test
  void aHalfCloseThenClose() {
    assertVerdict(
        judge(client().shutdown(10, ShutdownHow.SEND).remote(12, EventKind.EOF)
                .close(13, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL),
            server().remote(11, EventKind.EOF).close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL)),
        CLIENT, Mechanism.FIN, Cause.SHUTDOWN_THEN_CLOSE);
  }

  @Test
  void aReceiveShutdownDoesNotStartATeardown() {
    assertVerdict(
        judge(client().shutdown(5, ShutdownHow.RECEIVE).remote(11, EventKind.EOF)
            .close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL)),
        SERVER, Mechanism.FIN, Cause.PEER_CLOSED);
  }

  @Test
  void aLingerZeroCloseResetsThePeer() {
    assertVerdict(
        judge(client().close(10, CloseMode.ABORTIVE, Initiator.LOCAL, Ending.ABORTIVE),
            server().remote(11, EventKind.RESET).close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE)),
        CLIENT, Mechanism.RST, Cause.LINGER_ZERO_CLOSE);
  }

  @Test
  void anAbortiveCloseMadeGracefulByPolicyIsAFin() {
    assertVerdict(
        judge(client().close(10, CloseMode.ABORTIVE, Initiator.LOCAL, Ending.GRACEFUL, EventFlag.CONVERTED)),
        CLIENT, Mechanism.FIN, Cause.ABORTIVE_MADE_GRACEFUL);
  }

  @Test
  void aCloseWithUnreadDataWhateverTheLingerOptions() {
    // The layer records the mode it performed: abortive, because of the unread bytes.
    assertVerdict(
        judge(server().close(10, CloseMode.ABORTIVE, Initiator.LOCAL, Ending.ABORTIVE, EventFlag.UNREAD_DATA)),
        SERVER, Mechanism.RST, Cause.CLOSE_WITH_UNREAD_DATA);
  }

  @Test
  void aProcessExitWinsOverWhatItsCloseLooksLike() {
    assertVerdict(
        judge(client().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.ABORTIVE, EventFlag.AT_EXIT, EventFlag.UNREAD_DATA)),
        CLIENT, Mechanism.RST, Cause.PROCESS_EXIT);
    assertVerdict(
        judge(client().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, EventFlag.AT_EXIT)),
        CLIENT, Mechanism.FIN, Cause.PROCESS_EXIT);
  }

  @Test
  void aWsaCleanupClose() {
    assertVerdict(
        judge(client().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, EventFlag.CLEANUP)),
        CLIENT, Mechanism.FIN, Cause.CLEANUP);
  }

  @Test
  void aPeerResetSeenByAReaderWhenOnlyItIsRecorded() {
    assertVerdict(
        judge(server().remote(11, EventKind.RESET).close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE)),
        CLIENT, Mechanism.RST, Cause.PEER_RESET);
  }

  @Test
  void aFramingErrorIsTheLayersReset() {
    assertVerdict(
        judge(server().framingReset(11, FramingError.NOT_FRAMED)
            .close(12, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.ABORTIVE)),
        SERVER, Mechanism.RST, Cause.FRAMING_ERROR);
  }

  @Test
  void theSeedsDisconnectDataExchange() {
    // The seed's table: (1) client send-disconnect, (2) server FD_CLOSE, (3) recv-disconnect,
    // (5) server send-disconnect, (6) client FD_CLOSE, (7) recv-disconnect, closes.
    EndScript client = client().sendDisconnect(10, "42").remote(14, EventKind.FD_CLOSE).recvDisconnect(15, "1042")
        .close(16, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL);
    EndScript server = server().remote(11, EventKind.FD_CLOSE).recvDisconnect(12, "42").sendDisconnect(13, "1042")
        .close(17, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL);
    RecordedConnection connection = judge(server, client);
    assertVerdict(connection, CLIENT, Mechanism.FIN, Cause.DISCONNECT_DATA);
    assertEquals(8, connection.events().size());
    assertEquals(EventKind.SEND_DISCONNECT, connection.events().get(0).kind(), "the timeline is in time order");
  }

  @Test
  void aPeerThatClosedFirstWithoutBeingRecorded() {
    assertVerdict(
        judge(server().remote(11, EventKind.EOF).close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL)),
        CLIENT, Mechanism.FIN, Cause.PEER_CLOSED);
  }

  // The kernel's view at close: what the reader never read still names the peer.
  @Test
  void aPeersFinTheReaderNeverReadMakesThePeerTheInitiator() {
    assertVerdict(
        judge(server().close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL, TcpState.CLOSE_WAIT)),
        CLIENT, Mechanism.FIN, Cause.PEER_CLOSED);
  }

  @Test
  void aPeersResetTheReaderNeverReadIsAPeerReset() {
    assertVerdict(
        judge(server().close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE, TcpState.CLOSED)),
        CLIENT, Mechanism.RST, Cause.PEER_RESET);
  }

  @Test
  void aShutdownAfterThePeersUnreadFinIsNotTheStart() {
    assertVerdict(
        judge(server().shutdown(10, ShutdownHow.SEND)
            .close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL, TcpState.LAST_ACK)),
        CLIENT, Mechanism.FIN, Cause.PEER_CLOSED);
  }

  @Test
  void theKernelsStatesOfOurOwnEndingChangeNothing() {
    assertVerdict(
        judge(client().shutdown(10, ShutdownHow.SEND)
            .close(12, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, TcpState.CLOSED)),
        CLIENT, Mechanism.FIN, Cause.SHUTDOWN_THEN_CLOSE);
    assertVerdict(
        judge(client().close(12, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, TcpState.ESTABLISHED)),
        CLIENT, Mechanism.FIN, Cause.GRACEFUL_CLOSE);
  }

  @Test
  void withBothEndsTheEarlierCloseStillStartsIt() {
    assertVerdict(
        judge(client().close(30, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL, TcpState.CLOSE_WAIT),
            server().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, TcpState.ESTABLISHED)),
        SERVER, Mechanism.FIN, Cause.GRACEFUL_CLOSE);
  }

  @Test
  void aConnectionWithNothingEndingItIsOpen() {
    assertVerdict(judge(client().shutdown(5, ShutdownHow.RECEIVE)), "none", Mechanism.NONE, Cause.OPEN);
  }

  @Test
  void causeTokensRoundTrip() {
    for (Cause cause : Cause.values()) {
      assertEquals(cause, Cause.fromToken(cause.token()));
    }
    assertEquals("linger-zero-close", Cause.LINGER_ZERO_CLOSE.token());
  }

  private static final int WSAECONNRESET = 10054;
  private static final int WSAETIMEDOUT = 10060;
  private static final int WSAECONNREFUSED = 10061;
  private static final int EPIPE = 32;
  private static final int ETIMEDOUT = 110;
  private static final int ECONNREFUSED = 111;

  @Test
  void aRefusedConnectIsItsOwnEndingNamedForThePortThatRefused() {
    RecordedConnection refused = judge(client().connectFailed(10, WSAECONNREFUSED, ECONNREFUSED, 1));
    assertVerdict(refused, SERVER, Mechanism.RST, Cause.CONNECT_REFUSED);
    assertEquals("REJ", refused.zeekState());
    assertTrue(refused.detail().startsWith("refused by " + SERVER + " (ECONNREFUSED (WSAECONNREFUSED)"),
        refused.detail());
    assertEquals(RecordedEnd.State.CLOSED, refused.ends().get(0).state(), "a failed connect ends its end");
  }

  @Test
  void aConnectThatWentUnansweredTimedOut() {
    RecordedConnection silent = judge(client().connectFailed(10, WSAETIMEDOUT, ETIMEDOUT, 127_000));
    assertVerdict(silent, "none", Mechanism.TIMEOUT, Cause.CONNECT_TIMED_OUT);
    assertEquals("S0", silent.zeekState());
    assertTrue(silent.detail().contains("after 127000000 µs"), silent.detail());
  }

  @Test
  void finsThatCrossedAreASimultaneousClose() {
    RecordedConnection crossed = judge(
        client().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, TcpState.ESTABLISHED,
            EndScript.unread(0)),
        server().accepted().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, TcpState.ESTABLISHED,
            EndScript.unread(0)));
    assertVerdict(crossed, "both", Mechanism.FIN, Cause.SIMULTANEOUS_CLOSE);
    assertEquals("SF", crossed.zeekState());
    // The same calls 20 ms apart: the first one's FIN had long arrived, whatever the second read.
    RecordedConnection apart = judge(
        client().shutdown(10, ShutdownHow.SEND).close(40, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL),
        server().shutdown(30, ShutdownHow.SEND).close(41, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL));
    assertVerdict(apart, CLIENT, Mechanism.FIN, Cause.SHUTDOWN_THEN_CLOSE);
    // One end: its kernel had both FINs in flight at its close.
    assertVerdict(judge(client().shutdown(10, ShutdownHow.SEND)
            .close(11, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, TcpState.CLOSING)),
        "both", Mechanism.FIN, Cause.SIMULTANEOUS_CLOSE);
  }

  @Test
  void thePeerWritingAfterTheInitiatorsCloseIsNamedWithBothEnds() {
    RecordedConnection both = judge(
        server().accepted().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL,
            TcpState.ESTABLISHED, EndScript.unread(0)),
        client().lost(12, WSAECONNRESET, EPIPE, EndScript.unread(0))
            .close(13, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE, TcpState.CLOSED, EndScript.unread(0)));
    assertVerdict(both, SERVER, Mechanism.RST, Cause.DATA_AFTER_CLOSE);
    assertEquals("RSTR", both.zeekState(), "the responder's kernel sent the reset");
    assertTrue(both.detail().contains("client[100] saw EPIPE (WSAECONNRESET)"), both.detail());
  }

  @Test
  void thePeerWritingAfterTheInitiatorsCloseIsNamedFromTheWritersEndAlone() {
    RecordedConnection writer = judge(client().lost(12, WSAECONNRESET, EPIPE, EndScript.unread(0))
        .close(13, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE, TcpState.CLOSED, EndScript.unread(0)));
    assertVerdict(writer, SERVER, Mechanism.RST, Cause.DATA_AFTER_CLOSE);
    // The same reset without Linux's EPIPE (Windows says WSAECONNRESET either way): a peer's reset.
    RecordedConnection windows = judge(client().lost(12, WSAECONNRESET, 0, EndScript.unread(0))
        .close(13, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE, TcpState.CLOSED, EndScript.unread(0)));
    assertVerdict(windows, SERVER, Mechanism.RST, Cause.PEER_RESET);
    assertEquals("RSTR", windows.zeekState(), "the client connected; its peer reset");
  }

  @Test
  void aConnectionGivenUpByItsStackTimedOut() {
    KernelView stalled = new KernelView(10, 0, 0, 0, null, 15, 15, 0);
    RecordedConnection gone = judge(client().lost(900_000, WSAETIMEDOUT, ETIMEDOUT, stalled)
        .close(900_001, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE, TcpState.CLOSED, EndScript.unread(0)));
    assertVerdict(gone, "none", Mechanism.TIMEOUT, Cause.TIMED_OUT);
    assertTrue(gone.detail().contains("ETIMEDOUT (WSAETIMEDOUT), 15 retransmission timeouts in a row"), gone.detail());
    // Windows says WSAECONNABORTED; the kernel's view says it was its own retransmissions.
    RecordedConnection aborted = judge(client().lost(900_000, 10053, 0, stalled));
    assertEquals(Cause.TIMED_OUT, aborted.cause());
    RecordedConnection reset = judge(client().lost(900_000, 10053, 0, EndScript.unread(0)));
    assertEquals(Cause.PEER_RESET, reset.cause(), "an abort with nothing outstanding is the peer's doing");
  }

  @Test
  void aCloseThatDiscardsUnreadBytesSaysHowMany() {
    RecordedConnection discarded = judge(
        server().accepted().close(10, CloseMode.ABORTIVE, Initiator.LOCAL, Ending.ABORTIVE, TcpState.ESTABLISHED,
            EndScript.unread(1000), EventFlag.UNREAD_DATA),
        client().remote(11, EventKind.RESET)
            .close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.ABORTIVE, TcpState.CLOSED, EndScript.unread(0)));
    assertVerdict(discarded, SERVER, Mechanism.RST, Cause.CLOSE_WITH_UNREAD_DATA);
    assertEquals("server[200] closed with 1000 received bytes never read", discarded.detail());
    assertEquals("RSTR", discarded.zeekState());
  }

  @Test
  void theLifetimeRunsFromTheEarliestEndsBeginningToTheLastRecordOfEither() {
    RecordedConnection connection = judge(
        client().close(10, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL),  // made at 0
        server().remote(11, EventKind.EOF).close(50, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL));
    assertEquals(java.time.Duration.ofMillis(50), connection.lifetime());
  }

  @Test
  void aCloseTheLayerDidNotSeeIsNamedAndTheInitiatorStillFoundByThePeersRecord() {
    // libuv closed the client with a raw system call; the layer noticed when the number came back.
    RecordedConnection both = judge(
        client().close(40, CloseMode.GRACEFUL, Initiator.LOCAL, Ending.GRACEFUL, EventFlag.UNSEEN_CLOSE),
        server().remote(11, EventKind.EOF).close(12, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL));
    assertVerdict(both, CLIENT, Mechanism.FIN, Cause.CLOSED_UNSEEN);
  }

  @Test
  void aProcessThatEndedWithItsConnectionOpenBeganTheTeardown() {
    RecordedEnd worker = client().connected(1).recorded(1, RecordedEnd.State.PROCESS_ENDED);
    RecordedEnd server = server().accepted().connected(1).remote(20, EventKind.EOF)
        .close(21, CloseMode.GRACEFUL, Initiator.REMOTE, Ending.GRACEFUL).recorded(2);
    RecordedConnection both = Verdicts.judge(List.of(server, worker), List.of());
    assertVerdict(both, CLIENT, Mechanism.FIN, Cause.PROCESS_KILLED);
    assertEquals("SF", both.zeekState());
    RecordedConnection alone = Verdicts.judge(List.of(worker), List.of());
    assertVerdict(alone, CLIENT, Mechanism.NONE, Cause.PROCESS_KILLED);
    // The peer's FIN reached it before it died: the peer began.
    RecordedEnd late = client().connected(1).remote(5, EventKind.EOF).recorded(3, RecordedEnd.State.PROCESS_ENDED);
    assertVerdict(Verdicts.judge(List.of(late), List.of()), SERVER, Mechanism.FIN, Cause.PEER_CLOSED);
  }
}
