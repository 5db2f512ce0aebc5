// The calls ws2_32 routes to a layered provider through WSPIoctl rather than a table entry (Vista
// and later). It first asks each socket's chain which handle serves the call (SIO_BSP_HANDLE for
// WSASendMsg, SIO_BSP_HANDLE_POLL for WSAPoll, SIO_BSP_HANDLE_SELECT for select), then hands the
// call to the provider owning that handle as an ioctl (SIO_EXT_SENDMSG, SIO_EXT_POLL). A
// non-IFS layer that passes the question down is bypassed: the base provider gets the call with
// its own handles.
//
// Teardown answers SIO_BSP_HANDLE and SIO_BSP_HANDLE_POLL with its own handle, as Microsoft's
// sample LSP does, and serves the calls that follow:
//  - WSASendMsg: on an overlapped socket whose requests go through Teardown's completion port,
//    the base provider's WSASendMsg would complete on that port, where nobody expects it, and the
//    application would wait for ever. Through Teardown it goes to the provider below as the
//    application made it (answered as it would be without Teardown) and completes as the
//    application asked; its bytes are counted, and on an emulated connection they are framed.
//  - WSAPoll: the handles are translated to the lower ones and the poll goes below; a hang-up
//    is recorded as FD_CLOSE, as WSAEnumNetworkEvents' is.
// SIO_BSP_HANDLE_SELECT is passed down: select keeps going to the base provider. ws2_32 itself
// bypasses every non-IFS layer for select unless each answers with its own handle and is layered
// over IPv4 and IPv6 alike (the sample leaves it passed down for that reason), select reports
// readiness and nothing Teardown records, and programs check that SIO_BSP_HANDLE_SELECT agrees
// with SIO_BASE_HANDLE before they trust their own readiness polling (trio refuses to start
// otherwise).
//
// Registered I/O is refused: its functions (SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER with
// WSAID_MULTIPLE_RIO) take the base provider's handles and complete through queues no layer can
// enter, so they would go around Teardown and fail on its handles.
#pragma once

#include "sockets.h"
#include "spi.h"

namespace teardown::lsp {

// True when WSPIoctl's `code` on `context` is one of the above: routed_call serves it. In
// compatible mode only WSAPoll and WSASendMsg are, for what they tell Teardown; they go below as
// the application made them (SIO_BSP_HANDLE answers the base provider's handle, which is the
// application's own, and registered I/O works on it).
bool routed(const SocketContext& context, DWORD code);

// WSPIoctl for a routed code on the application's socket `context`; 0 or SOCKET_ERROR with
// `error`, as the ioctl's contract has it.
int routed_call(SocketRef& context, DWORD code, LPVOID in, DWORD in_length, LPVOID out,
                DWORD out_length, LPDWORD returned, LPWSAOVERLAPPED overlapped,
                LPWSATHREADID thread, LPINT error);

}  // namespace teardown::lsp
