// Disconnect-data emulation in the Linux layer, under a real program (emulation_probe) on a port the
// channel's configuration lists: the program's byte stream is exact under every call, disconnect
// data travels with the graceful shutdown, and a peer configured otherwise is refused with a
// framing RESET rather than handed framing bytes as data.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "channel.h"
#include "channel_events.h"
#include "test_support.h"

#ifndef TEARDOWN_PRELOAD_PATH
#error "TEARDOWN_PRELOAD_PATH must name libteardown_preload.so"
#endif
#ifndef TEARDOWN_EMULATION_PROBE_PATH
#error "TEARDOWN_EMULATION_PROBE_PATH must name emulation_probe"
#endif

namespace teardown {
namespace {

using teardown::testing::channel_events;
using teardown::testing::free_port;
using teardown::testing::TempDir;

class EmulationLayer : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    ASSERT_EQ(Channel::open(dir_.path(), true, 4096, channel_), TD_OK);
    td_config config = default_config();
    config.capture_bytes = 64;
    config.emulation_port_count = 1;
    config.emulation_ports[0] = static_cast<uint16_t>(port_);
    std::string field;
    ASSERT_EQ(channel_->write_config(config, field), TD_OK) << field;
    // The peer of the mismatch scenarios: Teardown too, emulating another port only (so it
    // watches its other connections for a framing peer; with no emulation at all it would
    // change nothing).
    ASSERT_EQ(Channel::open(other_dir_.path(), true, 4096, other_channel_), TD_OK);
    td_config other = default_config();
    other.emulation_port_count = 1;
    other.emulation_ports[0] = static_cast<uint16_t>(port_ == 65535 ? 1 : port_ + 1);
    ASSERT_EQ(other_channel_->write_config(other, field), TD_OK) << field;
  }

  // Runs the probe under the layer; its output goes to `output_`. Returns its exit code.
  int run(const std::string& scenario) {
    std::string output_file = dir_.file("output");
    pid_t child = fork();
    if (child == 0) {
      int fd = open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      setenv("LD_PRELOAD", TEARDOWN_PRELOAD_PATH, 1);
      setenv("TEARDOWN_CHANNEL", dir_.path().c_str(), 1);
      std::string port = std::to_string(port_);
      execl(TEARDOWN_EMULATION_PROBE_PATH, "emulation_probe", scenario.c_str(), port.c_str(),
            other_dir_.path().c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    std::ifstream in(output_file);
    std::stringstream text;
    text << in.rdbuf();
    output_ = text.str();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  static std::vector<td_event_record> events_of(Channel& channel) {
    return channel_events(channel);
  }

  static std::vector<td_event_record> of_kind(const std::vector<td_event_record>& events,
                                              td_event_kind kind) {
    std::vector<td_event_record> out;
    for (const td_event_record& event : events) {
      if (event.kind == kind) out.push_back(event);
    }
    return out;
  }

  static std::string captured(const td_event_record& event) {
    return std::string(reinterpret_cast<const char*>(event.captured), event.captured_length);
  }

  TempDir dir_;
  TempDir other_dir_;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<Channel> other_channel_;
  int port_ = 0;
  std::string output_;
};

TEST_F(EmulationLayer, ANonBlockingStreamIsExactUnderEveryCallAndCarriesItsDisconnectData) {
  ASSERT_EQ(run("stream"), 0);
  std::vector<td_event_record> events = events_of(*channel_);
  std::vector<td_event_record> sent = of_kind(events, TD_KIND_SEND_DISCONNECT);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].error, 0);
  EXPECT_EQ(captured(sent[0]), std::string("totals:4194304", 15));
  std::vector<td_event_record> received = of_kind(events, TD_KIND_RECV_DISCONNECT);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].data_length, 15u);
  EXPECT_EQ(captured(received[0]), std::string("totals:4194304", 15));
  EXPECT_EQ(of_kind(events, TD_KIND_EOF).size(), 1u);
  EXPECT_TRUE(of_kind(events, TD_KIND_RESET).empty());
  for (const td_event_record& close : of_kind(events, TD_KIND_CLOSE)) {
    // The application's bytes, not the wire's.
    EXPECT_EQ(close.bytes_sent + close.bytes_received, 4u << 20);
    EXPECT_EQ(close.ending, TD_ENDING_GRACEFUL);
  }
}

