// Overlapped I/O of a non-IFS layer: the application's overlapped request becomes the LSP's own
// request on the lower socket, whose completion arrives on the LSP's completion port; a worker
// thread records what it says (EOF, reset) and completes the application's request the way it
// asked: its event or completion port through WPUCompleteOverlappedRequest, its completion
// routine through WPUQueueApc. WSPGetOverlappedResult reads the result back as ws2spi.h lays out:
// Internal (in progress or not), InternalHigh (bytes), OffsetHigh (error), Offset (flags).
//
// Only lower providers with real (IFS) handles can be bound to the port; over any other, overlapped
// requests pass straight down as before.
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
};

// True when `context`'s overlapped requests go through the LSP's port: its lower socket is bound
// to it (the first time) and the port's worker runs.
bool layered_io(SocketContext& context);

// Prepares `request` (owned by the caller until start) for the application's overlapped request.
Request* begin_request(SocketRef& context, Operation operation, LPWSAOVERLAPPED app,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread);

// A request the LSP sends below again (a framed receive whose read brought only the stream's own
// bytes): its next completion must be let off the port like its first. delist undoes it when the
// call below fails at once.
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

// At the last WSPCleanup: the worker ends itself.
void stop_completions();

}  // namespace teardown::lsp
