#include "overlapped.h"

#include <atomic>
#include <mutex>
#include <unordered_set>

#include "../core/platform.h"
#include "framed_io.h"
#include "recorder.h"
#include "upcalls.h"

namespace teardown::lsp {

namespace {

constexpr ULONG_PTR kStopKey = 1;  // completion keys of requests are contexts, never 1

std::mutex lock_;
HANDLE port_ = nullptr;
std::atomic<bool> cancelling_{false};  // the last WSPCleanup is closing the sockets

// The requests in flight. Only they may come off the port: a packet for an overlapped that is not
// one of them (an operation someone started on the base handle, say) is never read as one.
std::mutex requests_lock_;
std::unordered_set<const Request*>& requests() {
  static auto* in_flight = new std::unordered_set<const Request*>();
  return *in_flight;
}

bool take(const Request* request) {
  std::lock_guard<std::mutex> hold(requests_lock_);
  return requests().erase(request) == 1;
}

}  // namespace

void enlist(const Request* request) {
  std::lock_guard<std::mutex> hold(requests_lock_);
  requests().insert(request);
}

void delist(const Request* request) { take(request); }

namespace {

// A completion routine's call, made in the application's thread by WPUQueueApc.
struct RoutineCall {
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
  DWORD error;
  DWORD bytes;
  LPWSAOVERLAPPED overlapped;
  DWORD flags;
};

void CALLBACK call_routine(DWORD_PTR parameter) {
  auto* call = reinterpret_cast<RoutineCall*>(parameter);
  call->routine(call->error, call->bytes, call->overlapped, call->flags);
  delete call;
}

// Queues `call` to run in the application's thread. The APC holds a reference to this DLL, so
// that Winsock's last cleanup and FreeLibrary cannot unload it under an APC still queued; a
// second APC, queued behind it to the same thread (a thread's APCs run in order), gives the
// reference back by calling FreeLibrary itself, from kernel32, once call_routine has returned:
// no code of ours runs after the DLL is gone. FreeLibrary fits an APC's type: both are WINAPI
// (__stdcall), take one pointer-sized argument, and the BOOL it returns in a register is ignored.
void queue_routine(Request& request, RoutineCall* call) {
  int ignored = 0;
  HMODULE self = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                          reinterpret_cast<LPCWSTR>(&call_routine), &self)) {
    delete call;
    return;
  }
  if (upcalls().lpWPUQueueApc(&request.thread, call_routine, reinterpret_cast<DWORD_PTR>(call),
                              &ignored) != 0) {
    delete call;
    FreeLibrary(self);  // not the last reference: the caller runs in this DLL, held by Winsock
    return;
  }
  auto release = reinterpret_cast<LPWSAUSERAPC>(reinterpret_cast<void (*)()>(&FreeLibrary));
  // If even this fails, the reference stays: the DLL outlives its use, which is safe.
  upcalls().lpWPUQueueApc(&request.thread, release, reinterpret_cast<DWORD_PTR>(self), &ignored);
}

// The Winsock error of a completion the provider below can no longer be asked about (its socket
// is closed): from the status the system left in the request's own overlapped.
int error_of_status(ULONG_PTR status) {
  switch (static_cast<DWORD>(status)) {
    case 0:  // STATUS_SUCCESS
      return 0;
    case 0xC0000120:  // STATUS_CANCELLED
      return WSA_OPERATION_ABORTED;
    case 0xC000020D:  // STATUS_CONNECTION_RESET
    case 0xC000013C:  // STATUS_REMOTE_DISCONNECT
      return WSAECONNRESET;
    case 0xC0000241:  // STATUS_CONNECTION_ABORTED
    case 0xC000013B:  // STATUS_LOCAL_DISCONNECT
      return WSAECONNABORTED;
    default:
      return WSA_OPERATION_ABORTED;  // the socket was closed under it
  }
}

// The status a failed request leaves in its overlapped's Internal: an NTSTATUS as the system
// would leave it, never 0 (success) and never pending.
ULONG_PTR status_of_error(int error) {
  switch (error) {
    case 0:
      return 0;
    case WSA_OPERATION_ABORTED:
      return 0xC0000120;  // STATUS_CANCELLED
    case WSAECONNRESET:
      return 0xC000020D;  // STATUS_CONNECTION_RESET
    case WSAECONNABORTED:
      return 0xC0000241;  // STATUS_CONNECTION_ABORTED
    default:
      return 0xC0000001;  // STATUS_UNSUCCESSFUL
  }
}

