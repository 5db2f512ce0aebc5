// The base provider below Teardown in the SPI host: every WSP entry built on the real sockets of
// the system it runs on (Wine's), so that traffic is real TCP on loopback. Its catalog entry's
// service flags choose what it offers beyond plain TCP, so that the LSP's pass-through of both
// is tested:
//  - XP1_DISCONNECT_DATA: disconnect data travels between two of its sockets in this process
//    (kept here, keyed by the connection's ports), with the graceful shutdown it comes with;
//  - XP1_MESSAGE_ORIENTED: the peer's graceful shutdown is reported as WSAEDISCON.
//  - kBoundElsewhere in dwServiceFlags4: each socket is bound to a completion port of the
//    provider's own as it is made, as a provider may do, so that no layer can bind it to its own;
// And where Wine differs from Windows in what the LSP must handle, it behaves as Windows does:
// SIO_TCP_INFO (which Wine does not offer) tells the connection's TCP state as a kernel would,
// from how each end of it ended through this provider (both ends are in the host's process):
// Wine cannot be asked, and its server takes a reset's error off the socket as it polls;
// closing a non-blocking socket that lingers with a timeout fails with WSAEWOULDBLOCK the first
// time (Windows does so while data is unsent; Wine closes at once), leaving the socket open.
// It remembers every OVERLAPPED it is handed (TestBaseSawOverlapped): a non-IFS layer must hand
// it its own, never the application's.
#include "../../src/core/win.h"  // the Windows headers, in the order they need
#include "../../src/lsp/tcp_info.h"

#include <mswsock.h>
#include <ws2spi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <utility>

namespace {

// dwServiceFlags4 of the catalog entry whose sockets are bound to a port of the provider's own.
constexpr DWORD kBoundElsewhere = 0x7E57B0;

struct Traits {
  bool disconnect_data = false;
  bool message_oriented = false;
  bool bound_elsewhere = false;
  // The connection's ports, kept from when it was made: the peer may be gone when they are needed.
  u_short local_port = 0;
  u_short peer_port = 0;
  bool nonblocking = false;
  bool lingering = false;  // SO_LINGER {1, t > 0}
  bool close_refused = false;
  bool abortive = false;   // SO_LINGER {1, 0}
};

// The calls a layer may make of its own, counted for the host's benchmark: it compares what a
// connection asks of this provider through Teardown with what it asks of it alone.
enum CountedCall { kGetSockName, kGetPeerName, kIoctl, kGetSockOpt, kSetSockOpt, kCountedCalls };
std::atomic<uint64_t> counted_[kCountedCalls];

void count(CountedCall call) { counted_[call].fetch_add(1, std::memory_order_relaxed); }

// The OVERLAPPEDs requests came with (the most recent ones).
std::mutex overlapped_lock_;
std::set<const void*> overlapped_seen_;

LPWSAOVERLAPPED seen(LPWSAOVERLAPPED overlapped) {
  if (overlapped == nullptr) return overlapped;
  std::lock_guard<std::mutex> hold(overlapped_lock_);
  if (overlapped_seen_.size() > 100000) overlapped_seen_.clear();
  overlapped_seen_.insert(overlapped);
  return overlapped;
}

// A completion port of the provider's own, for sockets bound elsewhere.
void bind_elsewhere(SOCKET s) {
  static HANDLE own = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  CreateIoCompletionPort(reinterpret_cast<HANDLE>(s), own, 0, 0);
}

std::mutex lock_;
std::map<SOCKET, Traits> traits_;
// Disconnect data sent, by (sender's port, receiver's port).
std::map<std::pair<u_short, u_short>, std::string> disconnect_data_;
// Duplicated sockets' system protocol info, by the reserved value handed up.
std::map<DWORD, WSAPROTOCOL_INFOW> duplicates_;
DWORD next_duplicate_ = 1;

Traits traits_of(SOCKET s) {
  std::lock_guard<std::mutex> hold(lock_);
  auto found = traits_.find(s);
  return found == traits_.end() ? Traits{} : found->second;
}

void remember(SOCKET s, Traits traits) {
  std::lock_guard<std::mutex> hold(lock_);
  traits_[s] = traits;
}

u_short port_of(SOCKET s, bool peer);

// How the ends of each connection made through this provider ended, keyed by (the end's port,
// its peer's): what a kernel knows of the peer when the other end asks.
struct Ended {
  bool fin = false;
  bool reset = false;
  bool closed = false;
};
std::map<std::pair<u_short, u_short>, Ended> ended_;

// An end of a connection sent its FIN (`reset` false) or reset it, and with `closed` closed its
// socket: once both ends have, nobody can ask, and the connection is forgotten.
void ended(SOCKET s, bool reset, bool closed = false) {
  std::lock_guard<std::mutex> hold(lock_);
  auto found = traits_.find(s);
  if (found == traits_.end() || found->second.local_port == 0) return;
  std::pair<u_short, u_short> own{found->second.local_port, found->second.peer_port};
  std::pair<u_short, u_short> other{own.second, own.first};
  Ended& end = ended_[own];
  (reset ? end.reset : end.fin) = true;
  end.closed |= closed;
  auto peer = ended_.find(other);
  if (end.closed && peer != ended_.end() && peer->second.closed) {
    ended_.erase(peer);
    ended_.erase(own);
  }
}

// A new connection on ports an old one had: its endings are not this one's.
void forget_endings(u_short local, u_short peer) {
  std::lock_guard<std::mutex> hold(lock_);
  ended_.erase({local, peer});
  ended_.erase({peer, local});
}

void remember_ports(SOCKET s) {
  u_short local = port_of(s, false), peer = port_of(s, true);
  forget_endings(local, peer);
  std::lock_guard<std::mutex> hold(lock_);
  traits_[s].local_port = local;
  traits_[s].peer_port = peer;
}

int failed(LPINT error) {
  *error = WSAGetLastError();
  return SOCKET_ERROR;
}

int checked(int result, LPINT error) {
  return result == SOCKET_ERROR ? failed(error) : result;
}

u_short port_of(SOCKET s, bool peer) {
  sockaddr_storage address{};
  int length = sizeof(address);
  auto* name = reinterpret_cast<sockaddr*>(&address);
  if ((peer ? getpeername(s, name, &length) : getsockname(s, name, &length)) != 0) return 0;
  return ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(name)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(name)->sin_port);
}

