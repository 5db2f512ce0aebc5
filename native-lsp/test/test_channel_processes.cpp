// The channel between real processes: forked producers, independent readers, a producer killed
// with SIGKILL, and a channel file overwritten with random bytes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "channel.h"
#include "platform.h"
#include "producer.h"
#include "test_support.h"

namespace teardown {
namespace {

using teardown::testing::make_event;
using teardown::testing::TempDir;

constexpr auto kDeadline = std::chrono::seconds(60);

// What a reader process found, written back to the test through a pipe.
struct ReaderTally {
  uint64_t delivered = 0;
  uint64_t lost = 0;
  uint64_t out_of_order = 0;  // an event of a producer older than one already seen
  uint64_t head_seen = 0;
  int status = TD_OK;
};

// Publishes `count` events through the real producer path; socket_id carries the producer's
// number (high 32 bits) and its own running index (low 32 bits). Then exits, or with
// `then_wait` waits to be killed.
[[noreturn]] void run_producer(const std::string& dir, uint32_t number, uint32_t count,
                               bool then_wait = false) {
  Producer producer(dir);
  for (uint32_t i = 0; i < count; ++i) {
    td_event_record event = make_event(TD_KIND_FD_CLOSE, (uint64_t{number} << 32) | i);
    producer.publish(event, producer.policy());
  }
  while (then_wait) pause();
  _exit(0);
}

// Reads until it has accounted for `expected` sequence numbers (delivered + lost). It says on
// `ready_fd` when it reads from the start: a reader that began after the ring had wrapped would
// never see the first events at all, neither delivered nor lost.
[[noreturn]] void run_reader(const std::string& dir, uint64_t expected, int report_fd,
                             int ready_fd = -1) {
  ReaderTally tally;
  std::unique_ptr<Channel> channel;
  tally.status = Channel::open(dir, false, 0, channel);
  // Every lane of the ring, merged.
  std::unique_ptr<ChannelReader> started;
  if (tally.status == TD_OK) {
    started = std::make_unique<ChannelReader>(channel->rings_dir(), ReaderStart::Oldest,
                                              50'000'000);
  }
  char ready = 1;
  if (ready_fd >= 0 && write(ready_fd, &ready, 1) != 1) _exit(1);
  if (tally.status == TD_OK) {
    ChannelReader& reader = *started;
    std::map<uint32_t, int64_t> last_index;
    std::vector<td_event_record> batch(512);
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (tally.delivered + tally.lost < expected && std::chrono::steady_clock::now() < deadline) {
      size_t count = 0;
      uint64_t lost = 0;
      tally.status = reader.read(batch.data(), batch.size(), count, lost);
      if (tally.status != TD_OK) break;
      tally.lost += lost;
      tally.delivered += count;
      for (size_t i = 0; i < count; ++i) {
        uint32_t producer = static_cast<uint32_t>(batch[i].socket_id >> 32);
        int64_t index = static_cast<int64_t>(batch[i].socket_id & 0xFFFFFFFFu);
        auto found = last_index.find(producer);
        if (found != last_index.end() && index <= found->second) ++tally.out_of_order;
        last_index[producer] = index;
      }
      if (count == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    tally.head_seen = channel->ring().head();
  }
  ssize_t written = write(report_fd, &tally, sizeof(tally));
  _exit(written == sizeof(tally) ? 0 : 1);
}

pid_t spawn(const std::function<void()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

TEST(ChannelProcesses, ProducedEqualsDeliveredPlusLostForEachOfTwoReaders) {
  TempDir dir;
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(dir.path(), true, 1024, admin), TD_OK);  // small: readers will lose
  constexpr uint32_t kProducers = 4;
  constexpr uint32_t kEach = 50000;
  constexpr uint64_t kTotal = uint64_t{kProducers} * kEach;

  int pipes[2][2];
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  std::vector<pid_t> readers;
  for (auto& p : pipes) {
    ASSERT_EQ(pipe(p), 0);
    int write_end = p[1];
    readers.push_back(
        spawn([&, write_end] { run_reader(dir.path(), kTotal, write_end, ready[1]); }));
  }
  // Both readers read from the first event before anything is published, however loaded the
  // machine is (a late reader on a busy runner once missed the first 3,707).
  for (int r = 0; r < 2; ++r) {
    char byte = 0;
    ASSERT_EQ(read(ready[0], &byte, 1), 1);
  }
  close(ready[0]);
  close(ready[1]);
  std::vector<pid_t> producers;
  for (uint32_t n = 0; n < kProducers; ++n) {
    producers.push_back(spawn([&, n] { run_producer(dir.path(), n, kEach); }));
  }
  for (pid_t pid : producers) EXPECT_EQ(wait_exit_code(pid), 0);

  td_counters counters{};
  admin->ring().counters(counters);
  EXPECT_EQ(counters.produced, kTotal);
  EXPECT_EQ(counters.per_kind[TD_KIND_FD_CLOSE] + counters.dropped, kTotal);

  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(wait_exit_code(readers[r]), 0);
    ReaderTally tally;
    ASSERT_EQ(read(pipes[r][0], &tally, sizeof(tally)), static_cast<ssize_t>(sizeof(tally)));
    EXPECT_EQ(tally.status, TD_OK);
    EXPECT_EQ(tally.delivered + tally.lost, kTotal) << "reader " << r << ": nothing unaccounted";
    EXPECT_GT(tally.delivered, 0u);
    EXPECT_EQ(tally.out_of_order, 0u) << "each producer's events arrive in the order published";
    close(pipes[r][0]);
    close(pipes[r][1]);
  }
}

TEST(ChannelProcesses, AProducerKilledMidWriteNeverStallsAReader) {
  TempDir dir;
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(dir.path(), true, 4096, admin), TD_OK);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);

