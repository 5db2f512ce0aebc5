// Overlapped I/O in full mode, where Teardown hands out handles of its own: the application's
// overlapped request becomes the LSP's own request on the lower socket (the application's
// OVERLAPPED never goes below), whose completion arrives on the LSP's completion port; a worker
// thread (one per CPU) records what it says (EOF, reset) and completes the application's request
// the way it asked: its event or completion port through WPUCompleteOverlappedRequest, its
// completion routine through WPUQueueApc. WSPGetOverlappedResult reads the result back as
// ws2spi.h lays out: Internal (in progress or not), InternalHigh (bytes), OffsetHigh (error),
// Offset (flags).
//
// The lower socket is bound to the port with its first request, whatever the provider below (a
// non-IFS layer's handles take a port too). Where it cannot be (a port of the provider's own
// already has it), each request waits on an event of its own instead, whose low bit keeps its
// completion off any port, and a thread-pool wait completes it as the worker would.
#pragma once

#include <cstdint>
#include <memory>

#include "sockets.h"
#include "spi.h"

namespace teardown::lsp {

enum class Operation {
  kReceive,
  kSend,
  kControl,
  kAccept,      // AcceptEx: the context is the listener, `accepted` the new connection
  kConnect,     // ConnectEx: `remote` is where
  kDisconnect,  // DisconnectEx, or TransmitFile/TransmitPackets with TF_DISCONNECT
  kTransmit,    // TransmitFile/TransmitPackets without it
};

struct FramedRequest;  // framed_io.h: an emulated connection's request, its layout kept
struct RequestWait;    // a request's own event and wait, where its socket takes no port

// One application request in flight below.
struct Request {
  Request();
  ~Request();

  WSAOVERLAPPED lower{};  // the LSP's own, on the lower socket
  SocketRef context;
  Operation operation = Operation::kReceive;
  LPWSAOVERLAPPED app = nullptr;
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr;
  WSATHREADID thread{};  // where the routine runs: the thread that asked, as Winsock gave it
  DWORD flags = 0;       // what the provider below returns in lpFlags
  DWORD flags_in = 0;    // what the application asked (MSG_PEEK)
  uint64_t requested = 0;
  WSABUF first_buffer{};       // kReceive: where its first bytes land (a framing peer's HELLO?)
  SocketRef accepted;          // kAccept
  td_address remote{};         // kConnect
  DWORD disconnect_flags = 0;  // kDisconnect: TF_REUSE_SOCKET
  bool close_thread = false;   // `thread` was opened for this request (WPUOpenCurrentThread)
  uint64_t started_ns = 0;     // when the application asked: the teardown's time
  std::unique_ptr<FramedRequest> framed;  // on an emulated connection
  std::unique_ptr<RequestWait> wait;      // on a socket whose lower handle takes no port
};

// True when the LSP completes `context`'s overlapped requests itself: always in full mode (its
// lower socket bound to the port with the first request, under the socket's lock, or else waited
// on request by request); never in compatible mode, whose requests pass straight down.
bool layered_io(SocketContext& context);

// Prepares `request` (owned by the caller until start) for the application's overlapped request.
Request* begin_request(SocketRef& context, Operation operation, LPWSAOVERLAPPED app,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread);

// A request the LSP sends below again (a framed receive whose read brought only the stream's own
// bytes): its next completion must be let off the port like its first (or waited for again).
// delist undoes it when the call below fails at once.
void enlist(const Request* request);
void delist(const Request* request);

// After the call below: on WSA_IO_PENDING or success the request is in flight and the entry
// returns WSA_IO_PENDING; otherwise it is dropped and the entry returns the error.
int started(Request* request, int result, int error, LPINT error_out);

// Completes the application's request the way it asked, with the result recorded first; the
// request is gone afterwards.
void complete(Request* request, int error, DWORD bytes, DWORD flags);

// A ConnectEx, AcceptEx or disconnect that has completed: what it means for the sockets.
void record_completion(Request& request, int error, DWORD bytes);

// WSPGetOverlappedResult of a request the LSP completes.
BOOL overlapped_result(LPWSAOVERLAPPED app, LPDWORD transferred, BOOL wait, LPDWORD flags,
                       LPINT error);

// WSPCloseSocket's part: true when the handle can be closed now; otherwise the last completion
// of a request still in flight closes it (its requests complete with WSA_OPERATION_ABORTED).
bool close_when_idle(SocketContext& context);

// At the last WSPCleanup, while it closes the sockets: requests that complete from now on fail
// with WSA_OPERATION_ABORTED, left in their overlapped, and nobody is told (no event, no port
// packet, no routine), as WSPCleanup's documentation has it. Off again before it returns.
void cancel_requests(bool on);

// At the last WSPCleanup, once the sockets are closed: waits, at most two seconds, until no
// request is in flight below.
void await_requests();

// At the last WSPCleanup: the workers end themselves.
void stop_completions();

}  // namespace teardown::lsp