uint64_t capacity(const WSABUF* buffers, DWORD count) {
  uint64_t total = 0;
  for (DWORD i = 0; i < count; ++i) total += buffers[i].len;
  return total;
}

// A message-oriented socket reports the peer's graceful end as WSAEDISCON, not as 0 bytes.
int received(SOCKET s, int result, const WSABUF* buffers, DWORD count, LPDWORD bytes, LPINT error) {
  if (result == SOCKET_ERROR) return failed(error);
  if (bytes != nullptr && *bytes == 0 && capacity(buffers, count) > 0 &&
      traits_of(s).message_oriented) {
    *error = WSAEDISCON;
    return SOCKET_ERROR;
  }
  return 0;
}

SOCKET WSPAPI Accept(SOCKET s, sockaddr* address, LPINT length, LPCONDITIONPROC condition,
                     DWORD_PTR data, LPINT error) {
  SOCKET accepted = WSAAccept(s, address, length, condition, data);
  if (accepted == INVALID_SOCKET) {
    *error = WSAGetLastError();
    return INVALID_SOCKET;
  }
  Traits traits = traits_of(s);
  if (traits.bound_elsewhere) bind_elsewhere(accepted);
  remember(accepted, traits);
  remember_ports(accepted);
  return accepted;
}

INT WSPAPI AddressToString(LPSOCKADDR address, DWORD length, LPWSAPROTOCOL_INFOW, LPWSTR text,
                           LPDWORD text_length, LPINT error) {
  return checked(WSAAddressToStringW(address, length, nullptr, text, text_length), error);
}

void set_nonblocking(SOCKET s);

int WSPAPI AsyncSelect(SOCKET s, HWND window, unsigned int message, long events, LPINT error) {
  if (WSAAsyncSelect(s, window, message, events) == SOCKET_ERROR) return failed(error);
  set_nonblocking(s);
  return 0;
}

int WSPAPI Bind(SOCKET s, const sockaddr* name, int length, LPINT error) {
  return checked(bind(s, name, length), error);
}

int WSPAPI CancelBlockingCall(LPINT) {
  return 0;
}  // Winsock 1.1 only: nothing blocks that way

std::atomic<int> starts_{0};

