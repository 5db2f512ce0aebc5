// One socket's teardown, as the seed ("Connection Shutdown") describes it: the layer reports
// each call and result, and this turns them into events and the connection summary.
//
//  - WSPShutdown (SD_SEND, SD_BOTH) and WSPSendDisconnect initiate a graceful shutdown;
//    WSPCloseSocket initiates a graceful or abortive one, decided by the linger options.
//  - The peer's teardown shows as FD_CLOSE, a zero-byte receive on a byte stream, WSAEDISCON on a
//    message-oriented socket (graceful), or WSAECONNRESET (abortive).
//  - Disconnect data travels with WSPSendDisconnect and WSPRecvDisconnect.
//
// Local calls always raise an event, with the error they returned. Remote indications raise one
// the first time each is seen: applications poll and re-read, the teardown happened once.
// Methods may be called from several threads at once for the same socket.
#pragma once

#include <atomic>
#include <cstdint>

#include "teardown/teardown.h"

namespace teardown {

// True for an address that names one interface; false for none and for the wildcard (whose
// connections each get their own local address).
bool is_specific(const td_address& address);

struct SocketIdentity {
  uint64_t socket_id = 0;
  uint16_t protocol = 6;      // IPPROTO_TCP
  uint8_t socket_type = 1;    // SOCK_STREAM
  bool message_oriented = false;
  bool accepted = false;  // came from accept: this end is the connection's responder
};

struct ClosePlan {
  td_close_mode requested = TD_CLOSE_GRACEFUL;  // what the linger options ask for
  td_close_mode performed = TD_CLOSE_GRACEFUL;  // what the layer must do, after policy
  uint16_t linger_seconds = 0;
  bool converted = false;  // abortive requested, graceful performed by policy
  bool nonblocking = false;
  bool unread_data = false;  // received data left unread: the stack will reset, whatever lingers
  uint16_t extra_flags = 0;  // TD_FLAG_SHARED, TD_FLAG_AT_EXIT: set by the layer
};

class SocketTeardown {
 public:
  SocketTeardown() = default;
  SocketTeardown(const SocketIdentity& identity, uint64_t created_ns);

  // Starts over for a new socket, in place: the layer's table reuses one tracker per descriptor.
  void reset(const SocketIdentity& identity, uint64_t created_ns);

  // Copies what a duplicated handle shares with its original: identity, endpoints, options.
  void copy_from(const SocketTeardown& other);
  void reset_socket_id(uint64_t socket_id) { identity_.socket_id = socket_id; }
  // The socket came from accept: its events carry TD_FLAG_ACCEPTED. Set before it is shared.
  void set_accepted() { identity_.accepted = true; }

  void set_endpoints(const td_address& local, const td_address& remote);
  const td_address& local() const { return local_; }
  const td_address& remote() const { return remote_; }
  const SocketIdentity& identity() const { return identity_; }

  // SO_LINGER {on, seconds}. SO_DONTLINGER d is SO_LINGER {!d, seconds unchanged}.
  void set_linger(bool on, uint16_t seconds);
  void set_dont_linger(bool dont_linger);
  bool linger_on() const;
  uint16_t linger_seconds() const;
  void set_nonblocking(bool nonblocking);
  bool nonblocking() const { return nonblocking_.load(std::memory_order_relaxed); }

  // How a close issued now would go, and whether the abortive-to-graceful policy changes it.
  // With `unread_data` the close resets the connection whatever the linger options say (the
  // policy cannot change that: only reading the data could).
  ClosePlan plan_close(bool abortive_to_graceful, bool unread_data = false) const;

  // Local calls: always raise an event into `out`.
  void on_shutdown(int how, int32_t error, td_event_record& out);
  void on_send_disconnect(uint32_t data_length, int32_t error, td_event_record& out);
  void on_recv_disconnect(uint32_t data_length, int32_t error, td_event_record& out);
  // `released`: the handle is gone (success). Otherwise (WSAEWOULDBLOCK for a lingering
  // non-blocking socket, say) the socket lives on, and the summary waits for the real close.
  void on_close(const ClosePlan& plan, int32_t error, bool released, uint64_t now_ns,
                td_event_record& out);

