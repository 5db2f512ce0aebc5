// The few operating-system facts the core needs, behind one portable interface.
// Implemented once per platform (platform_posix.cpp, platform_windows.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace teardown::platform {

// Wall clock in nanoseconds since the Unix epoch. No system call on Linux (vDSO) or Windows.
uint64_t wall_clock_ns() noexcept;

// Monotonic clock in nanoseconds, for timeouts.
uint64_t monotonic_ns() noexcept;

uint32_t process_id() noexcept;

// The CPUs this machine runs programs on (at least 1).
uint32_t cpu_count() noexcept;

// A number of the calling thread's that never changes while it runs, and that threads started
// one after another in a process most likely differ in by one (1, 2, 3 ... on Linux; the thread
// id over four on Windows, whose ids are multiples of four handed out in order). A few ns.
uint32_t thread_number() noexcept;

// The executable's base name ("curl", "svchost.exe"), UTF-8; empty if it cannot be found.
std::string process_name();

// The value of an environment variable, empty when unset, and always empty in setuid and other
// secure-execution processes.
std::string environment(const char* name);

// Where an administrator makes the channel for every user: /dev/shm/teardown on Linux,
// %ProgramData%\Teardown (the known folder, never the environment's) on Windows.
std::string system_channel_dir();

// The channel a process records into when none is given: the system channel where an
// administrator made it, else (Linux) the user's private channel under $XDG_RUNTIME_DIR.
std::string standard_channel_dir();

// The channel directory used when none is given: $TEARDOWN_CHANNEL, else the standard one.
std::string default_channel_dir();

// dir + separator + name.
std::string join_path(const std::string& dir, const char* name);

// Whether this process is, or could become again, the user `key` (a file owner's key): POSIX,
// whether it is its real, effective or saved uid. Windows: always (a process's user does not
// change).
bool can_become(const std::string& key) noexcept;

}  // namespace teardown::platform
