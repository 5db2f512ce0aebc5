// The SPI host: plays ws2_32 for teardown_lsp.dll under Wine, and plays the application above it.
//
//   teardown_spi_host.exe <scenario>
//
// Loads the DLL found next to it, binds its catalog imports to the host's catalog, starts it on
// Teardown's chain entries, and runs one scenario through its WSP entry points, over the test
// base provider's real loopback sockets. It prints "pid N", then "role NAME HANDLE" for each
// socket whose events the observer should look for, then what the application saw, and exits 0
// when every check held. The events themselves are checked by the Java test that runs it.
#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "host.h"  // the Windows headers, before tlhelp32.h

#include <tlhelp32.h>

namespace spi_host {

int failures = 0;
bool compatible_mode = true;

void say(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  std::vprintf(format, arguments);
  va_end(arguments);
  std::printf("\n");
  std::fflush(stdout);
}

bool check(bool condition, const char* what) {
  if (!condition) {
    ++failures;
    say("FAILED: %s", what);
  }
  return condition;
}

// The directory of this program, where both DLLs are.
std::wstring host_dir() {
  wchar_t path[MAX_PATH];
  DWORD length = GetModuleFileNameW(nullptr, path, MAX_PATH);
  std::wstring dir(path, length);
  dir.resize(dir.find_last_of(L"\\/") + 1);
  return dir;
}

// The DLL under test, started on the chain entries the scenarios use.
class Layer {
 public:
  bool load(std::string& problem) {
    std::wstring dir = host_dir();
    if (!build_catalog(dir + L"teardown_test_base.dll", dir + L"teardown_lsp.dll",
                       compatible_mode, problem)) {
      return false;
    }
    module_ = LoadLibraryW((dir + L"teardown_lsp.dll").c_str());
    if (module_ == nullptr) {
      problem = "teardown_lsp.dll could not be loaded";
      return false;
    }
    if (!check_exports_and_imports(module_, problem)) return false;
    if (!bind_catalog_imports(module_, problem)) return false;
    startup_ = reinterpret_cast<LPWSPSTARTUP>(
        reinterpret_cast<void (*)()>(GetProcAddress(module_, "WSPStartup")));
    if (startup_ == nullptr) {
      problem = "teardown_lsp.dll exports no WSPStartup";
      return false;
    }
    return true;
  }

  // WSPStartup for `chain`, as ws2_32 calls it the first time a process uses that entry.
  int start(DWORD chain) {
    WSPDATA data{};
    WSAPROTOCOL_INFOW info = *catalog_entry(chain);
    int error = startup_(MAKEWORD(2, 2), &data, &info, upcall_table(), &procs_);
    if (error == 0) ++starts_;
    return error;
  }

  // WSPCleanup for every startup, as WSACleanup does; 0 when all succeeded.
  int cleanup() {
    int result = 0;
    for (; starts_ > 0; --starts_) {
      int error = 0;
      if (procs_.lpWSPCleanup(&error) != 0) result = error;
    }
    return result;
  }

  // FreeLibrary, as ws2_32 does after the last WSACleanup: the DLL is unloaded.
  void unload() {
    FreeLibrary(module_);
    module_ = nullptr;
    startup_ = nullptr;
    procs_ = WSPPROC_TABLE{};
  }

  const WSPPROC_TABLE& procs() const { return procs_; }

 private:
  HMODULE module_ = nullptr;
  LPWSPSTARTUP startup_ = nullptr;
  WSPPROC_TABLE procs_{};
  int starts_ = 0;
};

Layer layer;
// The table the application's calls go through: Teardown's, except where the benchmark measures
// the base provider alone.
const WSPPROC_TABLE* bypass = nullptr;
const WSPPROC_TABLE& lsp() {
  return bypass != nullptr ? *bypass : layer.procs();
}

// --- The application's side: sockets through the LSP ----------------------------------------

int family_of(DWORD chain) {
  return catalog_entry(chain)->iAddressFamily;
}

sockaddr_storage loopback(int family, u_short port) {
  sockaddr_storage address{};
  if (family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    v6->sin6_family = AF_INET6;
    v6->sin6_addr = in6addr_loopback;
    v6->sin6_port = htons(port);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4->sin_port = htons(port);
  }
  return address;
}

int address_length(int family) {
  return family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

SOCKET open_socket(DWORD chain) {
  WSAPROTOCOL_INFOW info = *catalog_entry(chain);
  int error = 0;
  // As ws2_32's socket() asks: overlapped I/O allowed.
  SOCKET s = lsp().lpWSPSocket(info.iAddressFamily, SOCK_STREAM, IPPROTO_TCP, &info, 0,
                               WSA_FLAG_OVERLAPPED, &error);
  check(s != INVALID_SOCKET, "WSPSocket makes a socket");
  return s;
}

Pair connect_pair(DWORD chain, u_short port) {
  Pair pair;
  int family = family_of(chain);
  int error = 0;
  pair.listener = open_socket(chain);
  sockaddr_storage address = loopback(family, port);
  check(lsp().lpWSPBind(pair.listener, reinterpret_cast<sockaddr*>(&address),
                        address_length(family), &error) == 0,
        "WSPBind");
  check(lsp().lpWSPListen(pair.listener, 8, &error) == 0, "WSPListen");
  int length = sizeof(address);
  check(lsp().lpWSPGetSockName(pair.listener, reinterpret_cast<sockaddr*>(&address), &length,
                               &error) == 0,
        "WSPGetSockName");
  pair.client = open_socket(chain);
  check(lsp().lpWSPConnect(pair.client, reinterpret_cast<sockaddr*>(&address),
                           address_length(family), nullptr, nullptr, nullptr, nullptr, &error) == 0,
        "WSPConnect");
  sockaddr_storage peer{};
  length = sizeof(peer);
  pair.server = lsp().lpWSPAccept(pair.listener, reinterpret_cast<sockaddr*>(&peer), &length,
                                  nullptr, 0, &error);
  check(pair.server != INVALID_SOCKET, "WSPAccept");
  return pair;
}

void announce(const char* role, SOCKET s) {
  say("role %s %llu", role, static_cast<unsigned long long>(s));
}

Pair announced_pair(DWORD chain) {
  Pair pair = connect_pair(chain);
  announce("client", pair.client);
  announce("server", pair.server);
  return pair;
}

void close_pair(const Pair& pair) {
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.client) == 0, "client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

int send_text(SOCKET s, const char* text, int& error) {
  WSABUF buffer{static_cast<ULONG>(std::strlen(text)), const_cast<char*>(text)};
  DWORD sent = 0;
  return lsp().lpWSPSend(s, &buffer, 1, &sent, 0, nullptr, nullptr, nullptr, &error) == 0
             ? static_cast<int>(sent)
             : -1;
}

int receive(SOCKET s, char* data, int capacity, int& error) {
  WSABUF buffer{static_cast<ULONG>(capacity), data};
  DWORD received = 0, flags = 0;
  return lsp().lpWSPRecv(s, &buffer, 1, &received, &flags, nullptr, nullptr, nullptr, &error) == 0
             ? static_cast<int>(received)
             : -1;
}

int drain(SOCKET s, int& ended_with) {
  char data[256];
  int total = 0;
  for (int rounds = 0; rounds < 10000; ++rounds) {
    int n = receive(s, data, sizeof(data), ended_with);
    if (n <= 0) {
      if (n == 0) ended_with = 0;
      return total;
    }
    total += n;
  }
  ended_with = -1;
  return total;
}

int close_socket(SOCKET s) {
  int error = 0;
  return lsp().lpWSPCloseSocket(s, &error) == 0 ? 0 : error;
}

void set_linger(SOCKET s, u_short on, u_short seconds) {
  linger option{on, seconds};
  int error = 0;
  check(lsp().lpWSPSetSockOpt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&option),
                              sizeof(option), &error) == 0,
        "WSPSetSockOpt(SO_LINGER)");
}

void print_end(const char* role, int ended_with) {
  if (ended_with == 0) {
    say("%s saw end-of-stream", role);
  } else {
    say("%s saw error %d", role, ended_with);
  }
}

void bind_completion_port(SOCKET s, HANDLE port, ULONG_PTR key) {
  if (compatible_mode) {
    check(CreateIoCompletionPort(reinterpret_cast<HANDLE>(s), port, key, 0) == port,
          "the socket's own handle binds to the port");
  } else {
    associate_completion_port(s, port, key);
  }
}

void check_request_went_below(const WSAOVERLAPPED& overlapped, const char* what) {
  using Saw = BOOL (*)(const void*);
  HMODULE base = GetModuleHandleW(L"teardown_test_base.dll");
  auto saw = base == nullptr ? nullptr
                             : reinterpret_cast<Saw>(reinterpret_cast<void (*)()>(
                                   GetProcAddress(base, "TestBaseSawOverlapped")));
  if (!check(saw != nullptr, "the base provider tells which OVERLAPPEDs it was handed")) return;
  std::string said = std::string(what) + (compatible_mode
                                              ? ": its own OVERLAPPED went to the provider below"
                                              : ": its OVERLAPPED never reached the provider below");
  check((saw(&overlapped) != FALSE) == compatible_mode, said.c_str());
}

int overlapped_receive(SOCKET s, WSABUF& buffer, WSAOVERLAPPED& overlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  DWORD flags = 0;
  int error = 0;
  // What ws2_32 hands a provider for WPUQueueApc: a real handle to the calling thread (the
  // scenarios issue routines from the main thread only, so one handle serves them all).
  static const HANDLE main_thread = [] {
    HANDLE handle = nullptr;
    DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &handle, 0, FALSE,
                    DUPLICATE_SAME_ACCESS);
    return handle;
  }();
  WSATHREADID thread{};
  thread.ThreadHandle = main_thread;
  int result = lsp().lpWSPRecv(s, &buffer, 1, nullptr, &flags, &overlapped, routine,
                               routine != nullptr ? &thread : nullptr, &error);
  return result == 0 ? 0 : error;
}

long event_result(SOCKET s, WSAOVERLAPPED& overlapped) {
  WSAWaitForMultipleEvents(1, &overlapped.hEvent, FALSE, 5000, FALSE);
  DWORD bytes = 0, flags = 0;
  int error = 0;
  if (!lsp().lpWSPGetOverlappedResult(s, &overlapped, &bytes, TRUE, &flags, &error)) return -error;
  return static_cast<long>(bytes);
}

int await_fd_close(SOCKET s, WSAEVENT event, int* read) {
  int error = 0;
  for (int rounds = 0; rounds < 50; ++rounds) {
    if (WSAWaitForMultipleEvents(1, &event, FALSE, 100, FALSE) != WSA_WAIT_EVENT_0) continue;
    WSANETWORKEVENTS events{};
    check(lsp().lpWSPEnumNetworkEvents(s, event, &events, &error) == 0, "WSPEnumNetworkEvents");
    if (read != nullptr && (events.lNetworkEvents & FD_READ) != 0) {
      char data[16];
      int n = receive(s, data, sizeof(data), error);
      if (n > 0) *read += n;
    }
    if ((events.lNetworkEvents & FD_CLOSE) != 0) return events.iErrorCode[FD_CLOSE_BIT];
  }
  return -1;
}

bool accept_and_connect(SOCKET listener, sockaddr_storage& address, SOCKET server, SOCKET client,
                        char* accepted, DWORD room) {
  auto accept_ex = extension<LPFN_ACCEPTEX>(listener, WSAID_ACCEPTEX);
  auto connect_ex = extension<LPFN_CONNECTEX>(client, WSAID_CONNECTEX);
  if (!check(accept_ex != nullptr && connect_ex != nullptr, "AcceptEx and ConnectEx")) return false;
  int starting_failures = failures;
  WSAOVERLAPPED accepting{};
  accepting.hEvent = WSACreateEvent();
  DWORD ignored = 0;
  check(!accept_ex(listener, server, accepted, room, kAcceptExAddressSpace, kAcceptExAddressSpace,
                   &ignored, reinterpret_cast<LPOVERLAPPED>(&accepting)) &&
            GetLastError() == ERROR_IO_PENDING,
        "AcceptEx is pending");
  sockaddr_storage any = loopback(AF_INET, 0);
  int error = 0;
  lsp().lpWSPBind(client, reinterpret_cast<sockaddr*>(&any), sizeof(sockaddr_in), &error);
  WSAOVERLAPPED connecting{};
  connecting.hEvent = WSACreateEvent();
  char hello[] = "hello";
  // Teardown completes its requests later (full mode); the provider may complete it at once.
  BOOL connected = connect_ex(client, reinterpret_cast<sockaddr*>(&address), sizeof(sockaddr_in),
                              hello, 5, &ignored, reinterpret_cast<LPOVERLAPPED>(&connecting));
  check(compatible_mode ? connected || GetLastError() == ERROR_IO_PENDING
                        : !connected && GetLastError() == ERROR_IO_PENDING,
        "ConnectEx starts (in full mode, pending)");
  check(event_result(client, connecting) == 5, "ConnectEx completes, its 5 bytes sent");
  check(event_result(listener, accepting) == 5, "AcceptEx completes with the 5 bytes");
  check(std::memcmp(accepted, "hello", 5) == 0, "into the application's buffer");
  check(lsp().lpWSPSetSockOpt(server, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                              reinterpret_cast<const char*>(&listener), sizeof(listener),
                              &error) == 0,
        "SO_UPDATE_ACCEPT_CONTEXT");
  check(lsp().lpWSPSetSockOpt(client, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0,
                              &error) == 0,
        "SO_UPDATE_CONNECT_CONTEXT");
  WSACloseEvent(accepting.hEvent);
  WSACloseEvent(connecting.hEvent);
  return failures == starting_failures;
}

