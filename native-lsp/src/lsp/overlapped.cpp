#include "overlapped.h"

#include <atomic>
#include <memory>
#include <new>
#include <mutex>
#include <unordered_set>

#include "../core/platform.h"
#include "app_memory.h"
#include "framed_io.h"
#include "recorder.h"
#include "upcalls.h"

namespace teardown::lsp {

// A request's own event, and the thread-pool wait on it, where its socket takes no port. The
// request holds the DLL until it is gone; each callback holds it too while it runs, so that giving
// the request's reference back is never the last.
struct RequestWait {
  HANDLE event = nullptr;
  PTP_WAIT wait = nullptr;
  HMODULE held = nullptr;

  ~RequestWait() {
    // Freed at once, or once a callback still running returns: never waited for here, since the
    // last callback may be the one that frees it.
    if (wait != nullptr) CloseThreadpoolWait(wait);
    if (event != nullptr) CloseHandle(event);
    if (held != nullptr) FreeLibrary(held);
  }
};

namespace {

constexpr ULONG_PTR kStopKey = 1;  // completion keys of requests are contexts, never 1

// The port and its workers: the last worker to end closes the port.
struct CompletionPool {
  HANDLE port = nullptr;
  std::atomic<int> workers{0};
};

std::mutex lock_;
CompletionPool* pool_ = nullptr;
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
  {
    std::lock_guard<std::mutex> hold(requests_lock_);
    requests().insert(request);
  }
  if (request->wait != nullptr) {
    // Armed before the call below, which may signal at once.
    ResetEvent(request->wait->event);
    SetThreadpoolWait(request->wait->wait, request->wait->event, nullptr);
  }
}

void delist(const Request* request) {
  take(request);
  // The call below failed at once: nothing will signal. (A callback under way for a provider that
  // signalled anyway finds the request gone and returns.)
  if (request->wait != nullptr) SetThreadpoolWait(request->wait->wait, nullptr, nullptr);
}

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
  return reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(read_app(&app->hEvent)) &
                                  ~ULONG_PTR{1});
}

// Writes into an OVERLAPPED the application handed over and may have freed since (against the
// rules): lost, never a fault in Teardown's thread.
template <typename T>
void set(T& field, T value) {
  try_copy(&field, &value, sizeof(value));
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
  set(app->Offset, flags);
  set(app->OffsetHigh, static_cast<DWORD>(error));
  int ignored = 0;
  if (!cancelled && request->routine == nullptr) {
    // The status is WPUCompleteOverlappedRequest's to set, as it signals and posts: once it says
    // done, a program polling HasOverlappedIoCompleted may free the OVERLAPPED at once.
    WPUCompleteOverlappedRequest(context.app, app, static_cast<DWORD>(error), bytes, &ignored);
  } else {
    // Nobody else writes it: done before the routine is queued (or, cancelled, for good).
    set(app->InternalHigh, static_cast<ULONG_PTR>(bytes));
    set(app->Internal, status_of_error(error));
    if (!cancelled) {
      queue_routine(*request,
                    new RoutineCall{request->routine, static_cast<DWORD>(error), bytes, app, flags});
    }
  }
  if (request->close_thread) upcalls().lpWPUCloseThread(&request->thread, &ignored);
  finish_io(context);
  delete request;
}

namespace {

// The lower request of `request` has completed with `bytes` (its own overlapped says how): its
// result is asked of the provider below, then the application's request completed (or, framed,
// asked again below).
void lower_completed(Request* request, DWORD bytes) {
  SocketContext& context = *request->context;
  DWORD transferred = bytes, flags = request->flags;
  int error = 0;
  // While the socket is being closed the provider below may no longer know it: the request's own
  // status says how it ended.
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
}

// A waited-on request's event was signalled: the same as a packet off the port. The callback holds
// the DLL while it runs (the request, completed here, gives back its own reference as it goes),
// and gives it back once it has returned.
void CALLBACK signalled(PTP_CALLBACK_INSTANCE instance, void* parameter, PTP_WAIT, TP_WAIT_RESULT) {
  HMODULE self = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                          reinterpret_cast<LPCWSTR>(&signalled), &self)) {
    return;
  }
  auto* request = static_cast<Request*>(parameter);
  if (take(request)) {  // not delisted (its call failed at once), not taken already
    try {
      lower_completed(request, static_cast<DWORD>(request->lower.InternalHigh));
    } catch (...) {
    }
  }
  FreeLibraryWhenCallbackReturns(instance, self);
}

DWORD WINAPI worker(void* parameter) {
  auto* pool = static_cast<CompletionPool*>(parameter);
  for (;;) {
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED overlapped = nullptr;
    // A failed request still dequeues its packet (with its overlapped): its own status says how it
    // ended. No overlapped is the stop packet, or the port failing: either way the worker ends.
    GetQueuedCompletionStatus(pool->port, &bytes, &key, &overlapped, INFINITE);
    if (overlapped == nullptr) break;
    try {
      Request* request = CONTAINING_RECORD(overlapped, Request, lower);
      if (take(request)) lower_completed(request, bytes);
    } catch (...) {
    }
  }
  if (pool->workers.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    CloseHandle(pool->port);
    delete pool;
  }
  // The reference its creator took for it: completions may arrive after Winsock's cleanup.
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                     reinterpret_cast<LPCWSTR>(&worker), &self);
  FreeLibraryAndExitThread(self, 0);
}

