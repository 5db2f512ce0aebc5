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
constexpr int32_t kAccess = 10013;          // WSAEACCES
constexpr int32_t kAddressNotAvailable = 10049;  // WSAEADDRNOTAVAIL
constexpr int32_t kNetworkDown = 10050;     // WSAENETDOWN
constexpr int32_t kNetworkUnreachable = 10051;  // WSAENETUNREACH
constexpr int32_t kNetworkReset = 10052;    // WSAENETRESET: keepalive found the peer gone
constexpr int32_t kConnectionAborted = 10053;  // WSAECONNABORTED
constexpr int32_t kConnectionReset = 10054;    // WSAECONNRESET
constexpr int32_t kNotConnected = 10057;    // WSAENOTCONN
constexpr int32_t kShutdown = 10058;        // WSAESHUTDOWN
constexpr int32_t kTimedOut = 10060;        // WSAETIMEDOUT
constexpr int32_t kConnectionRefused = 10061;  // WSAECONNREFUSED
constexpr int32_t kHostDown = 10064;        // WSAEHOSTDOWN
constexpr int32_t kHostUnreachable = 10065;  // WSAEHOSTUNREACH
constexpr int32_t kDisconnected = 10101;    // WSAEDISCON

// A receive or send that failed this way reports the connection lost: reset or aborted by the
// peer, or given up by this side's stack (retransmissions or keepalive unanswered).
constexpr bool is_reset(int32_t error) {
  return error == kConnectionReset || error == kConnectionAborted || error == kTimedOut ||
         error == kNetworkReset;
}

// A connect that failed this way was tried on the network and made no connection.
constexpr bool is_connect_failure(int32_t error) {
  switch (error) {
    case kConnectionRefused:
    case kTimedOut:
    case kNetworkUnreachable:
    case kHostUnreachable:
    case kHostDown:
    case kNetworkDown:
    case kConnectionReset:
    case kConnectionAborted:
    case kAccess:
    case kAddressNotAvailable:
      return true;
    default:
      return false;
  }
}

}  // namespace teardown::wsa
