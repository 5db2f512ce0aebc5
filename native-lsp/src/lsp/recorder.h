// Where the LSP's events go: the producer of this process, writing to the standard channel
// (%ProgramData%\Teardown). It is made at the first WSPStartup, never in DllMain, and is not
// destroyed at process exit (sockets close while the process exits), only when the DLL is
// unloaded while the process lives on.
#pragma once

#include <cstddef>

#include "../core/producer.h"
#include "sockets.h"
#include "spi.h"

namespace teardown::lsp {

// The process's producer, made the first time it is asked for; when it cannot be made, one that
// records nothing (asked again next time): recording never fails a call.
Producer& producer() noexcept;

// The DLL is being unloaded (FreeLibrary after Winsock's last cleanup): no thread runs our code
// any more, and the channel's mappings go with the producer, or each load would leave its own.
void release_producer() noexcept;

// Publishes `event`, an event of `context`'s, under the policy in force now, with what the policy
// captures of `data` (the application's: a buffer that cannot be read is not captured); its local
// address is asked of the provider below first if the socket left it to be asked (see local_of).
void emit(SocketContext& context, td_event_record& event, const void* data = nullptr,
          size_t length = 0);

// The same under `policy`, a policy already in hand.
void emit(SocketContext& context, td_event_record& event, const Policy& policy,
          const void* data = nullptr, size_t length = 0);

// The socket's own address as its events give it: what the socket was given, or, when it left
// its address to be asked, the provider's answer (asked once a socket). Asks nothing once the
// socket is closing, unless by its close (`by_close`), which asks before the lower socket goes.
td_address local_of(SocketContext& context, bool by_close = false);

// The socket's own address as far as it is known without asking; family NONE otherwise.
td_address known_local(const SocketContext& context);

// What the program was told of the socket's own address (its getsockname): kept if the socket
// left its address to be asked, which then needs no call below.
void offer_local(SocketContext& context, const td_address& local);

// A connection's endpoints, made by a connect or an accept: the peer as known, and the socket's
// own address, `local` when it is known without asking; otherwise asked of the provider below
// now where emulation is configured (its port decides it), else left to the first event.
void set_connection_endpoints(SocketContext& context, const td_address& local,
                              const td_address& remote);

// The bytes the buffers can take; 0 when the application's array cannot be read (the call below
// fails with WSAEFAULT then).
uint64_t requested_bytes(const WSABUF* buffers, DWORD count);

// What a receive's outcome says (`result` 0 or SOCKET_ERROR with `error`): EOF, WSAEDISCON or a
// reset, each once. A request still in flight (WSA_IO_PENDING) says nothing yet.
void record_receive(SocketContext& context, int result, uint64_t requested, DWORD received,
                    DWORD flags_in, int error);

// What a send's outcome says: its bytes, or a reset.
void record_send(SocketContext& context, int result, DWORD sent, int error);

// The kernel's view of the lower socket (SIO_TCP_INFO, Windows 10 1703 and later): its TCP state
// handed to its teardown just before a close (a peer's FIN or reset the program never read), its
// counts into `view`, with `unread` (< 0: not known). False where the system cannot tell; then
// nothing is asked again in this process.
bool read_kernel(SocketContext& context, int64_t unread, td_kernel_view& view);

// A connect on `context` made no connection (`error`, one of wsa::is_connect_failure's): a
// CONNECT_FAILED event with the address tried, which the socket then forgets (its close ends no
// connection). `remote` of family NONE: the address its connect gave.
void record_connect_failure(SocketContext& context, const td_address& remote, int error);

// The connection on `context` is made (a connect succeeded, accept returned it): a CONNECTED
// event where the configuration asks for them.
void record_established(SocketContext& context);

// How a connect under way went, as the program learned it (FD_CONNECT, SO_ERROR, ConnectEx's
// completion): 0, or its error.
void record_connect_outcome(SocketContext& context, int error);

// The lower socket's own address (or its peer's), as the provider below reports it.
td_address lower_address(const SocketContext& context, bool peer);

// An address in the event model's form; family NONE for anything else than IPv4 and IPv6.
td_address address_of(const sockaddr* address, int length);

}  // namespace teardown::lsp
