#include "passed_requests.h"

#include <mutex>
#include <unordered_map>

#include "app_memory.h"
#include "recorder.h"

namespace teardown::lsp {

namespace {

// A request whose completion routine is Teardown's: what the application's routine is, and what
// the result means.
struct WrappedRoutine {
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine;
  SocketRef context;
  Passed kind;
  uint64_t requested;
  DWORD flags_in;
  HMODULE held;  // this DLL, held until the routine has run (see completed)
  bool recorded = false;  // it completed at once, and the call's result was recorded then
};

std::mutex routines_lock_;
std::unordered_map<LPWSAOVERLAPPED, WrappedRoutine*>& routines() {
  static auto* wrapped = new std::unordered_map<LPWSAOVERLAPPED, WrappedRoutine*>();
  return *wrapped;
}

WrappedRoutine* find_routine(LPWSAOVERLAPPED overlapped, bool take) {
  std::lock_guard<std::mutex> hold(routines_lock_);
  auto found = routines().find(overlapped);
  if (found == routines().end()) return nullptr;
  WrappedRoutine* wrapped = found->second;
  if (take) routines().erase(found);
  return wrapped;
}

// A wrapped routine that will never run: gone, with the DLL reference it held (never the last:
// ws2_32 holds the DLL while it calls in).
void discard(WrappedRoutine* wrapped) {
  HMODULE held = wrapped->held;
  delete wrapped;
  FreeLibrary(held);
}

void record(SocketContext& context, Passed kind, uint64_t requested, DWORD flags_in, int result,
            int error, DWORD bytes) {
  if (kind == Passed::kReceive) {
    record_receive(context, result, requested, bytes, flags_in, error);
  } else {
    record_send(context, result, bytes, error);
  }
}

// The routine the provider below runs, in the application's thread: the result recorded, then the
// application's routine called with what this one was given. The DLL reference the request held
// is given back by an APC queued behind this one: FreeLibrary runs from kernel32 once this
// routine has returned, so no code of Teardown's runs after the DLL may be gone.
void CALLBACK completed(DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD flags) {
  WrappedRoutine* wrapped = find_routine(overlapped, true);
  if (wrapped == nullptr) return;  // only requests pass_request wrapped come here
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = wrapped->routine;
  HMODULE held = wrapped->held;
  try {
    if (!wrapped->recorded) {
      record(*wrapped->context, wrapped->kind, wrapped->requested, wrapped->flags_in,
             error == 0 ? 0 : SOCKET_ERROR, static_cast<int>(error), bytes);
    }
  } catch (...) {
  }
  delete wrapped;
  routine(error, bytes, overlapped, flags);
  auto release = reinterpret_cast<PAPCFUNC>(reinterpret_cast<void (*)()>(&FreeLibrary));
  // If the APC cannot be queued the reference stays: the DLL outlives its use, which is safe.
  QueueUserAPC(release, GetCurrentThread(), reinterpret_cast<ULONG_PTR>(held));
}

void watch(SocketContext& context, LPWSAOVERLAPPED overlapped, Passed kind, uint64_t requested,
           DWORD flags_in) {
  AcquireSRWLockExclusive(&context.watched_lock);
  WatchedRequest* place = nullptr;
  for (WatchedRequest& watched : context.watched) {
    if (watched.overlapped == overlapped) place = &watched;
    if (place == nullptr && watched.overlapped == nullptr) place = &watched;
  }
  if (place == nullptr && context.watched.size() < SocketContext::kWatchedRequests) {
    place = &context.watched.emplace_back();
  }
  if (place == nullptr) {
    place = &context.watched[context.next_watched++ % SocketContext::kWatchedRequests];
  }
  *place = WatchedRequest{overlapped, requested, flags_in, kind == Passed::kReceive};
  ReleaseSRWLockExclusive(&context.watched_lock);
}

// Whether the application can ask after the request: it names an event. A request without one
// completes to a completion port, whose packet is the application's answer (ws2_32's
// WSAGetOverlappedResult would wait on the socket's own handle, which such programs never do).
bool asked_after(LPWSAOVERLAPPED overlapped) {
  HANDLE event = nullptr;
  return try_copy(&event, &overlapped->hEvent, sizeof(event)) &&
         (reinterpret_cast<ULONG_PTR>(event) & ~ULONG_PTR{1}) != 0;
}

bool unwatch(SocketContext& context, LPWSAOVERLAPPED overlapped, WatchedRequest& out) {
  bool found = false;
  AcquireSRWLockExclusive(&context.watched_lock);
  for (WatchedRequest& watched : context.watched) {
    if (watched.overlapped != overlapped) continue;
    out = watched;
    watched = WatchedRequest{};
    found = true;
  }
  ReleaseSRWLockExclusive(&context.watched_lock);
  return found;
}

}  // namespace

LPWSAOVERLAPPED_COMPLETION_ROUTINE pass_request(SocketRef& context, LPWSAOVERLAPPED overlapped,
                                                LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                                                Passed kind, uint64_t requested, DWORD flags_in) {
  if (routine == nullptr) {
    if (asked_after(overlapped)) watch(*context, overlapped, kind, requested, flags_in);
    return nullptr;
  }
  HMODULE held = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                          reinterpret_cast<LPCWSTR>(&completed), &held)) {
    return routine;
  }
  auto* wrapped = new WrappedRoutine{routine, SocketRef::share(*context), kind, requested,
                                     flags_in, held};
  {
    std::lock_guard<std::mutex> hold(routines_lock_);
    // An OVERLAPPED already in flight, used again (against the rules): the second request keeps
    // the application's own routine rather than lose the first's.
    if (routines().emplace(overlapped, wrapped).second) return completed;
  }
  discard(wrapped);
  return routine;
}

void request_started(SocketContext& context, LPWSAOVERLAPPED overlapped, Passed kind,
                     uint64_t requested, DWORD flags_in, int result, int error, DWORD bytes) {
  if (result != 0 && error == WSA_IO_PENDING) return;  // its completion tells, if anything does
  record(context, kind, requested, flags_in, result, error, bytes);
  // Done or failed now: no routine runs for a failure, and one that runs for a success has only to
  // call the application's; nobody need ask after it.
  WrappedRoutine* wrapped = find_routine(overlapped, result != 0);
  WatchedRequest watched;
  if (wrapped != nullptr && result == 0) {
    wrapped->recorded = true;
  } else if (wrapped != nullptr) {
    discard(wrapped);
  } else {
    unwatch(context, overlapped, watched);
  }
}

void request_result(SocketContext& context, LPWSAOVERLAPPED overlapped, BOOL done,
                    DWORD transferred, int error) {
  if (!done && error == WSA_IO_INCOMPLETE) return;  // still in flight
  // Still in flight whatever the answer: a waiting call woken by an event another request
  // signalled can report success with 0 bytes (the pending status counts as a success), which is
  // no end of stream.
  ULONG_PTR status = 0;
  if (!try_copy(&status, &overlapped->Internal, sizeof(status)) ||
      status == static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS)) {
    return;
  }
  WatchedRequest watched;
  if (unwatch(context, overlapped, watched)) {
    record(context, watched.receive ? Passed::kReceive : Passed::kSend, watched.requested,
           watched.flags_in, done ? 0 : SOCKET_ERROR, done ? 0 : error, done ? transferred : 0);
  } else if (!done) {
    // A request not watched (a port's, asked after all): whatever it was, a reset is a reset.
    td_event_record event;
    if (context.teardown.on_send(-1, error, event)) emit(context, event);
  }
}

}  // namespace teardown::lsp