int send_message(SOCKET s, WSABUF* buffers, DWORD count, LPDWORD sent, LPWSAOVERLAPPED overlapped,
                 const char* control) {
  WSAMSG message{};
  message.lpBuffers = buffers;
  message.dwBufferCount = count;
  if (control != nullptr) {
    message.Control.buf = const_cast<char*>(control);
    message.Control.len = static_cast<ULONG>(std::strlen(control));
  }
  WSASENDMSG call{&message, 0, sent, overlapped, nullptr};
  DWORD status = 0, returned = 0;
  int error = 0;
  int result = lsp().lpWSPIoctl(s, SIO_EXT_SENDMSG, &call, sizeof(call), &status, sizeof(status),
                                &returned, nullptr, nullptr, nullptr, &error);
  if (result != 0 && status == 0) return error;  // the ioctl itself failed
  return static_cast<int>(status);
}

int poll_sockets(WSAPOLLFD* fds, ULONG count, INT timeout) {
  const size_t header = offsetof(WSAPOLLDATA, fdArray);
  std::vector<unsigned long long> storage((header + count * sizeof(WSAPOLLFD) + 7) / 8);
  auto* data = reinterpret_cast<WSAPOLLDATA*>(storage.data());
  data->fds = count;
  data->timeout = timeout;
  auto* copy = reinterpret_cast<WSAPOLLFD*>(reinterpret_cast<char*>(data) + header);
  std::memcpy(copy, fds, count * sizeof(WSAPOLLFD));
  DWORD length = static_cast<DWORD>(header + count * sizeof(WSAPOLLFD)), returned = 0;
  int error = 0;
  if (lsp().lpWSPIoctl(fds[0].fd, SIO_EXT_POLL, data, length, data, length, &returned, nullptr,
                       nullptr, nullptr, &error) != 0) {
    return SOCKET_ERROR;
  }
  std::memcpy(fds, copy, count * sizeof(WSAPOLLFD));
  return data->result;
}

namespace {

// --- Scenarios ------------------------------------------------------------------------------

// Blocking exchange; the client shuts down sending first, both read to the end and close.
void blocking_exchange(DWORD chain) {
  Pair pair = announced_pair(chain);
  int error = 0;
  check(send_text(pair.client, "hello", error) == 5, "client sends 5 bytes");
  check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "client WSPShutdown(SD_SEND)");
  int ended = -1;
  check(drain(pair.server, ended) == 5 && ended == 0, "server reads 5 bytes, then 0");
  check(send_text(pair.server, "bye", error) == 3, "server sends 3 bytes");
  check(close_socket(pair.server) == 0, "server closes");
  check(drain(pair.client, ended) == 3 && ended == 0, "client reads 3 bytes, then 0");
  check(close_socket(pair.client) == 0, "client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

void scenario_blocking() {
  blocking_exchange(kBaseTcp4 + kChainOffset);
}

// Teardown with another vendor's LSP below it: it loads that layer and hands it the chain.
void scenario_layered_over_another() {
  if (check(layer.start(kChainOverOther) == 0, "WSPStartup over another LSP")) {
    blocking_exchange(kChainOverOther);
  }
}

// Teardown under another vendor's LSP, started with that LSP's chain: it finds its own place.
void scenario_layered_under_another() {
  if (check(layer.start(kChainUnderUpper) == 0, "WSPStartup under another LSP")) {
    blocking_exchange(kChainUnderUpper);
  }
}
void scenario_ipv6() {
  blocking_exchange(kBaseTcp6 + kChainOffset);
}

void scenario_event_select() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  WSAEVENT event = WSACreateEvent();
  check(lsp().lpWSPEventSelect(pair.server, event, FD_READ | FD_CLOSE, &error) == 0,
        "WSPEventSelect");
  check(send_text(pair.client, "data", error) == 4, "client sends");
  check(close_socket(pair.client) == 0, "client closes");
  int read = 0;
  int close_error = await_fd_close(pair.server, event, &read);
  check(close_error >= 0, "the server is told FD_CLOSE");
  check(close_error == 0, "FD_CLOSE reports a graceful close");
  int ended = -1;
  read += drain(pair.server, ended);
  check(read == 4, "the server read all 4 bytes");
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
  WSACloseEvent(event);
}

constexpr UINT kAppNotification = WM_USER + 7;

void scenario_async_select() {
  HWND window =
      CreateWindowExW(0, L"STATIC", L"", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr, nullptr, nullptr);
  if (!check(window != nullptr, "a message-only window (needs a display under Wine)")) return;
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  check(lsp().lpWSPAsyncSelect(pair.server, window, kAppNotification, FD_READ | FD_CLOSE, &error) ==
            0,
        "WSPAsyncSelect");
  check(send_text(pair.client, "data", error) == 4, "client sends");
  check(close_socket(pair.client) == 0, "client closes");
  bool closed = false, foreign_handle = false;
  int close_error = -1, read = 0;
  DWORD deadline = GetTickCount() + 5000;
  while (!closed && GetTickCount() < deadline) {
    MSG message;
    if (!PeekMessageW(&message, window, 0, 0, PM_REMOVE)) {
      MsgWaitForMultipleObjects(0, nullptr, FALSE, 100, QS_ALLINPUT);
      continue;
    }
    if (message.message != kAppNotification) continue;
    if (static_cast<SOCKET>(message.wParam) != pair.server) foreign_handle = true;
    WORD events = WSAGETSELECTEVENT(message.lParam);
    if ((events & FD_READ) != 0) {
      char data[16];
      int n = receive(pair.server, data, sizeof(data), error);
      if (n > 0) read += n;
    }
    if ((events & FD_CLOSE) != 0) {
      closed = true;
      close_error = WSAGETSELECTERROR(message.lParam);
    }
  }
  check(!foreign_handle, "every notification names the application's own handle");
  check(closed, "the window is told FD_CLOSE");
  check(close_error == 0, "FD_CLOSE reports a graceful close");
  int ended = -1;
  read += drain(pair.server, ended);
  check(read == 4, "the server read all 4 bytes");
  check(close_socket(pair.server) == 0, "server closes");
  // Nothing after close: a notification for the closed handle would be a bug.
  Sleep(200);
  MSG late;
  bool after_close = false;
  while (PeekMessageW(&late, window, kAppNotification, kAppNotification, PM_REMOVE)) {
    if (WSAGETSELECTEVENT(late.lParam) & FD_CLOSE) after_close = true;
  }
  check(!after_close, "no FD_CLOSE is posted after close");
  check(close_socket(pair.listener) == 0, "listener closes");
  DestroyWindow(window);
}

// Three connections, open at once so that their handles differ: the client shuts down
// receiving, sending, or both.
void scenario_shutdown_each_way() {
  const char* names[] = {"receive", "send", "both"};
  Pair pairs[3];
  for (int how = SD_RECEIVE; how <= SD_BOTH; ++how) {
    pairs[how] = connect_pair(kBaseTcp4 + kChainOffset);
    announce((std::string("client-") + names[how]).c_str(), pairs[how].client);
    announce((std::string("server-") + names[how]).c_str(), pairs[how].server);
  }
  for (int how = SD_RECEIVE; how <= SD_BOTH; ++how) {
    int error = 0;
    check(lsp().lpWSPShutdown(pairs[how].client, how, &error) == 0, "client WSPShutdown");
    if (how != SD_RECEIVE) {
      int ended = -1;
      drain(pairs[how].server, ended);
      check(ended == 0, "the server reads the end of the stream");
    }
  }
  for (Pair& pair : pairs) {
    check(close_socket(pair.server) == 0, "server closes");
    check(close_socket(pair.client) == 0, "client closes");
    check(close_socket(pair.listener) == 0, "listener closes");
  }
}

// The client closes with the given linger options while the server is blocked reading, so that
// a reset reaches a reader (Wine shows a reset that nobody is reading as an end of stream).
void close_with_linger(bool set, u_short on, u_short seconds) {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int ended = -1;
  std::thread reader([&] { drain(pair.server, ended); });
  Sleep(200);  // the reader is blocked in WSPRecv
  if (set) set_linger(pair.client, on, seconds);
  check(close_socket(pair.client) == 0, "client closes");
  reader.join();
  print_end("server", ended);
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// A non-blocking socket lingering with a timeout: the first close would block and the handle
// stays valid (it still answers); the second, after lingering is turned off, closes.
void scenario_close_linger_nonblocking() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  u_long on = 1;
  DWORD returned = 0;
  check(lsp().lpWSPIoctl(pair.client, FIONBIO, &on, sizeof(on), nullptr, 0, &returned, nullptr,
                         nullptr, nullptr, &error) == 0,
        "WSPIoctl(FIONBIO)");
  set_linger(pair.client, 1, 5);
  check(close_socket(pair.client) == WSAEWOULDBLOCK, "the first close fails with WSAEWOULDBLOCK");
  int type = 0, length = sizeof(type);
  check(lsp().lpWSPGetSockOpt(pair.client, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type),
                              &length, &error) == 0,
        "the handle is still valid");
  check(close_socket(pair.client) == 0, "the second close succeeds");
  int ended = -1;
  drain(pair.server, ended);
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// FD_CLOSE after the peer's abortive close. Windows gives it the reset's error; Wine gives 0 (it
// learns of the reset only when someone reads). The event must carry what the application saw.
void scenario_event_select_reset() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  WSAEVENT event = WSACreateEvent();
  check(lsp().lpWSPEventSelect(pair.server, event, FD_READ | FD_CLOSE, &error) == 0,
        "WSPEventSelect");
  set_linger(pair.client, 1, 0);
  check(close_socket(pair.client) == 0, "client closes abortively");
  int close_error = await_fd_close(pair.server, event, nullptr);
  say("server FD_CLOSE error %d", close_error);
  check(close_error >= 0, "the server is told FD_CLOSE");
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
  WSACloseEvent(event);
}

void scenario_close_dontlinger() {
  close_with_linger(false, 0, 0);
}
void scenario_close_abortive() {
  close_with_linger(true, 1, 0);
}
void scenario_close_linger() {
  close_with_linger(true, 1, 2);
}

void scenario_discon() {
  Pair pair = announced_pair(kBaseMessages + kChainOffset);
  int error = 0;
  check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "client WSPShutdown(SD_SEND)");
  int ended = -1;
  drain(pair.server, ended);
  check(ended == WSAEDISCON, "the message-oriented server sees WSAEDISCON");
  close_pair(pair);
}