  // Publishes 100 events, claims a slot, says so, and waits to be killed half way through.
  pid_t victim = spawn([&] {
    std::unique_ptr<Channel> channel;
    if (Channel::attach(dir.path(), channel) != TD_OK) _exit(2);
    for (uint32_t i = 0; i < 100; ++i) channel->ring().publish(make_event(TD_KIND_EOF, i));
    EventRing::Claim claim;
    channel->ring().claim(claim);
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(3);
    for (;;) pause();
  });
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  kill(victim, SIGKILL);
  EXPECT_EQ(wait_exit_code(victim), 128 + SIGKILL);

  // A producer that keeps going after it.
  pid_t survivor = spawn([&] { run_producer(dir.path(), 7, 200); });
  EXPECT_EQ(wait_exit_code(survivor), 0);

  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t reader = spawn([&] { run_reader(dir.path(), 301, report[1]); });
  EXPECT_EQ(wait_exit_code(reader), 0);
  ReaderTally tally;
  ASSERT_EQ(read(report[0], &tally, sizeof(tally)), static_cast<ssize_t>(sizeof(tally)));
  EXPECT_EQ(tally.status, TD_OK);
  EXPECT_EQ(tally.delivered, 300u) << "every completed event, including those after the dead one";
  EXPECT_EQ(tally.lost, 1u) << "the killed producer's half-written event";
  EXPECT_EQ(tally.head_seen, 301u);
  for (int fd : {ready[0], ready[1], report[0], report[1]}) close(fd);
}

TEST(ChannelProcesses, AProducerKilledAtARandomMomentLeavesEverythingAccountedFor) {
  TempDir dir;
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(dir.path(), true, 1u << 20, admin), TD_OK);
  // No more than its lane holds, so that nothing is overwritten before the reader starts.
  uint32_t lane_slots = admin->ring().slot_count() / admin->ring().lane_count();
  pid_t victim = spawn([&] { run_producer(dir.path(), 1, lane_slots, true); });
  while (admin->ring().head() < 10000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  kill(victim, SIGKILL);
  EXPECT_EQ(wait_exit_code(victim), 128 + SIGKILL);
  uint64_t produced = admin->ring().head();

  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t reader = spawn([&] { run_reader(dir.path(), produced, report[1]); });
  EXPECT_EQ(wait_exit_code(reader), 0);
  ReaderTally tally;
  ASSERT_EQ(read(report[0], &tally, sizeof(tally)), static_cast<ssize_t>(sizeof(tally)));
  EXPECT_EQ(tally.delivered + tally.lost, produced);
  EXPECT_LE(tally.lost, 1u) << "at most the one event being written when the signal hit";
  close(report[0]);
  close(report[1]);
}

TEST(ChannelProcesses, RandomBytesOverTheChannelCrashNoProducerAndReadersReportIt) {
  TempDir dir;
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(dir.path(), true, 1024, admin), TD_OK);
  td_event_record batch[8];
  size_t count = 0;
  uint64_t lost = 0;
  RingReader reader(admin->ring(), 0, ReaderStart::Oldest, 1'000'000);

  int started[2];
  ASSERT_EQ(pipe(started), 0);
  std::vector<pid_t> producers;
  for (uint32_t n = 0; n < 3; ++n) {
    producers.push_back(spawn([&, n] {
      // Publishes until well after the damage, saying when its first event is out.
      Producer producer(dir.path());
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
      uint64_t published = 0;
      while (std::chrono::steady_clock::now() < until) {
        td_event_record event = make_event(TD_KIND_RESET, n);
        if (producer.publish(event, producer.policy()) && ++published == 1) {
          char byte = 1;
          if (write(started[1], &byte, 1) != 1) _exit(5);
        }
      }
      _exit(published > 0 ? 0 : 4);
    }));
  }
  for (int n = 0; n < 3; ++n) {
    char byte = 0;
    ASSERT_EQ(read(started[0], &byte, 1), 1);
  }

  std::mt19937_64 random(12345);
  std::string ring = "rings/ring-" + current_user().key;
  for (const char* name : {ring.c_str(), "config"}) {
    std::vector<char> noise(name[0] == 'r' ? layout::events_file_bytes(1024)
                                           : layout::config_file_bytes());
    for (char& c : noise) c = static_cast<char>(random());
    std::ofstream(dir.file(name), std::ios::in | std::ios::out | std::ios::binary)
        .write(noise.data(), static_cast<std::streamsize>(noise.size()));
  }
  for (pid_t pid : producers) EXPECT_EQ(wait_exit_code(pid), 0) << "producers survive";

  close(started[0]);
  close(started[1]);
  EXPECT_EQ(reader.read(batch, 8, count, lost), TD_ERR_CORRUPT) << "the one ring's reader";
  std::unique_ptr<Channel> reopened;
  ASSERT_EQ(Channel::open(dir.path(), false, 0, reopened), TD_OK);
  td_config config{};
  EXPECT_EQ(reopened->read_config(config), TD_ERR_CORRUPT);
  EXPECT_FALSE(reopened->config_status().sound);
  Producer late(dir.path());
  EXPECT_FALSE(late.policy().active) << "a damaged ring is passed through";
}

}  // namespace
}  // namespace teardown
