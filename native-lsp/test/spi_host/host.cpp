// The SPI host: plays ws2_32 for teardown_lsp.dll under Wine, and plays the application above it.
//
//   TEARDOWN_TEST_MODE=compatible|full teardown_spi_host.exe <scenario>
//
// Loads the DLL found next to it, binds its catalog imports to the host's catalog (Teardown
// installed in the mode asked, compatible by default), starts it on Teardown's chain entries, and
// runs one scenario through its WSP entry points, over the test base provider's real loopback
// sockets. It prints "pid N" and "mode M", then "role NAME HANDLE" for each socket whose events
// the observer should look for, then what the application saw, and exits 0 when every check held.
// The events themselves are checked by the Java test that runs it. The scenarios are in files of
// their own, by family (host.h lists them); this file is the application's side they share.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "host.h"

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

bool Layer::load(std::string& problem) {
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

int Layer::start(DWORD chain) {
  WSPDATA data{};
  WSAPROTOCOL_INFOW info = *catalog_entry(chain);
  int error = startup_(MAKEWORD(2, 2), &data, &info, upcall_table(), &procs_);
  if (error == 0) ++starts_;
  return error;
}

int Layer::cleanup() {
  int result = 0;
  for (; starts_ > 0; --starts_) {
    int error = 0;
    if (procs_.lpWSPCleanup(&error) != 0) result = error;
  }
  return result;
}

void Layer::unload() {
  FreeLibrary(module_);
  module_ = nullptr;
  startup_ = nullptr;
  procs_ = WSPPROC_TABLE{};
}

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
      {"unread-endings", scenario_unread_endings},
      {"connect-refused", scenario_connect_refused},
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
