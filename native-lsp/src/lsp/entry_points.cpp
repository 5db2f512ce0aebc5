// The 30 entries of WSPPROC_TABLE. Each finds the application's socket, calls the provider below
// with the lower socket, and reports what the call and its result say about the connection's end.
// Every entry catches everything: nothing thrown ever reaches Winsock or the application.
#include "entry_points.h"

#include <cstring>
#include <type_traits>
#include <vector>

#include "../core/platform.h"
#include "../core/winsock_errors.h"
#include "app_memory.h"
#include "async_select.h"
#include "extensions.h"
#include "framed_io.h"
#include "overlapped.h"
#include "passed_requests.h"
#include "recorder.h"
#include "routed_calls.h"
#include "sockets.h"

namespace teardown::lsp {

namespace {

// Runs `body`; anything thrown becomes `failure`: WSAEFAULT for the application's memory that
// could not be read or written, else WSAENOBUFS (memory is all we allocate).
template <typename Result, typename Body>
Result guarded(LPINT error, Result failure, Body&& body) noexcept {
  try {
    return body();
  } catch (const AppFault&) {
    if (error != nullptr) *error = WSAEFAULT;
    return failure;
  } catch (...) {
    if (error != nullptr) *error = WSAENOBUFS;
    return failure;
  }
}

// An entry for one of the application's sockets: `body` gets its context, or the call fails with
// WSAENOTSOCK when the handle is not one of ours.
template <typename Result, typename Body>
Result on_socket(SOCKET s, LPINT error, Result failure, Body&& body) noexcept {
  return guarded<Result>(error, failure, [&]() -> Result {
    SocketRef context = sockets().find(s, *error);
    if (!context) return failure;
    return body(context);
  });
}

const WSPPROC_TABLE& below(const SocketRef& context) {
  return context->provider->procs;
}

SocketIdentity identity_of(const SocketContext& context, int type, int protocol) {
  const WSAPROTOCOL_INFOW& lower = context.provider->lower;
  SocketIdentity identity;
  identity.socket_id = static_cast<uint64_t>(context.app);
  // 0 means the entry's default; FROM_PROTOCOL_INFO (-1) means the entry's own.
  identity.protocol = static_cast<uint16_t>(protocol > 0 ? protocol : lower.iProtocol);
  identity.socket_type = static_cast<uint8_t>(type > 0 ? type : lower.iSocketType);
  identity.message_oriented = (lower.dwServiceFlags1 & XP1_MESSAGE_ORIENTED) != 0;
  return identity;
}

// A listener, or a socket that never connected: no connection ends with it.
bool ends_a_connection(const SocketContext& context) {
  return !context.listening.load(std::memory_order_relaxed) &&
         context.teardown.remote().family != TD_FAMILY_NONE;
}

// Wraps a socket the provider below just made (accept, join): the application gets a handle.
SocketRef adopt(SOCKET lower, NextProvider* provider, const SocketContext* parent, LPINT error) {
  SocketRef context = sockets().create(lower, provider, *error);
  if (!context) {
    int ignored = 0;
    provider->procs.lpWSPCloseSocket(lower, &ignored);
    return context;
  }
  context->teardown.reset(identity_of(*context, 0, 0), platform::wall_clock_ns());
  if (parent != nullptr) {
    // An accepted socket has its listener's properties, WSPAsyncSelect registration included.
    context->teardown.set_nonblocking(parent->teardown.nonblocking());
    HWND window = parent->notify_window.load(std::memory_order_acquire);
    if (window != nullptr) {
      context->notify_message.store(parent->notify_message.load(std::memory_order_relaxed));
      context->notify_window.store(window, std::memory_order_release);
      sockets().watch_lower(context.get());
    }
  }
  return context;
}

// An overlapped request on an emulated connection goes through the LSP's port, which needs a
// provider below with real handles; over any other it is refused (the records could not be kept
// whole around requests the LSP does not complete itself).
template <typename Start>
int framed_overlapped(SocketContext& context, LPINT error, Start&& start) {
  if (!layered_io(context)) {
    *error = WSAEOPNOTSUPP;
    return SOCKET_ERROR;
  }
  return start();
}

// A receive that completed at once on a connection not emulated here: when its first bytes are a
// framing peer's HELLO, the connection is reset and the receive fails instead (framed_io.h).
void refuse_framed_peer(SocketContext& context, int& result, const WSABUF* buffers, DWORD count,
                        LPDWORD received, DWORD flags_in, LPINT error) {
  // A peek consumes nothing; urgent data is outside the stream.
  if (result != 0 || received == nullptr || (flags_in & (MSG_PEEK | MSG_OOB)) != 0) return;
  if (framed_unexpectedly(context, buffers, count, *received)) {
    result = SOCKET_ERROR;
    *error = WSAECONNABORTED;
  }
}

// The disconnect data a call named: its WSABUF, read without trusting the pointer (the provider
// below may have refused the call without reading it); none when there is none or it cannot be.
WSABUF disconnect_data(const WSABUF* data) {
  WSABUF given{};
  if (data == nullptr || !try_copy(&given, data, sizeof(given))) return WSABUF{};
  if (given.len == 0) given.buf = nullptr;
  return given;
}

// fd_set translation for WSPSelect: the application's handles out, the lower ones in, and back.
class SelectSet {
 public:
  // False with `error` when a handle is not ours or belongs to another provider than `provider`.
  bool translate(fd_set* set, NextProvider*& provider, int& error) {
    app_ = set;
    if (set == nullptr) return true;
    lower_.fd_count = 0;
    u_int count = read_app(&set->fd_count);
    for (u_int i = 0; i < count && i < FD_SETSIZE; ++i) {
      SocketRef context = sockets().find(read_app(&set->fd_array[i]), error);
      if (!context) return false;
      if (provider == nullptr) provider = context->provider;
      if (context->provider != provider) {
        error = WSAEINVAL;
        return false;
      }
      lower_.fd_array[lower_.fd_count++] = context->lower;
      held_.push_back(std::move(context));
    }
    return true;
  }

