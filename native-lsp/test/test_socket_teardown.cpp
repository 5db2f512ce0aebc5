// The seed's rules ("Connection Shutdown"), one scenario each, on the per-socket state machine.
#include <gtest/gtest.h>

#include "socket_teardown.h"
#include "winsock_errors.h"

namespace teardown {
namespace {

constexpr uint64_t kCreated = 1'000'000'000;

class SocketTeardownTest : public ::testing::Test {
 protected:
  SocketTeardown stream_{SocketIdentity{42, 6, 1, false}, kCreated};
  td_event_record event_{};

  void close_now(bool policy = false, int32_t error = 0, bool released = true) {
    stream_.on_close(stream_.plan_close(policy), error, released, kCreated + 5'000, event_);
  }
};

// "WSPShutdown (with how equal to SD_SEND or SD_BOTH) ... may be used to initiate a graceful
// connection shutdown."
TEST_F(SocketTeardownTest, AFramingFailureIsAFlaggedResetSeenOnce) {
  td_event_record event{};
  ASSERT_TRUE(stream_.on_framing_failure(TD_FRAMING_NOT_FRAMED, event));
  EXPECT_EQ(event.kind, TD_KIND_RESET);
  EXPECT_EQ(event.error, 10053);
  EXPECT_EQ(event.flags & TD_FLAG_FRAMING, TD_FLAG_FRAMING);
  EXPECT_EQ(event.detail, TD_FRAMING_NOT_FRAMED);
  EXPECT_EQ(stream_.ending(), TD_ENDING_ABORTIVE);
  td_event_record again{};
  EXPECT_FALSE(stream_.on_framing_failure(TD_FRAMING_NOT_FRAMED, again)) << "the reset, once";
  EXPECT_FALSE(stream_.on_receive(-1, 10053, again)) << "nor again as the call's own error";
}

TEST_F(SocketTeardownTest, ShutdownSendInitiatesGracefulShutdown) {
  stream_.on_shutdown(TD_HOW_SEND, 0, event_);
  EXPECT_EQ(event_.kind, TD_KIND_SHUTDOWN);
  EXPECT_EQ(event_.detail, TD_HOW_SEND);
  EXPECT_EQ(event_.socket_id, 42u);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_LOCAL);
  EXPECT_EQ(stream_.ending(), TD_ENDING_GRACEFUL);
}

TEST_F(SocketTeardownTest, ShutdownBothInitiatesGracefulShutdown) {
  stream_.on_shutdown(TD_HOW_BOTH, 0, event_);
  EXPECT_EQ(event_.detail, TD_HOW_BOTH);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_LOCAL);
  EXPECT_EQ(stream_.ending(), TD_ENDING_GRACEFUL);
}

TEST_F(SocketTeardownTest, ShutdownReceiveIsRecordedButInitiatesNothing) {
  stream_.on_shutdown(TD_HOW_RECEIVE, 0, event_);
  EXPECT_EQ(event_.kind, TD_KIND_SHUTDOWN);
  EXPECT_EQ(event_.detail, TD_HOW_RECEIVE);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_NONE);
  EXPECT_EQ(stream_.ending(), TD_ENDING_NONE);
}

TEST_F(SocketTeardownTest, FailedShutdownIsRecordedWithItsErrorAndChangesNothing) {
  stream_.on_shutdown(TD_HOW_SEND, wsa::kNotConnected, event_);
  EXPECT_EQ(event_.kind, TD_KIND_SHUTDOWN);
  EXPECT_EQ(event_.error, wsa::kNotConnected);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_NONE);
}

// "... and WSPSendDisconnect may be used to initiate a graceful connection shutdown."
TEST_F(SocketTeardownTest, SendDisconnectInitiatesGracefulShutdownWithItsData) {
  stream_.on_send_disconnect(8, 0, event_);
  EXPECT_EQ(event_.kind, TD_KIND_SEND_DISCONNECT);
  EXPECT_EQ(event_.data_length, 8u);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_LOCAL);
  EXPECT_EQ(stream_.ending(), TD_ENDING_GRACEFUL);
}