// The last cleanup closes every socket still open, as Windows' base provider does (WSACleanup's
// contract: such sockets are reset and deallocated as if closesocket were called). A layer that
// hands out this provider's own handles (compatible mode) leaves them to it.
int WSPAPI Cleanup(LPINT error) {
  if (starts_.load() <= 0) {
    *error = WSANOTINITIALISED;
    return SOCKET_ERROR;
  }
  if (--starts_ > 0) return 0;
  std::map<SOCKET, Traits> open;
  {
    std::lock_guard<std::mutex> hold(lock_);
    open.swap(traits_);
  }
  for (const auto& [s, traits] : open) closesocket(s);
  return 0;
}

int WSPAPI CloseSocket(SOCKET s, LPINT error) {
  {
    std::lock_guard<std::mutex> hold(lock_);
    auto found = traits_.find(s);
    if (found != traits_.end() && found->second.nonblocking && found->second.lingering &&
        !found->second.close_refused) {
      found->second.close_refused = true;
      *error = WSAEWOULDBLOCK;
      return SOCKET_ERROR;
    }
  }
  bool abortive = traits_of(s).abortive;
  if (closesocket(s) == SOCKET_ERROR) return failed(error);
  ended(s, abortive, true);
  std::lock_guard<std::mutex> hold(lock_);
  traits_.erase(s);
  return 0;
}

int WSPAPI Connect(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee,
                   LPQOS socket_qos, LPQOS group_qos, LPINT error) {
  if (WSAConnect(s, name, length, caller, callee, socket_qos, group_qos) == SOCKET_ERROR) {
    return failed(error);
  }
  remember_ports(s);
  return 0;
}

int WSPAPI DuplicateSocket(SOCKET s, DWORD process, LPWSAPROTOCOL_INFOW info, LPINT error) {
  WSAPROTOCOL_INFOW system{};
  if (WSADuplicateSocketW(s, process, &system) == SOCKET_ERROR) return failed(error);
  std::lock_guard<std::mutex> hold(lock_);
  DWORD key = next_duplicate_++;
  duplicates_[key] = system;
  *info = system;
  info->dwProviderReserved = key;
  return 0;
}

int WSPAPI EnumNetworkEvents(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events, LPINT error) {
  return checked(WSAEnumNetworkEvents(s, event, events), error);
}

void set_nonblocking(SOCKET s) {
  std::lock_guard<std::mutex> hold(lock_);
  traits_[s].nonblocking = true;
}

int WSPAPI EventSelect(SOCKET s, WSAEVENT event, long events, LPINT error) {
  if (WSAEventSelect(s, event, events) == SOCKET_ERROR) return failed(error);
  set_nonblocking(s);
  return 0;
}

BOOL WSPAPI GetOverlappedResult(SOCKET s, LPWSAOVERLAPPED overlapped, LPDWORD transferred,
                                BOOL wait, LPDWORD flags, LPINT error) {
  BOOL done = WSAGetOverlappedResult(s, overlapped, transferred, wait, flags);
  if (!done) *error = WSAGetLastError();
  return done;
}

int WSPAPI GetPeerName(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  count(kGetPeerName);
  return checked(getpeername(s, name, length), error);
}

int WSPAPI GetSockName(SOCKET s, sockaddr* name, LPINT length, LPINT error) {
  count(kGetSockName);
  return checked(getsockname(s, name, length), error);
}

int WSPAPI GetSockOpt(SOCKET s, int level, int name, char* value, LPINT length, LPINT error) {
  count(kGetSockOpt);
  return checked(getsockopt(s, level, name, value, length), error);
}

BOOL WSPAPI GetQOSByName(SOCKET s, LPWSABUF name, LPQOS qos, LPINT error) {
  BOOL found = WSAGetQOSByName(s, name, qos);
  if (!found) *error = WSAGetLastError();
  return found;
}

