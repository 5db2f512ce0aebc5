#include "recorder.h"

#include <atomic>
#include <cstring>
#include <mutex>

#include "../core/platform.h"

namespace teardown::lsp {

namespace {
std::atomic<Producer*> instance_{nullptr};
std::mutex making_;
}  // namespace

Producer& producer() {
  Producer* made = instance_.load(std::memory_order_acquire);
  if (made != nullptr) return *made;
  std::lock_guard<std::mutex> hold(making_);
  made = instance_.load(std::memory_order_relaxed);
  if (made == nullptr) {
    made = new Producer(platform::standard_channel_dir());
    instance_.store(made, std::memory_order_release);
  }
  return *made;
}

void release_producer() noexcept {
  Producer* made = instance_.exchange(nullptr, std::memory_order_acq_rel);
  if (made == nullptr) return;
  made->detach_all();
  delete made;
}

void emit(td_event_record& event, const void* data, size_t length) {
  Policy policy = producer().policy();
  producer().publish(event, policy, data, length);
}

uint64_t requested_bytes(const WSABUF* buffers, DWORD count) {
  uint64_t total = 0;
  for (DWORD i = 0; buffers != nullptr && i < count; ++i) total += buffers[i].len;
  return total;
}

void record_receive(SocketContext& context, int result, uint64_t requested, DWORD received,
                    DWORD flags_in, int error) {
  if ((flags_in & MSG_OOB) != 0) return;  // urgent data is outside the stream: no end in it
  if (result == 0 && received > 0 && (flags_in & MSG_PEEK) == 0) {
    context.teardown.count_received(received);  // the usual receive: no end in it
    return;
  }
  td_event_record event;
  if (result == 0) {
    if (requested == 0) return;                              // a 0-byte read is no EOF
    if ((flags_in & MSG_PEEK) != 0 && received > 0) return;  // peeked bytes are read again
    if (context.teardown.on_receive(received, 0, event)) emit(event);
  } else if (error != WSA_IO_PENDING && error != WSAEWOULDBLOCK) {
    if (context.teardown.on_receive(-1, error, event)) emit(event);
  }
}

void record_send(SocketContext& context, int result, DWORD sent, int error) {
  if (result == 0) {
    if (sent > 0) context.teardown.count_sent(sent);
  } else if (error != WSA_IO_PENDING && error != WSAEWOULDBLOCK) {
    td_event_record event;
    if (context.teardown.on_send(-1, error, event)) emit(event);
  }
}

td_address lower_address(const SocketContext& context, bool peer) {
  sockaddr_storage storage{};
  int length = sizeof(storage);
  int error = 0;
  auto* name = reinterpret_cast<sockaddr*>(&storage);
  const WSPPROC_TABLE& procs = context.provider->procs;
  int result = peer ? procs.lpWSPGetPeerName(context.lower, name, &length, &error)
                    : procs.lpWSPGetSockName(context.lower, name, &length, &error);
  return result == 0 ? address_of(name, length) : td_address{};
}

td_address address_of(const sockaddr* address, int length) {
  td_address out{};
  if (address == nullptr) return out;
  if (address->sa_family == AF_INET && length >= static_cast<int>(sizeof(sockaddr_in))) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    out.family = TD_FAMILY_IPV4;
    out.port = ntohs(v4->sin_port);
    std::memcpy(out.bytes, &v4->sin_addr, 4);
  } else if (address->sa_family == AF_INET6 && length >= static_cast<int>(sizeof(sockaddr_in6))) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    out.family = TD_FAMILY_IPV6;
    out.port = ntohs(v6->sin6_port);
    out.scope_id = v6->sin6_scope_id;
    std::memcpy(out.bytes, &v6->sin6_addr, 16);
  }
  return out;
}

}  // namespace teardown::lsp