// "WSPCloseSocket can be used to initiate either a graceful or abortive shutdown, depending on
// the linger options": SO_DONTLINGER, the default, is graceful and returns at once.
TEST_F(SocketTeardownTest, CloseByDefaultIsGraceful) {
  close_now();
  EXPECT_EQ(event_.kind, TD_KIND_CLOSE);
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL);
  EXPECT_EQ(event_.linger_seconds, 0);
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_LOCAL);
  EXPECT_TRUE(stream_.closed());
}

TEST_F(SocketTeardownTest, CloseWithLingerZeroIsAbortive) {
  stream_.set_linger(true, 0);
  close_now();
  EXPECT_EQ(event_.detail, TD_CLOSE_ABORTIVE);
  EXPECT_EQ(event_.ending, TD_ENDING_ABORTIVE);
  EXPECT_EQ(event_.flags & TD_FLAG_CONVERTED, 0);
}

TEST_F(SocketTeardownTest, CloseWithLingerTimeoutIsGracefulWithWait) {
  stream_.set_linger(true, 7);
  close_now();
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL_LINGER);
  EXPECT_EQ(event_.linger_seconds, 7);
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
}

TEST_F(SocketTeardownTest, DontLingerAfterLingerZeroRestoresGracefulClose) {
  stream_.set_linger(true, 0);
  stream_.set_dont_linger(true);
  close_now();
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL);
}

TEST_F(SocketTeardownTest, LingerOffWithTimeoutIsStillDontLinger) {
  stream_.set_linger(false, 30);
  close_now();
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL);
}

TEST_F(SocketTeardownTest, ClearingDontLingerKeepsTheLingerTimeout) {
  stream_.set_linger(false, 9);
  stream_.set_dont_linger(false);
  close_now();
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL_LINGER);
  EXPECT_EQ(event_.linger_seconds, 9);
}

// A lingering close of a non-blocking socket fails with WSAEWOULDBLOCK and the handle stays
// valid: the attempt is recorded, the summary waits for the close that succeeds.
TEST_F(SocketTeardownTest, NonBlockingLingerCloseWouldBlockAndSocketLivesOn) {
  stream_.set_nonblocking(true);
  stream_.set_linger(true, 5);
  close_now(false, wsa::kWouldBlock, false);
  EXPECT_EQ(event_.kind, TD_KIND_CLOSE);
  EXPECT_EQ(event_.error, wsa::kWouldBlock);
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL_LINGER);
  EXPECT_NE(event_.flags & TD_FLAG_NONBLOCKING, 0);
  EXPECT_EQ(event_.ending, TD_ENDING_NONE);
  EXPECT_FALSE(stream_.closed());

  td_event_record received{};
  EXPECT_FALSE(stream_.on_receive(3, 0, received));
  close_now();
  EXPECT_EQ(event_.error, 0);
  EXPECT_TRUE(stream_.closed());
  EXPECT_EQ(event_.bytes_received, 3u);
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
}

TEST_F(SocketTeardownTest, PolicyPerformsAnAbortiveCloseGracefullyAndSaysSo) {
  stream_.set_linger(true, 0);
  ClosePlan plan = stream_.plan_close(true);
  EXPECT_EQ(plan.requested, TD_CLOSE_ABORTIVE);
  EXPECT_EQ(plan.performed, TD_CLOSE_GRACEFUL);
  EXPECT_TRUE(plan.converted);
  close_now(true);
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL);
  EXPECT_NE(event_.flags & TD_FLAG_CONVERTED, 0);
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
}

