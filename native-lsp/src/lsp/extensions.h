// The Microsoft extension functions, as SIO_GET_EXTENSION_FUNCTION_POINTER hands them out: the
// provider's own take its handles, so the application gets Teardown's wrappers, which find the
// lower sockets, run the provider's function with the LSP's own overlapped request, and record
// what they mean: AcceptEx and ConnectEx start a connection; DisconnectEx, and TransmitFile or
// TransmitPackets with TF_DISCONNECT, end one gracefully (TF_REUSE_SOCKET leaves the socket
// ready for the next); WSARecvMsg is a receive.
#pragma once

#include "sockets.h"
#include "spi.h"

namespace teardown::lsp {

// WSPIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER): 0, or SOCKET_ERROR with WSAEINVAL for a function
// Teardown does not wrap or the provider below does not have.
int extension_function(SocketContext& context, const void* in, DWORD in_length, void* out,
                       DWORD out_length, LPDWORD returned, LPINT error);

}  // namespace teardown::lsp