// The application's event, without the low bit that asks for no completion-port packet.
HANDLE event_of(LPWSAOVERLAPPED app) {
  return reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(app->hEvent) & ~ULONG_PTR{1});
}

void finish_io(SocketContext& context) {
  long left = context.io.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left == SocketContext::kClosedBit) {
    sockets().unwatch_lower(context.lower);
    sockets().retire(&context);
  }
}

}  // namespace

Request::Request() = default;
Request::~Request() = default;

void complete(Request* request, int error, DWORD bytes, DWORD flags) {
  SocketContext& context = *request->context;
  // Winsock's last cleanup cancels what is still in flight: the overlapped says so, and nobody is
  // told (no event, no port packet, no routine).
  bool cancelled = cancelling_.load(std::memory_order_acquire);
  if (cancelled) {
    error = WSA_OPERATION_ABORTED;
    bytes = 0;
    flags = 0;
  }
  if (request->operation == Operation::kReceive && error == 0 &&
      (request->flags_in & (MSG_PEEK | MSG_OOB)) == 0 &&
      framed_unexpectedly(context, &request->first_buffer, 1, bytes)) {
    error = WSAECONNABORTED;  // the records are not the application's: the connection is reset
    bytes = 0;
  }
  int result = error == 0 ? 0 : SOCKET_ERROR;
  if (request->operation == Operation::kReceive) {
    record_receive(context, result, request->requested, bytes, request->flags_in, error);
  } else if (request->operation == Operation::kSend) {
    record_send(context, result, bytes, error);
  } else {
    record_completion(*request, error, bytes);
  }
  LPWSAOVERLAPPED app = request->app;
  app->Offset = flags;
  app->OffsetHigh = static_cast<DWORD>(error);
  // Not pending any more before anyone is told: a waiter checks this status.
  app->InternalHigh = bytes;
  app->Internal = status_of_error(error);
  int ignored = 0;
  if (!cancelled && request->routine != nullptr) {
    queue_routine(*request,
                  new RoutineCall{request->routine, static_cast<DWORD>(error), bytes, app, flags});
  } else if (!cancelled) {
    WPUCompleteOverlappedRequest(context.app, app, static_cast<DWORD>(error), bytes, &ignored);
  }
  if (request->close_thread) upcalls().lpWPUCloseThread(&request->thread, &ignored);
  finish_io(context);
  delete request;
}

namespace {

DWORD WINAPI worker(void* parameter) {
  HANDLE port = parameter;
  // The worker holds the DLL until it ends: completions may arrive after Winsock's cleanup.
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, reinterpret_cast<LPCWSTR>(&worker),
                     &self);
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED overlapped = nullptr;
    // A failed request still dequeues its packet (with its overlapped): its own status says how it
    // ended. No overlapped is the stop packet, or the port failing: either way the worker ends.
    GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);
    if (overlapped == nullptr) break;
    try {
      Request* request = CONTAINING_RECORD(overlapped, Request, lower);
      if (!take(request)) continue;
      SocketContext& context = *request->context;
      DWORD transferred = bytes, flags = request->flags;
      int error = 0;
      // While the socket is being closed the provider below may no longer know it: the request's
      // own status says how it ended.
      bool closing = context.closing.load(std::memory_order_acquire);
      if (closing || !context.provider->procs.lpWSPGetOverlappedResult(
                         context.lower, &request->lower, &transferred, FALSE, &flags, &error)) {
        if (closing || error == WSAENOTSOCK) error = error_of_status(request->lower.Internal);
        transferred = bytes;
      } else {
        error = 0;
      }
      if (request->framed == nullptr || !framed_completion(request, error, transferred)) {
        complete(request, error, transferred, flags);
      }
    } catch (...) {
    }
  }
  CloseHandle(port);
  FreeLibraryAndExitThread(self, 0);
}

HANDLE completion_port() {
  std::lock_guard<std::mutex> hold(lock_);
  if (port_ != nullptr) return port_;
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (port == nullptr) return nullptr;
  HANDLE thread = CreateThread(nullptr, 0, worker, port, 0, nullptr);
  if (thread == nullptr) {
    CloseHandle(port);
    return nullptr;
  }
  CloseHandle(thread);
  port_ = port;
  return port_;
}

}  // namespace