// A close with received data left unread resets the connection, whatever the linger options, and
// no policy can make it graceful.
TEST_F(SocketTeardownTest, CloseWithUnreadDataIsAbortiveAndSaysWhy) {
  ClosePlan plan = stream_.plan_close(true, true);
  EXPECT_EQ(plan.requested, TD_CLOSE_GRACEFUL);
  EXPECT_EQ(plan.performed, TD_CLOSE_ABORTIVE);
  EXPECT_FALSE(plan.converted);
  stream_.on_close(plan, 0, true, kCreated + 1, event_);
  EXPECT_EQ(event_.detail, TD_CLOSE_ABORTIVE);
  EXPECT_NE(event_.flags & TD_FLAG_UNREAD_DATA, 0);
  EXPECT_EQ(event_.ending, TD_ENDING_ABORTIVE);
}

TEST_F(SocketTeardownTest, ResetStartsANewSocketInPlace) {
  stream_.set_linger(true, 0);
  stream_.on_send(5, 0, event_);
  close_now();
  stream_.reset(SocketIdentity{43, 6, 1, false}, kCreated + 100);
  EXPECT_FALSE(stream_.closed());
  EXPECT_EQ(stream_.bytes_sent(), 0u);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_NONE);
  stream_.on_close(stream_.plan_close(false), 0, true, kCreated + 200, event_);
  EXPECT_EQ(event_.socket_id, 43u);
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL) << "linger options belong to the old socket";
  EXPECT_EQ(event_.lifetime_ns, 100u);
}

TEST_F(SocketTeardownTest, PolicyLeavesGracefulClosesAlone) {
  stream_.set_linger(true, 3);
  ClosePlan plan = stream_.plan_close(true);
  EXPECT_EQ(plan.performed, TD_CLOSE_GRACEFUL_LINGER);
  EXPECT_FALSE(plan.converted);
}

// "Service providers indicate connection teardown that is initiated by the remote party through
// the FD_CLOSE network event."
TEST_F(SocketTeardownTest, FdCloseWithoutErrorIsRemoteGracefulTeardown) {
  ASSERT_TRUE(stream_.on_fd_close(0, event_));
  EXPECT_EQ(event_.kind, TD_KIND_FD_CLOSE);
  EXPECT_EQ(event_.error, 0);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_REMOTE);
  EXPECT_EQ(stream_.ending(), TD_ENDING_GRACEFUL);
}

TEST_F(SocketTeardownTest, FdCloseWithResetIsRemoteAbortiveTeardown) {
  ASSERT_TRUE(stream_.on_fd_close(wsa::kConnectionReset, event_));
  EXPECT_EQ(event_.error, wsa::kConnectionReset);
  EXPECT_EQ(stream_.ending(), TD_ENDING_ABORTIVE);
}

TEST_F(SocketTeardownTest, FdCloseIsReportedOnce) {
  ASSERT_TRUE(stream_.on_fd_close(0, event_));
  EXPECT_FALSE(stream_.on_fd_close(0, event_));
}

// "Graceful shutdown is also indicated through WSPRecv when the number of bytes read is 0 for
// byte-stream protocols."
TEST_F(SocketTeardownTest, ZeroByteReceiveOnStreamIsEof) {
  EXPECT_FALSE(stream_.on_receive(100, 0, event_));
  ASSERT_TRUE(stream_.on_receive(0, 0, event_));
  EXPECT_EQ(event_.kind, TD_KIND_EOF);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_REMOTE);
  EXPECT_EQ(stream_.ending(), TD_ENDING_GRACEFUL);
  EXPECT_FALSE(stream_.on_receive(0, 0, event_)) << "EOF is one teardown, however often read";
  EXPECT_EQ(stream_.bytes_received(), 100u);
}

TEST(MessageSocketTeardown, ZeroByteReceiveOnMessageSocketIsAnEmptyMessage) {
  SocketTeardown message{SocketIdentity{7, 17, 2, true}, kCreated};
  td_event_record event{};
  EXPECT_FALSE(message.on_receive(0, 0, event));
  EXPECT_EQ(message.first_shutdown(), TD_INITIATOR_NONE);
}

