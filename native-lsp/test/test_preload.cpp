// The Linux layer under a real program (preload_probe): the program sees what it would see
// without the layer, with a channel, with none, and with a damaged one; and the layer records
// what happened.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "channel.h"
#include "channel_events.h"
#include "test_support.h"

#ifndef TEARDOWN_PRELOAD_PATH
#error "TEARDOWN_PRELOAD_PATH must name libteardown_preload.so"
#endif
#ifndef TEARDOWN_PROBE_PATH
#error "TEARDOWN_PROBE_PATH must name preload_probe"
#endif

namespace teardown {
namespace {

using teardown::testing::channel_events;
using teardown::testing::TempDir;

// Runs the probe with the layer and the given channel directory; returns its exit code.
int run_probe(const std::string& scenario, const std::string& channel) {
  pid_t child = fork();
  if (child == 0) {
    setenv("LD_PRELOAD", TEARDOWN_PRELOAD_PATH, 1);
    setenv("TEARDOWN_CHANNEL", channel.c_str(), 1);
    execl(TEARDOWN_PROBE_PATH, "preload_probe", scenario.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<td_event_record> events_in(Channel& channel) {
  uint64_t lost = 0;
  std::vector<td_event_record> all = channel_events(channel, &lost);
  EXPECT_EQ(lost, 0u);
  return all;
}

// A fresh channel, and the probe run once under the layer recording into it.
std::unique_ptr<Channel> recorded_run(const TempDir& dir, const char* scenario) {
  std::unique_ptr<Channel> channel;
  EXPECT_EQ(Channel::open(dir.path(), true, 4096, channel), TD_OK);
  EXPECT_EQ(run_probe(scenario, dir.path()), 0);
  return channel;
}

class PreloadTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PreloadTest, TheProgramSeesNoDifferenceWithAChannel) {
  TempDir dir;
  std::unique_ptr<Channel> channel;
  ASSERT_EQ(Channel::open(dir.path(), true, 4096, channel), TD_OK);
  EXPECT_EQ(run_probe(GetParam(), dir.path()), 0);
}

TEST_P(PreloadTest, TheProgramSeesNoDifferenceWithoutAChannel) {
  TempDir dir;
  EXPECT_EQ(run_probe(GetParam(), dir.file("absent")), 0);
}

TEST_P(PreloadTest, TheProgramSeesNoDifferenceWithADamagedChannel) {
  TempDir dir;
  {
    std::unique_ptr<Channel> channel;
    ASSERT_EQ(Channel::open(dir.path(), true, 64, channel), TD_OK);
  }
  std::ofstream(dir.file("events"), std::ios::in | std::ios::out | std::ios::binary) << "garbage!";
  EXPECT_EQ(run_probe(GetParam(), dir.path()), 0);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, PreloadTest,
                         ::testing::Values("errno", "pipes", "threads", "fork", "close_range", "exec"));

TEST(PreloadEvents, ASocketInheritedThroughExecIsAdoptedAndItsCloseRecorded) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "exec");
  ASSERT_TRUE(channel);
  std::vector<td_event_record> events = events_in(*channel);
  int adopted_closes = 0;
  int adopted_at_exit = 0;
  int peer_eofs = 0;
  uint32_t parent = 0;
  for (const td_event_record& event : events) {
    if (event.kind == TD_KIND_EOF) {
      ++peer_eofs;
      parent = event.pid;
    }
  }
  for (const td_event_record& event : events) {
    if (event.kind != TD_KIND_CLOSE || event.pid == parent || !(event.flags & TD_FLAG_SHARED)) continue;
    ++((event.flags & TD_FLAG_AT_EXIT) ? adopted_at_exit : adopted_closes);
  }
  EXPECT_EQ(peer_eofs, 1);
  EXPECT_EQ(adopted_closes, 1) << "the exec'd image's close of the socket it was handed";
  EXPECT_EQ(adopted_at_exit, 1) << "the server's end, inherited too (no CLOEXEC), ends with it";
}

TEST(PreloadEvents, CloseRangeIsAClosePerSocketInTheRange) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "close_range");
  ASSERT_TRUE(channel);
  td_counters counters{};
  channel->ring().counters(counters);
  EXPECT_EQ(counters.per_kind[TD_KIND_CLOSE], 4u) << "three sockets by close_range, one by close";
}

