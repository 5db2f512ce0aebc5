// Disconnect-data emulation in the Windows LSP: on a connection whose local or remote port the
// configuration lists, the application's sends are framed and its receives unframed (the core's
// framed_calls.h over the provider below), WSPSendDisconnect sends the DISCONNECT record and
// WSPRecvDisconnect returns the peer's, and the socket's protocol info says XP1_DISCONNECT_DATA.
#pragma once

#include <cstdint>
#include <vector>

#include "../core/emulated_connection.h"
#include "overlapped.h"
#include "sockets.h"
#include "spi.h"

namespace teardown::lsp {

// Whether a connection of this socket can be emulated at all: only in full mode, where every
// request of the application goes through Teardown. In compatible mode Teardown never changes a
// stream: its requests complete without Teardown seeing them.
bool emulation_possible(const SocketContext& context);

// Once a connection's endpoints are known (connect, accept, the update-context options): whether
// its disconnect data is emulated. Decided once per connection.
void start_emulation(SocketContext& context);

// A connection not emulated here: the first bytes a receive brought (`received` of them, in
// `buffers`) are watched for a peer that frames them. True when they are its HELLO: the
// connection has been reset and why recorded, and the receive must fail with WSAECONNABORTED
// rather than hand the application the records.
bool framed_unexpectedly(SocketContext& context, const WSABUF* buffers, DWORD count, DWORD received);

// The socket's emulated connection, or null.
EmulatedConnection* emulation_of(const SocketContext& context);

// The connection that ends on this socket is emulated from its start (AcceptEx on a listener
// whose port the configuration lists; ConnectEx to such a port): true when it is.
bool emulate_from_start(SocketContext& context, uint16_t local_port, uint16_t remote_port);

// The connection of a socket that DisconnectEx ended (TF_REUSE_SOCKET: the next is decided anew).
void end_emulation(SocketContext& context);

// ConnectEx's first bytes on an emulated connection: framed into `request`'s own buffer, which
// the provider's ConnectEx sends instead. False (nothing changed) when they do not fit one write.
bool frame_first_bytes(SocketContext& context, Request& request, const void* data, DWORD length);

// AcceptEx's first bytes on an emulated connection: unframed in place at its completion.
void unframe_first_bytes_later(Request& request, void* buffer, DWORD length);

// The non-overlapped data calls on an emulated connection, with WSPSend's and WSPRecv's results.
int framed_send(SocketContext& context, LPWSABUF buffers, DWORD count, LPDWORD sent,
                DWORD flags, const sockaddr* to, int to_length, LPINT error);
int framed_receive(SocketContext& context, LPWSABUF buffers, DWORD count, LPDWORD received,
                   LPDWORD flags, sockaddr* from, LPINT from_length, LPINT error);

// Before WSPShutdown of sending: the stream's own owed bytes, if the wire takes them now.
void flush_before_shutdown(SocketContext& context);

int framed_send_disconnect(SocketContext& context, LPWSABUF data, LPINT error);
// On success `data->len` is the disconnect data received (0 when none has arrived).
int framed_recv_disconnect(SocketContext& context, LPWSABUF data, LPINT error);
// FIONREAD on an emulated connection: `bytes`, the wire's count, becomes the application's.
void framed_available(SocketContext& context, u_long& bytes);

// An overlapped request on an emulated connection: the application's buffers (its WSABUF array
// may be gone once the call returns) and the layout below.
struct FramedRequest {
  // Held from the start: a DisconnectEx may end the socket's emulation while the request is in
  // flight (the connection's memory is pooled, never freed).
  EmulatedConnection* connection = nullptr;
  Span app[kMaxSpans];
  size_t app_count = 0;
  ReadPlan read;
  WritePlan write;
  size_t app_length = 0;        // a send: the application's bytes it carries
  std::vector<uint8_t> wire;    // ConnectEx: its first bytes, framed
};

// Overlapped WSPRecv/WSPRecvFrom and WSPSend/WSPSendTo on an emulated connection (its lower socket
// bound to the LSP's port). Receives go below one at a time, in order: one that brings only the
// stream's own bytes asks again before the next.
int framed_overlapped_receive(SocketRef& context, LPWSABUF buffers, DWORD count, DWORD flags,
                              LPWSAOVERLAPPED overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                              LPINT error);
int framed_overlapped_send(SocketRef& context, LPWSABUF buffers, DWORD count, DWORD flags,
                           const sockaddr* to, int to_length, LPWSAOVERLAPPED overlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                           LPINT error);

// The worker's: the lower completion of a framed request. True when it was handled (completed,
// or asked again below); false: complete it as any other request.
bool framed_completion(Request* request, int error, DWORD bytes);

}  // namespace teardown::lsp