  fd_set* lower() { return app_ == nullptr ? nullptr : &lower_; }

  // Keeps in the application's set the handles whose lower socket the provider left set.
  void translate_back() {
    if (app_ == nullptr) return;
    u_int kept = 0;
    for (const SocketRef& context : held_) {
      for (u_int j = 0; j < lower_.fd_count; ++j) {
        if (lower_.fd_array[j] == context->lower) {
          try_copy(&app_->fd_array[kept++], &context->app, sizeof(SOCKET));
          break;
        }
      }
    }
    try_copy(&app_->fd_count, &kept, sizeof(kept));
  }

 private:
  fd_set* app_ = nullptr;
  fd_set lower_{};
  std::vector<SocketRef> held_;
};

}  // namespace

// --- Sockets made, connected and accepted --------------------------------------------------

SOCKET WSPAPI WSPSocket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP group,
                        DWORD flags, LPINT error) {
  return guarded<SOCKET>(error, INVALID_SOCKET, [&]() -> SOCKET {
    if (info == nullptr) {
      *error = WSAEINVAL;
      return INVALID_SOCKET;
    }
    NextProvider* next = providers().find(info->dwCatalogEntryId);
    if (next == nullptr) {
      *error = WSANOTINITIALISED;
      return INVALID_SOCKET;
    }
    // A socket duplicated from another process: the provider below finds it by the reserved
    // value its WSPDuplicateSocket put there.
    WSAPROTOCOL_INFOW lower_info = next->lower;
    lower_info.dwProviderReserved = info->dwProviderReserved;
    uint64_t created = platform::wall_clock_ns();
    SOCKET lower = next->procs.lpWSPSocket(af, type, protocol, &lower_info, group, flags, error);
    if (lower == INVALID_SOCKET) return INVALID_SOCKET;
    SocketRef context = sockets().create(lower, next, *error);
    if (!context) {
      int ignored = 0;
      next->procs.lpWSPCloseSocket(lower, &ignored);
      return INVALID_SOCKET;
    }
    context->teardown.reset(identity_of(*context, type, protocol), created);
    if (info->dwProviderReserved != 0) {
      context->flags.store(TD_FLAG_SHARED, std::memory_order_relaxed);
      context->connected.store(true, std::memory_order_relaxed);
      context->teardown.set_endpoints(lower_address(*context, false),
                                      lower_address(*context, true));
    }
    return context->app;
  });
}

SOCKET WSPAPI WSPAccept(SOCKET s, sockaddr* address, LPINT address_length,
                        LPCONDITIONPROC condition, DWORD_PTR callback_data, LPINT error) {
  return guarded<SOCKET>(error, INVALID_SOCKET, [&]() -> SOCKET {
    SocketRef listener = sockets().find(s, *error);
    if (!listener) return INVALID_SOCKET;
    SOCKET lower = below(listener).lpWSPAccept(listener->lower, address, address_length, condition,
                                               callback_data, error);
    if (lower == INVALID_SOCKET) return INVALID_SOCKET;
    SocketRef accepted = adopt(lower, listener->provider, listener.get(), error);
    if (!accepted) return INVALID_SOCKET;
    accepted->connected.store(true, std::memory_order_relaxed);
    accepted->teardown.set_accepted();
    // The peer is what accept returned: the connection may already be reset. A listener bound to
    // one address gives its connections that local address, with no call below.
    td_address peer = address != nullptr && address_length != nullptr
                          ? address_of(address, *address_length)
                          : lower_address(*accepted, true);
    td_address listening_on = known_local(*listener);
    set_connection_endpoints(*accepted,
                             is_specific(listening_on) && listening_on.port != 0 ? listening_on
                                                                                 : td_address{},
                             peer);
    start_emulation(*accepted);
    record_established(*accepted);
    return accepted->app;
  });
}

int WSPAPI WSPBind(SOCKET s, const sockaddr* name, int name_length, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    return below(context).lpWSPBind(context->lower, name, name_length, error);
  });
}

int WSPAPI WSPListen(SOCKET s, int backlog, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    int result = below(context).lpWSPListen(context->lower, backlog, error);
    if (result == 0) {
      context->listening.store(true, std::memory_order_relaxed);
      // Its connections take its address when it is a specific one. Emulation decides by its
      // port, so it is asked now where emulation is configured; otherwise it is what the
      // program's own getsockname tells, or each connection asks for its own when it needs it.
      if (emulation_possible(*context) && producer().policy().watches_for_framing()) {
        context->teardown.set_endpoints(lower_address(*context, false), td_address{});
      } else {
        context->local_state.store(SocketContext::kLocalToAsk, std::memory_order_release);
      }
    }
    return result;
  });
}