// Every byte through every send and receive call (a peek among them) is counted once in the
// closes' totals: 39 bytes one way, 17 the other.
TEST(PreloadEvents, TheClosesCountEveryByteOnceWhateverTheCall) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "totals");
  ASSERT_TRUE(channel);
  std::vector<std::pair<uint64_t, uint64_t>> totals;  // (sent, received) of each connection close
  for (const td_event_record& event : events_in(*channel)) {
    if (event.kind == TD_KIND_CLOSE && event.remote.family != TD_FAMILY_NONE) {
      totals.emplace_back(event.bytes_sent, event.bytes_received);
    }
  }
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0], std::make_pair(uint64_t{39}, uint64_t{17})) << "the client's close";
  EXPECT_EQ(totals[1], std::make_pair(uint64_t{17}, uint64_t{39})) << "the server's close";
}

TEST(PreloadEvents, AResetIsRecordedOnBothSides) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "errno");
  ASSERT_TRUE(channel);
  int abortive_closes = 0, resets = 0, unconnected = 0;
  for (const td_event_record& event : events_in(*channel)) {
    if (event.kind == TD_KIND_CLOSE && event.detail == TD_CLOSE_ABORTIVE) ++abortive_closes;
    if (event.kind == TD_KIND_RESET && event.error == 10054) ++resets;
    if (event.kind == TD_KIND_CLOSE && event.remote.family == TD_FAMILY_NONE) ++unconnected;
  }
  EXPECT_EQ(abortive_closes, 1);
  EXPECT_EQ(resets, 1) << "the recv's ECONNRESET; the following EPIPE is the same reset";
  EXPECT_EQ(unconnected, 0) << "the listener's close ends no connection";
}

TEST(PreloadEvents, EveryConnectionOfFourThreadsIsClosedOnBothEnds) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "threads");
  ASSERT_TRUE(channel);
  td_counters counters{};
  channel->ring().counters(counters);
  EXPECT_EQ(counters.per_kind[TD_KIND_CLOSE], 800u);
  EXPECT_EQ(counters.per_kind[TD_KIND_EOF], 400u);
  EXPECT_EQ(counters.dropped, 0u);
}

TEST(PreloadEvents, ForkedCopiesAreMarkedShared) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "fork");
  ASSERT_TRUE(channel);
  int shared_closes = 0, child_exit_closes = 0;
  for (const td_event_record& event : events_in(*channel)) {
    if (event.kind != TD_KIND_CLOSE) continue;
    if (event.flags & TD_FLAG_SHARED) ++shared_closes;
    if (event.flags & TD_FLAG_AT_EXIT) ++child_exit_closes;
  }
  EXPECT_EQ(shared_closes, 4) << "both sockets, closed in the child at exit and in the parent";
  EXPECT_EQ(child_exit_closes, 2) << "the child's copies end with its _exit";
}

// The abortive-to-graceful policy: a SO_LINGER {1, 0} close goes out as a FIN, the peer reads an
// orderly end, and the event says the close was converted. Off, the peer reads the reset.
TEST(PreloadEvents, ThePolicyPerformsAbortiveClosesGracefullyAndSaysSo) {
  TempDir dir;
  std::unique_ptr<Channel> channel;
  ASSERT_EQ(Channel::open(dir.path(), true, 4096, channel), TD_OK);
  EXPECT_EQ(run_probe("abortive", dir.path()), 0) << "policy off: the peer reads a reset";

  td_config config = default_config();
  config.abortive_to_graceful = 1;
  std::string field;
  ASSERT_EQ(channel->write_config(config, field), TD_OK);
  EXPECT_EQ(run_probe("abortive", dir.path()), 3) << "policy on: the peer reads an orderly end";

  std::vector<td_event_record> events = events_in(*channel);
  std::vector<const td_event_record*> client_closes;
  for (const td_event_record& event : events) {
    if (event.kind == TD_KIND_CLOSE && event.first_shutdown == TD_INITIATOR_LOCAL) {
      client_closes.push_back(&event);
    }
  }
  ASSERT_EQ(client_closes.size(), 2u);
  EXPECT_EQ(client_closes[0]->detail, TD_CLOSE_ABORTIVE);
  EXPECT_EQ(client_closes[0]->flags & TD_FLAG_CONVERTED, 0);
  EXPECT_EQ(client_closes[1]->detail, TD_CLOSE_GRACEFUL);
  EXPECT_NE(client_closes[1]->flags & TD_FLAG_CONVERTED, 0);
  EXPECT_EQ(client_closes[1]->ending, TD_ENDING_GRACEFUL);
}

