// Which descriptor an epoll event is about. epoll reports the user data a registration gave, not
// the descriptor; the layer remembers, for its own sockets, (epoll descriptor, data) -> socket.
//
// Event loops call epoll_ctl all the time, so registering takes no lock and allocates nothing
// after the first use: a fixed open-addressing table of slots claimed by compare-exchange, each
// probe bounded. A registration that finds no room is not remembered (a hang-up it reports is
// then not attributed); nothing else depends on it.
#pragma once

#include <atomic>
#include <cstdint>

namespace teardown::preload {

class EpollRegistry {
 public:
  static constexpr uint32_t kSlots = 1u << 16;
  static constexpr uint32_t kProbes = 64;

  // `fd` is registered on `epfd` with `data` (EPOLL_CTL_ADD or MOD).
  void add(int epfd, uint64_t data, int fd) noexcept;
  // The registration of `fd` on `epfd` with `data` is gone (MOD, DEL, or the socket's close).
  void remove(int epfd, uint64_t data, int fd) noexcept;
  // The socket registered on `epfd` with `data`, or -1.
  int find(int epfd, uint64_t data) const noexcept;

 private:
  // A slot's state: kEmpty, kBusy (being filled), kGone, or live: (epfd + 1) << 32 | fd.
  static constexpr uint64_t kEmpty = 0;
  static constexpr uint64_t kBusy = 1;
  static constexpr uint64_t kGone = 2;

  struct Slot {
    std::atomic<uint64_t> state{kEmpty};
    std::atomic<uint64_t> data{0};
  };

  static uint64_t live(int epfd, int fd) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(epfd)) + 1) << 32 |
           static_cast<uint32_t>(fd);
  }
  static bool is_live(uint64_t state) { return state > kGone; }
  static uint32_t start(int epfd, uint64_t data);

  Slot slots_[kSlots];
};

// The process's registry, created on first use.
EpollRegistry* epoll_registry() noexcept;

}  // namespace teardown::preload