TEST_F(EmulationLayer, ABlockingStreamIsExactUnderWaitAllAndAnEmptyDisconnect) {
  ASSERT_EQ(run("blocking"), 0);
  std::vector<td_event_record> events = events_of(*channel_);
  ASSERT_EQ(of_kind(events, TD_KIND_RECV_DISCONNECT).size(), 1u);
  EXPECT_EQ(of_kind(events, TD_KIND_RECV_DISCONNECT)[0].data_length, 0u);
}

TEST_F(EmulationLayer, DisconnectDataKeepsWinsocksLimitsAndRefusals) {
  ASSERT_EQ(run("limits"), 0);
  std::vector<td_event_record> events = events_of(*channel_);
  std::vector<td_event_record> sent = of_kind(events, TD_KIND_SEND_DISCONNECT);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].error, 10022) << "over 1,024 bytes: WSAEINVAL";
  EXPECT_EQ(sent[1].error, 10035) << "inside an unfinished send: WSAEWOULDBLOCK";
  EXPECT_EQ(sent[2].error, 0);
  EXPECT_EQ(sent[2].data_length, 8u);
  std::vector<td_event_record> received = of_kind(events, TD_KIND_RECV_DISCONNECT);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].error, 10014) << "too small a buffer: WSAEFAULT";
  EXPECT_EQ(received[1].error, 0);
  EXPECT_EQ(received[1].data_length, 8u);
}

TEST_F(EmulationLayer, ASenderThatGivesUpInsideARecordEndsTheStreamCleanly) {
  ASSERT_EQ(run("abandon"), 0);
  std::vector<td_event_record> events = events_of(*channel_);
  EXPECT_EQ(of_kind(events, TD_KIND_EOF).size(), 1u);
  EXPECT_TRUE(of_kind(events, TD_KIND_RESET).empty());
}

// Only this side emulates and sends first: the peer's layer knows the HELLO, resets the
// connection and says why, and its program gets ECONNABORTED instead of framing bytes.
TEST_F(EmulationLayer, APeerThatDoesNotEmulateRefusesTheFramedStreamAtItsFirstBytes) {
  ASSERT_EQ(run("mismatch-framed"), 0) << output_;
  std::vector<td_event_record> resets = of_kind(events_of(*other_channel_), TD_KIND_RESET);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].flags & TD_FLAG_FRAMING, TD_FLAG_FRAMING);
  EXPECT_EQ(resets[0].detail, TD_FRAMING_UNEXPECTED);
  EXPECT_EQ(resets[0].error, 10053);
  EXPECT_EQ(resets[0].remote.port, port_);
}

// Only this side emulates and the peer sends plain bytes first: refused here, the peer reset.
TEST_F(EmulationLayer, PlainBytesOnAnEmulatedPortAreRefusedAtTheFirstByte) {
  ASSERT_EQ(run("mismatch-plain"), 0) << output_;
  std::vector<td_event_record> resets = of_kind(events_of(*channel_), TD_KIND_RESET);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].flags & TD_FLAG_FRAMING, TD_FLAG_FRAMING);
  EXPECT_EQ(resets[0].detail, TD_FRAMING_NOT_FRAMED);
  EXPECT_EQ(resets[0].local.port, port_);
  std::vector<td_event_record> peer_resets = of_kind(events_of(*other_channel_), TD_KIND_RESET);
  ASSERT_EQ(peer_resets.size(), 1u);
  EXPECT_EQ(peer_resets[0].error, 10054);
  EXPECT_EQ(peer_resets[0].flags & TD_FLAG_FRAMING, 0);
}

// What a peer without Teardown reads: the records themselves (docs/disconnect-data.md documents them).
TEST_F(EmulationLayer, APeerWithoutTeardownReadsTheRecords) {
  ASSERT_EQ(run("plain-peer"), 0);
  EXPECT_EQ(output_,
            "a10000055444574e01"  // HELLO: "TDWN", version 1
            "a20000026869"      // DATA "hi"
            "a30000023432\n");  // DISCONNECT "42"
}

}  // namespace
}  // namespace teardown
