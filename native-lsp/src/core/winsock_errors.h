// Winsock error numbers, the vocabulary of the event model on every platform. Defined here by
// value so that the portable core needs no Windows header.
#pragma once

#include <cstdint>

namespace teardown::wsa {

constexpr int32_t kOperationAborted = 995;  // WSA_OPERATION_ABORTED
constexpr int32_t kInterrupted = 10004;     // WSAEINTR
constexpr int32_t kFault = 10014;           // WSAEFAULT
constexpr int32_t kInvalid = 10022;         // WSAEINVAL
constexpr int32_t kWouldBlock = 10035;      // WSAEWOULDBLOCK
constexpr int32_t kInProgress = 10036;      // WSAEINPROGRESS
constexpr int32_t kNotSocket = 10038;       // WSAENOTSOCK
constexpr int32_t kMessageSize = 10040;     // WSAEMSGSIZE
constexpr int32_t kNoProtocolOption = 10042;  // WSAENOPROTOOPT
constexpr int32_t kNetworkDown = 10050;     // WSAENETDOWN
constexpr int32_t kConnectionAborted = 10053;  // WSAECONNABORTED
constexpr int32_t kConnectionReset = 10054;    // WSAECONNRESET
constexpr int32_t kNotConnected = 10057;    // WSAENOTCONN
constexpr int32_t kShutdown = 10058;        // WSAESHUTDOWN
constexpr int32_t kDisconnected = 10101;    // WSAEDISCON

// A receive or send that failed this way reports an abortive shutdown by the peer.
constexpr bool is_reset(int32_t error) {
  return error == kConnectionReset || error == kConnectionAborted;
}

}  // namespace teardown::wsa