// The seed's table, steps (1) to (8), over the base provider that carries disconnect data.
void scenario_transaction_totals() {
  Pair pair = announced_pair(kBaseDisconnectData + kChainOffset);
  int error = 0;
  WSAEVENT event = WSACreateEvent();
  check(lsp().lpWSPEventSelect(pair.client, event, FD_CLOSE, &error) == 0, "WSPEventSelect");
  char client_total[] = "client-total=17";
  WSABUF out{static_cast<ULONG>(std::strlen(client_total)), client_total};
  check(lsp().lpWSPSendDisconnect(pair.client, &out, &error) == 0, "(1) WSPSendDisconnect");
  int ended = -1;
  drain(pair.server, ended);
  check(ended == 0, "(2) the server's WSPRecv returns zero");
  char received[64] = {};
  WSABUF in{sizeof(received) - 1, received};
  check(lsp().lpWSPRecvDisconnect(pair.server, &in, &error) == 0, "(3) WSPRecvDisconnect");
  check(std::string(received, in.len) == client_total, "(3) the client's total arrives");
  char grand_total[] = "grand-total=1234";  // (4)
  WSABUF answer{static_cast<ULONG>(std::strlen(grand_total)), grand_total};
  check(lsp().lpWSPSendDisconnect(pair.server, &answer, &error) == 0, "(5) WSPSendDisconnect");
  check(close_socket(pair.server) == 0, "(5') the server closes");
  check(await_fd_close(pair.client, event, nullptr) >= 0, "(6) the client gets FD_CLOSE");
  char grand[64] = {};
  WSABUF in_grand{sizeof(grand) - 1, grand};
  check(lsp().lpWSPRecvDisconnect(pair.client, &in_grand, &error) == 0, "(7) WSPRecvDisconnect");
  check(std::string(grand, in_grand.len) == grand_total, "(7) the grand total arrives");
  check(close_socket(pair.client) == 0, "(8) the client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
  WSACloseEvent(event);
}

// Disconnect data where the provider below offers none: refused as Winsock would.
void scenario_disconnect_data_refused() {
  Pair pair = connect_pair(kBaseTcp4 + kChainOffset);
  announce("client", pair.client);
  char total[] = "17";
  WSABUF out{2, total};
  int error = 0;
  check(lsp().lpWSPSendDisconnect(pair.client, &out, &error) == SOCKET_ERROR &&
            error == WSAENOPROTOOPT,
        "WSPSendDisconnect with data fails with WSAENOPROTOOPT");
  close_pair(pair);
}

// WSPSelect with the application's handles: the lower ones never show.
void scenario_select() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  Pair pair = announced_pair(chain);
  int error = 0;
  check(close_socket(pair.client) == 0, "client closes");
  fd_set readers{};
  readers.fd_count = 1;
  readers.fd_array[0] = pair.server;
  timeval timeout{2, 0};
  int ready = lsp().lpWSPSelect(0, &readers, nullptr, nullptr, &timeout, &error);
  check(ready == 1 && readers.fd_count == 1 && readers.fd_array[0] == pair.server,
        "WSPSelect reports the application's handle readable");
  int ended = -1;
  drain(pair.server, ended);
  check(ended == 0, "the server reads the end of the stream");
  fd_set bogus{};
  bogus.fd_count = 1;
  bogus.fd_array[0] = static_cast<SOCKET>(0x7FFF0);
  check(lsp().lpWSPSelect(0, &bogus, nullptr, nullptr, &timeout, &error) == SOCKET_ERROR &&
            error == WSAENOTSOCK,
        "WSPSelect refuses a handle that is not a socket");
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// The remaining entries: names, options, control, conversion, duplication, foreign handles.
void scenario_entry_points() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  Pair pair = announced_pair(chain);
  int error = 0;

  WSAPROTOCOL_INFOW info{};
  int length = sizeof(info);
  check(lsp().lpWSPGetSockOpt(pair.client, SOL_SOCKET, SO_PROTOCOL_INFOW,
                              reinterpret_cast<char*>(&info), &length, &error) == 0 &&
            info.dwCatalogEntryId == chain,
        "SO_PROTOCOL_INFOW answers with Teardown's chain entry");
  int type = 0;
  length = sizeof(type);
  check(lsp().lpWSPGetSockOpt(pair.client, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type),
                              &length, &error) == 0 &&
            type == SOCK_STREAM,
        "other options pass through (SO_TYPE)");

  sockaddr_storage peer{};
  length = sizeof(peer);
  check(
      lsp().lpWSPGetPeerName(pair.client, reinterpret_cast<sockaddr*>(&peer), &length, &error) == 0,
      "WSPGetPeerName");

  // The accepted socket told its listener, by the application's handle of it.
  check(lsp().lpWSPSetSockOpt(pair.server, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                              reinterpret_cast<const char*>(&pair.listener), sizeof(pair.listener),
                              &error) == 0,
        "SO_UPDATE_ACCEPT_CONTEXT with the listener's handle");
  SOCKET not_a_socket = static_cast<SOCKET>(0x7FFF0);
  check(lsp().lpWSPSetSockOpt(pair.server, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                              reinterpret_cast<const char*>(&not_a_socket), sizeof(not_a_socket),
                              &error) == SOCKET_ERROR &&
            error == WSAENOTSOCK,
        "SO_UPDATE_ACCEPT_CONTEXT with a handle that is not a socket");

  // WSPSendTo and WSPRecvFrom on the connected pair: 2 bytes each way, counted.
  char two[] = "hi";
  WSABUF out_two{2, two};
  DWORD sent_two = 0;
  check(lsp().lpWSPSendTo(pair.client, &out_two, 1, &sent_two, 0, nullptr, 0, nullptr, nullptr,
                          nullptr, &error) == 0 &&
            sent_two == 2,
        "WSPSendTo");
  char in_two[2];
  WSABUF in_buffer{2, in_two};
  DWORD got_two = 0, recv_flags = 0;
  check(lsp().lpWSPRecvFrom(pair.server, &in_buffer, 1, &got_two, &recv_flags, nullptr, nullptr,
                            nullptr, nullptr, nullptr, &error) == 0 &&
            got_two == 2,
        "WSPRecvFrom");

  // Multipoint is not TCP's: the provider's refusal comes back as it was (Wine's WSAJoinLeaf
  // refuses without setting an error, so only the result is checked).
  sockaddr_storage leaf = loopback(AF_INET, 9);
  SOCKET leaf_socket =
      lsp().lpWSPJoinLeaf(pair.client, reinterpret_cast<sockaddr*>(&leaf), sizeof(sockaddr_in),
                          nullptr, nullptr, nullptr, nullptr, JL_BOTH, &error);
  check(leaf_socket == INVALID_SOCKET, "WSPJoinLeaf passes the refusal through");

  u_long on = 1;
  DWORD returned = 0;
  check(lsp().lpWSPIoctl(pair.server, FIONBIO, &on, sizeof(on), nullptr, 0, &returned, nullptr,
                         nullptr, nullptr, &error) == 0,
        "WSPIoctl(FIONBIO)");
  char data[8];
  check(receive(pair.server, data, sizeof(data), error) == -1 && error == WSAEWOULDBLOCK,
        "the server is now non-blocking");
  // SIO_BASE_HANDLE answers the base provider's own socket, as on Windows (libuv and wepoll rely
  // on it): here a real socket of the system's. (SIO_BSP_HANDLE_* pass down the same way; Wine
  // does not answer them, so they are left to tests-windows.)
  SOCKET base = INVALID_SOCKET;
  int base_type = 0, base_length = sizeof(base_type);
  check(lsp().lpWSPIoctl(pair.client, SIO_BASE_HANDLE, nullptr, 0, &base, sizeof(base), &returned,
                         nullptr, nullptr, nullptr, &error) == 0 &&
            (base == pair.client) == compatible_mode &&
            getsockopt(base, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&base_type),
                       &base_length) == 0 &&
            base_type == SOCK_STREAM,
        "SIO_BASE_HANDLE answers the base provider's socket (in compatible mode, the "
        "application's own)");
  check(registered_ifs_handle(pair.client) == compatible_mode &&
            registered_ifs_handle(pair.server) == compatible_mode,
        compatible_mode ? "the application's sockets are the base provider's, registered with "
                          "WPUModifyIFSHandle"
                        : "the application's sockets are Teardown's own handles");
  GUID unknown = {0x12345678, 0x1234, 0x1234, {1, 2, 3, 4, 5, 6, 7, 8}};
  void* function = nullptr;
  check(lsp().lpWSPIoctl(pair.server, SIO_GET_EXTENSION_FUNCTION_POINTER, &unknown, sizeof(unknown),
                         &function, sizeof(function), &returned, nullptr, nullptr, nullptr,
                         &error) == SOCKET_ERROR &&
            error == WSAEINVAL,
        "an extension function Teardown does not wrap is refused");

  // An overlapped receive completed through the event it names.
  WSAOVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  WSABUF buffer{sizeof(data), data};
  DWORD received = 0, flags = 0;
  int result = lsp().lpWSPRecv(pair.client, &buffer, 1, &received, &flags, &overlapped, nullptr,
                               nullptr, &error);
  check(result == 0 || error == WSA_IO_PENDING, "an overlapped WSPRecv starts");
  check(send_text(pair.server, "abc", error) == 3, "server sends 3 bytes");
  WSAWaitForMultipleEvents(1, &overlapped.hEvent, FALSE, 5000, FALSE);
  DWORD transferred = 0;
  check(lsp().lpWSPGetOverlappedResult(pair.client, &overlapped, &transferred, TRUE, &flags,
                                       &error) &&
            transferred == 3,
        "WSPGetOverlappedResult reports 3 bytes");
  WSACloseEvent(overlapped.hEvent);

  wchar_t text[64];
  DWORD text_length = 64;
  WSAPROTOCOL_INFOW entry = *catalog_entry(chain);
  check(lsp().lpWSPAddressToString(reinterpret_cast<sockaddr*>(&peer), sizeof(sockaddr_in), &entry,
                                   text, &text_length, &error) == 0,
        "WSPAddressToString");
  sockaddr_storage parsed{};
  int parsed_length = sizeof(parsed);
  check(lsp().lpWSPStringToAddress(text, AF_INET, &entry, reinterpret_cast<sockaddr*>(&parsed),
                                   &parsed_length, &error) == 0 &&
            std::memcmp(&parsed, &peer, sizeof(sockaddr_in)) == 0,
        "WSPStringToAddress reads back what WSPAddressToString wrote");

  char qos_name[] = "G711";
  WSABUF qos_buffer{sizeof(qos_name), qos_name};
  QOS qos{};
  lsp().lpWSPGetQOSByName(pair.client, &qos_buffer, &qos, &error);  // passes through, either way
  check(lsp().lpWSPCancelBlockingCall(&error) == 0, "WSPCancelBlockingCall passes through");

  // A handle duplicated into this process, through Teardown's entry: shared from then on.
  WSAPROTOCOL_INFOW duplicate{};
  check(lsp().lpWSPDuplicateSocket(pair.client, GetCurrentProcessId(), &duplicate, &error) == 0 &&
            duplicate.dwCatalogEntryId == chain,
        "WSPDuplicateSocket describes Teardown's entry");
  SOCKET copy = lsp().lpWSPSocket(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                                  &duplicate, 0, 0, &error);
  check(copy != INVALID_SOCKET, "WSPSocket(FROM_PROTOCOL_INFO) makes the duplicate");
  announce("duplicate", copy);

  SOCKET foreign = static_cast<SOCKET>(0x7FFF0);
  check(send_text(foreign, "x", error) == -1 && error == WSAENOTSOCK,
        "a handle that is not ours is refused with WSAENOTSOCK");
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.server) == WSAENOTSOCK, "a closed handle is refused with WSAENOTSOCK");
  if (copy != INVALID_SOCKET) check(close_socket(copy) == 0, "the duplicate closes");
  check(close_socket(pair.client) == 0, "client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// Pointers the application could not have meant: Teardown reads and writes some of its memory
// itself (the flags of a receive, fd_sets it translates, protocol info it answers, extension
// functions, WSAPoll's array, and in full mode every OVERLAPPED), and must answer WSAEFAULT there,
// as the provider below does, never fault.
void scenario_bad_pointers() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  void* bad = reinterpret_cast<void*>(sizeof(void*));  // in the page no process maps
  int error = 0;
  char data[8];
  WSABUF buffer{sizeof(data), data};
  DWORD received = 0, returned = 0;
  check(lsp().lpWSPRecv(pair.server, &buffer, 1, &received, static_cast<LPDWORD>(bad), nullptr,
                        nullptr, nullptr, &error) == SOCKET_ERROR && error == WSAEFAULT,
        "a receive whose flags cannot be read: WSAEFAULT");
  timeval instant{0, 0};
  error = 0;
  check(lsp().lpWSPSelect(0, static_cast<fd_set*>(bad), nullptr, nullptr, &instant, &error) ==
                SOCKET_ERROR &&
            error == WSAEFAULT,
        "select with an fd_set that cannot be read: WSAEFAULT");
  int length = sizeof(WSAPROTOCOL_INFOW);
  error = 0;
  check(lsp().lpWSPGetSockOpt(pair.client, SOL_SOCKET, SO_PROTOCOL_INFOW, static_cast<char*>(bad),
                              &length, &error) == SOCKET_ERROR &&
            error == WSAEFAULT,
        "SO_PROTOCOL_INFOW into memory that cannot be written: WSAEFAULT");
  GUID accept_ex = WSAID_ACCEPTEX;
  void* function = nullptr;
  error = 0;
  check(lsp().lpWSPIoctl(pair.client, SIO_GET_EXTENSION_FUNCTION_POINTER, bad, sizeof(GUID),
                         &function, sizeof(function), &returned, nullptr, nullptr, nullptr,
                         &error) == SOCKET_ERROR &&
            error == WSAEFAULT,
        "an extension function asked with a GUID that cannot be read: WSAEFAULT");
  error = 0;
  check(lsp().lpWSPIoctl(pair.client, SIO_GET_EXTENSION_FUNCTION_POINTER, &accept_ex,
                         sizeof(accept_ex), bad, sizeof(void*), &returned, nullptr, nullptr,
                         nullptr, &error) == SOCKET_ERROR &&
            error == WSAEFAULT,
        "an extension function into memory that cannot be written: WSAEFAULT");
  error = 0;
  check(lsp().lpWSPSetSockOpt(pair.server, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                              static_cast<const char*>(bad), sizeof(SOCKET), &error) ==
                SOCKET_ERROR &&
            error == WSAEFAULT,
        "SO_UPDATE_ACCEPT_CONTEXT with a value that cannot be read: WSAEFAULT");
  const size_t header = offsetof(WSAPOLLDATA, fdArray);
  error = 0;
  check(lsp().lpWSPIoctl(pair.client, SIO_EXT_POLL, bad,
                         static_cast<DWORD>(header + sizeof(WSAPOLLFD)), bad,
                         static_cast<DWORD>(header + sizeof(WSAPOLLFD)), &returned, nullptr,
                         nullptr, nullptr, &error) == SOCKET_ERROR &&
            error == WSAEFAULT,
        "WSAPoll with an array that cannot be read: WSAEFAULT");
  if (!compatible_mode) {
    // Full mode: the OVERLAPPED is Teardown's to fill in and complete.
    error = 0;
    check(lsp().lpWSPRecv(pair.server, &buffer, 1, nullptr, &received,
                          static_cast<LPWSAOVERLAPPED>(bad), nullptr, nullptr, &error) ==
                  SOCKET_ERROR &&
              error == WSAEFAULT,
          "an overlapped receive whose OVERLAPPED cannot be written: WSAEFAULT");
    DWORD flags = 0;
    error = 0;
    check(!lsp().lpWSPGetOverlappedResult(pair.server, static_cast<LPWSAOVERLAPPED>(bad),
                                          &received, FALSE, &flags, &error) &&
              error == WSAEFAULT,
          "WSPGetOverlappedResult of an OVERLAPPED that cannot be read: WSAEFAULT");
    auto connect_ex = extension<LPFN_CONNECTEX>(pair.listener, WSAID_CONNECTEX);
    sockaddr_storage nowhere = loopback(AF_INET, 9);
    check(connect_ex != nullptr &&
              !connect_ex(pair.listener, reinterpret_cast<sockaddr*>(&nowhere),
                          sizeof(sockaddr_in), nullptr, 0, nullptr,
                          static_cast<LPOVERLAPPED>(bad)) &&
              GetLastError() == WSAEFAULT,
          "ConnectEx with an OVERLAPPED that cannot be written: WSAEFAULT");
  }
  // Nothing of the above touched the connection.
  check(send_text(pair.client, "ok", error) == 2 && receive(pair.server, data, sizeof(data), error) == 2,
        "the connection still carries bytes");
  close_pair(pair);
}