  // The kernel's TCP state, read by the layer just before a close (on_close records it with the
  // summary). It corrects what the calls alone tell: CLOSE_WAIT or LAST_ACK is the peer's FIN
  // first, read or not; CLOSED on a connection (`was_connected`: the layer knows it was made) that
  // this side never shut down, closed or saw reset is a reset (or a timeout) the program never
  // read. Other states confirm this side as the initiator when nothing else said who was.
  void on_kernel_state(td_tcp_state state, bool was_connected);
  td_tcp_state kernel_state() const {
    return static_cast<td_tcp_state>(kernel_state_.load(std::memory_order_acquire));
  }

  // A connect is under way from `now_ns` (its failure says how long the attempt took).
  void on_connect_started(uint64_t now_ns) {
    connect_started_ns_.store(now_ns, std::memory_order_relaxed);
  }
  // The connect made no connection (refused, timed out, unreachable): a CONNECT_FAILED event
  // with `error` (Winsock's number) and the attempt's length. The layer calls it once per attempt
  // and then forgets the address tried, so the socket's close ends no connection.
  void on_connect_failed(int32_t error, uint64_t now_ns, td_event_record& out) const;
  // The connection is made (a connect succeeded, accept returned it): a CONNECTED event.
  void on_established(td_event_record& out) const { begin(TD_KIND_CONNECTED, 0, out); }

  // Results of data calls and network events: true when they reveal a teardown for the first
  // time, with the event in `out`. `bytes` counts only when error is 0.
  bool on_receive(int64_t bytes, int32_t error, td_event_record& out);
  bool on_send(int64_t bytes, int32_t error, td_event_record& out);
  bool on_fd_close(int32_t error, td_event_record& out);
  // The layer reset the connection because the peer's stream was not framed as agreed
  // (disconnect-data emulation): a RESET with TD_FLAG_FRAMING and `why` (td_framing_error) in
  // detail, unless the connection was already seen reset.
  bool on_framing_failure(uint8_t why, td_event_record& out);

  td_initiator first_shutdown() const;
  td_ending ending() const;  // as things stand now
  bool closed() const;
  bool send_shut() const;     // this side shut down sending (shutdown, send-disconnect)
  bool receive_shut() const;  // this side shut down receiving
  bool saw_end_of_stream() const;  // a receive returned 0: nothing can be left unread
  bool fd_close_seen() const;      // FD_CLOSE has been recorded
  // A call that moved bytes (it never makes an event): counted. on_send and on_receive count
  // through these, and the layers call them straight for the usual send and receive.
  void count_sent(uint64_t bytes) { bytes_sent_.fetch_add(bytes, std::memory_order_relaxed); }
  void count_received(uint64_t bytes) {
    bytes_received_.fetch_add(bytes, std::memory_order_relaxed);
  }
  uint64_t bytes_sent() const { return bytes_sent_.load(std::memory_order_relaxed); }
  uint64_t bytes_received() const { return bytes_received_.load(std::memory_order_relaxed); }

 private:
  enum Bit : uint32_t {
    kSendShut = 1u << 0,
    kReceiveShut = 1u << 1,
    kRemoteEof = 1u << 2,
    kRemoteDiscon = 1u << 3,
    kRemoteReset = 1u << 4,
    kFdClose = 1u << 5,
    kAbortiveClose = 1u << 6,
    kClosed = 1u << 7,
  };

  void begin(td_event_kind kind, int32_t error, td_event_record& out) const;
  bool first_time(uint32_t bit);
  void initiated_by(td_initiator side);
  void fill_summary(uint64_t now_ns, td_event_record& out) const;

  SocketIdentity identity_;
  uint64_t created_ns_ = 0;
  td_address local_{};
  td_address remote_{};
  std::atomic<uint32_t> state_{0};
  std::atomic<uint8_t> initiator_{TD_INITIATOR_NONE};
  std::atomic<uint8_t> kernel_state_{TD_TCP_UNKNOWN};
  std::atomic<uint32_t> linger_{0};  // bit 16: on; low 16 bits: seconds
  std::atomic<bool> nonblocking_{false};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> connect_started_ns_{0};
};

// Puts what the kernel told of the connection into `out`, flagged TD_FLAG_KERNEL_VIEW.
void attach_kernel_view(const td_kernel_view& view, td_event_record& out);

// A view with every field unknown, for a layer to fill in what its system tells.
td_kernel_view unknown_kernel_view();

}  // namespace teardown
