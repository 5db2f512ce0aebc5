// The layer is invisible: each scenario of invisibility_probe runs without the layer, under it with
// a channel recording everything, and under it with disconnect-data emulation on the scenario's
// port, and the program must see exactly the same in all three (return values, errno, revents,
// SO_ERROR, bytes, and that every call returns).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "channel.h"
#include "channel_events.h"
#include "probe_run.h"
#include "test_support.h"

#ifndef TEARDOWN_PRELOAD_PATH
#error "TEARDOWN_PRELOAD_PATH must name libteardown_preload.so"
#endif
#ifndef TEARDOWN_SEQUENCE_PROBE_PATH
#error "TEARDOWN_SEQUENCE_PROBE_PATH must name sequence_probe"
#endif
#ifndef TEARDOWN_INVISIBILITY_PROBE_PATH
#error "TEARDOWN_INVISIBILITY_PROBE_PATH must name invisibility_probe"
#endif

namespace teardown {
namespace {

using teardown::testing::channel_events;
using teardown::testing::free_port;
using teardown::testing::ProbeRun;
using teardown::testing::TempDir;

// The invisibility probe's scenario, or the sequence probe's seed, once.
ProbeRun run_probe(const std::string& argument, int port, const std::string& channel,
                   const std::string& output_file,
                   const char* probe = TEARDOWN_INVISIBILITY_PROBE_PATH) {
  return teardown::testing::run_probe(probe, argument, port, channel, output_file);
}

class Invisibility : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    port_ = free_port();
    ASSERT_EQ(Channel::open(recording_.path(), true, 4096, recording_channel_), TD_OK);
    ASSERT_EQ(Channel::open(emulating_.path(), true, 4096, emulating_channel_), TD_OK);
    td_config config = default_config();
    config.capture_bytes = 64;
    config.emulation_port_count = 1;
    config.emulation_ports[0] = static_cast<uint16_t>(port_);
    std::string field;
    ASSERT_EQ(emulating_channel_->write_config(config, field), TD_OK) << field;
  }

  TempDir scratch_;
  TempDir recording_;
  TempDir emulating_;
  std::unique_ptr<Channel> recording_channel_;
  std::unique_ptr<Channel> emulating_channel_;
  int port_ = 0;
};

