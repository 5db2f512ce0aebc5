// SIO_TCP_INFO's request and its version-0 answer, as Windows 10 1703 defines them. The
// headers declare them only when built for that version and later; Teardown's DLL loads on older
// systems too, and asks (they answer WSAEOPNOTSUPP).
#pragma once

#include "../core/win.h"

#include <cstddef>

namespace teardown::lsp {

constexpr DWORD kSioTcpInfo = _WSAIORW(IOC_VENDOR, 39);

struct TcpInfoV0 {
  DWORD state;  // TCPSTATE: CLOSED 0, LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1,
                // FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT 10
  ULONG mss;
  ULONG64 connection_time_ms;
  BOOLEAN timestamps_enabled;
  ULONG rtt_us;
  ULONG min_rtt_us;
  ULONG bytes_in_flight;
  ULONG cwnd;
  ULONG snd_wnd;
  ULONG rcv_wnd;
  ULONG rcv_buf;
  ULONG64 bytes_out;
  ULONG64 bytes_in;
  ULONG bytes_reordered;
  ULONG bytes_retrans;
  ULONG fast_retrans;
  ULONG dup_acks_in;
  ULONG timeout_episodes;
  UCHAR syn_retrans;
};
static_assert(sizeof(TcpInfoV0) == 88, "TCP_INFO_v0's layout");
static_assert(offsetof(TcpInfoV0, bytes_out) == 48, "TCP_INFO_v0's layout");

// TCPSTATE's values, by name.
enum WindowsTcpState : DWORD {
  kTcpClosed = 0,
  kTcpListen = 1,
  kTcpSynSent = 2,
  kTcpSynReceived = 3,
  kTcpEstablished = 4,
  kTcpFinWait1 = 5,
  kTcpFinWait2 = 6,
  kTcpCloseWait = 7,
  kTcpClosing = 8,
  kTcpLastAck = 9,
  kTcpTimeWait = 10,
};

}  // namespace teardown::lsp