int WSPAPI WSPConnect(SOCKET s, const sockaddr* name, int name_length, LPWSABUF caller_data,
                      LPWSABUF callee_data, LPQOS socket_qos, LPQOS group_qos, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    uint64_t started = platform::wall_clock_ns();
    int result = below(context).lpWSPConnect(context->lower, name, name_length, caller_data,
                                             callee_data, socket_qos, group_qos, error);
    if (result == 0 || *error == WSAEWOULDBLOCK) {
      set_connection_endpoints(*context, td_address{}, address_of(name, name_length));
      context->teardown.on_connect_started(started);
      context->connecting.store(result != 0, std::memory_order_relaxed);
      start_emulation(*context);
    } else if (context->connecting.load(std::memory_order_relaxed)) {
      // Asked again: WSAEISCONN says the first went through; a failure says it did not.
      record_connect_outcome(*context, *error == WSAEISCONN ? 0 : *error);
    } else if (wsa::is_connect_failure(*error) &&
               context->teardown.remote().family == TD_FAMILY_NONE) {
      // A blocking connect that made no connection.
      context->teardown.on_connect_started(started);
      record_connect_failure(*context, address_of(name, name_length), *error);
    }
    if (result == 0) {
      context->connected.store(true, std::memory_order_relaxed);
      record_established(*context);
    }
    return result;
  });
}

SOCKET WSPAPI WSPJoinLeaf(SOCKET s, const sockaddr* name, int name_length, LPWSABUF caller_data,
                          LPWSABUF callee_data, LPQOS socket_qos, LPQOS group_qos, DWORD flags,
                          LPINT error) {
  return on_socket<SOCKET>(s, error, INVALID_SOCKET, [&](SocketRef& context) -> SOCKET {
    SOCKET lower = below(context).lpWSPJoinLeaf(context->lower, name, name_length, caller_data,
                                                callee_data, socket_qos, group_qos, flags, error);
    if (lower == INVALID_SOCKET) return INVALID_SOCKET;
    // A c_root joining a leaf gets a new socket; a c_leaf joins with the one it has.
    if (lower == context->lower) return s;
    SocketRef joined = adopt(lower, context->provider, nullptr, error);
    return joined ? joined->app : INVALID_SOCKET;
  });
}

int WSPAPI WSPDuplicateSocket(SOCKET s, DWORD process_id, LPWSAPROTOCOL_INFOW info, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    if (info == nullptr) {
      *error = WSAEFAULT;
      return SOCKET_ERROR;
    }
    int result = below(context).lpWSPDuplicateSocket(context->lower, process_id, info, error);
    if (result != 0) return result;
    // The target process makes its socket through Teardown's entry, which hands the provider
    // below the reserved value that names the duplicate.
    DWORD reserved = info->dwProviderReserved;
    *info = context->provider->layered;
    info->dwProviderReserved = reserved;
    context->flags.fetch_or(TD_FLAG_SHARED, std::memory_order_relaxed);
    return 0;
  });
}

// --- Teardown -------------------------------------------------------------------------------

int WSPAPI WSPShutdown(SOCKET s, int how, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    uint64_t started = platform::wall_clock_ns();
    if (emulation_of(*context) != nullptr && how != SD_RECEIVE) flush_before_shutdown(*context);
    int result = below(context).lpWSPShutdown(context->lower, how, error);
    if (how >= SD_RECEIVE && how <= SD_BOTH && !context->listening.load()) {
      td_event_record event;
      context->teardown.on_shutdown(how, result == 0 ? 0 : *error, event);
      event.time_ns = started;
      emit(*context, event);
    }
    return result;
  });
}

int WSPAPI WSPSendDisconnect(SOCKET s, LPWSABUF data, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    uint64_t started = platform::wall_clock_ns();
    int result = emulation_of(*context) != nullptr
                     ? framed_send_disconnect(*context, data, error)
                     : below(context).lpWSPSendDisconnect(context->lower, data, error);
    WSABUF given = disconnect_data(data);
    td_event_record event;
    context->teardown.on_send_disconnect(given.len, result == 0 ? 0 : *error, event);
    event.time_ns = started;
    emit(*context, event, given.buf, given.len);
    return result;
  });
}

int WSPAPI WSPRecvDisconnect(SOCKET s, LPWSABUF data, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    uint64_t started = platform::wall_clock_ns();
    int result = emulation_of(*context) != nullptr
                     ? framed_recv_disconnect(*context, data, error)
                     : below(context).lpWSPRecvDisconnect(context->lower, data, error);
    // On success the buffer's length is the disconnect data received.
    WSABUF given = result == 0 ? disconnect_data(data) : WSABUF{};
    td_event_record event;
    context->teardown.on_recv_disconnect(given.len, result == 0 ? 0 : *error, event);
    event.time_ns = started;
    emit(*context, event, given.buf, given.len);
    return result;
  });
}