// The value the next kernel handle gets. Handle tables hand out the lowest free slot, so leaked
// handles push it up (a second measure where GetProcessHandleCount answers 0, as under Wine).
uintptr_t next_handle_value() {
  HANDLE probe = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  CloseHandle(probe);
  return reinterpret_cast<uintptr_t>(probe);
}

// Memory of one type (MEM_PRIVATE, MEM_MAPPED) committed in the whole address space: heaps grow
// by committing more, and the channel is two mappings. (Wine reports no private-bytes counter,
// and its heap walk does not cover every allocator.)
size_t committed_bytes(DWORD type) {
  size_t total = 0;
  const char* address = nullptr;
  MEMORY_BASIC_INFORMATION region;
  while (VirtualQuery(address, &region, sizeof(region)) == sizeof(region)) {
    if (region.State == MEM_COMMIT && region.Type == type) total += region.RegionSize;
    const char* next = static_cast<const char*>(region.BaseAddress) + region.RegionSize;
    if (next <= address) break;
    address = next;
  }
  return total;
}

size_t committed_private_bytes() {
  return committed_bytes(MEM_PRIVATE);
}

void open_and_close(DWORD chain, int sockets, int connections) {
  for (int i = 0; i < sockets; ++i) {
    SOCKET s = open_socket(chain);
    if (s == INVALID_SOCKET || close_socket(s) != 0) {
      check(false, "a socket opens and closes");
      return;
    }
  }
  for (int i = 0; i < connections; ++i) {
    Pair pair = connect_pair(chain);
    close_socket(pair.client);
    close_socket(pair.server);
    close_socket(pair.listener);
  }
}

// 10,000 sockets opened and closed, 200 of them connected: nothing of them may remain.
void scenario_lifecycle() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  open_and_close(chain, 1000, 20);  // first-use allocations happen before measuring
  DWORD handles_before = 0;
  GetProcessHandleCount(GetCurrentProcess(), &handles_before);
  uintptr_t next_before = next_handle_value();
  size_t sockets_before = open_socket_handles();
  size_t memory_before = committed_private_bytes();
  open_and_close(chain, 9400, 0);
  say("after sockets %zu", committed_private_bytes());
  open_and_close(chain, 0, 200);
  size_t memory_after = committed_private_bytes();
  DWORD handles_after = 0;
  GetProcessHandleCount(GetCurrentProcess(), &handles_after);
  uintptr_t next_after = next_handle_value();
  say("handles before %lu after %lu; next handle value before %llu after %llu", handles_before,
      handles_after, static_cast<unsigned long long>(next_before),
      static_cast<unsigned long long>(next_after));
  check(open_socket_handles() == sockets_before, "every socket handle made was closed");
  check(handles_after <= handles_before + 8, "no handles are left behind (handle count)");
  check(next_after <= next_before + 8 * sizeof(HANDLE),
        "no handles are left behind (handle values)");
  // A context leaked per socket would be over 2 MB here; a heap may keep a few pages.
  say("private memory committed before %zu after %zu", memory_before, memory_after);
  check(memory_after <= memory_before + 512 * 1024, "no memory is left behind");
}

size_t mapped_bytes() {
  return committed_bytes(MEM_MAPPED);
}

// One life of the DLL: loaded, started, a connection recorded, cleaned up, unloaded.
bool load_use_unload() {
  std::string problem;
  if (!check(layer.load(problem), problem.c_str())) return false;
  DWORD chain = kBaseTcp4 + kChainOffset;
  if (!check(layer.start(chain) == 0, "WSPStartup")) return false;
  Pair pair = connect_pair(chain);
  // An overlapped receive, completed: the LSP's completion port and worker exist from here on.
  char data[8];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  int error = 0;
  bool received = overlapped_receive(pair.server, buffer, overlapped) == WSA_IO_PENDING &&
                  send_text(pair.client, "x", error) == 1 &&
                  event_result(pair.server, overlapped) == 1;
  WSACloseEvent(overlapped.hEvent);
  close_socket(pair.client);
  close_socket(pair.server);
  close_socket(pair.listener);
  check(received, "an overlapped receive completes");
  check(layer.cleanup() == 0, "WSPCleanup");
  layer.unload();
  return true;
}

// Threads of this process, from a snapshot.
int thread_count() {
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return -1;
  THREADENTRY32 entry{};
  entry.dwSize = sizeof(entry);
  int count = 0;
  for (BOOL more = Thread32First(snapshot, &entry); more; more = Thread32Next(snapshot, &entry)) {
    if (entry.th32OwnerProcessID == GetCurrentProcessId()) ++count;
  }
  CloseHandle(snapshot);
  return count;
}

// Winsock started and cleaned up again and again (each time unloading the DLL): nothing of any
// earlier load may stay behind, the channel's mappings above all.
void scenario_reload() {
  check(layer.cleanup() == 0, "WSPCleanup of the host's own startups");
  layer.unload();
  if (!load_use_unload()) return;  // the first load's one-time costs happen before measuring
  Sleep(100);                      // the first load's worker ends, releasing the DLL
  size_t mapped_before = mapped_bytes(), memory_before = committed_private_bytes();
  int threads_before = thread_count();
  for (int i = 0; i < 50; ++i) {
    if (!load_use_unload()) return;
  }
  for (int rounds = 0; rounds < 100 && thread_count() > threads_before; ++rounds) Sleep(10);
  size_t mapped_after = mapped_bytes(), memory_after = committed_private_bytes();
  int threads_after = thread_count();
  say("mapped before %zu after %zu; private before %zu after %zu; threads %d -> %d", mapped_before,
      mapped_after, memory_before, memory_after, threads_before, threads_after);
  check(threads_after == threads_before, "every load's completion worker has ended");
  check(mapped_after <= mapped_before, "every load's channel mappings are released at unload");
  check(memory_after <= memory_before + 512 * 1024, "no memory is left behind by 50 loads");
  std::string problem;
  check(layer.load(problem), "the DLL loads again");
}

// --- Overlapped I/O ---------------------------------------------------------------------------

// The event style: data, then the end of the stream, each through WSPGetOverlappedResult.
void scenario_overlapped_event() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  int started = overlapped_receive(pair.server, buffer, overlapped);
  check(started == WSA_IO_PENDING, "an overlapped receive is pending");
  DWORD bytes = 0, flags = 0;
  check(!lsp().lpWSPGetOverlappedResult(pair.server, &overlapped, &bytes, FALSE, &flags, &error) &&
            error == WSA_IO_INCOMPLETE,
        "WSPGetOverlappedResult says incomplete while it is");
  check(send_text(pair.client, "hello", error) == 5, "client sends 5 bytes");
  check(event_result(pair.server, overlapped) == 5, "the event completes it with 5 bytes");
  check(std::memcmp(data, "hello", 5) == 0, "into the application's buffer");
  WSAResetEvent(overlapped.hEvent);
  check(overlapped_receive(pair.server, buffer, overlapped) == WSA_IO_PENDING, "a second receive");
  check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "client shuts down sending");
  check(event_result(pair.server, overlapped) == 0, "it completes with 0 bytes: the end");
  check_request_went_below(overlapped, "the receives");
  WSACloseEvent(overlapped.hEvent);
  close_pair(pair);
}

// A manual-reset event still signalled from an earlier use: starting the request resets it, so a
// pending receive is never reported done with 0 bytes, which would read as the end of the stream.
void scenario_overlapped_stale_event() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  WSASetEvent(overlapped.hEvent);  // left signalled by an earlier request
  check(overlapped_receive(pair.server, buffer, overlapped) == WSA_IO_PENDING,
        "an overlapped receive is pending");
  check(WaitForSingleObject(overlapped.hEvent, 0) == WAIT_TIMEOUT,
        "starting the receive reset its event");
  DWORD bytes = 0, flags = 0;
  check(!lsp().lpWSPGetOverlappedResult(pair.server, &overlapped, &bytes, FALSE, &flags, &error) &&
            error == WSA_IO_INCOMPLETE,
        "it is incomplete, not done with 0 bytes");
  check(send_text(pair.client, "hello", error) == 5, "client sends 5 bytes");
  check(event_result(pair.server, overlapped) == 5, "then it completes with the 5 bytes");
  WSACloseEvent(overlapped.hEvent);
  close_pair(pair);
}

// Sends 4 bytes on the socket `client` after 300 ms: a thread's body.
DWORD WINAPI send_late(void* client) {
  Sleep(300);
  int ignored = 0;
  return send_text(reinterpret_cast<SOCKET>(client), "wxyz", ignored) == 4 ? 0 : 1;
}

// One event shared by two requests: when one completes, the other is still incomplete, and a
// waiting WSPGetOverlappedResult returns only once its own request is done.
void scenario_overlapped_shared_event() {
  Pair first = announced_pair(kBaseTcp4 + kChainOffset);
  Pair second = connect_pair(kBaseTcp4 + kChainOffset, 0);
  announce("second-server", second.server);
  int error = 0;
  char data_a[16], data_b[16];
  WSABUF buffer_a{sizeof(data_a), data_a};
  WSABUF buffer_b{sizeof(data_b), data_b};
  WSAEVENT shared = WSACreateEvent();
  WSAOVERLAPPED a{}, b{};
  a.hEvent = shared;
  b.hEvent = shared;
  check(overlapped_receive(first.server, buffer_a, a) == WSA_IO_PENDING, "receive A pending");
  check(overlapped_receive(second.server, buffer_b, b) == WSA_IO_PENDING, "receive B pending");
  check(send_text(first.client, "abc", error) == 3, "A's peer sends 3 bytes");
  check(WSAWaitForMultipleEvents(1, &shared, FALSE, 5000, FALSE) == WSA_WAIT_EVENT_0,
        "the shared event is signalled");
  DWORD bytes = 0, flags = 0;
  check(lsp().lpWSPGetOverlappedResult(first.server, &a, &bytes, FALSE, &flags, &error) &&
            bytes == 3,
        "A is done with 3 bytes");
  check(!lsp().lpWSPGetOverlappedResult(second.server, &b, &bytes, FALSE, &flags, &error) &&
            error == WSA_IO_INCOMPLETE,
        "B, under the same signalled event, is still incomplete");
  // The event stays signalled (nobody resets it).
  SOCKET late_sender = second.client;
  HANDLE sender = CreateThread(nullptr, 0, send_late, reinterpret_cast<void*>(late_sender), 0,
                               nullptr);
  bytes = 0;
  if (compatible_mode) {
    // A waiting call is the provider's to answer (Windows' own can report success with 0 bytes
    // for a request still pending under a shared event): it is asked, and must not be taken for
    // the end of the stream. B's own result is read once B is done.
    BOOL early = lsp().lpWSPGetOverlappedResult(second.server, &b, &bytes, TRUE, &flags, &error);
    say("a waiting call under the signalled event: %d, %lu bytes, B %s", early, bytes,
        b.Internal == static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS) ? "pending" : "done");
    WaitForSingleObject(sender, 5000);
    for (int rounds = 0; rounds < 500 && b.Internal ==
                                             static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS);
         ++rounds) {
      Sleep(10);
    }
    check(lsp().lpWSPGetOverlappedResult(second.server, &b, &bytes, FALSE, &flags, &error) &&
              bytes == 4 && std::memcmp(data_b, "wxyz", 4) == 0,
          "once B is done, WSPGetOverlappedResult returns its own 4 bytes");
  } else {
    // Teardown completes the requests: a waiting call must still wait for B itself.
    check(lsp().lpWSPGetOverlappedResult(second.server, &b, &bytes, TRUE, &flags, &error) &&
              bytes == 4 && std::memcmp(data_b, "wxyz", 4) == 0,
          "a waiting WSPGetOverlappedResult returns B's own 4 bytes");
    WaitForSingleObject(sender, 5000);
  }
  CloseHandle(sender);
  WSACloseEvent(shared);
  for (Pair* pair : {&first, &second}) {
    close_pair(*pair);
  }
}