// "... or through a return error code of WSAEDISCON for message-oriented protocols."
TEST(MessageSocketTeardown, DisconIsRemoteGracefulShutdown) {
  SocketTeardown message{SocketIdentity{7, 0, 5, true}, kCreated};
  td_event_record event{};
  ASSERT_TRUE(message.on_receive(-1, wsa::kDisconnected, event));
  EXPECT_EQ(event.kind, TD_KIND_DISCON);
  EXPECT_EQ(event.error, wsa::kDisconnected);
  EXPECT_EQ(event.socket_type, 5);
  EXPECT_EQ(message.first_shutdown(), TD_INITIATOR_REMOTE);
  EXPECT_EQ(message.ending(), TD_ENDING_GRACEFUL);
}

// "In any case, a WSPRecv return error code of WSAECONNRESET indicates an abortive shutdown."
TEST_F(SocketTeardownTest, ConnectionResetOnReceiveIsAbortive) {
  ASSERT_TRUE(stream_.on_receive(-1, wsa::kConnectionReset, event_));
  EXPECT_EQ(event_.kind, TD_KIND_RESET);
  EXPECT_EQ(event_.error, wsa::kConnectionReset);
  EXPECT_EQ(stream_.ending(), TD_ENDING_ABORTIVE);
  close_now();
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL) << "the close itself asked for nothing abortive";
  EXPECT_EQ(event_.ending, TD_ENDING_ABORTIVE) << "but the connection ended in a reset";
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_REMOTE);
}

TEST_F(SocketTeardownTest, ConnectionAbortedOnSendIsAReset) {
  ASSERT_TRUE(stream_.on_send(-1, wsa::kConnectionAborted, event_));
  EXPECT_EQ(event_.kind, TD_KIND_RESET);
  EXPECT_EQ(event_.error, wsa::kConnectionAborted);
  EXPECT_FALSE(stream_.on_receive(-1, wsa::kConnectionReset, event_)) << "one reset, one event";
}

TEST_F(SocketTeardownTest, OtherErrorsAreNotTeardowns) {
  EXPECT_FALSE(stream_.on_receive(-1, wsa::kWouldBlock, event_));
  EXPECT_FALSE(stream_.on_send(-1, wsa::kWouldBlock, event_));
  EXPECT_FALSE(stream_.on_receive(-1, wsa::kInterrupted, event_));
  EXPECT_EQ(stream_.ending(), TD_ENDING_NONE);
}

// Half-close in each direction: this side stops sending and keeps receiving until the peer's EOF.
TEST_F(SocketTeardownTest, LocalHalfCloseThenPeerEof) {
  stream_.on_shutdown(TD_HOW_SEND, 0, event_);
  EXPECT_FALSE(stream_.on_receive(512, 0, event_));
  ASSERT_TRUE(stream_.on_receive(0, 0, event_));
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_LOCAL);
  EXPECT_EQ(event_.bytes_received, 512u);
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
}

// The peer stops sending first; this side goes on sending, then closes.
TEST_F(SocketTeardownTest, PeerHalfCloseThenLocalSendsAndCloses) {
  ASSERT_TRUE(stream_.on_receive(0, 0, event_));
  EXPECT_FALSE(stream_.on_send(64, 0, event_));
  stream_.on_shutdown(TD_HOW_SEND, 0, event_);
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_REMOTE);
  EXPECT_EQ(event_.bytes_sent, 64u);
}

// "After receiving notice that the remote end has initiated the teardown sequence ... the
// WSPRecvDisconnect function may be called to receive the disconnect data (if any)."
TEST_F(SocketTeardownTest, RecvDisconnectCarriesTheReceivedDataLength) {
  ASSERT_TRUE(stream_.on_fd_close(0, event_));
  stream_.on_recv_disconnect(12, 0, event_);
  EXPECT_EQ(event_.kind, TD_KIND_RECV_DISCONNECT);
  EXPECT_EQ(event_.data_length, 12u);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_REMOTE);
}

TEST_F(SocketTeardownTest, DisconnectDataCallsUnsupportedByTheProtocolAreRecordedWithTheError) {
  stream_.on_send_disconnect(4, wsa::kNoProtocolOption, event_);
  EXPECT_EQ(event_.error, wsa::kNoProtocolOption);
  EXPECT_EQ(stream_.first_shutdown(), TD_INITIATOR_NONE);
}