namespace {

// Closes the application's socket: the lower one now, its handle with its last request. At the
// last WSPCleanup (`at_cleanup`) the program closed nothing itself: the close is recorded as
// Winsock's, and the handle goes even when the provider below refuses to close yet (a
// non-blocking socket lingering), since its own cleanup closes the lower socket next. In
// compatible mode the socket is the provider's own, and so is its close at cleanup: Teardown
// records it and leaves the closing to the provider's WSPCleanup, which comes next.
int close_context(SocketRef& context, bool at_cleanup, LPINT error) {
  // Two threads closing one handle: the second finds it already going, as if gone.
  if (context->closing.exchange(true, std::memory_order_acq_rel)) {
    *error = WSAENOTSOCK;
    return SOCKET_ERROR;
  }
  const WSPPROC_TABLE& procs = below(context);
  bool recorded = ends_a_connection(*context);
  Policy policy = producer().policy();
  // Received data left unread makes the stack reset the connection, whatever the options.
  u_long unread = 0;
  bool unread_known = context->teardown.saw_end_of_stream();
  if (recorded && policy.active && !unread_known) {
    DWORD returned = 0;
    int ignored = 0;
    unread_known = procs.lpWSPIoctl(context->lower, FIONREAD, nullptr, 0, &unread, sizeof(unread),
                                    &returned, nullptr, nullptr, nullptr, &ignored) == 0;
    if (!unread_known) unread = 0;
  }
  td_kernel_view view;
  bool viewed = recorded && policy.active &&
                read_kernel(*context, unread_known ? static_cast<int64_t>(unread) : -1, view);
  ClosePlan plan = context->teardown.plan_close(policy.abortive_to_graceful, unread > 0);
  plan.extra_flags = static_cast<uint16_t>(context->flags.load(std::memory_order_relaxed) |
                                           (at_cleanup ? TD_FLAG_CLEANUP : 0u));
  if (plan.converted) {
    linger graceful{0, 0};
    int ignored = 0;
    procs.lpWSPSetSockOpt(context->lower, SOL_SOCKET, SO_LINGER,
                          reinterpret_cast<const char*>(&graceful), sizeof(graceful), &ignored);
  }
  // A close that is recorded has the socket's own address asked before the lower socket goes
  // (`closing` is set: nothing else asks from now on).
  td_address local{};
  if (recorded && policy.wants(TD_KIND_CLOSE)) local = local_of(*context, true);
  // FD_CLOSE is never posted after close: notifications stop before the lower socket goes.
  HWND notified = context->notify_window.exchange(nullptr, std::memory_order_acq_rel);
  uint64_t started = platform::wall_clock_ns();
  bool left_to_provider = at_cleanup && context->provider->ifs;
  int result = left_to_provider ? 0 : procs.lpWSPCloseSocket(context->lower, error);
  bool released = result == 0;
  if (recorded) {
    td_event_record event;
    context->teardown.on_close(plan, released ? 0 : *error, released, platform::wall_clock_ns(),
                               event);
    if (viewed) attach_kernel_view(view, event);
    event.time_ns = started;
    if (event.local.family == TD_FAMILY_NONE) event.local = local;
    producer().publish(event, policy);
  }
  if (!released && !at_cleanup) {
    // WSAEWOULDBLOCK on a non-blocking lingering socket: the handle stays valid.
    context->notify_window.store(notified, std::memory_order_release);
    context->closing.store(false, std::memory_order_release);
    return result;
  }
  // Requests still in flight complete with WSA_OPERATION_ABORTED; the last one closes the handle.
  if (close_when_idle(*context)) {
    sockets().unwatch_lower(context->lower);
    sockets().retire(context.get());
  }
  return result;
}

}  // namespace

int WSPAPI WSPCloseSocket(SOCKET s, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR,
                        [&](SocketRef& context) { return close_context(context, false, error); });
}

// --- Data -----------------------------------------------------------------------------------

int WSPAPI WSPRecv(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags,
                   LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                   LPWSATHREADID thread, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    DWORD flags_in = flags != nullptr ? read_app(flags) : 0;
    if (overlapped != nullptr && emulation_of(*context) != nullptr) {
      return framed_overlapped(*context, error, [&] {
        return framed_overlapped_receive(context, buffers, count, flags_in, overlapped, routine,
                                         thread, error);
      });
    }
    if (overlapped != nullptr && context->provider->ifs) {
      return pass_overlapped(context, Passed::kReceive, requested_bytes(buffers, count), flags_in,
                             received, overlapped, routine, error, [&](auto passed) {
                               return below(context).lpWSPRecv(context->lower, buffers, count,
                                                               received, flags, overlapped, passed,
                                                               thread, error);
                             });
    }
    if (overlapped != nullptr && layered_io(*context)) {
      WSABUF first = count > 0 ? read_app(buffers) : WSABUF{};
      Request* request = begin_request(context, Operation::kReceive, overlapped, routine, thread);
      request->flags = request->flags_in = flags_in;
      request->requested = requested_bytes(buffers, count);
      request->first_buffer = first;
      int lower_error = 0;
      int result =
          below(context).lpWSPRecv(context->lower, buffers, count, nullptr, &request->flags,
                                   &request->lower, nullptr, nullptr, &lower_error);
      return started(request, result, lower_error, error);
    }
    int result = emulation_of(*context) != nullptr && overlapped == nullptr
                     ? framed_receive(*context, buffers, count, received, flags, nullptr, nullptr,
                                      error)
                     : below(context).lpWSPRecv(context->lower, buffers, count, received, flags,
                                                overlapped, routine, thread, error);
    refuse_framed_peer(*context, result, buffers, count, received, flags_in, error);
    record_receive(*context, result, requested_bytes(buffers, count),
                   received != nullptr ? *received : 0, flags_in, result == 0 ? 0 : *error);
    return result;
  });
}

int WSPAPI WSPRecvFrom(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD received, LPDWORD flags,
                       sockaddr* from, LPINT from_length, LPWSAOVERLAPPED overlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                       LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    DWORD flags_in = flags != nullptr ? read_app(flags) : 0;
    if (overlapped != nullptr && emulation_of(*context) != nullptr) {
      return framed_overlapped(*context, error, [&] {
        return framed_overlapped_receive(context, buffers, count, flags_in, overlapped, routine,
                                         thread, error);
      });
    }
    if (overlapped != nullptr && context->provider->ifs) {
      return pass_overlapped(context, Passed::kReceive, requested_bytes(buffers, count), flags_in,
                             received, overlapped, routine, error, [&](auto passed) {
                               return below(context).lpWSPRecvFrom(
                                   context->lower, buffers, count, received, flags, from,
                                   from_length, overlapped, passed, thread, error);
                             });
    }
    if (overlapped != nullptr && layered_io(*context)) {
      WSABUF first = count > 0 ? read_app(buffers) : WSABUF{};
      Request* request = begin_request(context, Operation::kReceive, overlapped, routine, thread);
      request->flags = request->flags_in = flags_in;
      request->requested = requested_bytes(buffers, count);
      request->first_buffer = first;
      int lower_error = 0;
      int result = below(context).lpWSPRecvFrom(context->lower, buffers, count, nullptr,
                                                &request->flags, from, from_length, &request->lower,
                                                nullptr, nullptr, &lower_error);
      return started(request, result, lower_error, error);
    }
    int result = emulation_of(*context) != nullptr && overlapped == nullptr
                     ? framed_receive(*context, buffers, count, received, flags, from, from_length,
                                      error)
                     : below(context).lpWSPRecvFrom(context->lower, buffers, count, received,
                                                    flags, from, from_length, overlapped, routine,
                                                    thread, error);
    refuse_framed_peer(*context, result, buffers, count, received, flags_in, error);
    record_receive(*context, result, requested_bytes(buffers, count),
                   received != nullptr ? *received : 0, flags_in, result == 0 ? 0 : *error);
    return result;
  });
}

