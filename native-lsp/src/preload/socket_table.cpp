#include "socket_table.h"

#include <new>

namespace teardown::preload {

SocketEntry* SocketTable::prepare(int fd, bool* was_live) {
  if (fd < 0 || (fd >> kChunkBits) >= kMaxChunks) return nullptr;
  std::atomic<SocketEntry*>& slot = chunks_[fd >> kChunkBits];
  SocketEntry* chunk = slot.load(std::memory_order_acquire);
  if (chunk == nullptr) {
    SocketEntry* fresh = new (std::nothrow) SocketEntry[kChunkSize];
    if (fresh == nullptr) return nullptr;
    if (slot.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
      chunk = fresh;
    } else {
      delete[] fresh;  // another thread installed this chunk first
    }
  }
  SocketEntry* entry = &chunk[fd & (kChunkSize - 1)];
  uint32_t live = entry->live.exchange(0, std::memory_order_acq_rel);
  if (was_live != nullptr) *was_live = live != 0;
  return entry;
}

}  // namespace teardown::preload
