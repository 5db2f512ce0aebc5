#include "recorder.h"

#include <atomic>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <mutex>

#include "../core/platform.h"
#include "../core/winsock_errors.h"
#include "app_memory.h"
#include "tcp_info.h"
#include "framed_io.h"

namespace teardown::lsp {

namespace {
std::atomic<Producer*> instance_{nullptr};
std::mutex making_;
}  // namespace

Producer& producer() noexcept {
  Producer* made = instance_.load(std::memory_order_acquire);
  if (made != nullptr) return *made;
  try {
    std::lock_guard<std::mutex> hold(making_);
    made = instance_.load(std::memory_order_relaxed);
    if (made == nullptr) {
      made = new Producer(platform::standard_channel_dir());
      instance_.store(made, std::memory_order_release);
    }
    return *made;
  } catch (...) {
    static Producer unattached{Producer::Unattached{}};
    return unattached;
  }
}

void release_producer() noexcept {
  Producer* made = instance_.exchange(nullptr, std::memory_order_acq_rel);
  if (made == nullptr) return;
  made->detach_all();
  delete made;
}

void emit(SocketContext& context, td_event_record& event, const void* data, size_t length) {
  emit(context, event, producer().policy(), data, length);
}

void emit(SocketContext& context, td_event_record& event, const Policy& policy, const void* data,
          size_t length) {
  // An event not recorded asks nothing below; one that may be has its local address first (a
  // port filter decides by it).
  if (event.kind > TD_KIND_MAX || !policy.wants(static_cast<td_event_kind>(event.kind))) return;
  if (event.local.family == TD_FAMILY_NONE) event.local = local_of(context);
  // The data is the application's: what is captured of it is copied here first, where a buffer
  // that cannot be read costs the capture, never the process.
  uint8_t captured[TD_CAPTURE_MAX];
  size_t capture = length < policy.capture_bytes ? length : policy.capture_bytes;
  if (capture > sizeof(captured)) capture = sizeof(captured);
  bool copied = data != nullptr && capture > 0 && try_copy(captured, data, capture);
  producer().publish(event, policy, copied ? captured : nullptr, copied ? capture : 0);
}

td_address known_local(const SocketContext& context) {
  uint8_t state = context.local_state.load(std::memory_order_acquire);
  if (state == SocketContext::kLocalGiven) return context.teardown.local();
  if (state == SocketContext::kLocalAsked) return context.asked_local;
  return td_address{};
}

void offer_local(SocketContext& context, const td_address& local) {
  if (local.family == TD_FAMILY_NONE || local.port == 0) return;  // not bound yet: nothing kept
  uint8_t expected = SocketContext::kLocalToAsk;
  if (context.local_state.compare_exchange_strong(expected, SocketContext::kLocalStoring,
                                                  std::memory_order_acq_rel)) {
    context.asked_local = local;
    context.local_state.store(SocketContext::kLocalAsked, std::memory_order_release);
  }
}

td_address local_of(SocketContext& context, bool by_close) {
  uint8_t state = context.local_state.load(std::memory_order_acquire);
  if (state != SocketContext::kLocalToAsk && state != SocketContext::kLocalStoring) {
    return known_local(context);
  }
  if (!by_close && context.closing.load(std::memory_order_acquire)) return td_address{};
  td_address asked = lower_address(context, false);
  offer_local(context, asked);
  return asked;
}

void set_connection_endpoints(SocketContext& context, const td_address& local,
                              const td_address& remote) {
  td_address own = local;
  bool ask_later = false;
  if (own.family == TD_FAMILY_NONE) {
    if (emulation_possible(context) && producer().policy().watches_for_framing()) {
      own = lower_address(context, false);
    } else {
      ask_later = true;
    }
  }
  context.teardown.set_endpoints(own, remote);
  context.local_state.store(ask_later ? SocketContext::kLocalToAsk : SocketContext::kLocalGiven,
                            std::memory_order_release);
}

uint64_t requested_bytes(const WSABUF* buffers, DWORD count) {
  uint64_t total = 0;
  for (DWORD i = 0; buffers != nullptr && i < count; ++i) {
    WSABUF buffer;
    if (!try_copy(&buffer, &buffers[i], sizeof(buffer))) return 0;  // the call below says WSAEFAULT
    total += buffer.len;
  }
  return total;
}

namespace {

// A receive's or send's failure that lost the connection, published with what the kernel tells
// of it now (asked only when the event is recorded).
void emit_lost(SocketContext& context, td_event_record& event) {
  Policy policy = producer().policy();
  if (event.kind > TD_KIND_MAX || !policy.wants(static_cast<td_event_kind>(event.kind))) return;
  if (event.local.family == TD_FAMILY_NONE) event.local = local_of(context);  // a filter's port
  if (!policy.records(event)) return;
  td_kernel_view view;
  if (read_kernel(context, -1, view)) attach_kernel_view(view, event);
  emit(context, event, policy);
}

}  // namespace

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
    if (context.teardown.on_receive(received, 0, event)) emit(context, event);
  } else if (error != WSA_IO_PENDING && error != WSAEWOULDBLOCK) {
    if (context.teardown.on_receive(-1, error, event)) emit_lost(context, event);
  }
}