int WSPAPI WSPSend(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags,
                   LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                   LPWSATHREADID thread, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    if (overlapped != nullptr && emulation_of(*context) != nullptr) {
      return framed_overlapped(*context, error, [&] {
        return framed_overlapped_send(context, buffers, count, flags, nullptr, 0, overlapped,
                                      routine, thread, error);
      });
    }
    if (overlapped != nullptr && context->provider->ifs) {
      return pass_overlapped(context, Passed::kSend, 0, 0, sent, overlapped, routine, error,
                             [&](auto passed) {
                               return below(context).lpWSPSend(context->lower, buffers, count,
                                                               sent, flags, overlapped, passed,
                                                               thread, error);
                             });
    }
    if (overlapped != nullptr && layered_io(*context)) {
      Request* request = begin_request(context, Operation::kSend, overlapped, routine, thread);
      int lower_error = 0;
      int result = below(context).lpWSPSend(context->lower, buffers, count, nullptr, flags,
                                            &request->lower, nullptr, nullptr, &lower_error);
      return started(request, result, lower_error, error);
    }
    int result = emulation_of(*context) != nullptr && overlapped == nullptr
                     ? framed_send(*context, buffers, count, sent, flags, nullptr, 0, error)
                     : below(context).lpWSPSend(context->lower, buffers, count, sent, flags,
                                                overlapped, routine, thread, error);
    record_send(*context, result, sent != nullptr ? *sent : 0, result == 0 ? 0 : *error);
    return result;
  });
}

int WSPAPI WSPSendTo(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD sent, DWORD flags,
                     const sockaddr* to, int to_length, LPWSAOVERLAPPED overlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                     LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    if (overlapped != nullptr && emulation_of(*context) != nullptr) {
      return framed_overlapped(*context, error, [&] {
        return framed_overlapped_send(context, buffers, count, flags, to, to_length, overlapped,
                                      routine, thread, error);
      });
    }
    if (overlapped != nullptr && context->provider->ifs) {
      return pass_overlapped(context, Passed::kSend, 0, 0, sent, overlapped, routine, error,
                             [&](auto passed) {
                               return below(context).lpWSPSendTo(context->lower, buffers, count,
                                                                 sent, flags, to, to_length,
                                                                 overlapped, passed, thread, error);
                             });
    }
    if (overlapped != nullptr && layered_io(*context)) {
      Request* request = begin_request(context, Operation::kSend, overlapped, routine, thread);
      int lower_error = 0;
      int result =
          below(context).lpWSPSendTo(context->lower, buffers, count, nullptr, flags, to, to_length,
                                     &request->lower, nullptr, nullptr, &lower_error);
      return started(request, result, lower_error, error);
    }
    int result = emulation_of(*context) != nullptr && overlapped == nullptr
                     ? framed_send(*context, buffers, count, sent, flags, to, to_length, error)
                     : below(context).lpWSPSendTo(context->lower, buffers, count, sent, flags, to,
                                                  to_length, overlapped, routine, thread, error);
    record_send(*context, result, sent != nullptr ? *sent : 0, result == 0 ? 0 : *error);
    return result;
  });
}

BOOL WSPAPI WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED overlapped, LPDWORD transferred,
                                   BOOL wait, LPDWORD flags, LPINT error) {
  return on_socket<BOOL>(s, error, FALSE, [&](SocketRef& context) -> BOOL {
    // Full mode: Teardown completed every overlapped request of the socket itself.
    if (!context->provider->ifs) return overlapped_result(overlapped, transferred, wait, flags, error);
    BOOL done = below(context).lpWSPGetOverlappedResult(context->lower, overlapped, transferred,
                                                        wait, flags, error);
    if (context->provider->ifs) {
      request_result(*context, overlapped, done, done && transferred != nullptr ? *transferred : 0,
                     done ? 0 : *error);
    }
    return done;
  });
}

// --- Notification: select, event select, async select ---------------------------------------

// WSPSelect's timeout as the headers in use declare it: the Windows SDK's LPWSPSELECT takes a
// `const struct timeval*`, mingw-w64's a `const PTIMEVAL` (a const pointer). Taken from the
// table's own type, so the entry point is exactly that type under either compiler.
template <typename R, typename A1, typename A2, typename A3, typename A4, typename A5,
          typename A6>
A5 fifth_parameter(R(WSPAPI*)(A1, A2, A3, A4, A5, A6));
using SelectTimeout = decltype(fifth_parameter(LPWSPSELECT{}));