TEST_F(SocketTeardownTest, SummaryCountsLifetimeAndBytes) {
  td_address local{TD_FAMILY_IPV4, 0, 5000, 0, {127, 0, 0, 1}};
  td_address remote{TD_FAMILY_IPV4, 0, 80, 0, {127, 0, 0, 1}};
  stream_.set_endpoints(local, remote);
  stream_.on_send(10, 0, event_);
  stream_.on_send(20, 0, event_);
  stream_.on_receive(7, 0, event_);
  close_now();
  EXPECT_EQ(event_.lifetime_ns, 5'000u);
  EXPECT_EQ(event_.bytes_sent, 30u);
  EXPECT_EQ(event_.bytes_received, 7u);
  EXPECT_EQ(event_.local.port, 5000);
  EXPECT_EQ(event_.remote.port, 80);
}

// The kernel's view at close: what the program never read still decides who began and how.
TEST_F(SocketTeardownTest, ThePeersUnreadFinMakesThePeerTheInitiator) {
  stream_.on_kernel_state(TD_TCP_CLOSE_WAIT, true);
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_REMOTE) << "the close came after the peer's FIN";
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
  EXPECT_EQ(event_.kernel_state, TD_TCP_CLOSE_WAIT);
}

TEST_F(SocketTeardownTest, AShutdownAfterTheUnreadFinIsNotTheFirst) {
  td_event_record shutdown{};
  stream_.on_shutdown(TD_HOW_SEND, 0, shutdown);
  ASSERT_EQ(stream_.first_shutdown(), TD_INITIATOR_LOCAL) << "as the calls alone tell it";
  stream_.on_kernel_state(TD_TCP_LAST_ACK, true);
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_REMOTE) << "the kernel had the peer's FIN first";
}

TEST_F(SocketTeardownTest, AConnectionGoneWithoutOurEndIsAResetNeverRead) {
  stream_.on_kernel_state(TD_TCP_CLOSED, true);
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_REMOTE);
  EXPECT_EQ(event_.ending, TD_ENDING_ABORTIVE);
  EXPECT_EQ(event_.detail, TD_CLOSE_GRACEFUL) << "the program's own close is still what it asked";
}

TEST_F(SocketTeardownTest, AResetAfterThePeersFinReadIsStillAReset) {
  td_event_record eof{};
  ASSERT_TRUE(stream_.on_receive(0, 0, eof));
  stream_.on_kernel_state(TD_TCP_CLOSED, true);  // the program wrote on; the peer's stack reset
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_REMOTE);
  EXPECT_EQ(event_.ending, TD_ENDING_ABORTIVE);
}

TEST_F(SocketTeardownTest, ClosedAfterOurOwnFinConcludesNothing) {
  td_event_record shutdown{};
  stream_.on_shutdown(TD_HOW_SEND, 0, shutdown);
  stream_.on_kernel_state(TD_TCP_CLOSED, true);  // Linux: both FINs done, the socket still open
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_LOCAL);
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
  EXPECT_EQ(event_.kernel_state, TD_TCP_CLOSED);
}

TEST_F(SocketTeardownTest, ClosedOnAConnectionNeverMadeConcludesNothing) {
  stream_.on_kernel_state(TD_TCP_CLOSED, false);  // a refused connect
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_LOCAL);
  EXPECT_EQ(event_.ending, TD_ENDING_GRACEFUL);
}

TEST_F(SocketTeardownTest, OurFinInFlightConfirmsUsAndAnOpenConnectionChangesNothing) {
  stream_.on_kernel_state(TD_TCP_ESTABLISHED, true);
  close_now();
  EXPECT_EQ(event_.first_shutdown, TD_INITIATOR_LOCAL);
  EXPECT_EQ(event_.kernel_state, TD_TCP_ESTABLISHED);
  SocketTeardown other{SocketIdentity{43, 6, 1, false}, kCreated};
  td_event_record eof{};
  ASSERT_TRUE(other.on_receive(0, 0, eof));  // the peer's FIN read, yet the kernel says ours went
  other.on_kernel_state(TD_TCP_TIME_WAIT, true);
  EXPECT_EQ(other.first_shutdown(), TD_INITIATOR_REMOTE) << "a state that confirms never overrides";
}

