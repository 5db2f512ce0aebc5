#include "routed_calls.h"

#include <cstddef>
#include <cstring>
#include <vector>

#include "app_memory.h"
#include "entry_points.h"
#include "framed_io.h"
#include "overlapped.h"
#include "passed_requests.h"
#include "recorder.h"

namespace teardown::lsp {

namespace {

// In the Windows SDK's mswsock.h, not in mingw-w64's: the ioctl that hands out a table of
// functions, and the GUID of its one table, registered I/O's.
constexpr DWORD kMultipleExtensionFunctionPointer = _WSAIORW(IOC_WS2, 36);
constexpr GUID kRegisteredIo = {
    0x8509e081, 0x96dd, 0x4005, {0xb1, 0x65, 0x9e, 0x2e, 0xe8, 0xc7, 0x9e, 0x3f}};

int fail(int code, LPINT error) {
  *error = code;
  return SOCKET_ERROR;
}

// SIO_BSP_HANDLE, SIO_BSP_HANDLE_POLL: Teardown's own handle, so that the call comes here. The
// checks are the documented ones: room for a SOCKET, and no overlapped.
int own_handle(const SocketContext& context, LPVOID out, DWORD out_length, LPDWORD returned,
               LPWSAOVERLAPPED overlapped, LPINT error) {
  if (out == nullptr || out_length < sizeof(SOCKET) || overlapped != nullptr) {
    return fail(WSAEFAULT, error);
  }
  copy_app(out, &context.app, sizeof(SOCKET));
  if (returned != nullptr) write_app(returned, static_cast<DWORD>(sizeof(SOCKET)));
  return 0;
}

// SIO_EXT_POLL: a WSAPOLLDATA, in and out. Teardown's handles go below as the lower ones, any
// other as it is (another provider's, or one the poll ignores); the result and each revents come
// back into the application's array.
int poll(SocketContext& context, LPVOID in, DWORD in_length, LPWSATHREADID thread, LPINT error) {
  constexpr size_t kHeader = offsetof(WSAPOLLDATA, fdArray);
  if (in == nullptr || in_length < kHeader) return fail(WSAEFAULT, error);
  auto* data = static_cast<WSAPOLLDATA*>(in);
  size_t fds = read_app(&data->fds);
  if ((in_length - kHeader) / sizeof(WSAPOLLFD) < fds) return fail(WSAEFAULT, error);
  size_t length = kHeader + fds * sizeof(WSAPOLLFD);
  std::vector<unsigned long long> storage((length + 7) / 8);  // aligned for the SOCKETs
  auto* below = reinterpret_cast<WSAPOLLDATA*>(storage.data());
  // The application's whole array, read once: what goes below is this copy.
  copy_app(below, data, length);
  below->result = 0;
  below->fds = static_cast<ULONG>(fds);
  auto* asked = reinterpret_cast<WSAPOLLFD*>(static_cast<unsigned char*>(in) + kHeader);
  auto* lower = reinterpret_cast<WSAPOLLFD*>(reinterpret_cast<unsigned char*>(below) + kHeader);
  std::vector<SocketRef> ours(fds);
  for (size_t i = 0; i < fds; ++i) {
    int ignored = 0;
    ours[i] = sockets().find(lower[i].fd, ignored);
    if (ours[i]) lower[i].fd = ours[i]->lower;
  }
  DWORD returned = 0;
  // Blocks for the program's timeout, holding references, never a lock.
  int result = context.provider->procs.lpWSPIoctl(context.lower, SIO_EXT_POLL, below,
                                                  static_cast<DWORD>(length), below,
                                                  static_cast<DWORD>(length), &returned, nullptr,
                                                  nullptr, thread, error);
  write_app(&data->result, below->result);
  if (result != 0) return result;
  for (size_t i = 0; i < fds; ++i) {
    write_app(&asked[i].revents, lower[i].revents);
    // The peer's teardown reached the program. WSAPoll tells a failed connection only by
    // POLLERR, without the error: recorded as a reset.
    if (ours[i] && (lower[i].revents & POLLHUP) != 0) {
      td_event_record record;
      int code = (lower[i].revents & POLLERR) != 0 ? WSAECONNRESET : 0;
      if (ours[i]->teardown.on_fd_close(code, record)) emit(*ours[i], record);
    }
  }
  return 0;
}

// WSASendMsg through the provider below, on the lower socket: overlapped through Teardown's port
// when its requests go there, so that the completion reaches the application as it asked; in
// compatible mode with the application's own OVERLAPPED.
int send_message_below(SocketRef& context, const WSASENDMSG& call, LPWSATHREADID thread,
                       LPINT error) {
  const WSPPROC_TABLE& procs = context->provider->procs;
  WSASENDMSG lower_call = call;
  DWORD status = 0, returned = 0;
  if (call.lpOverlapped != nullptr && context->provider->ifs) {
    return pass_overlapped(
        context, Passed::kSend, 0, 0, call.lpNumberOfBytesSent, call.lpOverlapped,
        call.lpCompletionRoutine, error, [&](LPWSAOVERLAPPED_COMPLETION_ROUTINE passed) {
          lower_call.lpCompletionRoutine = passed;
          int result = procs.lpWSPIoctl(context->lower, SIO_EXT_SENDMSG, &lower_call,
                                        sizeof(lower_call), &status, sizeof(status), &returned,
                                        nullptr, nullptr, thread, error);
          if (status != 0) {
            result = SOCKET_ERROR;
            *error = static_cast<int>(status);
          }
          return result;
        });
  }
  if (call.lpOverlapped != nullptr && layered_io(*context)) {
    Request* request = begin_request(context, Operation::kSend, call.lpOverlapped,
                                     call.lpCompletionRoutine, thread);
    lower_call.lpOverlapped = &request->lower;
    lower_call.lpCompletionRoutine = nullptr;
    lower_call.lpNumberOfBytesSent = nullptr;
    int lower_error = 0;
    int result = procs.lpWSPIoctl(context->lower, SIO_EXT_SENDMSG, &lower_call,
                                  sizeof(lower_call), &status, sizeof(status), &returned, nullptr,
                                  nullptr, thread, &lower_error);
    if (status != 0) {
      result = SOCKET_ERROR;
      lower_error = static_cast<int>(status);
    }
    return started(request, result, lower_error, error);
  }
  int result = procs.lpWSPIoctl(context->lower, SIO_EXT_SENDMSG, &lower_call, sizeof(lower_call),
                                &status, sizeof(status), &returned, nullptr, nullptr, thread, error);
  if (status != 0) {  // the call's own outcome, as opposed to the ioctl's
    result = SOCKET_ERROR;
    *error = static_cast<int>(status);
  }
  DWORD sent = result == 0 && call.lpNumberOfBytesSent != nullptr ? *call.lpNumberOfBytesSent : 0;
  record_send(*context, result, sent, result == 0 ? 0 : *error);
  return result;
}

// SIO_EXT_SENDMSG: a WSASENDMSG in, the call's error out. It goes below as the application made it,
// and the provider answers it as it would without Teardown (WSASendMsg is documented for datagram
// and raw sockets: a stream socket gets whatever the provider gives it). On an emulated
// connection, whose stream is framed, a message without an address or control data is a send of
// the application's stream, made through Teardown's WSPSend; any other is refused like
// WSARecvMsg (its control data cannot be carried inside the records).
int send_message(SocketRef& context, LPVOID in, DWORD in_length, LPVOID out, DWORD out_length,
                 LPWSATHREADID thread, LPINT error) {
  if (in == nullptr || in_length < sizeof(WSASENDMSG) || out == nullptr ||
      out_length < sizeof(DWORD)) {
    return fail(WSAEFAULT, error);
  }
  WSASENDMSG call = read_app(static_cast<const WSASENDMSG*>(in));
  int result = 0;
  if (call.lpMsg == nullptr) {
    result = fail(WSAEFAULT, error);
  } else if (emulation_of(*context) != nullptr) {
    WSAMSG message = read_app(call.lpMsg);
    result = message.name == nullptr && message.Control.len == 0
                 ? entry_points().lpWSPSend(context->app, message.lpBuffers,
                                            message.dwBufferCount, call.lpNumberOfBytesSent,
                                            call.dwFlags, call.lpOverlapped,
                                            call.lpCompletionRoutine, thread, error)
                 : fail(WSAEOPNOTSUPP, error);
  } else {
    result = send_message_below(context, call, thread, error);
  }
  DWORD status = result == 0 ? 0 : static_cast<DWORD>(*error);
  try_copy(out, &status, sizeof(status));  // the call is made: its result stands
  return result;
}

}  // namespace

bool routed(const SocketContext& context, DWORD code) {
  if (code == SIO_EXT_POLL || code == SIO_EXT_SENDMSG) return true;
  // Compatible mode: the handle that serves a call is the base provider's, which is the
  // application's own, and registered I/O works on it as it would without Teardown.
  return !context.provider->ifs && (code == SIO_BSP_HANDLE || code == SIO_BSP_HANDLE_POLL ||
                                    code == kMultipleExtensionFunctionPointer);
}

int routed_call(SocketRef& context, DWORD code, LPVOID in, DWORD in_length, LPVOID out,
                DWORD out_length, LPDWORD returned, LPWSAOVERLAPPED overlapped,
                LPWSATHREADID thread, LPINT error) {
  switch (code) {
    case SIO_BSP_HANDLE:
    case SIO_BSP_HANDLE_POLL:
      return own_handle(*context, out, out_length, returned, overlapped, error);
    case SIO_EXT_POLL:
      return poll(*context, in, in_length, thread, error);
    case SIO_EXT_SENDMSG:
      return send_message(context, in, in_length, out, out_length, thread, error);
    default: {  // kMultipleExtensionFunctionPointer
      if (in == nullptr || in_length < sizeof(GUID)) return fail(WSAEFAULT, error);
      GUID asked = read_app(static_cast<const GUID*>(in));
      // Registered I/O cannot be layered: refused as an ioctl that cannot be realized. Any other
      // table is unknown here, as an unknown extension function is.
      return fail(IsEqualGUID(asked, kRegisteredIo) ? WSAEOPNOTSUPP : WSAEINVAL, error);
    }
  }
}

}  // namespace teardown::lsp
