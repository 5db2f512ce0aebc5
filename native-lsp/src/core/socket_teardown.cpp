#include "socket_teardown.h"

#include <cstddef>
#include <cstring>

#include "winsock_errors.h"

namespace teardown {

bool is_specific(const td_address& address) {
  if (address.family == TD_FAMILY_NONE) return false;
  size_t length = address.family == TD_FAMILY_IPV4 ? 4 : 16;
  for (size_t i = 0; i < length; ++i) {
    if (address.bytes[i] != 0) return true;
  }
  return false;
}

namespace {
constexpr uint32_t kLingerOn = 1u << 16;
}

SocketTeardown::SocketTeardown(const SocketIdentity& identity, uint64_t created_ns)
    : identity_(identity), created_ns_(created_ns) {}

void SocketTeardown::reset(const SocketIdentity& identity, uint64_t created_ns) {
  identity_ = identity;
  created_ns_ = created_ns;
  local_ = td_address{};
  remote_ = td_address{};
  state_.store(0, std::memory_order_relaxed);
  initiator_.store(TD_INITIATOR_NONE, std::memory_order_relaxed);
  kernel_state_.store(TD_TCP_UNKNOWN, std::memory_order_relaxed);
  linger_.store(0, std::memory_order_relaxed);
  nonblocking_.store(false, std::memory_order_relaxed);
  bytes_sent_.store(0, std::memory_order_relaxed);
  connect_started_ns_.store(0, std::memory_order_relaxed);
  bytes_received_.store(0, std::memory_order_release);
}

void SocketTeardown::copy_from(const SocketTeardown& other) {
  reset(other.identity_, other.created_ns_);
  local_ = other.local_;
  remote_ = other.remote_;
  linger_.store(other.linger_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  nonblocking_.store(other.nonblocking_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void SocketTeardown::set_endpoints(const td_address& local, const td_address& remote) {
  local_ = local;
  remote_ = remote;
}

void SocketTeardown::set_linger(bool on, uint16_t seconds) {
  linger_.store((on ? kLingerOn : 0u) | seconds, std::memory_order_relaxed);
}

void SocketTeardown::set_dont_linger(bool dont_linger) {
  uint32_t current = linger_.load(std::memory_order_relaxed);
  set_linger(!dont_linger, static_cast<uint16_t>(current & 0xFFFFu));
}

bool SocketTeardown::linger_on() const {
  return (linger_.load(std::memory_order_relaxed) & kLingerOn) != 0;
}

uint16_t SocketTeardown::linger_seconds() const {
  return static_cast<uint16_t>(linger_.load(std::memory_order_relaxed) & 0xFFFFu);
}

void SocketTeardown::set_nonblocking(bool nonblocking) {
  nonblocking_.store(nonblocking, std::memory_order_relaxed);
}

ClosePlan SocketTeardown::plan_close(bool abortive_to_graceful, bool unread_data) const {
  ClosePlan plan;
  plan.nonblocking = nonblocking_.load(std::memory_order_relaxed);
  if (linger_on()) {
    plan.linger_seconds = linger_seconds();
    plan.requested = plan.linger_seconds == 0 ? TD_CLOSE_ABORTIVE : TD_CLOSE_GRACEFUL_LINGER;
  }
  plan.performed = plan.requested;
  if (unread_data) {
    plan.unread_data = true;
    plan.performed = TD_CLOSE_ABORTIVE;
  } else if (plan.requested == TD_CLOSE_ABORTIVE && abortive_to_graceful) {
    plan.performed = TD_CLOSE_GRACEFUL;
    plan.converted = true;
  }
  return plan;
}

void SocketTeardown::begin(td_event_kind kind, int32_t error, td_event_record& out) const {
  std::memset(&out, 0, offsetof(td_event_record, captured));
  out.kind = static_cast<uint16_t>(kind);
  out.error = error;
  out.socket_id = identity_.socket_id;
  out.protocol = identity_.protocol;
  out.socket_type = identity_.socket_type;
  out.local = local_;
  out.remote = remote_;
  if (nonblocking_.load(std::memory_order_relaxed)) out.flags |= TD_FLAG_NONBLOCKING;
  if (identity_.accepted) out.flags |= TD_FLAG_ACCEPTED;
}

void SocketTeardown::on_connect_failed(int32_t error, uint64_t now_ns, td_event_record& out) const {
  begin(TD_KIND_CONNECT_FAILED, error, out);
  uint64_t started = connect_started_ns_.load(std::memory_order_relaxed);
  if (started == 0) started = created_ns_;
  out.lifetime_ns = now_ns > started ? now_ns - started : 0;
}

void attach_kernel_view(const td_kernel_view& view, td_event_record& out) {
  out.kernel = view;
  out.flags = static_cast<uint16_t>(out.flags | TD_FLAG_KERNEL_VIEW);
}

td_kernel_view unknown_kernel_view() {
  td_kernel_view view;
  view.bytes_acked = TD_KERNEL_UNKNOWN64;
  view.bytes_received = TD_KERNEL_UNKNOWN64;
  view.unread_bytes = TD_KERNEL_UNKNOWN32;
  view.unsent_bytes = TD_KERNEL_UNKNOWN32;
  view.rtt_us = TD_KERNEL_UNKNOWN32;
  view.retransmits = 0xFFFF;
  view.timeouts = 0xFF;
  view.probes = 0xFF;
  return view;
}

bool SocketTeardown::first_time(uint32_t bit) {
  return (state_.fetch_or(bit, std::memory_order_acq_rel) & bit) == 0;
}

void SocketTeardown::initiated_by(td_initiator side) {
  uint8_t none = TD_INITIATOR_NONE;
  initiator_.compare_exchange_strong(none, static_cast<uint8_t>(side), std::memory_order_acq_rel);
}

void SocketTeardown::on_shutdown(int how, int32_t error, td_event_record& out) {
  begin(TD_KIND_SHUTDOWN, error, out);
  out.detail = static_cast<uint8_t>(how);
  if (error != 0) return;
  if (how == TD_HOW_SEND || how == TD_HOW_BOTH) {
    state_.fetch_or(kSendShut, std::memory_order_acq_rel);
    initiated_by(TD_INITIATOR_LOCAL);
  }
  if (how == TD_HOW_RECEIVE || how == TD_HOW_BOTH) {
    state_.fetch_or(kReceiveShut, std::memory_order_acq_rel);
  }
}

void SocketTeardown::on_send_disconnect(uint32_t data_length, int32_t error,
                                        td_event_record& out) {
  begin(TD_KIND_SEND_DISCONNECT, error, out);
  out.data_length = data_length;
  if (error != 0) return;
  state_.fetch_or(kSendShut, std::memory_order_acq_rel);
  initiated_by(TD_INITIATOR_LOCAL);
}

void SocketTeardown::on_recv_disconnect(uint32_t data_length, int32_t error,
                                        td_event_record& out) {
  begin(TD_KIND_RECV_DISCONNECT, error, out);
  out.data_length = data_length;
  if (error != 0) return;
  state_.fetch_or(kReceiveShut, std::memory_order_acq_rel);
}

void SocketTeardown::on_close(const ClosePlan& plan, int32_t error, bool released,
                              uint64_t now_ns, td_event_record& out) {
  begin(TD_KIND_CLOSE, error, out);
  out.detail = static_cast<uint8_t>(plan.performed);
  out.linger_seconds = plan.linger_seconds;
  if (plan.converted) out.flags |= TD_FLAG_CONVERTED;
  if (plan.nonblocking) out.flags |= TD_FLAG_NONBLOCKING;
  if (plan.unread_data) out.flags |= TD_FLAG_UNREAD_DATA;
  out.flags |= plan.extra_flags;
  if (!released) return;
  uint32_t bits = kClosed | (plan.performed == TD_CLOSE_ABORTIVE ? kAbortiveClose : 0u);
  state_.fetch_or(bits, std::memory_order_acq_rel);
  initiated_by(TD_INITIATOR_LOCAL);
  fill_summary(now_ns, out);
}

void SocketTeardown::on_kernel_state(td_tcp_state state, bool was_connected) {
  if (state > TD_TCP_STATE_MAX) state = TD_TCP_UNKNOWN;
  kernel_state_.store(static_cast<uint8_t>(state), std::memory_order_release);
  switch (state) {
    case TD_TCP_CLOSE_WAIT:
    case TD_TCP_LAST_ACK:
      // The kernel had the peer's FIN before this side sent one: the peer began, whatever the
      // program's calls made it look like (it shut down or closed without reading the FIN).
      initiator_.store(TD_INITIATOR_REMOTE, std::memory_order_release);
      break;
    case TD_TCP_FIN_WAIT_1:
    case TD_TCP_FIN_WAIT_2:
    case TD_TCP_TIME_WAIT:
      initiated_by(TD_INITIATOR_LOCAL);
      break;
    case TD_TCP_CLOSED: {
      // Gone without this side's FIN: only a reset (or the kernel giving up) does that. After
      // this side's FIN it may be the end of a graceful exchange (Linux closes a socket whose
      // FINs are done), so nothing is concluded then.
      constexpr uint32_t kOwnEnd = kSendShut | kClosed | kAbortiveClose | kRemoteReset;
      if (!was_connected || (state_.load(std::memory_order_acquire) & kOwnEnd) != 0) break;
      state_.fetch_or(kRemoteReset, std::memory_order_acq_rel);
      initiated_by(TD_INITIATOR_REMOTE);
      break;
    }
    default:
      break;
  }
}

bool SocketTeardown::on_receive(int64_t bytes, int32_t error, td_event_record& out) {
  if (error == 0) {
    if (bytes > 0) {
      count_received(static_cast<uint64_t>(bytes));
      return false;
    }
    // A zero-length message is a message, not an end; only byte streams read 0 at EOF. After a
    // reset the stream reads 0 too: that is the reset's end, already told, not a graceful one.
    if (identity_.message_oriented) return false;
    if ((state_.load(std::memory_order_acquire) & kRemoteReset) != 0) return false;
    if (!first_time(kRemoteEof)) return false;
    initiated_by(TD_INITIATOR_REMOTE);
    begin(TD_KIND_EOF, 0, out);
    return true;
  }
  if (error == wsa::kDisconnected) {
    if (!first_time(kRemoteDiscon)) return false;
    initiated_by(TD_INITIATOR_REMOTE);
    begin(TD_KIND_DISCON, error, out);
    return true;
  }
  if (wsa::is_reset(error)) {
    if (!first_time(kRemoteReset)) return false;
    initiated_by(TD_INITIATOR_REMOTE);
    begin(TD_KIND_RESET, error, out);
    return true;
  }
  return false;
}

bool SocketTeardown::on_send(int64_t bytes, int32_t error, td_event_record& out) {
  if (error == 0) {
    if (bytes > 0) count_sent(static_cast<uint64_t>(bytes));
    return false;
  }
  if (!wsa::is_reset(error) || !first_time(kRemoteReset)) return false;
  initiated_by(TD_INITIATOR_REMOTE);
  begin(TD_KIND_RESET, error, out);
  return true;
}

bool SocketTeardown::on_framing_failure(uint8_t why, td_event_record& out) {
  if (!on_receive(-1, wsa::kConnectionAborted, out)) return false;
  out.flags = static_cast<uint16_t>(out.flags | TD_FLAG_FRAMING);
  out.detail = why;
  return true;
}

bool SocketTeardown::on_fd_close(int32_t error, td_event_record& out) {
  if (!first_time(kFdClose)) return false;
  if (error != 0) state_.fetch_or(kRemoteReset, std::memory_order_acq_rel);
  initiated_by(TD_INITIATOR_REMOTE);
  begin(TD_KIND_FD_CLOSE, error, out);
  return true;
}

td_initiator SocketTeardown::first_shutdown() const {
  return static_cast<td_initiator>(initiator_.load(std::memory_order_acquire));
}

td_ending SocketTeardown::ending() const {
  uint32_t state = state_.load(std::memory_order_acquire);
  if (state & (kRemoteReset | kAbortiveClose)) return TD_ENDING_ABORTIVE;
  if (state & (kClosed | kSendShut | kRemoteEof | kRemoteDiscon | kFdClose)) {
    return TD_ENDING_GRACEFUL;
  }
  return TD_ENDING_NONE;
}

bool SocketTeardown::closed() const {
  return (state_.load(std::memory_order_acquire) & kClosed) != 0;
}

bool SocketTeardown::send_shut() const {
  return (state_.load(std::memory_order_acquire) & kSendShut) != 0;
}

bool SocketTeardown::receive_shut() const {
  return (state_.load(std::memory_order_acquire) & kReceiveShut) != 0;
}

bool SocketTeardown::fd_close_seen() const {
  return (state_.load(std::memory_order_relaxed) & kFdClose) != 0;
}

bool SocketTeardown::saw_end_of_stream() const {
  return (state_.load(std::memory_order_acquire) & kRemoteEof) != 0;
}

void SocketTeardown::fill_summary(uint64_t now_ns, td_event_record& out) const {
  out.lifetime_ns = now_ns > created_ns_ ? now_ns - created_ns_ : 0;
  out.bytes_sent = bytes_sent();
  out.bytes_received = bytes_received();
  out.first_shutdown = static_cast<uint8_t>(first_shutdown());
  out.ending = static_cast<uint8_t>(ending());
  out.kernel_state = kernel_state_.load(std::memory_order_acquire);
}

}  // namespace teardown
