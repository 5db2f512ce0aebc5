#include "extensions.h"

#include <cstring>

#include "../core/platform.h"
#include "../core/winsock_errors.h"
#include "app_memory.h"
#include "framed_io.h"
#include "overlapped.h"
#include "passed_requests.h"
#include "recorder.h"
#include "upcalls.h"

namespace teardown::lsp {

namespace {

enum Extension : int {
  kAcceptEx,
  kConnectEx,
  kDisconnectEx,
  kTransmitFile,
  kTransmitPackets,
  kWsaRecvMsg,
  kGetAcceptExSockaddrs,
  kExtensionCount
};

const GUID kGuids[kExtensionCount] = {
    WSAID_ACCEPTEX,        WSAID_CONNECTEX,  WSAID_DISCONNECTEX,        WSAID_TRANSMITFILE,
    WSAID_TRANSMITPACKETS, WSAID_WSARECVMSG, WSAID_GETACCEPTEXSOCKADDRS};

// The provider's own function, asked for on this socket the first time.
void* lower_function(SocketContext& context, Extension which) {
  void* cached = context.provider->extensions[which].load(std::memory_order_acquire);
  if (cached != nullptr) return cached;
  GUID guid = kGuids[which];
  void* function = nullptr;
  DWORD returned = 0;
  int error = 0;
  if (context.provider->procs.lpWSPIoctl(context.lower, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid,
                                         sizeof(guid), &function, sizeof(function), &returned,
                                         nullptr, nullptr, nullptr, &error) != 0) {
    return nullptr;
  }
  context.provider->extensions[which].store(function, std::memory_order_release);
  return function;
}

template <typename Function>
Function lower(SocketContext& context, Extension which) {
  return reinterpret_cast<Function>(lower_function(context, which));
}

// The wrappers are called by the application directly: errors go through the thread's last error.
BOOL fail(int error) {
  SetLastError(static_cast<DWORD>(error));
  return FALSE;
}

// Runs a wrapper's `body`; anything thrown fails the call with `failure`: WSAEFAULT for the
// application's memory that could not be read or written, else WSAENOBUFS.
template <typename Result, typename Body>
Result caught(Result failure, Body&& body) noexcept {
  try {
    return body();
  } catch (const AppFault&) {
    fail(WSAEFAULT);
  } catch (...) {
    fail(WSAENOBUFS);
  }
  return failure;
}

// An extension function's BOOL in the form of a WSP call's result, its error kept in `reason`.
int wsp_result(BOOL done, int& reason) {
  reason = done ? 0 : static_cast<int>(GetLastError());
  return done ? 0 : SOCKET_ERROR;
}

// Runs `call` (the provider's function given the request's overlapped) for an overlapped request
// the LSP completes; the wrapper's result as Windows reports it: FALSE with ERROR_IO_PENDING.
template <typename Call>
BOOL in_flight(Request* request, Call&& call) {
  BOOL done = call(reinterpret_cast<LPOVERLAPPED>(&request->lower));
  int error = done ? 0 : static_cast<int>(GetLastError());
  int reported = 0;
  started(request, done ? 0 : SOCKET_ERROR, error, &reported);
  return fail(reported);
}

// A disconnecting call made without an overlapped: done when it returns.
void record_now(SocketRef& context, Operation operation, DWORD flags, int error,
                uint64_t started_ns, uint64_t sent) {
  Request request;
  request.context = SocketRef::share(*context);
  request.operation = operation;
  request.disconnect_flags = flags;
  request.started_ns = started_ns;
  record_completion(request, error, static_cast<DWORD>(sent > MAXDWORD ? MAXDWORD : sent));
}

// The bytes a file holds from `offset` on, or 0 when that cannot be told.
uint64_t file_bytes_from(HANDLE file, uint64_t offset) {
  LARGE_INTEGER size{};
  if (file == nullptr || file == INVALID_HANDLE_VALUE || !GetFileSizeEx(file, &size)) return 0;
  uint64_t total = static_cast<uint64_t>(size.QuadPart);
  return total > offset ? total - offset : 0;
}

// What a TransmitFile done at once sent (it tells no count): its head and tail buffers, and the
// file's bytes it was asked for, or else the rest of the file from its current position. Asked
// before the call, which moves that position.
uint64_t transmit_file_bytes(HANDLE file, DWORD bytes, const TRANSMIT_FILE_BUFFERS* buffers) {
  uint64_t total = bytes;
  if (bytes == 0 && file != nullptr) {
    LARGE_INTEGER at{};
    LARGE_INTEGER zero{};
    if (SetFilePointerEx(file, zero, &at, FILE_CURRENT)) {
      total = file_bytes_from(file, static_cast<uint64_t>(at.QuadPart));
    }
  }
  TRANSMIT_FILE_BUFFERS around{};
  if (buffers != nullptr && try_copy(&around, buffers, sizeof(around))) {
    total += uint64_t{around.HeadLength} + around.TailLength;
  }
  return total;
}

// The same for TransmitPackets: its elements' bytes, a file element's whole rest when its length
// is 0.
uint64_t transmit_packets_bytes(const TRANSMIT_PACKETS_ELEMENT* packets, DWORD count) {
  uint64_t total = 0;
  for (DWORD i = 0; packets != nullptr && i < count; ++i) {
    TRANSMIT_PACKETS_ELEMENT element{};
    if (!try_copy(&element, &packets[i], sizeof(element))) return total;
    if ((element.dwElFlags & TP_ELEMENT_FILE) != 0 && element.cLength == 0) {
      total += file_bytes_from(element.hFile, static_cast<uint64_t>(element.nFileOffset.QuadPart));
    } else {
      total += element.cLength;
    }
  }
  return total;
}

BOOL WINAPI accept_ex(SOCKET listening, SOCKET accepting, PVOID buffer, DWORD receive_length,
                      DWORD local_length, DWORD remote_length, LPDWORD received,
                      LPOVERLAPPED overlapped) {
  return caught(FALSE, [&]() -> BOOL {
    int error = 0;
    SocketRef listener = sockets().find(listening, error);
    SocketRef accepted = sockets().find(accepting, error);
    if (!listener || !accepted) return fail(WSAENOTSOCK);
    auto function = lower<LPFN_ACCEPTEX>(*listener, kAcceptEx);
    if (function == nullptr) return fail(WSAEOPNOTSUPP);
    if (overlapped == nullptr || !layered_io(*listener)) {
      return function(listener->lower, accepted->lower, buffer, receive_length, local_length,
                      remote_length, received, overlapped);
    }
    Request* request =
        begin_request(listener, Operation::kAccept, reinterpret_cast<LPWSAOVERLAPPED>(overlapped),
                      nullptr, nullptr);
    request->accepted = SocketRef::share(*accepted);
    // On a listener whose port is emulated, the connection is framed from its first byte: the
    // first bytes AcceptEx reads are unframed when it completes.
    // (The listener's port is known since it listened wherever it was needed then; emulation
    // configured since asks for it now, once: the listener keeps the answer.)
    uint16_t port = known_local(*listener).port;
    if (port == 0 && producer().policy().watches_for_framing()) port = local_of(*listener).port;
    if (emulate_from_start(*accepted, port, 0) && receive_length > 0) {
      unframe_first_bytes_later(*request, buffer, receive_length);
    }
    DWORD ignored = 0;
    return in_flight(request, [&](LPOVERLAPPED own) {
      return function(listener->lower, accepted->lower, buffer, receive_length, local_length,
                      remote_length, &ignored, own);
    });
  });
}

BOOL WINAPI connect_ex(SOCKET s, const sockaddr* name, int name_length, PVOID send_buffer,
                       DWORD send_length, LPDWORD sent, LPOVERLAPPED overlapped) {
  return caught(FALSE, [&]() -> BOOL {
    int error = 0;
    SocketRef context = sockets().find(s, error);
    if (!context) return fail(WSAENOTSOCK);
    auto function = lower<LPFN_CONNECTEX>(*context, kConnectEx);
    if (function == nullptr) return fail(WSAEOPNOTSUPP);
    if (overlapped == nullptr || !layered_io(*context)) {
      int reason = 0;
      auto issue = [&](LPWSAOVERLAPPED_COMPLETION_ROUTINE) {
        return wsp_result(
            function(context->lower, name, name_length, send_buffer, send_length, sent, overlapped),
            reason);
      };
      // In compatible mode its first bytes are counted when the result is seen.
      int result = overlapped != nullptr && context->provider->ifs
                       ? pass_overlapped(context, Passed::kSend, 0, 0, sent,
                                         reinterpret_cast<LPWSAOVERLAPPED>(overlapped), nullptr,
                                         &reason, issue)
                       : issue(nullptr);
      if (result == 0 || reason == ERROR_IO_PENDING) {
        context->teardown.set_endpoints(lower_address(*context, false),
                                        address_of(name, name_length));
        context->teardown.on_connect_started(platform::wall_clock_ns());
        context->connecting.store(result != 0, std::memory_order_relaxed);
        if (result == 0) {
          context->connected.store(true, std::memory_order_relaxed);
          record_established(*context);
        }
      } else if (wsa::is_connect_failure(reason)) {
        context->teardown.on_connect_started(platform::wall_clock_ns());
        record_connect_failure(*context, address_of(name, name_length), reason);
      }
      SetLastError(static_cast<DWORD>(reason));  // the calls below may have changed it
      return result == 0;
    }
    Request* request =
        begin_request(context, Operation::kConnect, reinterpret_cast<LPWSAOVERLAPPED>(overlapped),
                      nullptr, nullptr);
    request->remote = address_of(name, name_length);
    // To an emulated port the connection is framed from its first byte, ConnectEx's own included.
    if (emulate_from_start(*context, lower_address(*context, false).port, request->remote.port) &&
        send_length > 0 && !frame_first_bytes(*context, *request, send_buffer, send_length)) {
      int reported = 0;
      started(request, SOCKET_ERROR, WSAENOBUFS, &reported);
      return fail(reported);
    }
    if (request->framed != nullptr) {
      send_buffer = request->framed->wire.data();
      send_length = static_cast<DWORD>(request->framed->wire.size());
    }
    DWORD ignored = 0;
    return in_flight(request, [&](LPOVERLAPPED own) {
      return function(context->lower, name, name_length, send_buffer, send_length, &ignored, own);
    });
  });
}

// DisconnectEx, TransmitFile and TransmitPackets share this: overlapped through the LSP, or done
// at once; a disconnect is recorded when it has happened. `sent` tells what one done at once sent.
template <typename Call, typename Sent>
BOOL ending(SOCKET s, LPOVERLAPPED overlapped, DWORD flags, bool disconnects, Extension which,
            Sent&& sent, Call&& call) {
  int error = 0;
  SocketRef context = sockets().find(s, error);
  if (!context) return fail(WSAENOTSOCK);
  void* function = lower_function(*context, which);
  if (function == nullptr) return fail(WSAEOPNOTSUPP);
  // TransmitFile and TransmitPackets put their bytes on the wire unframed: not on a connection
  // whose stream is framed.
  if (which != kDisconnectEx && emulation_of(*context) != nullptr) return fail(WSAEOPNOTSUPP);
  Operation operation = disconnects ? Operation::kDisconnect : Operation::kTransmit;
  if (overlapped != nullptr && context->provider->ifs) {
    // Compatible mode: the request goes down as the application made it, and completes to it.
    uint64_t started_ns = platform::wall_clock_ns();
    int reason = 0;
    auto issue = [&](LPWSAOVERLAPPED_COMPLETION_ROUTINE) {
      return wsp_result(call(function, context->lower, overlapped), reason);
    };
    int result = 0;
    if (disconnects) {
      // Started or done, the disconnect is what the program asked for: recorded now, as its
      // completion is the application's alone.
      uint64_t bytes = sent();
      result = issue(nullptr);
      record_now(context, operation, flags, reason == ERROR_IO_PENDING ? 0 : reason, started_ns,
                 result == 0 ? bytes : 0);
    } else {
      result = pass_overlapped(context, Passed::kSend, 0, 0, nullptr,
                               reinterpret_cast<LPWSAOVERLAPPED>(overlapped), nullptr, &reason,
                               issue);
    }
    SetLastError(static_cast<DWORD>(reason));
    return result == 0;
  }
  if (overlapped == nullptr || !layered_io(*context)) {
    uint64_t started_ns = platform::wall_clock_ns();
    uint64_t bytes = overlapped == nullptr ? sent() : 0;
    BOOL done = call(function, context->lower, overlapped);
    if (overlapped == nullptr) {
      DWORD reason = done ? 0 : GetLastError();
      record_now(context, operation, flags, static_cast<int>(reason), started_ns, done ? bytes : 0);
      SetLastError(reason);
    }
    return done;
  }
  Request* request = begin_request(context, operation,
                                   reinterpret_cast<LPWSAOVERLAPPED>(overlapped), nullptr, nullptr);
  request->disconnect_flags = flags;
  return in_flight(request, [&](LPOVERLAPPED own) { return call(function, context->lower, own); });
}

BOOL WINAPI disconnect_ex(SOCKET s, LPOVERLAPPED overlapped, DWORD flags, DWORD reserved) {
  return caught(FALSE, [&] {
    return ending(s, overlapped, flags, true, kDisconnectEx, [] { return uint64_t{0}; },
                  [&](void* function, SOCKET lower_socket, LPOVERLAPPED own) {
                    return reinterpret_cast<LPFN_DISCONNECTEX>(function)(lower_socket, own, flags,
                                                                         reserved);
                  });
  });
}

BOOL WINAPI transmit_file(SOCKET s, HANDLE file, DWORD bytes, DWORD per_send,
                          LPOVERLAPPED overlapped, LPTRANSMIT_FILE_BUFFERS buffers, DWORD flags) {
  return caught(FALSE, [&] {
    return ending(s, overlapped, flags, (flags & TF_DISCONNECT) != 0, kTransmitFile,
                  [&] { return transmit_file_bytes(file, bytes, buffers); },
                  [&](void* function, SOCKET lower_socket, LPOVERLAPPED own) {
                    return reinterpret_cast<LPFN_TRANSMITFILE>(function)(
                        lower_socket, file, bytes, per_send, own, buffers, flags);
                  });
  });
}

BOOL WINAPI transmit_packets(SOCKET s, LPTRANSMIT_PACKETS_ELEMENT packets, DWORD count,
                             DWORD send_size, LPOVERLAPPED overlapped, DWORD flags) {
  return caught(FALSE, [&] {
    return ending(s, overlapped, flags, (flags & TF_DISCONNECT) != 0, kTransmitPackets,
                  [&] { return transmit_packets_bytes(packets, count); },
                  [&](void* function, SOCKET lower_socket, LPOVERLAPPED own) {
                    return reinterpret_cast<LPFN_TRANSMITPACKETS>(function)(
                        lower_socket, packets, count, send_size, own, flags);
                  });
  });
}

INT WINAPI receive_message(SOCKET s, LPWSAMSG message, LPDWORD received, LPWSAOVERLAPPED overlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  return caught(SOCKET_ERROR, [&]() -> INT {
    int error = 0;
    SocketRef context = sockets().find(s, error);
    if (!context) {
      fail(WSAENOTSOCK);
      return SOCKET_ERROR;
    }
    auto function = lower<LPFN_WSARECVMSG>(*context, kWsaRecvMsg);
    // WSARecvMsg reads the provider's bytes as they are: not on a connection whose stream is framed.
    if (function == nullptr || emulation_of(*context) != nullptr) {
      fail(WSAEOPNOTSUPP);
      return SOCKET_ERROR;
    }
    WSAMSG asked = message != nullptr ? read_app(message) : WSAMSG{};
    uint64_t requested = requested_bytes(asked.lpBuffers, asked.dwBufferCount);
    DWORD flags_in = asked.dwFlags;
    if (overlapped != nullptr && context->provider->ifs) {
      int result = pass_overlapped(context, Passed::kReceive, requested, flags_in, received,
                                   overlapped, routine, &error, [&](auto passed) {
                                     int done = function(context->lower, message, received,
                                                         overlapped, passed);
                                     error = done == 0 ? 0 : static_cast<int>(GetLastError());
                                     return done;
                                   });
      if (result != 0) fail(error);
      return result;
    }
    if (overlapped == nullptr || !layered_io(*context)) {
      int result = function(context->lower, message, received, overlapped, routine);
      int reason = result == 0 ? 0 : static_cast<int>(GetLastError());
      if (overlapped == nullptr) {
        record_receive(*context, result, requested, received != nullptr ? *received : 0, flags_in,
                       reason);
      }
      return result;
    }
    WSATHREADID thread{};
    int ignored = 0;
    bool opened = routine != nullptr && upcalls().lpWPUOpenCurrentThread(&thread, &ignored) == 0;
    if (routine != nullptr && !opened) {
      fail(WSAENOBUFS);
      return SOCKET_ERROR;
    }
    Request* request = begin_request(context, Operation::kReceive, overlapped, routine,
                                     opened ? &thread : nullptr);
    request->close_thread = opened;
    request->flags_in = flags_in;
    request->requested = requested;
    int result = function(context->lower, message, nullptr, &request->lower, nullptr);
    int reported = 0;
    started(request, result, result == 0 ? 0 : static_cast<int>(GetLastError()), &reported);
    fail(reported);
    return SOCKET_ERROR;
  });
}

void* wrapper(Extension which) {
  switch (which) {
    case kAcceptEx:
      return reinterpret_cast<void*>(&accept_ex);
    case kConnectEx:
      return reinterpret_cast<void*>(&connect_ex);
    case kDisconnectEx:
      return reinterpret_cast<void*>(&disconnect_ex);
    case kTransmitFile:
      return reinterpret_cast<void*>(&transmit_file);
    case kTransmitPackets:
      return reinterpret_cast<void*>(&transmit_packets);
    case kWsaRecvMsg:
      return reinterpret_cast<void*>(&receive_message);
    default:
      return nullptr;
  }
}

}  // namespace

int extension_function(SocketContext& context, const void* in, DWORD in_length, void* out,
                       DWORD out_length, LPDWORD returned, LPINT error) {
  if (in == nullptr || in_length < sizeof(GUID) || out == nullptr || out_length < sizeof(void*)) {
    *error = WSAEFAULT;
    return SOCKET_ERROR;
  }
  GUID asked = read_app(static_cast<const GUID*>(in));
  for (int which = 0; which < kExtensionCount; ++which) {
    if (!IsEqualGUID(asked, kGuids[which])) continue;
    void* below = lower_function(context, static_cast<Extension>(which));
    if (below == nullptr) break;  // the provider below has no such function
    // GetAcceptExSockaddrs only reads a buffer: the provider's own serves as it is.
    void* function =
        which == kGetAcceptExSockaddrs ? below : wrapper(static_cast<Extension>(which));
    copy_app(out, &function, sizeof(function));
    if (returned != nullptr) write_app(returned, static_cast<DWORD>(sizeof(function)));
    return 0;
  }
  *error = WSAEINVAL;
  return SOCKET_ERROR;
}

// What a finished AcceptEx, ConnectEx, disconnect or transmit means for the sockets.
void record_completion(Request& request, int error, DWORD bytes) {
  SocketContext& context = *request.context;
  uint64_t now = platform::wall_clock_ns();
  switch (request.operation) {
    case Operation::kAccept:
      if (error == 0 && request.accepted) {
        // A new connection on the accepting socket; its endpoints come with
        // SO_UPDATE_ACCEPT_CONTEXT, when the provider can tell them.
        SocketIdentity identity = context.teardown.identity();
        identity.socket_id = static_cast<uint64_t>(request.accepted->app);
        identity.accepted = true;
        request.accepted->teardown.reset(identity, now);
        request.accepted->teardown.set_nonblocking(context.teardown.nonblocking());
        request.accepted->connected.store(true, std::memory_order_relaxed);
        record_established(*request.accepted);  // its endpoints come later, if at all
        td_event_record ignored;
        if (bytes > 0) request.accepted->teardown.on_receive(bytes, 0, ignored);  // its first data
      }
      break;
    case Operation::kConnect:
      if (error != 0 && wsa::is_connect_failure(error)) {
        context.teardown.on_connect_started(request.started_ns);
        record_connect_failure(context, request.remote, error);
      }
      if (error == 0) {
        context.connected.store(true, std::memory_order_relaxed);
        context.teardown.set_endpoints(lower_address(context, false), request.remote);
        record_established(context);
        td_event_record ignored;
        context.teardown.on_send(bytes, 0, ignored);
      }
      break;
    case Operation::kTransmit: {
      td_event_record event;
      int64_t sent = error == 0 ? static_cast<int64_t>(bytes) : -1;
      if (context.teardown.on_send(sent, error, event)) emit(context, event);
      break;
    }
    case Operation::kDisconnect: {
      td_event_record sent;
      int64_t bytes_sent = error == 0 ? static_cast<int64_t>(bytes) : -1;
      if (context.teardown.on_send(bytes_sent, error, sent)) emit(context, sent);
      if (context.teardown.remote().family == TD_FAMILY_NONE) break;  // nothing was connected
      Policy policy = producer().policy();
      ClosePlan plan = context.teardown.plan_close(false);
      plan.extra_flags = static_cast<uint16_t>(context.flags.load(std::memory_order_relaxed));
      td_event_record event;
      context.teardown.on_close(plan, error, error == 0, now, event);
      event.time_ns = request.started_ns != 0 ? request.started_ns : now;
      emit(context, event, policy);
      if (error == 0) {
        // The connection is over; with TF_REUSE_SOCKET the socket takes the next one.
        context.teardown.reset(context.teardown.identity(), now);
        context.local_state.store(SocketContext::kLocalGiven, std::memory_order_release);
        end_emulation(context);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace teardown::lsp
