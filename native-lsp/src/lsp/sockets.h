// The application's sockets, each with a context holding the lower socket, its provider and its
// teardown. In full mode the application's handle comes from WPUCreateSocketHandle and leads, in
// O(1) through WPUQuerySocketHandleContext, to its context. In compatible mode the application's
// handle is the lower provider's own (registered with WPUModifyIFSHandle) and a hash table of
// Teardown's leads to its context. Handles from outside are looked up, never trusted; a context
// lives until the last call using it returns, however its handle was closed.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "../core/emulated_connection.h"
#include "../core/framing.h"
#include "../core/socket_teardown.h"
#include "next_provider.h"
#include "spi.h"

namespace teardown::lsp {

// Compatible mode: an overlapped request in flight that the application may ask about with
// WSPGetOverlappedResult (passed_requests.h).
struct WatchedRequest {
  LPWSAOVERLAPPED overlapped = nullptr;  // null: a free place
  uint64_t requested = 0;
  DWORD flags_in = 0;
  bool receive = false;
};

struct SocketContext {
  static constexpr uint32_t kMagic = 0x43534454;  // "TDSC"
  static constexpr size_t kWatchedRequests = 64;

  uint32_t magic = kMagic;
  SOCKET app = INVALID_SOCKET;    // in compatible mode the same handle as `lower`
  SOCKET lower = INVALID_SOCKET;
  NextProvider* provider = nullptr;
  SocketTeardown teardown;
  // Where the socket's own address is: in `teardown` (kLocalGiven: set when the connection was
  // made, or never looked for), or left to be asked of the provider below when an event first
  // needs it (kLocalToAsk: a connect, an accept or a listen without emulation configured), so
  // that a connection nobody records costs no call below for it. The first thread to ask stores
  // the answer in `asked_local` (kLocalStoring, then kLocalAsked); a thread that finds it being
  // stored asks for itself.
  enum LocalState : uint8_t { kLocalGiven, kLocalToAsk, kLocalStoring, kLocalAsked };
  std::atomic<uint8_t> local_state{kLocalGiven};
  td_address asked_local{};
  std::atomic<uint32_t> flags{0};  // TD_FLAG_SHARED for duplicated sockets
  std::atomic<bool> listening{false};
  // The connection was made: a connect or an accept succeeded (bytes moved say so too). The
  // kernel's CLOSED at close is a reset only on a connection that was made.
  std::atomic<bool> connected{false};
  // A connect under way (WSAEWOULDBLOCK, ConnectEx): its failure is a CONNECT_FAILED event.
  std::atomic<bool> connecting{false};
  std::atomic<bool> closing{false};  // a WSPCloseSocket is in progress
  // Overlapped requests the LSP has in flight below, and kClosedBit once WSPCloseSocket has
  // closed the lower socket: the handle goes with the last completion.
  std::atomic<long> io{0};
  static constexpr long kClosedBit = 0x40000000;
  // Full mode: 0 no request yet, 1 the lower socket is bound to the LSP's port, 2 it takes no
  // port and each request waits on an event of its own. Decided once, under io_lock.
  std::atomic<int> io_mode{0};
  SRWLOCK io_lock = SRWLOCK_INIT;
  std::atomic<long> references{1};  // the handle's, plus one per call in progress
  // The handle's reference has been given back: by retire, or, in compatible mode, when the
  // lower provider handed its handle value to a new socket of ours first.
  std::atomic<bool> retired{false};
  // Disconnect data emulated on this connection (framed_io.h), or null; freed with the context.
  std::atomic<EmulatedConnection*> emulation{nullptr};
  // A connection not emulated here: its first bytes are watched for a peer that frames them.
  std::atomic<bool> sniffing{false};
  HelloSniffer sniffer;
  // Its overlapped receives go below one at a time, in order; the others wait here.
  std::mutex framed_lock;
  std::deque<struct Request*> framed_waiting;
  bool framed_reading = false;
  // Compatible mode: requests the application may ask about (those with an event: a completion
  // port's are asked of the port), up to kWatchedRequests in flight, the newest kept beyond.
  SRWLOCK watched_lock = SRWLOCK_INIT;
  std::vector<WatchedRequest> watched;
  size_t next_watched = 0;  // the place the next one takes when all are in use
  // WSPAsyncSelect: where the application wants its notifications.
  std::atomic<HWND> notify_window{nullptr};
  std::atomic<UINT> notify_message{0};
  // The contexts not yet freed, linked for WSPCleanup (Sockets::open_handles).
  SocketContext* previous = nullptr;
  SocketContext* next = nullptr;
};

// A counted reference to a context, held for the length of a call.
class SocketRef {
 public:
  SocketRef() = default;
  explicit SocketRef(SocketContext* context) : context_(context) {}
  // A reference of its own to a context the caller holds one to.
  static SocketRef share(SocketContext& context) {
    context.references.fetch_add(1, std::memory_order_relaxed);
    return SocketRef(&context);
  }
  SocketRef(SocketRef&& other) noexcept : context_(other.context_) { other.context_ = nullptr; }
  SocketRef& operator=(SocketRef&& other) noexcept;
  SocketRef(const SocketRef&) = delete;
  SocketRef& operator=(const SocketRef&) = delete;
  ~SocketRef();

  SocketContext* operator->() const { return context_; }
  SocketContext& operator*() const { return *context_; }
  SocketContext* get() const { return context_; }
  explicit operator bool() const { return context_ != nullptr; }

 private:
  SocketContext* context_ = nullptr;
};

class Sockets {
 public:
  // Wraps `lower`, a new socket of `provider`: the application's handle is in the result's `app`
  // (`lower` itself in compatible mode). On failure the lower socket is left to the caller and
  // `error` says why.
  SocketRef create(SOCKET lower, NextProvider* provider, int& error);

  // The context behind an application handle; empty with WSAENOTSOCK when it is not ours.
  SocketRef find(SOCKET app, int& error);

  // Closes the application's handle (in compatible mode: forgets it, the lower provider having
  // closed it): no lookup finds it afterwards. Drops the handle's reference.
  void retire(SocketContext* context);

  // Contexts not yet freed.
  long live() const { return live_.load(std::memory_order_relaxed); }

  // A reference to each context whose application handle is still open and not being closed:
  // what the last WSPCleanup closes.
  std::vector<SocketRef> open_handles();

  // Lower socket → context, for notifications that name the lower socket (WSPAsyncSelect).
  void watch_lower(SocketContext* context);
  void unwatch_lower(SOCKET lower);
  SocketRef find_lower(SOCKET lower);

  static void release(SocketContext* context);

 private:
  // Gives back the handle's reference, once.
  static void release_handle(SocketContext* context);

  // Shared by lookups, exclusive while a handle is made or closed: a lookup that got a context
  // pointer has taken its reference before the handle can go.
  SRWLOCK handles_ = SRWLOCK_INIT;
  // Compatible mode's handles: the lower provider's handle values, each to its context. A value
  // is the system's to reuse once its socket is closed, whoever closed it: a new socket of ours
  // with a value already here takes its place.
  std::unordered_map<SOCKET, SocketContext*> ifs_handles_;
  std::atomic<long> live_{0};
  std::mutex contexts_lock_;
  SocketContext* contexts_ = nullptr;  // every context not yet freed, newest first
  std::mutex watched_lock_;
  std::unordered_map<SOCKET, SocketContext*> watched_;
};

Sockets& sockets();

}  // namespace teardown::lsp