void record_send(SocketContext& context, int result, DWORD sent, int error) {
  if (result == 0) {
    if (sent > 0) context.teardown.count_sent(sent);
  } else if (error != WSA_IO_PENDING && error != WSAEWOULDBLOCK) {
    // A ConnectEx's first bytes: its failure is the connect's.
    if (context.connecting.load(std::memory_order_relaxed) && wsa::is_connect_failure(error)) {
      record_connect_outcome(context, error);
      return;
    }
    td_event_record event;
    if (context.teardown.on_send(-1, error, event)) emit_lost(context, event);
  }
}

namespace {

// TCPSTATE (CLOSED 0 ... TIME_WAIT 10) in the event model's numbering.
constexpr td_tcp_state kFromTcpState[] = {
    TD_TCP_CLOSED,      TD_TCP_LISTEN,     TD_TCP_SYN_SENT,   TD_TCP_SYN_RECEIVED,
    TD_TCP_ESTABLISHED, TD_TCP_FIN_WAIT_1, TD_TCP_FIN_WAIT_2, TD_TCP_CLOSE_WAIT,
    TD_TCP_CLOSING,     TD_TCP_LAST_ACK,   TD_TCP_TIME_WAIT};

std::atomic<bool> tcp_info_unsupported{false};

}  // namespace

bool read_kernel(SocketContext& context, int64_t unread, td_kernel_view& view) {
  if (context.teardown.identity().protocol != IPPROTO_TCP ||
      tcp_info_unsupported.load(std::memory_order_relaxed)) {
    return false;
  }
  DWORD version = 0;
  TcpInfoV0 info{};
  DWORD returned = 0;
  int error = 0;
  if (context.provider->procs.lpWSPIoctl(context.lower, kSioTcpInfo, &version, sizeof(version),
                                         &info, sizeof(info), &returned, nullptr, nullptr, nullptr,
                                         &error) != 0) {
    // Older systems (and Wine) know no such request; a socket it does not apply to says so
    // with another error, and the next socket asks again.
    if (error == WSAEOPNOTSUPP) tcp_info_unsupported.store(true, std::memory_order_relaxed);
    return false;
  }
  if (returned < sizeof(DWORD) || info.state >= std::size(kFromTcpState)) return false;
  bool made = context.connected.load(std::memory_order_relaxed) ||
              context.teardown.bytes_sent() + context.teardown.bytes_received() > 0 ||
              info.bytes_in + info.bytes_out > 0;
  context.teardown.on_kernel_state(kFromTcpState[info.state], made);
  view = unknown_kernel_view();
  if (unread >= 0) view.unread_bytes = static_cast<uint32_t>(unread);
  if (returned >= offsetof(TcpInfoV0, bytes_in) + sizeof(info.bytes_in)) {
    // Windows counts payload: what went out and is no longer in flight was acknowledged.
    view.bytes_acked = info.bytes_out > info.bytes_in_flight ? info.bytes_out - info.bytes_in_flight : 0;
    view.bytes_received = info.bytes_in;
  }
  if (returned >= offsetof(TcpInfoV0, rtt_us) + sizeof(info.rtt_us)) view.rtt_us = info.rtt_us;
  return true;
}

void record_connect_failure(SocketContext& context, const td_address& remote, int error) {
  context.connecting.store(false, std::memory_order_relaxed);
  if (remote.family != TD_FAMILY_NONE) {
    context.teardown.set_endpoints(context.teardown.local(), remote);
  }
  if (context.teardown.remote().family == TD_FAMILY_NONE) return;
  td_event_record event;
  context.teardown.on_connect_failed(error, platform::wall_clock_ns(), event);
  context.teardown.set_endpoints(context.teardown.local(), td_address{});
  emit(context, event);
}

void record_established(SocketContext& context) {
  if (!producer().wants(TD_KIND_CONNECTED)) return;
  td_event_record event;
  context.teardown.on_established(event);
  emit(context, event);
}

void record_connect_outcome(SocketContext& context, int error) {
  if (!context.connecting.load(std::memory_order_relaxed)) return;
  if (error == 0) {
    context.connected.store(true, std::memory_order_relaxed);
    if (context.connecting.exchange(false, std::memory_order_relaxed)) record_established(context);
    return;
  }
  if (wsa::is_connect_failure(error)) record_connect_failure(context, td_address{}, error);
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