// The kernel's view at close: a client that never reads how its server ended the connection is
// still told who began and how (TCP_INFO just before the close).
TEST(PreloadEvents, AClosesSummaryTakesTheKernelsViewOfWhatWasNeverRead) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "unread_endings");
  ASSERT_TRUE(channel);
  std::vector<td_event_record> closes;
  for (const td_event_record& event : events_in(*channel)) {
    if (event.kind == TD_KIND_CLOSE && event.remote.family != TD_FAMILY_NONE) closes.push_back(event);
  }
  ASSERT_EQ(closes.size(), 6u) << "three connections, both ends of each";
  for (size_t i = 0; i < closes.size(); ++i) {
    EXPECT_EQ(closes[i].detail, i == 2 ? TD_CLOSE_ABORTIVE : TD_CLOSE_GRACEFUL) << "close " << i;
  }
  // The server's FIN, never read: its client's close came after it.
  EXPECT_EQ(closes[0].first_shutdown, TD_INITIATOR_LOCAL) << "the server closed first";
  EXPECT_EQ(closes[1].kernel_state, TD_TCP_CLOSE_WAIT);
  EXPECT_EQ(closes[1].first_shutdown, TD_INITIATOR_REMOTE);
  EXPECT_EQ(closes[1].ending, TD_ENDING_GRACEFUL);
  // The server's reset, never read: the client's close ends a connection already reset.
  EXPECT_EQ(closes[2].ending, TD_ENDING_ABORTIVE) << "the server's SO_LINGER {1, 0}";
  EXPECT_EQ(closes[3].kernel_state, TD_TCP_CLOSED);
  EXPECT_EQ(closes[3].first_shutdown, TD_INITIATOR_REMOTE);
  EXPECT_EQ(closes[3].ending, TD_ENDING_ABORTIVE);
  // The client's half-close first: the kernel's "gone" after its own FIN concludes nothing.
  EXPECT_EQ(closes[4].first_shutdown, TD_INITIATOR_REMOTE) << "the server read the client's end";
  EXPECT_EQ(closes[5].first_shutdown, TD_INITIATOR_LOCAL);
  EXPECT_EQ(closes[5].ending, TD_ENDING_GRACEFUL);
  EXPECT_NE(closes[5].kernel_state, TD_TCP_UNKNOWN) << "read, whatever it was";
}

// CONNECTED, asked for, marks each connection made, once, however the program learned it; not
// asked for (the default), nothing.
TEST(PreloadEvents, EachConnectionMadeIsRecordedOnceWhenAskedFor) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "established");
  ASSERT_TRUE(channel);
  for (const td_event_record& event : events_in(*channel)) {
    EXPECT_NE(event.kind, TD_KIND_CONNECTED) << "not in the default kinds";
  }
  td_config config = default_config();
  config.kinds = TD_ALL_KINDS;
  std::string field;
  ASSERT_EQ(channel->write_config(config, field), TD_OK);
  EXPECT_EQ(run_probe("established", dir.path()), 0);
  std::vector<td_event_record> made;
  size_t failed = 0;
  for (const td_event_record& event : events_in(*channel)) {
    if (event.kind == TD_KIND_CONNECTED) made.push_back(event);
    if (event.kind == TD_KIND_CONNECT_FAILED) ++failed;
  }
  ASSERT_EQ(made.size(), 6u) << "three connections, both ends of each";
  size_t accepted = 0;
  for (const td_event_record& event : made) {
    EXPECT_EQ(event.remote.family, TD_FAMILY_IPV4);
    if ((event.flags & TD_FLAG_ACCEPTED) != 0) ++accepted;
  }
  EXPECT_EQ(accepted, 3u);
  EXPECT_EQ(failed, 2u) << "the refused connect, once in each run";
}

