// A connection whose disconnect data is emulated (Policy::emulates, decided when it is made): its
// stream and the locks that keep one writer and one reader at a time, shared by every handle of
// the connection (dup on Linux), in both layers.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "emulation.h"

namespace teardown {

struct EmulatedConnection {
  std::mutex writing;  // one write at a time keeps the records whole; never held while waiting
  std::mutex reading;
  EmulatedStream stream;
  std::atomic<uint32_t> references{0};  // handles that share the connection
  std::atomic<bool> aborted{false};     // the layer reset it after a framing error
  // The program reads urgent data in line (SO_OOBINLINE): a peer's MSG_OOB byte arrives raw,
  // between two records, and is the program's (framed_receive asks the Io where it is).
  std::atomic<bool> urgent_inline{false};
  uint32_t index = 0;                   // its place in the pool
  std::atomic<uint32_t> next_free{0};   // while free: the next free one's index + 1, or 0
};

// From a pool that never gives memory back: a thread still inside a call on a handle another
// thread closed finds a connection, never freed memory. Null when memory is short.
EmulatedConnection* acquire_connection() noexcept;
void share_connection(EmulatedConnection* connection) noexcept;
// Drops one handle's share (null is fine); the last returns the connection to the pool. Takes
// no lock and allocates nothing: a close in a signal handler may call it.
void release_connection(EmulatedConnection* connection) noexcept;

// Around fork: every connection's locks taken before, and let go after in the parent and the
// child, so that the child never inherits a lock held by a thread it does not have.
void lock_all_connections() noexcept;
void unlock_all_connections() noexcept;

// Whether this process has ever emulated a connection: while it has not, the data calls look no
// further. Inline: every data call of the Linux layer asks it first.
extern std::atomic<bool> emulated_once;
inline bool any_emulated() noexcept {
  return emulated_once.load(std::memory_order_relaxed);
}

}  // namespace teardown
