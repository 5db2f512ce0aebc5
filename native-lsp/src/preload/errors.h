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
    case ETIMEDOUT: return wsa::kTimedOut;
    case ECONNREFUSED: return wsa::kConnectionRefused;
    case EHOSTUNREACH: return wsa::kHostUnreachable;
    case EHOSTDOWN: return wsa::kHostDown;
    case ENETUNREACH: return wsa::kNetworkUnreachable;
    case ENETRESET: return wsa::kNetworkReset;
    case EACCES:
    case EPERM: return wsa::kAccess;  // a firewall's refusal
    case EADDRNOTAVAIL: return wsa::kAddressNotAvailable;
    default: return -error;  // no Winsock twin: the errno itself, negated
  }
}

// The errno for td_event_record.os_error: as the program saw it, when it fits.
constexpr uint8_t os_error(int error) {
  return error > 0 && error < 256 ? static_cast<uint8_t>(error) : 0;
}

}  // namespace teardown::preload
