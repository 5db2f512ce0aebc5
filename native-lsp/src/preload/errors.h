// errno values as the Winsock errors the event model speaks.
#pragma once

#include <cerrno>
#include <cstdint>

#include "../core/winsock_errors.h"

namespace teardown::preload {

constexpr int32_t winsock_error(int error) {
  switch (error) {
    case 0: return 0;
    case EINTR: return wsa::kInterrupted;
    case EFAULT: return wsa::kFault;
    case EINVAL: return wsa::kInvalid;
    case EMSGSIZE: return wsa::kMessageSize;
    case EAGAIN: return wsa::kWouldBlock;
    case EINPROGRESS: return wsa::kInProgress;
    case EBADF:
    case ENOTSOCK: return wsa::kNotSocket;
    case ENOPROTOOPT: return wsa::kNoProtocolOption;
    case ENETDOWN: return wsa::kNetworkDown;
    case ECONNABORTED: return wsa::kConnectionAborted;
    case ECONNRESET: return wsa::kConnectionReset;
    case ENOTCONN: return wsa::kNotConnected;
    case ESHUTDOWN: return wsa::kShutdown;
    case ETIMEDOUT: return 10060;     // WSAETIMEDOUT
    case ECONNREFUSED: return 10061;  // WSAECONNREFUSED
    case EHOSTUNREACH: return 10065;  // WSAEHOSTUNREACH
    case ENETUNREACH: return 10051;   // WSAENETUNREACH
    default: return -error;  // no Winsock twin: the errno itself, negated
  }
}

}  // namespace teardown::preload