struct RoutineResult {
  int calls = 0;
  DWORD error = 0;
  DWORD bytes = 0;
  int failed = 0;  // calls with an error
  DWORD total_bytes = 0;
};
RoutineResult routine_result;

void CALLBACK on_completion(DWORD error, DWORD bytes, LPWSAOVERLAPPED, DWORD) {
  ++routine_result.calls;
  routine_result.error = error;
  routine_result.bytes = bytes;
  if (error != 0) ++routine_result.failed;
  routine_result.total_bytes += bytes;
}

bool await_routine(int calls) {
  for (int rounds = 0; rounds < 100 && routine_result.calls < calls; ++rounds) SleepEx(50, TRUE);
  return routine_result.calls == calls;
}

// The completion-routine style: data, then a reset while a receive is pending.
void scenario_overlapped_routine() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED overlapped{};
  check(overlapped_receive(pair.server, buffer, overlapped, on_completion) == WSA_IO_PENDING,
        "an overlapped receive with a routine is pending");
  check(send_text(pair.client, "abc", error) == 3, "client sends 3 bytes");
  check(await_routine(1) && routine_result.error == 0 && routine_result.bytes == 3,
        "the routine runs in this thread with 3 bytes");
  check(overlapped_receive(pair.server, buffer, overlapped, on_completion) == WSA_IO_PENDING,
        "a second receive is pending");
  set_linger(pair.client, 1, 0);
  check(close_socket(pair.client) == 0, "client closes abortively");
  check(await_routine(2), "the routine runs again");
  say("routine error %lu", routine_result.error);
  check(routine_result.error == WSAECONNRESET || routine_result.error == WSAECONNABORTED,
        "with the reset");
  check_request_went_below(overlapped, "the receives with a routine");
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// A request that fails and is completed through its routine leaves the failure in its overlapped:
// not pending, not success, and WSPGetOverlappedResult says which error.
void scenario_overlapped_routine_failure() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED overlapped{};
  int calls = routine_result.calls;
  check(overlapped_receive(pair.server, buffer, overlapped, on_completion) == WSA_IO_PENDING,
        "an overlapped receive with a routine is pending");
  set_linger(pair.client, 1, 0);
  check(close_socket(pair.client) == 0, "client closes abortively");
  check(await_routine(calls + 1), "the routine runs");
  check(routine_result.error == WSAECONNRESET || routine_result.error == WSAECONNABORTED,
        "with the reset");
  check(overlapped.Internal != 0 &&
            overlapped.Internal != static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS),
        "the overlapped's status is a failure");
  DWORD bytes = 0, flags = 0;
  check(!lsp().lpWSPGetOverlappedResult(pair.server, &overlapped, &bytes, FALSE, &flags, &error) &&
            static_cast<DWORD>(error) == routine_result.error,
        "WSPGetOverlappedResult gives the routine's error");
  check(close_socket(pair.server) == 0, "server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// The last WSPCleanup with work in flight, as a program that calls WSACleanup without closing
// first: every socket still open is closed (and its close recorded), requests still pending fail
// with WSA_OPERATION_ABORTED and nobody is told, a routine queued before the cleanup still runs,
// and the DLL, freed at once, is unloaded only once that routine has returned.
void scenario_cleanup_with_requests() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  size_t handles_before = open_socket_handles();
  Pair pair = announced_pair(chain);
  Pair second = connect_pair(chain);
  announce("second-server", second.server);
  char data_a[16], data_b[16], data_c[16];
  WSABUF buffer_a{sizeof(data_a), data_a}, buffer_b{sizeof(data_b), data_b},
      buffer_c{sizeof(data_c), data_c};
  WSAOVERLAPPED by_routine{}, by_event{}, done_by_routine{};
  by_event.hEvent = WSACreateEvent();
  check(overlapped_receive(pair.server, buffer_a, by_routine, on_completion) == WSA_IO_PENDING,
        "a receive with a routine is pending");
  check(overlapped_receive(pair.client, buffer_b, by_event) == WSA_IO_PENDING,
        "a receive with an event is pending");
  check(
      overlapped_receive(second.server, buffer_c, done_by_routine, on_completion) == WSA_IO_PENDING,
      "a third receive, with a routine, is pending");
  int error = 0;
  check(send_text(second.client, "done", error) == 4, "its peer sends 4 bytes");
  for (int rounds = 0; rounds < 500 && done_by_routine.Internal ==
                                           static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS);
       ++rounds) {
    Sleep(10);  // not alertable: the routine stays queued
  }
  check(done_by_routine.Internal == 0, "the third receive completes, its routine queued");
  int calls = routine_result.calls;
  DWORD total_bytes = routine_result.total_bytes;

  check(layer.cleanup() == 0, "the last WSPCleanup succeeds");
  check(open_socket_handles() == handles_before, "it closes every socket handle still open");
  if (compatible_mode) {
    // The sockets are the base provider's, and so are their requests: its cleanup closed them
    // and ended their requests as it ends them without Teardown.
    for (int rounds = 0; rounds < 500 && by_event.Internal ==
                                             static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS);
         ++rounds) {
      Sleep(10);
    }
    check(by_event.Internal != 0 &&
              by_event.Internal != static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS),
          "a pending request is ended with a failure by the provider below");
  } else {
    check(WaitForSingleObject(by_event.hEvent, 0) == WAIT_TIMEOUT,
          "a pending request's event is not signalled");
    for (const WSAOVERLAPPED* cancelled : {&by_event, &by_routine}) {
      check(cancelled->Internal == 0xC0000120 && cancelled->OffsetHigh == WSA_OPERATION_ABORTED,
            "a pending request is left cancelled, with WSA_OPERATION_ABORTED");
    }
  }
  check(routine_result.calls == calls, "no routine runs before the thread waits alertably");
  layer.unload();
  check(GetModuleHandleW(L"teardown_lsp.dll") != nullptr,
        "the DLL stays loaded while a routine of its is queued");
  SleepEx(100, TRUE);
  say("routines run after cleanup: %d (last error %lu)", routine_result.calls - calls,
      routine_result.error);
  if (compatible_mode) {
    // Both routines are Teardown's wrappers, each holding the DLL until it has run: the one
    // whose request completed first, then the one whose request the cleanup ended.
    // (The other request ends as the provider's cleanup ends it: the peer's close, made first,
    // may complete it as the end of the stream.)
    check(routine_result.calls == calls + 2 && routine_result.total_bytes == total_bytes + 4,
          "both queued routines run: the completed one with its 4 bytes, and the other");
  } else {
    check(routine_result.calls == calls + 1 && routine_result.error == 0 &&
              routine_result.bytes == 4,
          "the routine queued before the cleanup runs, with its 4 bytes; the cancelled one never");
  }
  bool unloaded = false;
  for (int rounds = 0; rounds < 500 && !unloaded; ++rounds) {
    unloaded = GetModuleHandleW(L"teardown_lsp.dll") == nullptr;
    if (!unloaded) Sleep(10);
  }
  check(unloaded, "the DLL is unloaded once its routine has returned and its worker ended");
  WSACloseEvent(by_event.hEvent);

  // Winsock may start it again at once: a new connection works end to end.
  std::string problem;
  if (!check(layer.load(problem), problem.c_str())) return;
  check(layer.start(chain) == 0, "WSPStartup after the last cleanup");
  Pair again = connect_pair(chain);
  char data[8];
  check(send_text(again.client, "again", error) == 5 &&
            receive(again.server, data, sizeof(data), error) == 5,
        "a connection made after it carries bytes");
  close_pair(again);
}

// The handle an ioctl names, or INVALID_SOCKET when the ioctl fails (with `error`).
SOCKET handle_for(SOCKET s, DWORD code, int& error) {
  SOCKET handle = INVALID_SOCKET;
  DWORD returned = 0;
  if (lsp().lpWSPIoctl(s, code, nullptr, 0, &handle, sizeof(handle), &returned, nullptr, nullptr,
                       nullptr, &error) != 0) {
    return INVALID_SOCKET;
  }
  return handle;
}

// The calls ws2_32 routes to a layered provider by ioctl: Teardown names itself for WSASendMsg and
// WSAPoll and serves them, leaves select to the base provider, and refuses registered I/O.
void scenario_routed_calls() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  check(handle_for(pair.client, SIO_BSP_HANDLE, error) == pair.client &&
            handle_for(pair.client, SIO_BSP_HANDLE_POLL, error) == pair.client,
        "SIO_BSP_HANDLE and SIO_BSP_HANDLE_POLL name Teardown's own handle");
  SOCKET base = handle_for(pair.client, SIO_BASE_HANDLE, error);
  check(base != INVALID_SOCKET && (base == pair.client) == compatible_mode,
        "SIO_BASE_HANDLE names the base's handle (in compatible mode, the application's own)");
  check(handle_for(pair.client, SIO_BSP_HANDLE_SELECT, error) == base,
        "SIO_BSP_HANDLE_SELECT agrees with SIO_BASE_HANDLE: select stays the base's");
  SOCKET ignored = INVALID_SOCKET;
  DWORD returned = 0;
  check(lsp().lpWSPIoctl(pair.client, SIO_BSP_HANDLE, nullptr, 0, &ignored, 2, &returned, nullptr,
                         nullptr, nullptr, &error) != 0 &&
            error == WSAEFAULT,
        "no room for a SOCKET: WSAEFAULT");

  // WSASendMsg, plain: a send, counted.
  char first[] = "ab", second[] = "cd";
  WSABUF buffers[2] = {{2, first}, {2, second}};
  DWORD sent = 0;
  check(send_message(pair.client, buffers, 2, &sent, nullptr) == 0 && sent == 4,
        "WSASendMsg sends 4 bytes from two buffers");
  char data[16] = {};
  check(receive(pair.server, data, sizeof(data), error) == 4 && std::memcmp(data, "abcd", 4) == 0,
        "the server reads them");

  // WSASendMsg overlapped on a socket whose requests go through Teardown's port: it completes
  // through the application's event, not lost on the port.
  WSABUF into{sizeof(data), data};
  WSAOVERLAPPED receiving{};
  receiving.hEvent = WSACreateEvent();
  check(overlapped_receive(pair.client, into, receiving) == WSA_IO_PENDING,
        "an overlapped receive binds the client's lower socket to Teardown's port");
  WSABUF third{3, const_cast<char*>("xyz")};
  WSAOVERLAPPED sending{};
  sending.hEvent = WSACreateEvent();
  int started = send_message(pair.client, &third, 1, nullptr, &sending);
  check(started == 0 || started == WSA_IO_PENDING, "an overlapped WSASendMsg starts");
  check(event_result(pair.client, sending) == 3, "and completes through its event with 3 bytes");
  check(receive(pair.server, data, sizeof(data), error) == 3 && std::memcmp(data, "xyz", 3) == 0,
        "the server reads them");
  check(send_text(pair.server, "k", error) == 1 && event_result(pair.client, receiving) == 1,
        "the pending receive completes too");

  // WSAPoll: readiness of Teardown's sockets, translated below, and a hang-up recorded.
  WSAPOLLFD fds[2] = {{pair.server, POLLRDNORM, 0}, {pair.client, POLLWRNORM, 0}};
  check(poll_sockets(fds, 2, 0) == 1 && fds[0].revents == 0 && (fds[1].revents & POLLWRNORM) != 0,
        "WSAPoll: nothing to read, the client writable");
  check(send_text(pair.client, "q", error) == 1, "the client sends a byte");
  fds[1].events = POLLRDNORM;
  check(poll_sockets(fds, 2, 2000) == 1 && (fds[0].revents & POLLRDNORM) != 0,
        "WSAPoll waits until the server can read");
  check(receive(pair.server, data, sizeof(data), error) == 1, "the server reads it");
  check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "the client shuts down sending");
  int ended = -1;
  check(drain(pair.server, ended) == 0 && ended == 0, "the server reads the end");
  WSAPOLLFD hangup{pair.server, POLLRDNORM, 0};
  int ready = poll_sockets(&hangup, 1, 2000);
  say("poll after the end: %d revents 0x%x", ready, hangup.revents);
  check(ready == 1 && (hangup.revents & (POLLHUP | POLLRDNORM)) != 0, "WSAPoll reports the end");

  // Registered I/O cannot be layered over Teardown's own handles: refused in full mode. In
  // compatible mode its functions take the application's handles, the base provider's own: they
  // are the provider's answer, whatever it is.
  GUID rio = {0x8509e081, 0x96dd, 0x4005, {0xb1, 0x65, 0x9e, 0x2e, 0xe8, 0xc7, 0x9e, 0x3f}};
  char table[256];
  int through = lsp().lpWSPIoctl(pair.client, _WSAIORW(IOC_WS2, 36), &rio, sizeof(rio), table,
                                 sizeof(table), &returned, nullptr, nullptr, nullptr, &error);
  if (compatible_mode) {
    SOCKET plain = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    char plain_table[256];
    int alone = WSAIoctl(plain, _WSAIORW(IOC_WS2, 36), &rio, sizeof(rio), plain_table,
                         sizeof(plain_table), &returned, nullptr, nullptr);
    int alone_error = alone == 0 ? 0 : WSAGetLastError();
    closesocket(plain);
    say("registered I/O: %d (%d) through Teardown, %d (%d) without", through,
        through == 0 ? 0 : error, alone, alone_error);
    check(through == alone && (through == 0 || error == alone_error),
          "registered I/O is answered as the base provider answers it");
  } else {
    check(through != 0 && error == WSAEOPNOTSUPP, "registered I/O is refused with WSAEOPNOTSUPP");
  }
  WSACloseEvent(receiving.hEvent);
  WSACloseEvent(sending.hEvent);
  close_pair(pair);
}