// The port, with a worker per CPU (as Microsoft's sample has it), made the first time. Each worker
// holds a reference to the DLL, taken before it is created: a cleanup right after the first
// request cannot unload the DLL under a worker that has not run yet.
HANDLE completion_port() {
  std::lock_guard<std::mutex> hold(lock_);
  if (pool_ != nullptr) return pool_->port;
  SYSTEM_INFO system{};
  GetSystemInfo(&system);
  DWORD workers = system.dwNumberOfProcessors < 1 ? 1 : system.dwNumberOfProcessors;
  if (workers > 64) workers = 64;
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
  if (port == nullptr) return nullptr;
  auto* pool = new CompletionPool();
  pool->port = port;
  for (DWORD i = 0; i < workers; ++i) {
    HMODULE self = nullptr;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                            reinterpret_cast<LPCWSTR>(&worker), &self)) {
      break;
    }
    pool->workers.fetch_add(1, std::memory_order_acq_rel);
    HANDLE thread = CreateThread(nullptr, 0, worker, pool, 0, nullptr);
    if (thread == nullptr) {
      pool->workers.fetch_sub(1, std::memory_order_acq_rel);
      FreeLibrary(self);
      break;
    }
    CloseHandle(thread);
  }
  if (pool->workers.load(std::memory_order_acquire) == 0) {
    CloseHandle(port);
    delete pool;
    return nullptr;
  }
  pool_ = pool;
  return port;
}

// Gives `request` an event and wait of its own (its socket takes no port); throws std::bad_alloc,
// as an allocation would, when they cannot be made.
void wait_on_own_event(Request& request) {
  auto wait = std::make_unique<RequestWait>();
  wait->event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (wait->event != nullptr) wait->wait = CreateThreadpoolWait(signalled, &request, nullptr);
  if (wait->wait == nullptr || !GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                                                   reinterpret_cast<LPCWSTR>(&signalled),
                                                   &wait->held)) {
    throw std::bad_alloc();
  }
  // The low bit: no completion packet to any port the provider's handle may be bound to.
  request.lower.hEvent =
      reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(wait->event) | ULONG_PTR{1});
  request.wait = std::move(wait);
}

}  // namespace

bool layered_io(SocketContext& context) {
  if (context.provider->ifs) return false;  // compatible mode: requests pass straight down
  if (context.io_mode.load(std::memory_order_acquire) != 0) return true;
  // Decided once, by the first request, under the socket's lock: a second thread's first request
  // must not find the handle already bound and take that for a handle that takes no port.
  AcquireSRWLockExclusive(&context.io_lock);
  if (context.io_mode.load(std::memory_order_acquire) == 0) {
    HANDLE port = completion_port();
    bool bound =
        port != nullptr && CreateIoCompletionPort(reinterpret_cast<HANDLE>(context.lower), port,
                                                  reinterpret_cast<ULONG_PTR>(&context), 0) == port;
    context.io_mode.store(bound ? 1 : 2, std::memory_order_release);
  }
  ReleaseSRWLockExclusive(&context.io_lock);
  return true;
}

Request* begin_request(SocketRef& context, Operation operation, LPWSAOVERLAPPED app,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread) {
  auto request = std::make_unique<Request>();
  // First what can fail, before anything of the application's is touched.
  if (context->io_mode.load(std::memory_order_acquire) == 2) wait_on_own_event(*request);
  request->context = SocketRef::share(*context);
  request->operation = operation;
  request->started_ns = platform::wall_clock_ns();
  request->app = app;
  request->routine = routine;
  if (routine != nullptr && thread != nullptr) request->thread = *thread;
  // Written here first: an OVERLAPPED the application cannot have given is WSAEFAULT (AppFault),
  // before anything else is done.
  write_app(&app->Internal, static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS));
  write_app(&app->InternalHigh, ULONG_PTR{0});
  write_app(&app->Offset, DWORD{0});
  write_app(&app->OffsetHigh, DWORD{0});
  // The event tells of this request from now on: still signalled from an earlier use, it would
  // report this one done before it is (the base provider's request resets it the same way).
  // With a completion routine the event is the application's to use as it likes.
  if (routine == nullptr && event_of(app) != nullptr) ResetEvent(event_of(app));
  context->io.fetch_add(1, std::memory_order_acq_rel);
  enlist(request.get());
  return request.release();
}

int started(Request* request, int result, int error, LPINT error_out) {
  if (result == 0 || error == WSA_IO_PENDING) {
    *error_out = WSA_IO_PENDING;  // the completion comes through the port (or the wait) either way
    return SOCKET_ERROR;
  }
  delist(request);
  // A callback already under way is waited for (the application's call, not one, runs here).
  if (request->wait != nullptr) WaitForThreadpoolWaitCallbacks(request->wait->wait, TRUE);
  SocketContext& context = *request->context;
  set(request->app->Internal, status_of_error(error));
  set(request->app->OffsetHigh, static_cast<DWORD>(error));
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
  auto pending = [app] {
    return read_app(&app->Internal) == static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS);
  };
  // The event only says that some request using it may be done: a shared event, or one signalled
  // by another, wakes this wait early. The request's own status decides.
  for (DWORD pause = 0; pending(); pause = pause < 16 ? pause + 1 : 16) {
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
    if (pending()) Sleep(pause);
  }
  write_app(transferred, static_cast<DWORD>(read_app(&app->InternalHigh)));
  write_app(flags, read_app(&app->Offset));
  DWORD failure = read_app(&app->OffsetHigh);
  if (failure != 0) {
    *error = static_cast<int>(failure);
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
  if (pool_ == nullptr) return;
  for (int i = pool_->workers.load(std::memory_order_acquire); i > 0; --i) {
    PostQueuedCompletionStatus(pool_->port, 0, kStopKey, nullptr);
  }
  pool_ = nullptr;  // the last worker to end frees it
}

}  // namespace teardown::lsp