int WSPAPI WSPSelect(int nfds, fd_set* readers, fd_set* writers, fd_set* exceptions,
                     SelectTimeout timeout, LPINT error) {
  return guarded<int>(error, SOCKET_ERROR, [&] {
    NextProvider* provider = nullptr;
    SelectSet read_set, write_set, except_set;
    if (!read_set.translate(readers, provider, *error) ||
        !write_set.translate(writers, provider, *error) ||
        !except_set.translate(exceptions, provider, *error)) {
      return SOCKET_ERROR;
    }
    if (provider == nullptr) {  // no socket at all
      *error = WSAEINVAL;
      return SOCKET_ERROR;
    }
    int result = provider->procs.lpWSPSelect(nfds, read_set.lower(), write_set.lower(),
                                             except_set.lower(), timeout, error);
    if (result == SOCKET_ERROR) return result;
    read_set.translate_back();
    write_set.translate_back();
    except_set.translate_back();
    return result;
  });
}

int WSPAPI WSPEventSelect(SOCKET s, WSAEVENT event, long network_events, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    int result = below(context).lpWSPEventSelect(context->lower, event, network_events, error);
    if (result == 0) context->teardown.set_nonblocking(true);  // and it stays so
    return result;
  });
}

int WSPAPI WSPEnumNetworkEvents(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS network_events,
                                LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    int result =
        below(context).lpWSPEnumNetworkEvents(context->lower, event, network_events, error);
    if (result == 0 && network_events != nullptr &&
        (network_events->lNetworkEvents & FD_CONNECT) != 0) {
      record_connect_outcome(*context, network_events->iErrorCode[FD_CONNECT_BIT]);
    }
    if (result == 0 && network_events != nullptr &&
        (network_events->lNetworkEvents & FD_CLOSE) != 0) {
      td_event_record record;
      if (context->teardown.on_fd_close(network_events->iErrorCode[FD_CLOSE_BIT], record)) {
        emit(*context, record);
      }
    }
    return result;
  });
}

int WSPAPI WSPAsyncSelect(SOCKET s, HWND window, unsigned int message, long network_events,
                          LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    HWND ours = notification_window();
    if (ours == nullptr) {
      *error = WSAENOBUFS;
      return SOCKET_ERROR;
    }
    bool selecting = network_events != 0 && window != nullptr;
    // Set before the provider may notify: its first message must find where to go.
    context->notify_message.store(message, std::memory_order_relaxed);
    context->notify_window.store(selecting ? window : nullptr, std::memory_order_release);
    if (selecting) sockets().watch_lower(context.get());
    int result = below(context).lpWSPAsyncSelect(context->lower, ours, kLowerNotification,
                                                 network_events, error);
    if (result == 0) context->teardown.set_nonblocking(true);
    if (result != 0 || !selecting) {
      context->notify_window.store(nullptr, std::memory_order_release);
      sockets().unwatch_lower(context->lower);
    }
    return result;
  });
}

// --- Options, names, control ----------------------------------------------------------------

int WSPAPI WSPSetSockOpt(SOCKET s, int level, int name, const char* value, int length,
                         LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    if (level == SOL_SOCKET && name == SO_UPDATE_ACCEPT_CONTEXT) {
      // The value is the listening socket: the provider below knows it by its own handle.
      if (value == nullptr || length < static_cast<int>(sizeof(SOCKET))) {
        *error = WSAEFAULT;
        return SOCKET_ERROR;
      }
      SOCKET listener_handle = read_app(reinterpret_cast<const SOCKET*>(value));
      SocketRef listener = sockets().find(listener_handle, *error);
      if (!listener) return SOCKET_ERROR;
      SOCKET lower_listener = listener->lower;
      int result = below(context).lpWSPSetSockOpt(context->lower, level, name,
                                                  reinterpret_cast<const char*>(&lower_listener),
                                                  sizeof(lower_listener), error);
      // An AcceptEx'd socket tells its endpoints from now on. In compatible mode its AcceptEx
      // completed unseen: its connection starts here, with its listener's properties.
      if (result == 0 && context->provider->ifs) {
        SocketIdentity identity = listener->teardown.identity();
        identity.socket_id = static_cast<uint64_t>(context->app);
        context->teardown.reset(identity, platform::wall_clock_ns());
        context->teardown.set_nonblocking(listener->teardown.nonblocking());
      }
      if (result == 0) {
        context->teardown.set_endpoints(lower_address(*context, false),
                                        lower_address(*context, true));
        context->connected.store(true, std::memory_order_relaxed);
        start_emulation(*context);
      }
      return result;
    }
    int result = below(context).lpWSPSetSockOpt(context->lower, level, name, value, length, error);
    if (result == 0 && level == SOL_SOCKET && name == SO_UPDATE_CONNECT_CONTEXT) {
      context->teardown.set_endpoints(lower_address(*context, false),
                                      lower_address(*context, true));
      context->connected.store(true, std::memory_order_relaxed);
      start_emulation(*context);
    }
    if (result != 0 || level != SOL_SOCKET || value == nullptr) return result;
    if (name == SO_LINGER && length >= static_cast<int>(sizeof(linger))) {
      linger option;
      std::memcpy(&option, value, sizeof(option));
      context->teardown.set_linger(option.l_onoff != 0, option.l_linger);
    } else if (name == SO_DONTLINGER && length >= static_cast<int>(sizeof(int))) {
      int dont_linger;
      std::memcpy(&dont_linger, value, sizeof(dont_linger));
      context->teardown.set_dont_linger(dont_linger != 0);
    }
    return result;
  });
}