// The completion-port style: completions reach the port the application bound its socket to.
void scenario_overlapped_port() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  bind_completion_port(pair.server, port, 42);
  size_t completed_before = overlapped_requests_completed();
  int threads_before = thread_count();
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED overlapped{};
  for (const char* text : {"port", ""}) {
    check(overlapped_receive(pair.server, buffer, overlapped) == WSA_IO_PENDING,
          "an overlapped receive is pending");
    if (*text != '\0') {
      check(send_text(pair.client, text, error) == 4, "client sends 4 bytes");
    } else {
      check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "client shuts down sending");
    }
    DWORD bytes = 99;
    ULONG_PTR key = 0;
    LPOVERLAPPED done = nullptr;
    check(GetQueuedCompletionStatus(port, &bytes, &key, &done, 5000) != 0, "a completion arrives");
    check(key == 42 && done == reinterpret_cast<LPOVERLAPPED>(&overlapped),
          "with the application's key and overlapped");
    check(bytes == std::strlen(text), "and its byte count");
  }
  size_t completed = overlapped_requests_completed() - completed_before;
  SYSTEM_INFO system{};
  GetSystemInfo(&system);
  say("completions made by Teardown: %zu; threads %d -> %d on %lu CPUs", completed, threads_before,
      thread_count(), system.dwNumberOfProcessors);
  check_request_went_below(overlapped, "the receives");
  if (compatible_mode) {
    check(completed == 0 && thread_count() == threads_before,
          "nothing of Teardown's is between: the provider below completed both, and Teardown "
          "started no thread");
  } else {
    check(completed == 2, "Teardown completed both through WPUCompleteOverlappedRequest");
    check(overlapped_requests_marked_done_early() == 0,
          "each left its status to WPUCompleteOverlappedRequest, which marks it done");
    check(thread_count() == threads_before + static_cast<int>(system.dwNumberOfProcessors),
          "Teardown's port has a worker per CPU");
  }
  CloseHandle(port);
  close_pair(pair);
}

// A socket whose provider binds it to a port of its own, so that no layer can bind it to another:
// in full mode Teardown waits on each request's own event instead, and completes them all the
// same, by event, by routine and by port; in compatible mode they are the provider's.
void scenario_overlapped_unbindable() {
  Pair pair = announced_pair(kBaseBoundElsewhere + kChainOffset);
  int error = 0;
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED by_event{};
  by_event.hEvent = WSACreateEvent();
  check(overlapped_receive(pair.server, buffer, by_event) == WSA_IO_PENDING, "a receive is pending");
  check(send_text(pair.client, "hello", error) == 5, "the client sends 5 bytes");
  check(event_result(pair.server, by_event) == 5, "its event completes it with the 5 bytes");
  check_request_went_below(by_event, "the receive by event");
  if (!compatible_mode) {
    // The application's port, on Teardown's handle: the socket below is bound elsewhere, and
    // Teardown posts the completion to the application's port all the same.
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    bind_completion_port(pair.server, port, 7);
    WSAOVERLAPPED by_port{};
    check(overlapped_receive(pair.server, buffer, by_port) == WSA_IO_PENDING, "a receive is pending");
    check(send_text(pair.client, "port", error) == 4, "the client sends 4 bytes");
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED done = nullptr;
    check(GetQueuedCompletionStatus(port, &bytes, &key, &done, 5000) && key == 7 &&
              done == reinterpret_cast<LPOVERLAPPED>(&by_port) && bytes == 4,
          "the completion reaches the application's port, with its key and overlapped");
    check_request_went_below(by_port, "the receive by port");
    CloseHandle(port);
  }
  if (compatible_mode) {
    // The socket is the provider's, bound to its port: a completion routine is the provider's to
    // refuse there. The end of the stream, by event.
    check(overlapped_receive(pair.server, buffer, by_event) == WSA_IO_PENDING, "a receive is pending");
    check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "the client shuts down sending");
    check(event_result(pair.server, by_event) == 0, "its event completes it with the end");
  } else {
    WSAOVERLAPPED by_routine{};
    check(overlapped_receive(pair.server, buffer, by_routine, on_completion) == WSA_IO_PENDING,
          "a receive with a routine is pending");
    int calls = routine_result.calls;
    check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "the client shuts down sending");
    check(await_routine(calls + 1) && routine_result.error == 0 && routine_result.bytes == 0,
          "the routine runs with the end of the stream");
    check_request_went_below(by_routine, "the receive with a routine");
  }
  WSACloseEvent(by_event.hEvent);
  close_pair(pair);
}

// Eight threads make the first overlapped request of one socket at once: whichever binds the
// socket below, every request is Teardown's to complete (full mode), none goes below as it is.
// (Each thread waits for its own request: a thread's requests may be cancelled when it ends.)
void scenario_overlapped_first_race() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  constexpr int kThreads = 8;
  char data[kThreads][1];
  WSABUF buffers[kThreads];
  WSAOVERLAPPED requests[kThreads] = {};
  std::atomic<int> ready{0}, posted{0};
  int started[kThreads] = {};
  long results[kThreads] = {};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    buffers[i] = WSABUF{1, data[i]};  // one byte each: each receive takes one of the eight
    requests[i].hEvent = WSACreateEvent();
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      started[i] = overlapped_receive(pair.server, buffers[i], requests[i]);
      posted.fetch_add(1);
      results[i] = event_result(pair.server, requests[i]);
    });
  }
  for (int rounds = 0; rounds < 500 && posted.load() < kThreads; ++rounds) Sleep(10);
  int error = 0;
  check(send_text(pair.client, "12345678", error) == kThreads, "the client sends eight bytes");
  for (auto& thread : threads) thread.join();
  long total = 0;
  for (int i = 0; i < kThreads; ++i) {
    check(started[i] == WSA_IO_PENDING, "each receive is pending");
    total += results[i] == 1 ? 1 : 0;
    check_request_went_below(requests[i], "a first request raced by others");
    WSACloseEvent(requests[i].hEvent);
  }
  say("first-race: %ld of %d completed with their byte", total, kThreads);
  check(total == kThreads, "every request completed with a byte");
  close_pair(pair);
}

// Closing with a receive pending: it completes with WSA_OPERATION_ABORTED, the handle goes with
// that completion, and the close is recorded once.
void scenario_close_with_pending_io() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  size_t handles_before = open_socket_handles();
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  check(overlapped_receive(pair.server, buffer, overlapped) == WSA_IO_PENDING,
        "a receive is pending");
  check(close_socket(pair.server) == 0, "server closes with it pending");
  check(WSAWaitForMultipleEvents(1, &overlapped.hEvent, FALSE, 5000, FALSE) == WSA_WAIT_EVENT_0,
        "the pending receive completes");
  say("pending receive completed with error %lu, status 0x%lx", overlapped.OffsetHigh,
      static_cast<unsigned long>(overlapped.Internal));
  if (compatible_mode) {
    // The provider below ends its own request, as it would without Teardown.
    check(overlapped.Internal != 0 &&
              overlapped.Internal != static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS),
          "with a failure status, left by the provider below");
  } else {
    check(overlapped.OffsetHigh == WSA_OPERATION_ABORTED, "with WSA_OPERATION_ABORTED");
  }
  // Teardown's handle goes with that completion (compatible mode has no handle of Teardown's).
  size_t handles_after = compatible_mode ? handles_before : handles_before - 1;
  for (int rounds = 0; rounds < 50 && open_socket_handles() != handles_after; ++rounds) Sleep(10);
  check(open_socket_handles() == handles_after, "its handle is closed after the completion");
  WSACloseEvent(overlapped.hEvent);
  check(close_socket(pair.client) == 0, "client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// 10,000 connections, each closed with a receive pending: nothing of them may remain.
void scenario_overlapped_lifecycle() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  auto one = [&] {
    Pair pair = connect_pair(chain);
    char data[8];
    WSABUF buffer{sizeof(data), data};
    WSAOVERLAPPED overlapped{};
    overlapped.hEvent = WSACreateEvent();
    bool pending = overlapped_receive(pair.server, buffer, overlapped) == WSA_IO_PENDING;
    close_socket(pair.server);
    bool completed =
        WSAWaitForMultipleEvents(1, &overlapped.hEvent, FALSE, 5000, FALSE) == WSA_WAIT_EVENT_0;
    WSACloseEvent(overlapped.hEvent);
    close_socket(pair.client);
    close_socket(pair.listener);
    return pending && completed;
  };
  for (int i = 0; i < 50; ++i) one();  // first-use allocations happen before measuring
  Sleep(100);
  size_t sockets_before = open_socket_handles();
  size_t memory_before = committed_private_bytes();
  uintptr_t next_before = next_handle_value();
  int failed = 0;
  for (int i = 0; i < 10000; ++i) failed += one() ? 0 : 1;
  for (int rounds = 0; rounds < 100 && open_socket_handles() != sockets_before; ++rounds) Sleep(10);
  size_t memory_after = committed_private_bytes();
  uintptr_t next_after = next_handle_value();
  say("overlapped: private memory before %zu after %zu; next handle %llu -> %llu", memory_before,
      memory_after, static_cast<unsigned long long>(next_before),
      static_cast<unsigned long long>(next_after));
  check(failed == 0, "every pending receive completed when its socket closed");
  check(open_socket_handles() == sockets_before, "every socket handle was closed");
  check(next_after <= next_before + 8 * sizeof(HANDLE), "no handles are left behind");
  check(memory_after <= memory_before + 512 * 1024, "no memory is left behind");
}

// Four threads at once, each making, using and closing connections, some with overlapped
// receives pending at close: the contexts' references must hold, and nothing be left.
//
// (Closing a socket while another thread may be just entering a call on it is a race in the
// application: the base provider's handle can be reused at once, with or without Teardown.
// close-while-receiving below closes one that is known to be blocked.)
void scenario_threads() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  constexpr int kThreads = 4;
  constexpr int kConnections = 250;
  std::atomic<int> exchanged{0};
  std::atomic<bool> failed{false};
  auto worker = [&](int seed) {
    for (int i = 0; i < kConnections; ++i) {
      Pair pair = connect_pair(chain);
      int error = 0;
      char data[16];
      bool ok = send_text(pair.client, "ping", error) == 4 &&
                receive(pair.server, data, sizeof(data), error) == 4;
      if ((i + seed) % 3 == 0) {
        WSABUF buffer{sizeof(data), data};
        WSAOVERLAPPED overlapped{};
        overlapped.hEvent = WSACreateEvent();
        ok = ok && overlapped_receive(pair.server, buffer, overlapped) == WSA_IO_PENDING;
        close_socket(pair.server);  // with the receive pending
        ok = ok && WSAWaitForMultipleEvents(1, &overlapped.hEvent, FALSE, 5000, FALSE) ==
                       WSA_WAIT_EVENT_0;
        WSACloseEvent(overlapped.hEvent);
      } else {
        close_socket(pair.server);
      }
      close_socket(pair.client);
      close_socket(pair.listener);
      if (ok) {
        exchanged.fetch_add(1);
      } else {
        failed = true;
      }
    }
  };
  size_t handles_before = open_socket_handles();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& thread : threads) thread.join();
  for (int rounds = 0; rounds < 100 && open_socket_handles() != handles_before; ++rounds) Sleep(10);
  say("threads: %d of %d connections exchanged", exchanged.load(), kThreads * kConnections);
  check(!failed && exchanged == kThreads * kConnections, "every connection of every thread worked");
  check(open_socket_handles() == handles_before, "every handle was closed");
}