// SIO_TCP_INFO, version 0, with the state alone.
int tcp_info(SOCKET s, LPVOID in, DWORD in_length, LPVOID out, DWORD out_length,
             LPDWORD returned, LPINT error) {
  using namespace teardown::lsp;
  DWORD version = 0;
  if (in == nullptr || in_length < sizeof(version) || out == nullptr ||
      out_length < sizeof(TcpInfoV0)) {
    *error = WSAEFAULT;
    return SOCKET_ERROR;
  }
  std::memcpy(&version, in, sizeof(version));
  if (version != 0) {
    *error = WSAEINVAL;
    return SOCKET_ERROR;
  }
  Ended own, peer;
  {
    std::lock_guard<std::mutex> hold(lock_);
    auto found = traits_.find(s);
    if (found == traits_.end() || found->second.local_port == 0) {
      *error = WSAENOTCONN;
      return SOCKET_ERROR;
    }
    own = ended_[{found->second.local_port, found->second.peer_port}];
    peer = ended_[{found->second.peer_port, found->second.local_port}];
  }
  TcpInfoV0 info{};
  info.state = own.reset || peer.reset   ? kTcpClosed
               : own.fin && peer.fin     ? kTcpTimeWait
               : own.fin                 ? kTcpFinWait2
               : peer.fin                ? kTcpCloseWait
                                         : kTcpEstablished;
  // The state is all this model knows: the answer ends there, as a system's that tells less does,
  // so that the layer takes no count from it.
  std::memcpy(out, &info, sizeof(info.state));
  if (returned != nullptr) *returned = sizeof(info.state);
  return 0;
}

// What Windows' base provider answers and Wine does not: it is the base, so the handle that
// serves select, WSAPoll and WSASendMsg is its own; and the calls ws2_32 routes to a provider by
// ioctl (WSAPoll, WSASendMsg), made on the system's sockets.
bool windows_only_ioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_length, LPVOID out,
                        DWORD out_length, LPDWORD returned, int& result, LPINT error) {
  switch (code) {
    case SIO_BASE_HANDLE:
    case SIO_BSP_HANDLE:
    case SIO_BSP_HANDLE_SELECT:
    case SIO_BSP_HANDLE_POLL:
      if (out == nullptr || out_length < sizeof(SOCKET)) {
        result = SOCKET_ERROR;
        *error = WSAEFAULT;
      } else {
        std::memcpy(out, &s, sizeof(s));
        if (returned != nullptr) *returned = sizeof(s);
        result = 0;
      }
      return true;
    case teardown::lsp::kSioTcpInfo:
      result = tcp_info(s, in, in_length, out, out_length, returned, error);
      return true;
    case SIO_EXT_POLL: {
      auto* data = static_cast<WSAPOLLDATA*>(in);
      if (data == nullptr || in_length < offsetof(WSAPOLLDATA, fdArray)) {
        result = SOCKET_ERROR;
        *error = WSAEFAULT;
        return true;
      }
      auto* fds =
          reinterpret_cast<WSAPOLLFD*>(static_cast<char*>(in) + offsetof(WSAPOLLDATA, fdArray));
      data->result = WSAPoll(fds, data->fds, data->timeout);
      result = data->result == SOCKET_ERROR ? failed(error) : 0;
      return true;
    }
    case SIO_EXT_SENDMSG: {
      auto* call = static_cast<WSASENDMSG*>(in);
      if (call == nullptr || in_length < sizeof(WSASENDMSG) || out == nullptr ||
          out_length < sizeof(DWORD)) {
        result = SOCKET_ERROR;
        *error = WSAEFAULT;
        return true;
      }
      DWORD status = 0;
      result = WSASendMsg(s, call->lpMsg, call->dwFlags, call->lpNumberOfBytesSent,
                          seen(call->lpOverlapped), call->lpCompletionRoutine);
      if (result == SOCKET_ERROR) {
        failed(error);
        status = static_cast<DWORD>(*error);
      }
      std::memcpy(out, &status, sizeof(status));
      return true;
    }
    default:
      return false;
  }
}

int WSPAPI Ioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_length, LPVOID out, DWORD out_length,
                 LPDWORD returned, LPWSAOVERLAPPED overlapped,
                 LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID, LPINT error) {
  count(kIoctl);
  int result = 0;
  if (windows_only_ioctl(s, code, in, in_length, out, out_length, returned, result, error)) {
    return result;
  }
  if (WSAIoctl(s, code, in, in_length, out, out_length, returned, seen(overlapped), routine) ==
      SOCKET_ERROR) {
    return failed(error);
  }
  if (code == static_cast<DWORD>(FIONBIO) && in != nullptr && *static_cast<u_long*>(in) != 0) {
    set_nonblocking(s);
  } else if (code == static_cast<DWORD>(FIONBIO) && in != nullptr) {
    std::lock_guard<std::mutex> hold(lock_);
    traits_[s].nonblocking = false;
  }
  return 0;
}

