#include "epoll_registry.h"

#include <new>

namespace teardown::preload {

uint32_t EpollRegistry::start(int epfd, uint64_t data) {
  uint64_t key = data * 0x9E3779B97F4A7C15ull ^
                 static_cast<uint64_t>(static_cast<uint32_t>(epfd)) * 0xC2B2AE3D27D4EB4Full;
  return static_cast<uint32_t>(key >> 32) & (kSlots - 1);
}

void EpollRegistry::add(int epfd, uint64_t data, int fd) noexcept {
  uint32_t first = start(epfd, data);
  for (uint32_t probe = 0; probe < kProbes; ++probe) {
    Slot& slot = slots_[(first + probe) & (kSlots - 1)];
    uint64_t state = slot.state.load(std::memory_order_acquire);
    if (is_live(state) && static_cast<int>(state >> 32) - 1 == epfd &&
        slot.data.load(std::memory_order_relaxed) == data) {
      // The same registration again (a MOD that kept its data): point it at `fd`.
      slot.state.compare_exchange_strong(state, live(epfd, fd), std::memory_order_acq_rel);
      return;
    }
    if (state != kEmpty && state != kGone) continue;
    if (!slot.state.compare_exchange_strong(state, kBusy, std::memory_order_acq_rel)) continue;
    slot.data.store(data, std::memory_order_relaxed);
    slot.state.store(live(epfd, fd), std::memory_order_release);
    return;
  }
}

void EpollRegistry::remove(int epfd, uint64_t data, int fd) noexcept {
  uint32_t first = start(epfd, data);
  uint64_t wanted = live(epfd, fd);
  for (uint32_t probe = 0; probe < kProbes; ++probe) {
    Slot& slot = slots_[(first + probe) & (kSlots - 1)];
    uint64_t state = slot.state.load(std::memory_order_acquire);
    if (state == kEmpty) return;
    if (state == wanted && slot.data.load(std::memory_order_relaxed) == data) {
      slot.state.compare_exchange_strong(state, kGone, std::memory_order_acq_rel);
    }
  }
}

int EpollRegistry::find(int epfd, uint64_t data) const noexcept {
  uint32_t first = start(epfd, data);
  for (uint32_t probe = 0; probe < kProbes; ++probe) {
    const Slot& slot = slots_[(first + probe) & (kSlots - 1)];
    uint64_t state = slot.state.load(std::memory_order_acquire);
    if (state == kEmpty) return -1;
    if (!is_live(state) || static_cast<int>(state >> 32) - 1 != epfd) continue;
    if (slot.data.load(std::memory_order_acquire) != data) continue;
    if (slot.state.load(std::memory_order_acquire) != state) continue;  // changed meanwhile
    return static_cast<int>(static_cast<uint32_t>(state));
  }
  return -1;
}

EpollRegistry* epoll_registry() noexcept {
  static EpollRegistry* registry = new (std::nothrow) EpollRegistry();
  return registry;
}

}  // namespace teardown::preload