// A close made with a raw system call (libuv's) is never seen: the layer records it when the
// descriptor is made a new socket, or at exit, flagged as a close it did not see.
TEST(PreloadEvents, ClosesTheLayerCouldNotSeeAreRecordedWhenNoticed) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "raw_close");
  ASSERT_TRUE(channel);
  std::vector<td_event_record> unseen, seen;
  for (const td_event_record& event : events_in(*channel)) {
    if (event.kind != TD_KIND_CLOSE || event.remote.family == TD_FAMILY_NONE) continue;
    ((event.flags & TD_FLAG_UNSEEN_CLOSE) != 0 ? unseen : seen).push_back(event);
  }
  ASSERT_EQ(unseen.size(), 2u) << "the reused descriptor's, and the one noticed at exit";
  ASSERT_EQ(seen.size(), 2u) << "the two servers' own closes";
  for (const td_event_record& event : unseen) {
    EXPECT_EQ(event.flags & (TD_FLAG_AT_EXIT | TD_FLAG_KERNEL_VIEW), 0) << "no state to read";
    EXPECT_EQ(event.first_shutdown, TD_INITIATOR_LOCAL);
  }
  EXPECT_LT(unseen[0].time_ns, seen[0].time_ns) << "noticed when the next socket took its number";
  EXPECT_GT(unseen[1].time_ns, seen[1].time_ns) << "noticed at exit";
  EXPECT_EQ(seen[0].first_shutdown, TD_INITIATOR_REMOTE) << "the server read the client's FIN";
}

// Beside the program's calls, what the kernel tells: connects that made no connection recorded as
// such, unread bytes a close discarded, and the errno the program saw.
TEST(PreloadEvents, ConnectFailuresUnreadBytesAndTheProgramsOwnErrorsAreRecorded) {
  TempDir dir;
  std::unique_ptr<Channel> channel = recorded_run(dir, "kernel_view");
  ASSERT_TRUE(channel);
  std::vector<td_event_record> failed, closes, resets;
  for (const td_event_record& event : events_in(*channel)) {
    if (event.kind == TD_KIND_CONNECT_FAILED) failed.push_back(event);
    if (event.kind == TD_KIND_CLOSE && event.remote.family != TD_FAMILY_NONE) closes.push_back(event);
    if (event.kind == TD_KIND_RESET) resets.push_back(event);
  }
  ASSERT_EQ(failed.size(), 2u) << "the blocking and the non-blocking connect, refused";
  for (const td_event_record& event : failed) {
    EXPECT_EQ(event.error, 10061) << "WSAECONNREFUSED";
    EXPECT_EQ(event.os_error, ECONNREFUSED);
    EXPECT_EQ(event.remote.family, TD_FAMILY_IPV4);
    EXPECT_NE(event.remote.port, 0);
    EXPECT_EQ(event.flags & TD_FLAG_ACCEPTED, 0);
  }
  EXPECT_EQ(failed[0].remote.port, failed[1].remote.port);
  // A socket whose connect failed ends no connection: its close records nothing.
  ASSERT_EQ(closes.size(), 4u) << "two connections, both ends of each";
  const td_event_record& discarding = closes[0];
  EXPECT_NE(discarding.flags & TD_FLAG_ACCEPTED, 0) << "the server's end came from accept";
  EXPECT_NE(discarding.flags & TD_FLAG_UNREAD_DATA, 0);
  ASSERT_NE(discarding.flags & TD_FLAG_KERNEL_VIEW, 0);
  EXPECT_EQ(discarding.kernel.unread_bytes, 1000u);
  EXPECT_EQ(discarding.kernel.bytes_received, 1000u);
  EXPECT_EQ(discarding.kernel.bytes_acked, 0u);
  EXPECT_EQ(discarding.kernel.unsent_bytes, 0u);
  EXPECT_EQ(closes[1].flags & TD_FLAG_ACCEPTED, 0) << "the client's end";
  ASSERT_NE(closes[1].flags & TD_FLAG_KERNEL_VIEW, 0);
  EXPECT_EQ(closes[1].kernel.bytes_acked, 1000u) << "the server's kernel had them all";
  EXPECT_EQ(closes[1].kernel.unread_bytes, 0u);
  // The writer's send after the reset: EPIPE as the program saw it, the reset as Winsock says.
  ASSERT_EQ(resets.size(), 1u) << "the late writer (the discarding close's client read nothing)";
  const td_event_record& late = resets[0];
  EXPECT_EQ(late.error, 10054) << "WSAECONNRESET";
  EXPECT_EQ(late.os_error, EPIPE);
  ASSERT_NE(late.flags & TD_FLAG_KERNEL_VIEW, 0) << "a failed send reads the kernel too";
  EXPECT_EQ(late.kernel.bytes_acked, 0u) << "the 5 bytes went out after the server's close";
  EXPECT_EQ(late.kernel.bytes_received, 0u) << "the server's FIN is no payload";
  EXPECT_EQ(late.kernel_state, 0) << "the state goes with a close's summary only";
}

}  // namespace
}  // namespace teardown
