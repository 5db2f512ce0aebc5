// The wall clock the events are stamped with: scaled from the TSC where it is invariant, it must
// read what CLOCK_REALTIME reads, in every thread (each re-takes its own base) and in a child
// forked while another thread reads it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "platform.h"

namespace teardown {
namespace {

uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// How far a reading may stray from the system clock's bracket around it: a base is taken within
// a few microseconds and the rate measured over milliseconds, so a right clock strays by tens of
// microseconds at most. A scale 1% off strays by 200 us within one base's 20 ms.
constexpr uint64_t kToleranceNs = 100000;

// Reads the clock between two readings of CLOCK_REALTIME for `span_ns`; the largest distance,
// in nanoseconds, by which a reading fell outside its bracket.
uint64_t worst_stray(uint64_t span_ns) {
  uint64_t worst = 0;
  uint64_t end = realtime_ns() + span_ns;
  for (;;) {
    uint64_t before = realtime_ns();
    uint64_t now = platform::wall_clock_ns();
    uint64_t after = realtime_ns();
    if (now < before && before - now > worst) worst = before - now;
    if (now > after && now - after > worst) worst = now - after;
    if (after >= end) return worst;
  }
}

TEST(WallClock, ReadsWhatTheSystemClockReadsAcrossManyBases) {
  // 300 ms: the rate is measured, and the base re-taken about fifteen times.
  EXPECT_LT(worst_stray(300000000ull), kToleranceNs);
}

TEST(WallClock, EveryThreadReadsTheSystemClock) {
  std::atomic<uint64_t> worst{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      uint64_t mine = worst_stray(200000000ull);
      uint64_t seen = worst.load();
      while (mine > seen && !worst.compare_exchange_weak(seen, mine)) {
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LT(worst.load(), kToleranceNs);
}

TEST(WallClock, AForkedChildReadsTheSystemClock) {
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load()) platform::wall_clock_ns();
  });
  for (int i = 0; i < 20; ++i) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      _exit(worst_stray(30000000ull) < kToleranceNs ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << i;
  }
  stop = true;
  busy.join();
}

}  // namespace
}  // namespace teardown