SOCKET WSPAPI JoinLeaf(SOCKET s, const sockaddr* name, int length, LPWSABUF caller, LPWSABUF callee,
                       LPQOS socket_qos, LPQOS group_qos, DWORD flags, LPINT error) {
  SOCKET joined = WSAJoinLeaf(s, name, length, caller, callee, socket_qos, group_qos, flags);
  if (joined == INVALID_SOCKET) *error = WSAGetLastError();
  return joined;
}

int WSPAPI Listen(SOCKET s, int backlog, LPINT error) {
  return checked(listen(s, backlog), error);
}

int WSPAPI Recv(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD bytes, LPDWORD flags,
                LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                LPWSATHREADID, LPINT error) {
  int result = WSARecv(s, buffers, count, bytes, flags, seen(overlapped), routine);
  return received(s, result, buffers, count, bytes, error);
}

int WSPAPI RecvDisconnect(SOCKET s, LPWSABUF data, LPINT error) {
  bool wants_data = data != nullptr && data->len > 0;
  if (wants_data) {
    Traits traits = traits_of(s);
    if (!traits.disconnect_data) {
      *error = WSAENOPROTOOPT;
      return SOCKET_ERROR;
    }
    std::string found;
    {
      std::lock_guard<std::mutex> hold(lock_);
      auto at = disconnect_data_.find({traits.peer_port, traits.local_port});
      if (at != disconnect_data_.end()) found = at->second;
    }
    ULONG length = found.size() < data->len ? static_cast<ULONG>(found.size()) : data->len;
    std::memcpy(data->buf, found.data(), length);
    data->len = length;
  }
  return checked(shutdown(s, SD_RECEIVE), error);
}

int WSPAPI RecvFrom(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD bytes, LPDWORD flags,
                    sockaddr* from, LPINT from_length, LPWSAOVERLAPPED overlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID, LPINT error) {
  int result =
      WSARecvFrom(s, buffers, count, bytes, flags, from, from_length, seen(overlapped), routine);
  return received(s, result, buffers, count, bytes, error);
}

int WSPAPI Select(int nfds, fd_set* readers, fd_set* writers, fd_set* exceptions,
                  const PTIMEVAL timeout, LPINT error) {
  return checked(select(nfds, readers, writers, exceptions, timeout), error);
}

int WSPAPI Send(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD bytes, DWORD flags,
                LPWSAOVERLAPPED overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine,
                LPWSATHREADID, LPINT error) {
  return checked(WSASend(s, buffers, count, bytes, flags, seen(overlapped), routine), error);
}

int WSPAPI SendDisconnect(SOCKET s, LPWSABUF data, LPINT error) {
  if (data != nullptr && data->len > 0) {
    Traits traits = traits_of(s);
    if (!traits.disconnect_data) {
      *error = WSAENOPROTOOPT;
      return SOCKET_ERROR;
    }
    std::lock_guard<std::mutex> hold(lock_);
    disconnect_data_[{traits.local_port, traits.peer_port}] = std::string(data->buf, data->len);
  }
  int result = checked(shutdown(s, SD_SEND), error);
  if (result == 0) ended(s, false);
  return result;
}

int WSPAPI SendTo(SOCKET s, LPWSABUF buffers, DWORD count, LPDWORD bytes, DWORD flags,
                  const sockaddr* to, int to_length, LPWSAOVERLAPPED overlapped,
                  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID, LPINT error) {
  return checked(
      WSASendTo(s, buffers, count, bytes, flags, to, to_length, seen(overlapped), routine), error);
}

int WSPAPI SetSockOpt(SOCKET s, int level, int name, const char* value, int length, LPINT error) {
  count(kSetSockOpt);
  if (setsockopt(s, level, name, value, length) == SOCKET_ERROR) return failed(error);
  if (level == SOL_SOCKET && name == SO_LINGER && length >= static_cast<int>(sizeof(linger))) {
    linger option;
    std::memcpy(&option, value, sizeof(option));
    std::lock_guard<std::mutex> hold(lock_);
    traits_[s].lingering = option.l_onoff != 0 && option.l_linger > 0;
    traits_[s].abortive = option.l_onoff != 0 && option.l_linger == 0;
  }
  return 0;
}

int WSPAPI Shutdown(SOCKET s, int how, LPINT error) {
  int result = checked(shutdown(s, how), error);
  if (result == 0 && how != SD_RECEIVE) ended(s, false);
  return result;
}