TEST_F(SocketTeardownTest, AStateOutOfRangeIsUnknownAndNotReadIsZero) {
  close_now();
  EXPECT_EQ(event_.kernel_state, TD_TCP_UNKNOWN) << "not read";
  SocketTeardown other{SocketIdentity{43, 6, 1, false}, kCreated};
  other.on_kernel_state(static_cast<td_tcp_state>(200), true);
  EXPECT_EQ(other.kernel_state(), TD_TCP_UNKNOWN);
  other.reset(SocketIdentity{44, 6, 1, false}, kCreated);
  EXPECT_EQ(other.kernel_state(), TD_TCP_UNKNOWN);
}

TEST_F(SocketTeardownTest, AFailedConnectIsItsOwnEventWithTheAttemptsLength) {
  SocketTeardown client{SocketIdentity{50, 6, 1, false}, kCreated};
  client.on_connect_started(kCreated + 1000);
  td_event_record failed{};
  client.on_connect_failed(10061, kCreated + 5000, failed);
  EXPECT_EQ(failed.kind, TD_KIND_CONNECT_FAILED);
  EXPECT_EQ(failed.error, 10061);
  EXPECT_EQ(failed.lifetime_ns, 4000u) << "from the connect, not from the socket's creation";
  EXPECT_EQ(failed.flags & TD_FLAG_ACCEPTED, 0);
  EXPECT_EQ(client.ending(), TD_ENDING_NONE) << "no connection was made, none ended";
  SocketTeardown never_started{SocketIdentity{51, 6, 1, false}, kCreated};
  never_started.on_connect_failed(10060, kCreated + 7000, failed);
  EXPECT_EQ(failed.lifetime_ns, 7000u) << "no start told: from the socket's creation";
}

TEST_F(SocketTeardownTest, AnAcceptedSocketsEventsSayItIsTheResponder) {
  SocketTeardown server{SocketIdentity{52, 6, 1, false}, kCreated};
  server.set_accepted();
  td_event_record eof{};
  ASSERT_TRUE(server.on_receive(0, 0, eof));
  EXPECT_NE(eof.flags & TD_FLAG_ACCEPTED, 0);
  SocketTeardown copy;
  copy.copy_from(server);
  td_event_record shutdown{};
  copy.on_shutdown(TD_HOW_SEND, 0, shutdown);
  EXPECT_NE(shutdown.flags & TD_FLAG_ACCEPTED, 0) << "a duplicate is the same end";
  server.reset(SocketIdentity{52, 6, 1, false}, kCreated);
  server.on_shutdown(TD_HOW_SEND, 0, shutdown);
  EXPECT_EQ(shutdown.flags & TD_FLAG_ACCEPTED, 0) << "a new socket in the same place";
}

TEST_F(SocketTeardownTest, TheKernelsViewGoesWithTheEventFlagged) {
  close_now();
  EXPECT_EQ(event_.flags & TD_FLAG_KERNEL_VIEW, 0);
  EXPECT_EQ(event_.kernel.unread_bytes, 0u) << "zero when not read";
  td_kernel_view view = unknown_kernel_view();
  EXPECT_EQ(view.bytes_acked, TD_KERNEL_UNKNOWN64);
  EXPECT_EQ(view.unread_bytes, TD_KERNEL_UNKNOWN32);
  view.unread_bytes = 1000;
  attach_kernel_view(view, event_);
  EXPECT_NE(event_.flags & TD_FLAG_KERNEL_VIEW, 0);
  EXPECT_EQ(event_.kernel.unread_bytes, 1000u);
  EXPECT_EQ(event_.kernel.rtt_us, TD_KERNEL_UNKNOWN32);
}

}  // namespace
}  // namespace teardown