int WSPAPI WSPGetSockOpt(SOCKET s, int level, int name, char* value, LPINT length, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    if (level == SOL_SOCKET && name == SO_PROTOCOL_INFOW) {
      // The application's socket is made on Teardown's chain entry: that is what it is told.
      if (value == nullptr || length == nullptr ||
          read_app(length) < static_cast<int>(sizeof(WSAPROTOCOL_INFOW))) {
        if (length != nullptr) write_app(length, static_cast<int>(sizeof(WSAPROTOCOL_INFOW)));
        *error = WSAEFAULT;
        return SOCKET_ERROR;
      }
      WSAPROTOCOL_INFOW info = context->provider->layered;
      if (emulation_of(*context) != nullptr) {  // Teardown carries its disconnect data
        info.dwServiceFlags1 |= XP1_DISCONNECT_DATA;
      }
      copy_app(value, &info, sizeof(info));
      write_app(length, static_cast<int>(sizeof(WSAPROTOCOL_INFOW)));
      return 0;
    }
    int result = below(context).lpWSPGetSockOpt(context->lower, level, name, value, length, error);
    if (result == 0 && level == SOL_SOCKET && name == SO_ERROR && value != nullptr &&
        context->connecting.load(std::memory_order_relaxed)) {
      // How a connect under way went, as the program reads it (0 while it is still under way).
      int pending = 0;
      int size = 0;
      if (try_copy(&size, length, sizeof(size)) && size >= static_cast<int>(sizeof(pending)) &&
          try_copy(&pending, value, sizeof(pending)) && pending != 0) {
        record_connect_outcome(*context, pending);
      }
    }
    return result;
  });
}

int WSPAPI WSPIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_length, LPVOID out, DWORD out_length,
                    LPDWORD returned, LPWSAOVERLAPPED overlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    if (code == SIO_GET_EXTENSION_FUNCTION_POINTER) {
      // The provider's own functions take its handles: the application gets Teardown's.
      return extension_function(*context, in, in_length, out, out_length, returned, error);
    }
    if (routed(*context, code)) {  // WSASendMsg, WSAPoll and registered I/O (routed_calls.h)
      return routed_call(context, code, in, in_length, out, out_length, returned, overlapped,
                         thread, error);
    }
    if (overlapped != nullptr && layered_io(*context)) {
      Request* request = begin_request(context, Operation::kControl, overlapped, routine, thread);
      int lower_error = 0;
      int result =
          below(context).lpWSPIoctl(context->lower, code, in, in_length, out, out_length, returned,
                                    &request->lower, nullptr, nullptr, &lower_error);
      return started(request, result, lower_error, error);
    }
    int result = below(context).lpWSPIoctl(context->lower, code, in, in_length, out, out_length,
                                           returned, overlapped, routine, thread, error);
    if (result == 0 && code == static_cast<DWORD>(FIONREAD) && out != nullptr &&
        out_length >= sizeof(u_long)) {
      // The bytes the application would read, not the wire's records.
      u_long bytes;
      std::memcpy(&bytes, out, sizeof(bytes));
      framed_available(*context, bytes);
      std::memcpy(out, &bytes, sizeof(bytes));
    }
    if (result == 0 && code == static_cast<DWORD>(FIONBIO) && in != nullptr &&
        in_length >= sizeof(u_long)) {
      u_long nonblocking;
      std::memcpy(&nonblocking, in, sizeof(nonblocking));
      context->teardown.set_nonblocking(nonblocking != 0);
    }
    return result;
  });
}

int WSPAPI WSPGetPeerName(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    return below(context).lpWSPGetPeerName(context->lower, name, length, error);
  });
}

int WSPAPI WSPGetSockName(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  return on_socket<int>(s, error, SOCKET_ERROR, [&](SocketRef& context) {
    int result = below(context).lpWSPGetSockName(context->lower, name, length, error);
    if (result == 0 && length != nullptr &&
        context->local_state.load(std::memory_order_relaxed) == SocketContext::kLocalToAsk) {
      offer_local(*context, address_of(name, *length));
    }
    return result;
  });
}

BOOL WSPAPI WSPGetQOSByName(SOCKET s, LPWSABUF name, LPQOS qos, LPINT error) {
  return on_socket<BOOL>(s, error, FALSE, [&](SocketRef& context) -> BOOL {
    return below(context).lpWSPGetQOSByName(context->lower, name, qos, error);
  });
}

// --- Calls that name no socket --------------------------------------------------------------

namespace {
// The provider for an entry the application names; any started one when it names none.
NextProvider* provider_for(const WSAPROTOCOL_INFOW* info) {
  return info != nullptr ? providers().find(info->dwCatalogEntryId) : providers().any();
}
}  // namespace

INT WSPAPI WSPAddressToString(LPSOCKADDR address, DWORD address_length, LPWSAPROTOCOL_INFOW info,
                              LPWSTR text, LPDWORD text_length, LPINT error) {
  return guarded<INT>(error, SOCKET_ERROR, [&]() -> INT {
    NextProvider* next = provider_for(info);
    if (next == nullptr) {
      *error = WSAEINVAL;
      return SOCKET_ERROR;
    }
    return next->procs.lpWSPAddressToString(address, address_length, &next->lower, text,
                                            text_length, error);
  });
}

INT WSPAPI WSPStringToAddress(LPWSTR text, INT family, LPWSAPROTOCOL_INFOW info, LPSOCKADDR address,
                              LPINT address_length, LPINT error) {
  return guarded<INT>(error, SOCKET_ERROR, [&]() -> INT {
    NextProvider* next = provider_for(info);
    if (next == nullptr) {
      *error = WSAEINVAL;
      return SOCKET_ERROR;
    }
    return next->procs.lpWSPStringToAddress(text, family, &next->lower, address, address_length,
                                            error);
  });
}

