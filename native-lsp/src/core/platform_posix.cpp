#include "platform.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace teardown::platform {

namespace {
uint64_t clock_ns(clockid_t clock) noexcept {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

#if defined(__x86_64__)
// clock_gettime costs about 30 ns under a hypervisor's clock source, more than the rest of a
// publish. With an invariant TSC each thread instead scales rdtsc from a base it takes from
// CLOCK_REALTIME, re-taken every 2^26 ticks (about 20 ms), which bounds drift to well under a
// microsecond and follows NTP's adjustments. The scale is measured, never assumed. A base is
// only taken from a sample whose rdtsc bracket around clock_gettime is narrow: a thread
// preempted in between would otherwise carry the delay in every timestamp until the next base,
// and events of different processes are ordered by these timestamps.
namespace {

constexpr uint64_t kCalibrationTicks = 1ull << 24;  // a few ms: enough to measure the rate
constexpr uint64_t kRebaseTicks = 1ull << 26;
constexpr uint64_t kNarrowSampleTicks = 1ull << 13;  // clock_gettime itself takes ~100 ticks
constexpr int kSampleAttempts = 4;

bool invariant_tsc() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx)) return false;
  return (edx & (1u << 8)) != 0;
}

struct TscClock {
  uint64_t base_tsc = 0;
  uint64_t base_ns = 0;
  uint64_t ns_per_tick_q32 = 0;  // nanoseconds per tick, fixed point with 32 fractional bits
};

thread_local TscClock tsc_clock;

// CLOCK_REALTIME paired with the TSC at the same instant; false if every bracket was wide.
bool paired_sample(uint64_t& tsc, uint64_t& ns) {
  for (int attempt = 0; attempt < kSampleAttempts; ++attempt) {
    uint64_t before = __rdtsc();
    ns = clock_ns(CLOCK_REALTIME);
    uint64_t after = __rdtsc();
    if (after - before < kNarrowSampleTicks) {
      tsc = before + (after - before) / 2;
      return true;
    }
  }
  return false;
}

uint64_t rebase(TscClock& clock) {
  uint64_t tsc = 0;
  uint64_t now = 0;
  if (!paired_sample(tsc, now)) return now;  // keep the old base; this call reads the clock
  uint64_t ticks = tsc - clock.base_tsc;
  uint64_t elapsed = now - clock.base_ns;
  // Measure over a span long enough to be exact and short enough for elapsed << 32 to fit.
  if (clock.base_ns != 0 && now > clock.base_ns && ticks >= kCalibrationTicks &&
      elapsed < (1ull << 31)) {
    clock.ns_per_tick_q32 = (elapsed << 32) / ticks;
  }
  if (clock.base_ns == 0 || clock.ns_per_tick_q32 != 0 || ticks >= kCalibrationTicks) {
    clock.base_tsc = tsc;
    clock.base_ns = now;
  }
  return now;
}

}  // namespace

uint64_t wall_clock_ns() noexcept {
  static const bool usable = invariant_tsc();
  if (!usable) return clock_ns(CLOCK_REALTIME);
  TscClock& clock = tsc_clock;
  uint64_t ticks = __rdtsc() - clock.base_tsc;
  if (clock.ns_per_tick_q32 != 0 && ticks < kRebaseTicks) {
    return clock.base_ns + ((ticks * clock.ns_per_tick_q32) >> 32);
  }
  return rebase(clock);
}
#else
uint64_t wall_clock_ns() noexcept { return clock_ns(CLOCK_REALTIME); }
#endif

uint64_t monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC); }

uint32_t process_id() noexcept { return static_cast<uint32_t>(getpid()); }

uint32_t cpu_count() noexcept {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus < 1 ? 1u : cpus > 4096 ? 4096u : static_cast<uint32_t>(cpus);
}

namespace {
std::atomic<uint32_t> threads_numbered{0};
thread_local uint32_t this_thread_number = 0;  // 0 until the thread first asks
}  // namespace

uint32_t thread_number() noexcept {
  uint32_t number = this_thread_number;
  if (number == 0) {
    number = threads_numbered.fetch_add(1, std::memory_order_relaxed) + 1;
    if (number == 0) number = threads_numbered.fetch_add(1, std::memory_order_relaxed) + 1;
    this_thread_number = number;
  }
  return number;
}

std::string process_name() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return {};
  path[n] = '\0';
  const char* slash = std::strrchr(path, '/');
  return slash ? std::string(slash + 1) : std::string(path);
}

std::string environment(const char* name) {
  // In setuid and other secure-execution processes the environment is the caller's, not to be
  // trusted: nothing in it is used.
  const char* value = secure_getenv(name);
  return value ? std::string(value) : std::string();
}

std::string system_channel_dir() {
  return "/dev/shm/teardown";
}

std::string standard_channel_dir() {
  std::string system = system_channel_dir();
  struct stat info {};
  // The system channel is the one an administrator made; a directory anyone else made under that
  // name is no channel at all.
  if (lstat(system.c_str(), &info) == 0 && S_ISDIR(info.st_mode) && info.st_uid == 0) {
    return system;
  }
  std::string runtime = environment("XDG_RUNTIME_DIR");
  if (!runtime.empty()) return runtime + "/teardown";
  return system;
}

std::string default_channel_dir() {
  std::string configured = environment("TEARDOWN_CHANNEL");
  return configured.empty() ? standard_channel_dir() : configured;
}

std::string join_path(const std::string& dir, const char* name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

bool can_become(const std::string& key) noexcept {
  uid_t real = 0, effective = 0, saved = 0;
  if (getresuid(&real, &effective, &saved) != 0) return true;
  char* end = nullptr;
  unsigned long uid = std::strtoul(key.c_str(), &end, 10);
  if (key.empty() || end == nullptr || *end != '\0') return false;
  return uid == real || uid == effective || uid == saved;
}

}  // namespace teardown::platform
