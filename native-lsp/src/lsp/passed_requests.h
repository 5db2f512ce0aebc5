// Compatible mode's overlapped requests. They go down with the application's own OVERLAPPED, so
// the provider below completes them straight to the application: its event, its completion port
// (which Teardown never sees) or its completion routine. What Teardown can still learn of them:
//  - a request that completes at once: its result is the call's;
//  - one with an event, which the application asks after with WSPGetOverlappedResult: its result
//    is that call's, read against what the request was (up to 64 watched a socket at once);
//  - one with a completion routine: the routine the provider below runs is Teardown's, which
//    records the result and calls the application's with exactly what it was given.
// A request completed through a port is never seen: the kernel's view at close tells what it
// would have (see the close in entry_points.cpp).
#pragma once

#include <cstdint>

#include "sockets.h"
#include "spi.h"

namespace teardown::lsp {

// What a passed request does to the stream, for the result to be read as.
enum class Passed : uint8_t { kReceive, kSend };

// Before the call below: what `overlapped` (not null) is, and the routine to pass down instead of
// the application's `routine` (Teardown's, or `routine` itself when it cannot be wrapped).
LPWSAOVERLAPPED_COMPLETION_ROUTINE pass_request(SocketRef& context, LPWSAOVERLAPPED overlapped,
                                                LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                                                Passed kind, uint64_t requested, DWORD flags_in);

// After the call below, made for pass_request's request: `result` 0 (done at once, `bytes` moved),
// SOCKET_ERROR with WSA_IO_PENDING (in flight) or with another `error` (failed: no completion
// will come). A result that came at once is recorded now.
void request_started(SocketContext& context, LPWSAOVERLAPPED overlapped, Passed kind,
                     uint64_t requested, DWORD flags_in, int result, int error, DWORD bytes);

// After WSPGetOverlappedResult below: when it gave the request's final result, that result is
// recorded (once); of a request not watched (a completion port's), a reset only.
void request_result(SocketContext& context, LPWSAOVERLAPPED overlapped, BOOL done,
                    DWORD transferred, int error);

// An overlapped data call passed down: `call` makes it below with the routine it is given, and
// returns 0 or SOCKET_ERROR with `error` set; `moved` is where the call reports its bytes (the
// overlapped's InternalHigh when the application gave none).
template <typename Call>
int pass_overlapped(SocketRef& context, Passed kind, uint64_t requested, DWORD flags_in,
                    LPDWORD moved, LPWSAOVERLAPPED overlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPINT error, Call&& call) {
  int result = call(pass_request(context, overlapped, routine, kind, requested, flags_in));
  DWORD bytes = 0;
  if (result == 0) bytes = moved != nullptr ? *moved : static_cast<DWORD>(overlapped->InternalHigh);
  request_started(*context, overlapped, kind, requested, flags_in, result,
                  result == 0 ? 0 : *error, bytes);
  return result;
}

}  // namespace teardown::lsp