int WSPAPI WSPCancelBlockingCall(LPINT error) {
  return guarded<int>(error, SOCKET_ERROR, [&] {
    NextProvider* next = providers().any();
    if (next == nullptr) {
      *error = WSANOTINITIALISED;
      return SOCKET_ERROR;
    }
    return next->procs.lpWSPCancelBlockingCall(error);
  });
}

int WSPAPI WSPCleanup(LPINT error) {
  return guarded<int>(error, SOCKET_ERROR, [&] {
    bool last = false;
    int result = providers().end_start(last);
    if (result == 0 && last) {
      // Winsock's contract for the last cleanup: notifications stop; requests in flight fail with
      // WSA_OPERATION_ABORTED without an event, a port packet or a routine; every socket still
      // open is closed as WSPCloseSocket would; and nothing is left that could run our code once
      // the DLL is unloaded.
      stop_notification_window();
      cancel_requests(true);
      for (SocketRef& context : sockets().open_handles()) {
        int ignored = 0;
        close_context(context, true, &ignored);
      }
      await_requests();
      stop_completions();
      cancel_requests(false);
      result = providers().cleanup_below(static_cast<int>(sockets().live()));
    }
    if (result == 0) return 0;
    *error = result;
    return SOCKET_ERROR;
  });
}

// Every entry point has exactly the type of its slot in the SDK's table.
#define TEARDOWN_SDK_TYPE(entry, type) \
  static_assert(std::is_same_v<decltype(&entry), type>, #entry ": the SDK's type")
TEARDOWN_SDK_TYPE(WSPAccept, LPWSPACCEPT);
TEARDOWN_SDK_TYPE(WSPAddressToString, LPWSPADDRESSTOSTRING);
TEARDOWN_SDK_TYPE(WSPAsyncSelect, LPWSPASYNCSELECT);
TEARDOWN_SDK_TYPE(WSPBind, LPWSPBIND);
TEARDOWN_SDK_TYPE(WSPCancelBlockingCall, LPWSPCANCELBLOCKINGCALL);
TEARDOWN_SDK_TYPE(WSPCleanup, LPWSPCLEANUP);
TEARDOWN_SDK_TYPE(WSPCloseSocket, LPWSPCLOSESOCKET);
TEARDOWN_SDK_TYPE(WSPConnect, LPWSPCONNECT);
TEARDOWN_SDK_TYPE(WSPDuplicateSocket, LPWSPDUPLICATESOCKET);
TEARDOWN_SDK_TYPE(WSPEnumNetworkEvents, LPWSPENUMNETWORKEVENTS);
TEARDOWN_SDK_TYPE(WSPEventSelect, LPWSPEVENTSELECT);
TEARDOWN_SDK_TYPE(WSPGetOverlappedResult, LPWSPGETOVERLAPPEDRESULT);
TEARDOWN_SDK_TYPE(WSPGetPeerName, LPWSPGETPEERNAME);
TEARDOWN_SDK_TYPE(WSPGetSockName, LPWSPGETSOCKNAME);
TEARDOWN_SDK_TYPE(WSPGetSockOpt, LPWSPGETSOCKOPT);
TEARDOWN_SDK_TYPE(WSPGetQOSByName, LPWSPGETQOSBYNAME);
TEARDOWN_SDK_TYPE(WSPIoctl, LPWSPIOCTL);
TEARDOWN_SDK_TYPE(WSPJoinLeaf, LPWSPJOINLEAF);
TEARDOWN_SDK_TYPE(WSPListen, LPWSPLISTEN);
TEARDOWN_SDK_TYPE(WSPRecv, LPWSPRECV);
TEARDOWN_SDK_TYPE(WSPRecvDisconnect, LPWSPRECVDISCONNECT);
TEARDOWN_SDK_TYPE(WSPRecvFrom, LPWSPRECVFROM);
TEARDOWN_SDK_TYPE(WSPSelect, LPWSPSELECT);
TEARDOWN_SDK_TYPE(WSPSend, LPWSPSEND);
TEARDOWN_SDK_TYPE(WSPSendDisconnect, LPWSPSENDDISCONNECT);
TEARDOWN_SDK_TYPE(WSPSendTo, LPWSPSENDTO);
TEARDOWN_SDK_TYPE(WSPSetSockOpt, LPWSPSETSOCKOPT);
TEARDOWN_SDK_TYPE(WSPShutdown, LPWSPSHUTDOWN);
TEARDOWN_SDK_TYPE(WSPSocket, LPWSPSOCKET);
TEARDOWN_SDK_TYPE(WSPStringToAddress, LPWSPSTRINGTOADDRESS);
#undef TEARDOWN_SDK_TYPE

const WSPPROC_TABLE& entry_points() {
  static const WSPPROC_TABLE table = {WSPAccept,
                                      WSPAddressToString,
                                      WSPAsyncSelect,
                                      WSPBind,
                                      WSPCancelBlockingCall,
                                      WSPCleanup,
                                      WSPCloseSocket,
                                      WSPConnect,
                                      WSPDuplicateSocket,
                                      WSPEnumNetworkEvents,
                                      WSPEventSelect,
                                      WSPGetOverlappedResult,
                                      WSPGetPeerName,
                                      WSPGetSockName,
                                      WSPGetSockOpt,
                                      WSPGetQOSByName,
                                      WSPIoctl,
                                      WSPJoinLeaf,
                                      WSPListen,
                                      WSPRecv,
                                      WSPRecvDisconnect,
                                      WSPRecvFrom,
                                      WSPSelect,
                                      WSPSend,
                                      WSPSendDisconnect,
                                      WSPSendTo,
                                      WSPSetSockOpt,
                                      WSPShutdown,
                                      WSPSocket,
                                      WSPStringToAddress};
  return table;
}

}  // namespace teardown::lsp
