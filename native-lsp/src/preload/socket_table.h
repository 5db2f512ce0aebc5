// The layer's sockets, indexed by descriptor: O(1) lookup with two loads and no lock.
//
// Entries live in chunks of 4096 descriptors, allocated on first use and never freed, and each
// entry holds its tracker in place. So a descriptor closed by one thread while another still uses
// it can at worst mix up two sockets' state, never touch freed memory.
#pragma once

#include <atomic>
#include <cstdint>

#include "../core/emulated_connection.h"
#include "../core/framing.h"
#include "../core/socket_teardown.h"

namespace teardown::preload {

struct SocketEntry {
  std::atomic<uint32_t> live{0};
  std::atomic<uint32_t> flags{0};  // TD_FLAG_SHARED once dup'd or inherited through fork
  std::atomic<bool> listening{false};  // a listener: its close ends no connection
  // A non-blocking connect is under way: no connection exists until it is known to be made.
  std::atomic<bool> connecting{false};
  // Which open socket the descriptor named when it was tracked (fstat's st_dev and st_ino): a
  // descriptor closed behind libc's back may name something else by now.
  uint64_t device = 0;
  uint64_t inode = 0;
  // Its epoll registrations (epoll descriptor, or -1; the data it gave), so that they can be
  // replaced and forgotten (epoll_registry.h). A socket in more epoll sets is not remembered there.
  static constexpr int kEpollSets = 4;
  std::atomic<int> epoll_fds[kEpollSets] = {-1, -1, -1, -1};
  std::atomic<uint64_t> epoll_data[kEpollSets] = {};
  // Disconnect data emulated on this connection (emulated_io.h), or null.
  std::atomic<EmulatedConnection*> emulation{nullptr};
  // A connection not emulated here: its first bytes are watched for a peer that frames them.
  std::atomic<bool> sniffing{false};
  HelloSniffer sniffer;
  SocketTeardown teardown;
};

class SocketTable {
 public:
  static constexpr int kChunkBits = 12;
  static constexpr int kChunkSize = 1 << kChunkBits;
  static constexpr int kMaxChunks = 1024;  // descriptors up to 4M

  // The live entry for `fd`, or nullptr: the data path's one check.
  SocketEntry* find(int fd) const {
    if (fd < 0 || (fd >> kChunkBits) >= kMaxChunks) return nullptr;
    SocketEntry* chunk = chunks_[fd >> kChunkBits].load(std::memory_order_acquire);
    if (chunk == nullptr) return nullptr;
    SocketEntry* entry = &chunk[fd & (kChunkSize - 1)];
    return entry->live.load(std::memory_order_acquire) ? entry : nullptr;
  }

  // The entry for a descriptor just created (allocates its chunk if needed), taken out of use;
  // nullptr if the descriptor is out of range or memory is short. The caller fills it, then calls
  // publish(). `was_live`: whether it still tracked a socket (one closed behind libc's back).
  SocketEntry* prepare(int fd, bool* was_live = nullptr);
  void publish(SocketEntry* entry) { entry->live.store(1, std::memory_order_release); }
  void remove(SocketEntry* entry) { entry->live.store(0, std::memory_order_release); }

  // Calls `visit` for every live entry (at fork and exit).
  template <typename Visit>
  void for_each(Visit&& visit) {
    for (int c = 0; c < kMaxChunks; ++c) {
      SocketEntry* chunk = chunks_[c].load(std::memory_order_acquire);
      if (chunk == nullptr) continue;
      for (int i = 0; i < kChunkSize; ++i) {
        if (chunk[i].live.load(std::memory_order_acquire)) visit((c << kChunkBits) | i, chunk[i]);
      }
    }
  }

 private:
  std::atomic<SocketEntry*> chunks_[kMaxChunks] = {};
};

}  // namespace teardown::preload
