#include "platform.h"

#include <time.h>
#include <unistd.h>

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

uint64_t wall_clock_ns() noexcept { return clock_ns(CLOCK_REALTIME); }

uint64_t monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC); }

uint32_t process_id() noexcept { return static_cast<uint32_t>(getpid()); }

std::string process_name() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return {};
  path[n] = '\0';
  const char* slash = std::strrchr(path, '/');
  return slash ? std::string(slash + 1) : std::string(path);
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

std::string default_channel_dir() {
  std::string configured = environment("TEARDOWN_CHANNEL");
  if (!configured.empty()) return configured;
  if (access("/dev/shm", W_OK) == 0) return "/dev/shm/teardown";
  std::string runtime = environment("XDG_RUNTIME_DIR");
  if (!runtime.empty()) return runtime + "/teardown";
  return "/tmp/teardown";
}

std::string join_path(const std::string& dir, const char* name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace teardown::platform