// A socket closed while another thread is blocked in WSPRecv on it: the receive returns with an
// error (its context lives until it has), and the close is recorded.
void scenario_close_while_receiving() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  int result = 0, error = 0;
  std::thread reader([&] {
    char data[8];
    result = receive(pair.server, data, sizeof(data), error);
  });
  Sleep(200);  // the reader is blocked in WSPRecv; nothing else makes sockets meanwhile
  check(close_socket(pair.server) == 0, "the server closes");
  reader.join();
  say("the blocked receive returned %d with error %d", result, error);
  check(result < 0 && error != 0, "the blocked receive returns an error");
  check(close_socket(pair.client) == 0, "client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// --- Extension functions ---------------------------------------------------------------------

// The system's own function, for comparison: what an application would get without Teardown.
void* system_extension(GUID guid) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  void* function = nullptr;
  DWORD returned = 0;
  WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &function, sizeof(function),
           &returned, nullptr, nullptr);
  closesocket(s);
  return function;
}

// A server accepting with AcceptEx while the client connects with ConnectEx (sending its first
// bytes with it) and ends with DisconnectEx(TF_REUSE_SOCKET).
void scenario_extension_functions() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  int error = 0;
  SOCKET listener = open_socket(chain);
  sockaddr_storage address = loopback(AF_INET, 0);
  lsp().lpWSPBind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(sockaddr_in), &error);
  lsp().lpWSPListen(listener, 8, &error);
  int length = sizeof(address);
  lsp().lpWSPGetSockName(listener, reinterpret_cast<sockaddr*>(&address), &length, &error);
  SOCKET server = open_socket(chain);
  SOCKET client = open_socket(chain);
  announce("server", server);
  announce("client", client);

  auto accept_ex = extension<LPFN_ACCEPTEX>(listener, WSAID_ACCEPTEX);
  auto connect_ex = extension<LPFN_CONNECTEX>(client, WSAID_CONNECTEX);
  auto disconnect_ex = extension<LPFN_DISCONNECTEX>(client, WSAID_DISCONNECTEX);
  auto sockaddrs = extension<LPFN_GETACCEPTEXSOCKADDRS>(listener, WSAID_GETACCEPTEXSOCKADDRS);
  check(accept_ex != nullptr && connect_ex != nullptr && disconnect_ex != nullptr &&
            sockaddrs != nullptr,
        "AcceptEx, ConnectEx, DisconnectEx and GetAcceptExSockaddrs");
  check(reinterpret_cast<void*>(accept_ex) != system_extension(WSAID_ACCEPTEX),
        "AcceptEx is Teardown's wrapper, not the provider's own");
  check(reinterpret_cast<void*>(sockaddrs) == system_extension(WSAID_GETACCEPTEXSOCKADDRS),
        "GetAcceptExSockaddrs, which takes no socket, is the provider's own");
  if (failures > 0) return;

  constexpr DWORD kAddressSpace = kAcceptExAddressSpace;
  char accepted_data[5 + 2 * kAddressSpace] = {};
  if (!accept_and_connect(listener, address, server, client, accepted_data, 5)) return;
  sockaddr* local = nullptr;
  sockaddr* remote = nullptr;
  int local_length = 0, remote_length = 0;
  sockaddrs(accepted_data, 5, kAddressSpace, kAddressSpace, &local, &local_length, &remote,
            &remote_length);
  check(remote != nullptr && remote->sa_family == AF_INET, "GetAcceptExSockaddrs reads the peer");

  WSAOVERLAPPED disconnecting{};
  disconnecting.hEvent = WSACreateEvent();
  BOOL done =
      disconnect_ex(client, reinterpret_cast<LPOVERLAPPED>(&disconnecting), TF_REUSE_SOCKET, 0);
  check(done || GetLastError() == ERROR_IO_PENDING, "DisconnectEx starts");
  check(event_result(client, disconnecting) == 0, "DisconnectEx completes");
  int ended = -1;
  drain(server, ended);
  check(ended == 0, "the server reads the end of the stream");
  WSACloseEvent(disconnecting.hEvent);
  check(close_socket(server) == 0, "server closes");
  check(close_socket(client) == 0, "client closes");
  check(close_socket(listener) == 0, "listener closes");
}

// TransmitFile: the file's bytes sent through the LSP and counted when it completes. (Wine's
// TransmitFile ignores TF_DISCONNECT, so the disconnect it would add is DisconnectEx's, tested
// above; TF_DISCONNECT itself is for tests-windows.)
void scenario_transmit_file() {
  Pair pair = announced_pair(kBaseTcp4 + kChainOffset);
  auto transmit_file = extension<LPFN_TRANSMITFILE>(pair.server, WSAID_TRANSMITFILE);
  if (!check(transmit_file != nullptr, "TransmitFile")) return;
  check(reinterpret_cast<void*>(transmit_file) != system_extension(WSAID_TRANSMITFILE),
        "TransmitFile is Teardown's wrapper");
  wchar_t path[MAX_PATH], dir[MAX_PATH];
  GetTempPathW(MAX_PATH, dir);
  GetTempFileNameW(dir, L"td", 0, path);
  HANDLE file = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                            FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, nullptr);
  char block[1000];
  std::memset(block, 'f', sizeof(block));
  DWORD written = 0;
  WriteFile(file, block, sizeof(block), &written, nullptr);
  SetFilePointer(file, 0, nullptr, FILE_BEGIN);
  WSAOVERLAPPED sending{};
  sending.hEvent = WSACreateEvent();
  BOOL done = transmit_file(pair.server, file, sizeof(block), 0,
                            reinterpret_cast<LPOVERLAPPED>(&sending), nullptr, 0);
  check(done || GetLastError() == ERROR_IO_PENDING, "TransmitFile starts");
  check(event_result(pair.server, sending) == 1000, "TransmitFile completes with 1000 bytes");
  int error = 0;
  char data[256];
  int total = 0;
  for (int rounds = 0; rounds < 100 && total < 1000; ++rounds) {
    int n = receive(pair.client, data, sizeof(data), error);
    if (n <= 0) break;
    total += n;
  }
  check(total == 1000, "the client reads the file's 1000 bytes");
  // Wine has no TransmitPackets: the provider below lacks it, so Teardown offers none either
  // (the function itself is for tests-windows).
  check(extension<LPFN_TRANSMITPACKETS>(pair.server, WSAID_TRANSMITPACKETS) == nullptr,
        "a function the provider below lacks is not offered");
  // WSARecvMsg through Teardown's wrapper reads what was sent, and counts it.
  auto receive_message = extension<LPFN_WSARECVMSG>(pair.client, WSAID_WSARECVMSG);
  check(receive_message != nullptr &&
            reinterpret_cast<void*>(receive_message) != system_extension(WSAID_WSARECVMSG),
        "WSARecvMsg is Teardown's wrapper");
  if (receive_message != nullptr) {
    check(send_text(pair.server, "message", error) == 7, "server sends 7 bytes");
    char into[16];
    WSABUF buffer{sizeof(into), into};
    WSAMSG message{};
    message.lpBuffers = &buffer;
    message.dwBufferCount = 1;
    DWORD got = 0;
    int result = receive_message(pair.client, &message, &got, nullptr, nullptr);
    check(result == 0 && got == 7 && std::memcmp(into, "message", 7) == 0,
          "WSARecvMsg reads the 7 bytes");
  }
  check(lsp().lpWSPShutdown(pair.server, SD_SEND, &error) == 0, "server shuts down sending");
  int ended = -1;
  drain(pair.client, ended);
  check(ended == 0, "the client reads the end");
  WSACloseEvent(sending.hEvent);
  CloseHandle(file);
  close_pair(pair);
}

// --- Benchmark (not a test: `teardown_spi_host.exe bench`) ---------------------------------

double seconds_now() {
  static const double frequency = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return static_cast<double>(f.QuadPart);
  }();
  LARGE_INTEGER counter;
  QueryPerformanceCounter(&counter);
  return static_cast<double>(counter.QuadPart) / frequency;
}

// Nanoseconds per 64-byte request and response on a connected pair.
double round_trip_ns(int count) {
  Pair pair = connect_pair(kBaseTcp4 + kChainOffset);
  char data[64] = {};
  int error = 0;
  double started = seconds_now();
  for (int i = 0; i < count; ++i) {
    WSABUF buffer{sizeof(data), data};
    DWORD bytes = 0, flags = 0;
    lsp().lpWSPSend(pair.client, &buffer, 1, &bytes, 0, nullptr, nullptr, nullptr, &error);
    lsp().lpWSPRecv(pair.server, &buffer, 1, &bytes, &flags, nullptr, nullptr, nullptr, &error);
    lsp().lpWSPSend(pair.server, &buffer, 1, &bytes, 0, nullptr, nullptr, nullptr, &error);
    lsp().lpWSPRecv(pair.client, &buffer, 1, &bytes, &flags, nullptr, nullptr, nullptr, &error);
  }
  double elapsed = seconds_now() - started;
  close_socket(pair.client);
  close_socket(pair.server);
  close_socket(pair.listener);
  return elapsed * 1e9 / count;
}

// The same, with the server receiving overlapped (completed by its event): through Teardown that
// is its own request below, its worker and WPUCompleteOverlappedRequest.
double overlapped_round_trip_ns(int count) {
  Pair pair = connect_pair(kBaseTcp4 + kChainOffset);
  char data[64] = {};
  int error = 0;
  WSAOVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  double started = seconds_now();
  for (int i = 0; i < count; ++i) {
    WSABUF buffer{sizeof(data), data};
    DWORD bytes = 0, flags = 0;
    WSAResetEvent(overlapped.hEvent);
    overlapped_receive(pair.server, buffer, overlapped);
    lsp().lpWSPSend(pair.client, &buffer, 1, &bytes, 0, nullptr, nullptr, nullptr, &error);
    event_result(pair.server, overlapped);
    lsp().lpWSPSend(pair.server, &buffer, 1, &bytes, 0, nullptr, nullptr, nullptr, &error);
    lsp().lpWSPRecv(pair.client, &buffer, 1, &bytes, &flags, nullptr, nullptr, nullptr, &error);
  }
  double elapsed = seconds_now() - started;
  WSACloseEvent(overlapped.hEvent);
  close_socket(pair.client);
  close_socket(pair.server);
  close_socket(pair.listener);
  return elapsed * 1e9 / count;
}

// The overlapped round trip above through a layer that does only what completing the application's
// requests itself takes, as every non-IFS layer must, and nothing else (no recording, no
// bookkeeping): the application's event reset when the request starts (as the provider below
// would), the request made below with the layer's own overlapped on its own completion port, and
// a worker that takes the completion, fills in the application's overlapped and sets its event.
// Over the base provider alone, so that Teardown's overlapped time less this one is its own.
double completing_layer_round_trip_ns(const WSPPROC_TABLE& base, int count) {
  const WSPPROC_TABLE* layered = bypass;
  bypass = &base;
  Pair pair = connect_pair(kBaseTcp4 + kChainOffset);
  WSAOVERLAPPED app{};
  app.hEvent = WSACreateEvent();
  struct LayerRequest {
    WSAOVERLAPPED lower{};
    WSAOVERLAPPED* app = nullptr;
  } request;
  request.app = &app;
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  bool bound = port != nullptr &&
               CreateIoCompletionPort(reinterpret_cast<HANDLE>(pair.server), port, 0, 0) == port;
  std::thread worker([port] {
    for (;;) {
      DWORD bytes = 0;
      ULONG_PTR key = 0;
      LPOVERLAPPED done = nullptr;
      GetQueuedCompletionStatus(port, &bytes, &key, &done, INFINITE);
      if (done == nullptr) return;
      WSAOVERLAPPED* to = reinterpret_cast<LayerRequest*>(done)->app;
      to->InternalHigh = bytes;
      to->Internal = 0;
      SetEvent(to->hEvent);
    }
  });
  char data[64] = {};
  int error = 0;
  double started = seconds_now();
  for (int i = 0; bound && i < count; ++i) {
    WSABUF buffer{sizeof(data), data};
    DWORD bytes = 0, flags = 0;
    WSAResetEvent(app.hEvent);  // the application's, as in overlapped_round_trip_ns
    app.Internal = WSS_OPERATION_IN_PROGRESS;
    ResetEvent(app.hEvent);  // the layer's
    base.lpWSPRecv(pair.server, &buffer, 1, nullptr, &flags, &request.lower, nullptr, nullptr,
                   &error);
    base.lpWSPSend(pair.client, &buffer, 1, &bytes, 0, nullptr, nullptr, nullptr, &error);
    WSAWaitForMultipleEvents(1, &app.hEvent, FALSE, 5000, FALSE);
    base.lpWSPSend(pair.server, &buffer, 1, &bytes, 0, nullptr, nullptr, nullptr, &error);
    base.lpWSPRecv(pair.client, &buffer, 1, &bytes, &flags, nullptr, nullptr, nullptr, &error);
  }
  double elapsed = seconds_now() - started;
  check(bound, "the base provider's socket binds to a completion port");
  if (port != nullptr) PostQueuedCompletionStatus(port, 0, 0, nullptr);
  worker.join();
  close_pair(pair);
  if (port != nullptr) CloseHandle(port);
  WSACloseEvent(app.hEvent);
  bypass = layered;
  return elapsed * 1e9 / count;
}