bool layered_io(SocketContext& context) {
  if (context.provider->ifs) return false;  // compatible mode: requests pass straight down
  int mode = context.io_mode.load(std::memory_order_acquire);
  if (mode != 0) return mode == 1;
  bool bound = false;
  if ((context.provider->lower.dwServiceFlags1 & XP1_IFS_HANDLES) != 0) {
    HANDLE port = completion_port();
    bound =
        port != nullptr && CreateIoCompletionPort(reinterpret_cast<HANDLE>(context.lower), port,
                                                  reinterpret_cast<ULONG_PTR>(&context), 0) == port;
  }
  int expected = 0;
  context.io_mode.compare_exchange_strong(expected, bound ? 1 : 2, std::memory_order_acq_rel);
  return context.io_mode.load(std::memory_order_acquire) == 1;
}

Request* begin_request(SocketRef& context, Operation operation, LPWSAOVERLAPPED app,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread) {
  auto* request = new Request();
  request->context = SocketRef::share(*context);
  request->operation = operation;
  request->started_ns = platform::wall_clock_ns();
  request->app = app;
  request->routine = routine;
  if (routine != nullptr && thread != nullptr) request->thread = *thread;
  app->Internal = WSS_OPERATION_IN_PROGRESS;
  app->InternalHigh = 0;
  app->Offset = 0;
  app->OffsetHigh = 0;
  // The event tells of this request from now on: still signalled from an earlier use, it would
  // report this one done before it is (the base provider's request resets it the same way).
  // With a completion routine the event is the application's to use as it likes.
  if (routine == nullptr && event_of(app) != nullptr) ResetEvent(event_of(app));
  context->io.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard<std::mutex> hold(requests_lock_);
  requests().insert(request);
  return request;
}

int started(Request* request, int result, int error, LPINT error_out) {
  if (result == 0 || error == WSA_IO_PENDING) {
    *error_out = WSA_IO_PENDING;  // the completion comes through the port either way
    return SOCKET_ERROR;
  }
  take(request);
  SocketContext& context = *request->context;
  request->app->Internal = status_of_error(error);
  request->app->OffsetHigh = static_cast<DWORD>(error);
  if (request->operation == Operation::kReceive) {
    record_receive(context, SOCKET_ERROR, request->requested, 0, request->flags_in, error);
  } else if (request->operation == Operation::kSend) {
    record_send(context, SOCKET_ERROR, 0, error);
  } else {
    record_completion(*request, error, 0);
  }
  int ignored = 0;
  if (request->close_thread) upcalls().lpWPUCloseThread(&request->thread, &ignored);
  finish_io(context);
  delete request;
  *error_out = error;
  return SOCKET_ERROR;
}

BOOL overlapped_result(LPWSAOVERLAPPED app, LPDWORD transferred, BOOL wait, LPDWORD flags,
                       LPINT error) {
  if (app == nullptr || transferred == nullptr || flags == nullptr) {
    *error = WSAEFAULT;
    return FALSE;
  }
  // The event only says that some request using it may be done: a shared event, or one signalled
  // by another, wakes this wait early. The request's own status decides.
  for (DWORD pause = 0;
       app->Internal == static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS);
       pause = pause < 16 ? pause + 1 : 16) {
    HANDLE event = event_of(app);
    if (!wait || event == nullptr) {
      *error = WSA_IO_INCOMPLETE;
      return FALSE;
    }
    if (WaitForSingleObject(event, INFINITE) != WAIT_OBJECT_0) {
      *error = WSA_INVALID_HANDLE;
      return FALSE;
    }
    // Signalled, and this request still in progress: the event is another's too. Wait a little
    // before looking again, rather than spin on an event that stays signalled.
    if (app->Internal == static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS)) Sleep(pause);
  }
  *transferred = static_cast<DWORD>(app->InternalHigh);
  *flags = app->Offset;
  if (app->OffsetHigh != 0) {
    *error = static_cast<int>(app->OffsetHigh);
    return FALSE;
  }
  return TRUE;
}

bool close_when_idle(SocketContext& context) {
  return context.io.fetch_or(SocketContext::kClosedBit, std::memory_order_acq_rel) == 0;
}

void cancel_requests(bool on) {
  cancelling_.store(on, std::memory_order_release);
}

void await_requests() {
  // By the clock, not by counting sleeps: a Sleep(1) can last a whole timer tick (15.6 ms).
  ULONGLONG deadline = GetTickCount64() + 2000;
  for (;;) {
    {
      std::lock_guard<std::mutex> hold(requests_lock_);
      if (requests().empty()) return;
    }
    if (GetTickCount64() >= deadline) return;
    Sleep(1);
  }
}

void stop_completions() {
  std::lock_guard<std::mutex> hold(lock_);
  if (port_ == nullptr) return;
  PostQueuedCompletionStatus(port_, 0, kStopKey, nullptr);
  port_ = nullptr;
}

}  // namespace teardown::lsp