SOCKET WSPAPI Socket(int family, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP group,
                     DWORD flags, LPINT error) {
  SOCKET s = INVALID_SOCKET;
  if (info != nullptr && info->dwProviderReserved != 0) {
    WSAPROTOCOL_INFOW system{};
    {
      std::lock_guard<std::mutex> hold(lock_);
      auto found = duplicates_.find(static_cast<DWORD>(info->dwProviderReserved));
      if (found == duplicates_.end()) {
        *error = WSAEINVAL;
        return INVALID_SOCKET;
      }
      system = found->second;
      duplicates_.erase(found);
    }
    s = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &system, group,
                   flags);
  } else {
    s = WSASocketW(family, type, protocol, nullptr, group, flags);
  }
  if (s == INVALID_SOCKET) {
    *error = WSAGetLastError();
    return INVALID_SOCKET;
  }
  Traits traits;
  if (info != nullptr) {
    traits.disconnect_data = (info->dwServiceFlags1 & XP1_DISCONNECT_DATA) != 0;
    traits.message_oriented = (info->dwServiceFlags1 & XP1_MESSAGE_ORIENTED) != 0;
    traits.bound_elsewhere = info->dwServiceFlags4 == kBoundElsewhere;
  }
  if (traits.bound_elsewhere) bind_elsewhere(s);
  remember(s, traits);
  return s;
}

INT WSPAPI StringToAddress(LPWSTR text, INT family, LPWSAPROTOCOL_INFOW, LPSOCKADDR address,
                           LPINT length, LPINT error) {
  return checked(WSAStringToAddressW(text, family, nullptr, address, length), error);
}

}  // namespace

#if defined(__GLIBCXX__)
namespace __gnu_cxx {
void __freeres() noexcept;  // libstdc++'s emergency pool, else left behind by every unload
}
#endif

// For the host's benchmark: how many times each counted call was made so far, in the order of
// CountedCall (getsockname, getpeername, ioctl, getsockopt, setsockopt).
extern "C" void TestBaseCallCounts(uint64_t* out, int count) {
  for (int call = 0; call < count && call < kCountedCalls; ++call) {
    out[call] = counted_[call].load(std::memory_order_relaxed);
  }
}

// Whether a request ever came with `overlapped` (among the last 100,000).
extern "C" BOOL TestBaseSawOverlapped(const void* overlapped) {
  std::lock_guard<std::mutex> hold(overlapped_lock_);
  return overlapped_seen_.count(overlapped) != 0;
}

extern "C" BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID reserved) {
#if defined(__GLIBCXX__)
  if (reason == DLL_PROCESS_DETACH && reserved == nullptr) __gnu_cxx::__freeres();
#else
  (void)reason;
  (void)reserved;
#endif
  return TRUE;
}

// Started as the base (its own entry, chain length 1) or, standing in for another vendor's LSP
// below Teardown, with the whole chain; either way it serves sockets itself.
extern "C" int WSPAPI WSPStartup(WORD version, LPWSPDATA data, LPWSAPROTOCOL_INFOW info,
                                 WSPUPCALLTABLE, LPWSPPROC_TABLE table) {
  if (info == nullptr || info->ProtocolChain.ChainLen < BASE_PROTOCOL) return WSAEINVAL;
  static const int started = [] {
    WSADATA system;
    return WSAStartup(MAKEWORD(2, 2), &system);
  }();
  if (started != 0) return started;
  ++starts_;
  data->wVersion = version;
  data->wHighVersion = MAKEWORD(2, 2);
  std::memset(data->szDescription, 0, sizeof(data->szDescription));
  std::memcpy(data->szDescription, L"Teardown test base", sizeof(L"Teardown test base"));
  *table = WSPPROC_TABLE{Accept,
                         AddressToString,
                         AsyncSelect,
                         Bind,
                         CancelBlockingCall,
                         Cleanup,
                         CloseSocket,
                         Connect,
                         DuplicateSocket,
                         EnumNetworkEvents,
                         EventSelect,
                         GetOverlappedResult,
                         GetPeerName,
                         GetSockName,
                         GetSockOpt,
                         GetQOSByName,
                         Ioctl,
                         JoinLeaf,
                         Listen,
                         Recv,
                         RecvDisconnect,
                         RecvFrom,
                         Select,
                         Send,
                         SendDisconnect,
                         SendTo,
                         SetSockOpt,
                         Shutdown,
                         Socket,
                         StringToAddress};
  return 0;
}