// Nanoseconds per connection made, accepted and closed at both ends.
double churn_ns(int count) {
  double started = seconds_now();
  for (int i = 0; i < count; ++i) {
    Pair pair = connect_pair(kBaseTcp4 + kChainOffset);
    close_socket(pair.client);
    close_socket(pair.server);
    close_socket(pair.listener);
  }
  return (seconds_now() - started) * 1e9 / count;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The base provider's calls a layer may make of its own (base_provider.cpp counts them).
constexpr size_t kCountedCalls = 5;
constexpr const char* kCountedNames[kCountedCalls] = {"getsockname", "getpeername", "ioctl",
                                                      "getsockopt", "setsockopt"};
using CallCounts = void (*)(uint64_t*, int);

// How many of each counted call the base provider serves per connection of a churn through
// Teardown beyond what the same churn asks of it alone; empty if it counts nothing.
std::vector<double> extra_calls(const WSPPROC_TABLE& base, HMODULE module, int connections) {
  auto counts = reinterpret_cast<CallCounts>(
      reinterpret_cast<void (*)()>(GetProcAddress(module, "TestBaseCallCounts")));
  if (!check(counts != nullptr, "the base provider counts its calls")) return {};
  const WSPPROC_TABLE* layered = bypass;
  double per_connection[2][kCountedCalls] = {};
  for (int through = 0; through < 2; ++through) {
    bypass = through == 0 ? &base : nullptr;
    uint64_t before[kCountedCalls] = {}, after[kCountedCalls] = {};
    counts(before, static_cast<int>(kCountedCalls));
    churn_ns(connections);
    counts(after, static_cast<int>(kCountedCalls));
    for (size_t call = 0; call < kCountedCalls; ++call) {
      per_connection[through][call] = static_cast<double>(after[call] - before[call]) / connections;
    }
  }
  bypass = layered;
  std::vector<double> extra(kCountedCalls);
  for (size_t call = 0; call < kCountedCalls; ++call) {
    extra[call] = per_connection[1][call] - per_connection[0][call];
  }
  return extra;
}

// Nanoseconds of one call to the base provider alone, on a connected socket: getsockname,
// getpeername and the FIONREAD a recording layer asks at a close (the counted calls above that
// a churn makes through Teardown).
std::vector<double> lower_call_ns(const WSPPROC_TABLE& base, int count) {
  const WSPPROC_TABLE* layered = bypass;
  bypass = &base;
  Pair pair = connect_pair(kBaseTcp4 + kChainOffset);
  int error = 0;
  std::vector<double> out(3);
  for (size_t call = 0; call < out.size(); ++call) {
    double started = seconds_now();
    for (int i = 0; i < count; ++i) {
      sockaddr_storage name{};
      int length = sizeof(name);
      u_long unread = 0;
      DWORD returned = 0;
      if (call == 0) {
        base.lpWSPGetSockName(pair.client, reinterpret_cast<sockaddr*>(&name), &length, &error);
      } else if (call == 1) {
        base.lpWSPGetPeerName(pair.client, reinterpret_cast<sockaddr*>(&name), &length, &error);
      } else {
        base.lpWSPIoctl(pair.client, FIONREAD, nullptr, 0, &unread, sizeof(unread), &returned,
                        nullptr, nullptr, nullptr, &error);
      }
    }
    out[call] = (seconds_now() - started) * 1e9 / count;
  }
  close_pair(pair);
  bypass = layered;
  return out;
}

// The base provider, started by the host itself so that it can be called without Teardown
// (`bypass`); its module is the one Teardown loaded below itself, counters and all.
HMODULE start_base(WSPPROC_TABLE& base) {
  WSPDATA data{};
  WSAPROTOCOL_INFOW entry = *catalog_entry(kBaseTcp4);
  HMODULE module = LoadLibraryW((host_dir() + L"teardown_test_base.dll").c_str());
  auto startup = reinterpret_cast<LPWSPSTARTUP>(
      reinterpret_cast<void (*)()>(GetProcAddress(module, "WSPStartup")));
  if (!check(
          startup != nullptr && startup(MAKEWORD(2, 2), &data, &entry, upcall_table(), &base) == 0,
          "the base provider starts")) {
    if (module != nullptr) FreeLibrary(module);
    return nullptr;
  }
  return module;
}

void stop_base(WSPPROC_TABLE& base, HMODULE module) {
  int error = 0;
  base.lpWSPCleanup(&error);
  FreeLibrary(module);
}

// What a connection asks of the provider below through Teardown beyond the program's own calls
// (a churn's, through Teardown against the base alone). Where nothing is recorded
// (TEARDOWN_TEST_RECORDED=0: the configuration selects other programs), nothing: Teardown asks
// for no address and no unread count. Where everything is, the connecting end's own address at
// its first event, and the unread byte count at each close before the end of the stream; the
// accepting end takes the listener's address, which the program's own getsockname told.
void scenario_lower_calls() {
  const char* recorded_text = std::getenv("TEARDOWN_TEST_RECORDED");
  bool recorded = recorded_text == nullptr || std::strcmp(recorded_text, "0") != 0;
  WSPPROC_TABLE base{};
  HMODULE module = start_base(base);
  if (module == nullptr) return;
  std::vector<double> extra = extra_calls(base, module, 10);
  if (!extra.empty()) {
    const double expected[kCountedCalls] = {recorded ? 1.0 : 0.0, 0.0, recorded ? 2.0 : 0.0, 0.0,
                                            0.0};
    for (size_t call = 0; call < kCountedCalls; ++call) {
      char what[160];
      std::snprintf(what, sizeof(what),
                    "%s: %.2f a connection beyond the program's (expected %.0f)",
                    kCountedNames[call], extra[call], expected[call]);
      check(extra[call] == expected[call], what);
    }
  }
  stop_base(base, module);
}

// The base provider alone against Teardown over it, in alternating rounds on the same machine.
void scenario_bench() {
  WSPPROC_TABLE base{};
  HMODULE module = start_base(base);
  if (module == nullptr) return;
  std::vector<double> trips[2], overlapped_trips[2], churns[2], completing_trips;
  for (int round = 0; round < 7; ++round) {
    for (int through = 0; through < 2; ++through) {
      bypass = through == 0 ? &base : nullptr;
      trips[through].push_back(round_trip_ns(5000));
      overlapped_trips[through].push_back(overlapped_round_trip_ns(2000));
      churns[through].push_back(churn_ns(200));
    }
    completing_trips.push_back(completing_layer_round_trip_ns(base, 2000));
  }
  bypass = nullptr;
  double trip_base = median(trips[0]), trip_layer = median(trips[1]);
  double overlapped_base = median(overlapped_trips[0]);
  double overlapped_layer = median(overlapped_trips[1]);
  double churn_base = median(churns[0]), churn_layer = median(churns[1]);
  say("round trip (64 B each way): base %.0f ns, through Teardown %.0f ns, ratio %.3f", trip_base,
      trip_layer, trip_layer / trip_base);
  say("overlapped round trip: base %.0f ns, through Teardown %.0f ns, ratio %.3f", overlapped_base,
      overlapped_layer, overlapped_layer / overlapped_base);
  // The breakdown of the overlapped round trip: what any layer completing requests itself adds,
  // and the rest, which is Teardown's own.
  double completing = median(completing_trips);
  say("a layer doing nothing but complete requests itself: overlapped round trip %.0f ns, ratio "
      "%.3f; Teardown's own on top: %+.0f ns, %+.1f%% of the base's",
      completing, completing / overlapped_base, overlapped_layer - completing,
      (overlapped_layer - completing) / overlapped_base * 100);
  say("connection churn: base %.0f ns, through Teardown %.0f ns, ratio %.3f", churn_base,
      churn_layer, churn_layer / churn_base);
  // The breakdown of a connection's cost through Teardown: the calls it makes of the provider
  // below beyond what the program asked, and what one of each costs there.
  std::vector<double> extra = extra_calls(base, module, 100);
  if (!extra.empty()) {
    std::string listed;
    for (size_t call = 0; call < kCountedCalls; ++call) {
      char item[64];
      std::snprintf(item, sizeof(item), "%s%s %.2f", call == 0 ? "" : ", ", kCountedNames[call],
                    extra[call]);
      listed += item;
    }
    say("lower calls a connection makes through Teardown beyond the program's: %s", listed.c_str());
    std::vector<double> cost = lower_call_ns(base, 2000);
    double lower_ns = extra[0] * cost[0] + extra[1] * cost[1] + extra[2] * cost[2];
    say("a lower call under the base provider: getsockname %.0f ns, getpeername %.0f ns, FIONREAD "
        "%.0f ns; Teardown's lower calls: %.0f ns a connection, %.1f%% of the base's",
        cost[0], cost[1], cost[2], lower_ns, lower_ns / churn_base * 100);
  }
  stop_base(base, module);
}

const std::map<std::string, std::function<void()>>& scenarios() {
  static const std::map<std::string, std::function<void()>> all = {
      {"blocking", scenario_blocking},
      {"ipv6", scenario_ipv6},
      {"layered-over-another", scenario_layered_over_another},
      {"layered-under-another", scenario_layered_under_another},
      {"event-select", scenario_event_select},
      {"async-select", scenario_async_select},
      {"shutdown-each-way", scenario_shutdown_each_way},
      {"close-dontlinger", scenario_close_dontlinger},
      {"close-abortive", scenario_close_abortive},
      {"close-linger", scenario_close_linger},
      {"close-linger-nonblocking", scenario_close_linger_nonblocking},
      {"event-select-reset", scenario_event_select_reset},
      {"discon", scenario_discon},
      {"transaction-totals", scenario_transaction_totals},
      {"disconnect-data-refused", scenario_disconnect_data_refused},
      {"select", scenario_select},
      {"entry-points", scenario_entry_points},
      {"bad-pointers", scenario_bad_pointers},
      {"lifecycle", scenario_lifecycle},
      {"reload", scenario_reload},
      {"overlapped-event", scenario_overlapped_event},
      {"overlapped-stale-event", scenario_overlapped_stale_event},
      {"overlapped-shared-event", scenario_overlapped_shared_event},
      {"overlapped-routine-failure", scenario_overlapped_routine_failure},
      {"overlapped-routine", scenario_overlapped_routine},
      {"overlapped-port", scenario_overlapped_port},
      {"overlapped-unbindable", scenario_overlapped_unbindable},
      {"overlapped-first-race", scenario_overlapped_first_race},
      {"close-with-pending-io", scenario_close_with_pending_io},
      {"overlapped-lifecycle", scenario_overlapped_lifecycle},
      {"cleanup-with-requests", scenario_cleanup_with_requests},
      {"lower-calls", scenario_lower_calls},
      {"extension-functions", scenario_extension_functions},
      {"routed-calls", scenario_routed_calls},
      {"threads", scenario_threads},
      {"close-while-receiving", scenario_close_while_receiving},
      {"transmit-file", scenario_transmit_file},
      {"bench", scenario_bench},
      {"emulated-totals", scenario_emulated_totals},
      {"emulated-stream", scenario_emulated_stream},
      {"emulated-unblocking", scenario_emulated_unblocking},
      {"emulated-overlapped", scenario_emulated_overlapped},
      {"emulated-plain-peer", scenario_emulated_plain_peer},
      {"emulated-extension-functions", scenario_emulated_extension_functions},
      {"emulated-routed-calls", scenario_emulated_routed_calls},
      {"emulated-urgent", scenario_emulated_urgent},
      {"emulation-needs-full", scenario_emulation_needs_full},
  };
  return all;
}

}  // namespace
}  // namespace spi_host

int main(int argc, char** argv) {
  using namespace spi_host;
  if (argc != 2 || scenarios().count(argv[1]) == 0) {
    std::fprintf(stderr, "usage: teardown_spi_host <scenario>; scenarios:");
    for (const auto& [name, run] : scenarios()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  const char* mode = std::getenv("TEARDOWN_TEST_MODE");
  if (mode != nullptr && std::strcmp(mode, "compatible") != 0 && std::strcmp(mode, "full") != 0) {
    std::fprintf(stderr, "TEARDOWN_TEST_MODE is \"%s\": compatible or full\n", mode);
    return 2;
  }
  compatible_mode = mode == nullptr || std::strcmp(mode, "compatible") == 0;
  WSADATA system;
  if (WSAStartup(MAKEWORD(2, 2), &system) != 0) return 3;
  std::string problem;
  if (!layer.load(problem)) {
    say("FAILED: %s", problem.c_str());
    return 3;
  }
  for (DWORD base : {kBaseTcp4, kBaseTcp6, kBaseDisconnectData, kBaseMessages, kBaseBoundElsewhere}) {
    int error = layer.start(base + kChainOffset);
    if (error != 0) {
      say("FAILED: WSPStartup for chain %lu returned %d", base + kChainOffset, error);
      return 3;
    }
  }
  say("pid %lu", GetCurrentProcessId());
  say("mode %s", compatible_mode ? "compatible" : "full");
  scenarios().at(argv[1])();
  check(layer.cleanup() == 0, "WSPCleanup succeeds for every startup");
  say(failures == 0 ? "ok" : "failed");
  WSACleanup();
  return failures == 0 ? 0 : 1;
}