TEST_P(Invisibility, TheProgramSeesTheSameWithAndWithoutTheLayer) {
  ProbeRun plain = run_probe(GetParam(), port_, "", scratch_.file("plain"));
  ASSERT_EQ(plain.status, 0) << plain.transcript;
  ASSERT_FALSE(plain.transcript.empty());

  ProbeRun recorded = run_probe(GetParam(), port_, recording_.path(), scratch_.file("recorded"));
  EXPECT_EQ(recorded.status, 0);
  EXPECT_EQ(recorded.transcript, plain.transcript) << "under the layer, recording everything";

  ProbeRun emulated = run_probe(GetParam(), port_, emulating_.path(), scratch_.file("emulated"));
  EXPECT_EQ(emulated.status, 0);
  EXPECT_EQ(emulated.transcript, plain.transcript) << "under the layer, emulating on the port";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, Invisibility,
                         ::testing::Values("refused-connect-poll", "refused-connect-epoll",
                                           "reset-poll", "reset-epoll", "receive-flags",
                                           "urgent-inline", "hello-lookalike", "shutdown-wakes",
                                           "descriptor-reused", "vfork-child", "vfork-exit",
                                           "failed-duplication", "signal-close"),
                         [](const ::testing::TestParamInfo<const char*>& scenario) {
                           std::string name = scenario.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// Random sequences of calls from three threads (sequence_probe), each from a fixed seed: the same
// transcript without the layer, recording, and emulating.
class Sequences : public Invisibility {};

TEST_P(Sequences, AFixedSeedsCallsSeeTheSameWithAndWithoutTheLayer) {
  const char* seed = GetParam();
  ProbeRun plain = run_probe(seed, port_, "", scratch_.file("plain"), TEARDOWN_SEQUENCE_PROBE_PATH);
  ASSERT_EQ(plain.status, 0) << plain.transcript;
  ASSERT_GT(plain.transcript.size(), 1000u);
  ProbeRun recorded = run_probe(seed, port_, recording_.path(), scratch_.file("recorded"),
                                TEARDOWN_SEQUENCE_PROBE_PATH);
  EXPECT_EQ(recorded.status, 0);
  EXPECT_EQ(recorded.transcript, plain.transcript) << "seed " << seed << ", recording";
  ProbeRun emulated = run_probe(seed, port_, emulating_.path(), scratch_.file("emulated"),
                                TEARDOWN_SEQUENCE_PROBE_PATH);
  EXPECT_EQ(emulated.status, 0);
  EXPECT_EQ(emulated.transcript, plain.transcript) << "seed " << seed << ", emulating";
}

INSTANTIATE_TEST_SUITE_P(Seeds, Sequences,
                         ::testing::Values("1", "2", "3", "4", "5", "6", "7", "8"));

// And what the layer recorded of those runs: the program's own teardowns, nothing made up.
class RecordedUnderTheLayer : public Invisibility {
 protected:
  std::vector<td_event_record> record(const char* scenario) {
    ProbeRun run = run_probe(scenario, port_, recording_.path(), scratch_.file("recorded"));
    EXPECT_EQ(run.status, 0) << run.transcript;
    return channel_events(*recording_channel_);
  }

  static size_t count_of(const std::vector<td_event_record>& events, td_event_kind kind) {
    size_t n = 0;
    for (const td_event_record& event : events) n += event.kind == kind;
    return n;
  }
};

TEST_F(RecordedUnderTheLayer, ARefusedConnectEndsNoConnection) {
  std::vector<td_event_record> events = record("refused-connect-poll");
  EXPECT_EQ(count_of(events, TD_KIND_FD_CLOSE), 0u) << "no connection was made, none was closed";
  EXPECT_EQ(count_of(events, TD_KIND_CLOSE), 0u);
}

TEST_F(RecordedUnderTheLayer, APeersResetSeenThroughPollIsAnFdCloseWithTheReset) {
  std::vector<td_event_record> events = record("reset-poll");
  std::vector<int32_t> fd_close_errors;
  for (const td_event_record& event : events) {
    if (event.kind == TD_KIND_FD_CLOSE) fd_close_errors.push_back(event.error);
  }
  EXPECT_EQ(fd_close_errors, std::vector<int32_t>{10054}) << "WSAECONNRESET, told once";
  EXPECT_EQ(count_of(events, TD_KIND_EOF), 0u) << "a reset is no end of stream";
}

// The probe's own closes, not those of a program it exec'd (which hold copies of its sockets).
std::vector<td_event_record> probe_closes(const std::vector<td_event_record>& events) {
  std::vector<td_event_record> closes;
  for (const td_event_record& event : events) {
    if (event.kind == TD_KIND_CLOSE && std::strncmp(event.process_name, "invisibility", 12) == 0) {
      closes.push_back(event);
    }
  }
  return closes;
}

TEST_F(RecordedUnderTheLayer, AVforkChildThatClosesAndExecsRecordsNothingInItsParentsName) {
  std::vector<td_event_record> closes = probe_closes(record("vfork-child"));
  ASSERT_EQ(closes.size(), 2u) << "the parent's own closes of both ends, not the child's";
  for (const td_event_record& close : closes) {
    EXPECT_EQ(close.flags & TD_FLAG_AT_EXIT, 0);
  }
}

TEST_F(RecordedUnderTheLayer, AVforkChildThatExitsRecordsNothingInItsParentsName) {
  std::vector<td_event_record> closes = probe_closes(record("vfork-exit"));
  ASSERT_EQ(closes.size(), 2u) << "the parent's own closes of both ends, not the child's exit";
  for (const td_event_record& close : closes) {
    EXPECT_EQ(close.flags & (TD_FLAG_AT_EXIT | TD_FLAG_SHARED), 0);
  }
}

TEST_F(RecordedUnderTheLayer, AFailedDup2ClosesNothingAndAnFcntlCopyIsTracked) {
  std::vector<td_event_record> events = record("failed-duplication");
  size_t shared = 0;
  for (const td_event_record& event : events) {
    if (event.kind == TD_KIND_CLOSE && (event.flags & TD_FLAG_SHARED) != 0) ++shared;
  }
  EXPECT_EQ(count_of(events, TD_KIND_CLOSE), 3u) << "the original, its F_DUPFD copy, the server";
  EXPECT_EQ(shared, 2u) << "the original and its copy";
}

}  // namespace
}  // namespace teardown
