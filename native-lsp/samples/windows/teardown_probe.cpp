// teardown_probe.exe: the seed's teardowns as a real Winsock program, for tests-windows.
//
//   teardown_probe.exe <scenario>
//
// Each scenario runs a client and a server over loopback in this process, through whatever
// Winsock gives it: on a machine where Teardown is installed, through teardown_lsp.dll. It prints
// "pid N", "lsp loaded|absent" and "provider NAME" (the catalog entry its sockets came from),
// "role NAME SOCKET LOCALPORT" for each socket whose events the observer should check, then what
// the application saw ("server recv error 10054", ...). It checks only what Winsock itself
// promises, whatever Teardown's configuration, and exits 0 when every check held, 1 when one
// failed, 2 on a bad command line. The events are checked by the Java tests that run it.
//
// Built for x64 and x86 with MSVC (and mingw-w64, to run it under Wine, where ws2_32 loads no
// layered provider: there it checks itself against Wine's sockets).
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;

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
    say("FAILED: %s (last error %d)", what, WSAGetLastError());
  }
  return condition;
}

// Gives up on a scenario whose precondition failed; the process still exits with 1.
struct Abandon {};

void require(bool condition, const char* what) {
  if (!check(condition, what)) throw Abandon{};
}

int local_port(SOCKET s) {
  sockaddr_storage address{};
  int length = sizeof(address);
  if (getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

void role(const char* name, SOCKET s) {
  say("role %s %llu %d", name, static_cast<unsigned long long>(s), local_port(s));
}

// Once, on the first socket: whether Teardown's DLL is in the process, and which catalog entry
// the socket came from (a layered chain names itself "Teardown over [...]").
void report_provider(SOCKET s) {
  static bool reported = false;
  if (reported) return;
  reported = true;
  say("lsp %s", GetModuleHandleW(L"teardown_lsp.dll") != nullptr ? "loaded" : "absent");
  WSAPROTOCOL_INFOW info{};
  int length = sizeof(info);
  if (getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &length) != 0) {
    say("provider unknown (error %d)", WSAGetLastError());
    return;
  }
  char name[WSAPROTOCOL_LEN * 3 + 1];
  int written = WideCharToMultiByte(CP_UTF8, 0, info.szProtocol, -1, name, sizeof(name), nullptr,
                                    nullptr);
  say("provider %s", written > 0 ? name : "?");
}

// Every socket gives up a blocking receive after 10 s, so that a scenario never hangs.
void bound_receives(SOCKET s) {
  DWORD timeout_ms = 10000;
  require(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&timeout_ms),
                     sizeof(timeout_ms)) == 0,
          "setsockopt(SO_RCVTIMEO)");
}

SOCKET new_socket(int family = AF_INET) {
  SOCKET s = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
  require(s != INVALID_SOCKET, "WSASocketW");
  report_provider(s);
  bound_receives(s);
  return s;
}

sockaddr_in loopback(u_short port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A listening socket on 127.0.0.1 and an ephemeral port, and that address.
SOCKET listener(sockaddr_in& address) {
  SOCKET s = new_socket();
  address = loopback(0);
  require(bind(s, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0, "bind");
  int length = sizeof(address);
  require(getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) == 0, "getsockname");
  require(listen(s, 8) == 0, "listen");
  return s;
}

struct Pair {
  SOCKET client = INVALID_SOCKET;
  SOCKET server = INVALID_SOCKET;
};

// A connected pair over loopback, announced under `name`: "client-NAME" and "server-NAME" (or
// "client" and "server" when `name` is empty).
Pair connected(const std::string& name = "") {
  sockaddr_in address{};
  SOCKET listening = listener(address);
  Pair pair;
  pair.client = new_socket();
  require(connect(pair.client, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0,
          "connect");
  pair.server = accept(listening, nullptr, nullptr);
  require(pair.server != INVALID_SOCKET, "accept");
  bound_receives(pair.server);
  closesocket(listening);
  std::string suffix = name.empty() ? "" : "-" + name;
  role(("client" + suffix).c_str(), pair.client);
  role(("server" + suffix).c_str(), pair.server);
  return pair;
}

void send_text(SOCKET s, const char* text) {
  int length = static_cast<int>(std::strlen(text));
  check(send(s, text, length, 0) == length, "send");
}

// One recv: the bytes received, or minus the error.
int receive(SOCKET s, char* buffer, int capacity) {
  int received = recv(s, buffer, capacity, 0);
  return received == SOCKET_ERROR ? -WSAGetLastError() : received;
}

// Reads until the end of the stream or an error; returns the bytes read, and the final result
// (0 for the end, minus the error) in `end`.
int drain(SOCKET s, int& end) {
  char buffer[4096];
  int total = 0;
  for (;;) {
    int received = receive(s, buffer, sizeof(buffer));
    if (received <= 0) {
      end = received;
      return total;
    }
    total += received;
  }
}

void set_linger(SOCKET s, u_short on, u_short seconds) {
  linger value{on, seconds};
  check(setsockopt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&value),
                   sizeof(value)) == 0,
        "setsockopt(SO_LINGER)");
}

// --- Graceful and abortive ends ---------------------------------------------------------------

// The seed's graceful sequence: the client shuts down sending, the server reads to the end,
// answers and closes, the client reads to the end and closes.
void graceful() {
  Pair pair = connected();
  send_text(pair.client, "hello");
  check(shutdown(pair.client, SD_SEND) == 0, "shutdown(SD_SEND)");
  int end = 1;
  check(drain(pair.server, end) == 5 && end == 0, "the server reads 5 bytes, then 0");
  send_text(pair.server, "bye");
  check(closesocket(pair.server) == 0, "the server's closesocket");
  check(drain(pair.client, end) == 3 && end == 0, "the client reads 3 bytes, then 0");
  check(closesocket(pair.client) == 0, "the client's closesocket");
}

// SO_LINGER {1,0}: the close resets. What the server's next recv gets is printed (the
// abortive-to-graceful policy turns it into an end of stream).
void abortive() {
  Pair pair = connected();
  send_text(pair.client, "hello");
  char buffer[16];
  check(receive(pair.server, buffer, sizeof(buffer)) == 5, "the server reads 5 bytes");
  set_linger(pair.client, 1, 0);
  check(closesocket(pair.client) == 0, "the client's abortive closesocket");
  int result = receive(pair.server, buffer, sizeof(buffer));
  if (result < 0) {
    say("server recv error %d", -result);
  } else {
    say("server recv %d", result);
  }
  closesocket(pair.server);
}

// SO_LINGER {1,5} on a blocking socket: a graceful close that waits until the data is sent.
void linger_timeout() {
  Pair pair = connected();
  set_linger(pair.client, 1, 5);
  send_text(pair.client, "hello");
  check(closesocket(pair.client) == 0, "the lingering closesocket");
  int end = 1;
  check(drain(pair.server, end) == 5 && end == 0, "the server reads 5 bytes, then 0");
  closesocket(pair.server);
}

// shutdown with each `how`, on three pairs; the server of each reads what it can.
void shutdown_each_way() {
  struct Way {
    const char* name;
    int how;
  };
  for (Way way : {Way{"receive", SD_RECEIVE}, Way{"send", SD_SEND}, Way{"both", SD_BOTH}}) {
    Pair pair = connected(way.name);
    check(shutdown(pair.client, way.how) == 0, "shutdown");
    if (way.how != SD_RECEIVE) {
      char buffer[16];
      check(receive(pair.server, buffer, sizeof(buffer)) == 0, "the server reads the end");
    }
    closesocket(pair.server);
    closesocket(pair.client);
  }
}

// WSASendDisconnect with data on TCP, which carries no disconnect data: what Winsock answers is
// printed (the provider may refuse with WSAENOPROTOOPT or shut down and drop the data).
void disconnect_data() {
  Pair pair = connected();
  char total[] = "42";
  WSABUF data{2, total};
  int result = WSASendDisconnect(pair.client, &data);
  say("WSASendDisconnect with data: %d, error %d", result, result == 0 ? 0 : WSAGetLastError());
  closesocket(pair.client);
  closesocket(pair.server);
}

// The seed's transaction-totals exchange on the port in TEARDOWN_TEST_PORT, which the machine's
// configuration emulates: the totals travel as disconnect data over TCP, through the installed
// LSP at both ends. Prints what each WSARecvDisconnect returned.
void emulated_totals() {
  const char* text = std::getenv("TEARDOWN_TEST_PORT");
  int port = text != nullptr ? std::atoi(text) : 0;
  require(port > 0 && port < 65536, "TEARDOWN_TEST_PORT names the emulated port");
  SOCKET listening = new_socket();
  sockaddr_in address = loopback(static_cast<u_short>(port));
  BOOL reuse = TRUE;
  setsockopt(listening, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const char*>(&reuse), sizeof(reuse));
  require(bind(listening, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
              listen(listening, 8) == 0,
          "listen on the emulated port");
  Pair pair;
  pair.client = new_socket();
  require(connect(pair.client, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0,
          "connect");
  pair.server = accept(listening, nullptr, nullptr);
  require(pair.server != INVALID_SOCKET, "accept");
  bound_receives(pair.server);
  closesocket(listening);
  role("client", pair.client);
  role("server", pair.server);
  for (SOCKET s : {pair.client, pair.server}) {
    WSAPROTOCOL_INFOW info{};
    int length = sizeof(info);
    check(getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &length) == 0 &&
              (info.dwServiceFlags1 & XP1_DISCONNECT_DATA) != 0,
          "the socket's protocol info says XP1_DISCONNECT_DATA");
  }
  send_text(pair.client, "TX 1\nTX 2\n");
  WSAEVENT event = WSACreateEvent();
  require(WSAEventSelect(pair.client, event, FD_CLOSE) == 0, "WSAEventSelect");
  char client_total[] = "client-total=17";
  WSABUF out{static_cast<ULONG>(std::strlen(client_total)), client_total};
  check(WSASendDisconnect(pair.client, &out) == 0, "(1) WSASendDisconnect");
  int end = 1;
  check(drain(pair.server, end) == 10 && end == 0, "(2) the server reads 10 bytes, then 0");
  char received[64] = {};
  WSABUF in{sizeof(received), received};
  check(WSARecvDisconnect(pair.server, &in) == 0, "(3) WSARecvDisconnect");
  say("server disconnect data %.*s", static_cast<int>(in.len), received);
  char grand_total[] = "grand-total=1234";  // (4)
  WSABUF answer{static_cast<ULONG>(std::strlen(grand_total)), grand_total};
  check(WSASendDisconnect(pair.server, &answer) == 0, "(5) WSASendDisconnect");
  check(closesocket(pair.server) == 0, "(5') the server's closesocket");
  bool closed = false;
  for (int waits = 0; waits < 100 && !closed; ++waits) {
    if (WSAWaitForMultipleEvents(1, &event, FALSE, 100, FALSE) != WSA_WAIT_EVENT_0) continue;
    WSANETWORKEVENTS events{};
    closed = WSAEnumNetworkEvents(pair.client, event, &events) == 0 &&
             (events.lNetworkEvents & FD_CLOSE) != 0;
  }
  check(closed, "(6) FD_CLOSE arrives within 10 s");
  char grand[64] = {};
  WSABUF in_grand{sizeof(grand), grand};
  check(WSARecvDisconnect(pair.client, &in_grand) == 0, "(7) WSARecvDisconnect");
  say("client disconnect data %.*s", static_cast<int>(in_grand.len), grand);
  WSAEventSelect(pair.client, nullptr, 0);
  WSACloseEvent(event);
  check(closesocket(pair.client) == 0, "(8) the client's closesocket");
}

// --- FD_CLOSE ----------------------------------------------------------------------------------

// The server waits for FD_CLOSE with WSAEventSelect, reading what FD_READ offers; prints the
// FD_CLOSE error. `reset`: the client ends with SO_LINGER {1,0} instead of shutdown.
void event_select(bool reset) {
  Pair pair = connected();
  WSAEVENT event = WSACreateEvent();
  require(WSAEventSelect(pair.server, event, FD_READ | FD_CLOSE) == 0, "WSAEventSelect");
  send_text(pair.client, "hello");
  if (reset) {
    // The server reads first, so that nothing unread is left when the reset comes.
    char buffer[16];
    for (int tries = 0; tries < 100; ++tries) {
      if (receive(pair.server, buffer, sizeof(buffer)) == 5) break;
      Sleep(20);
    }
    set_linger(pair.client, 1, 0);
    closesocket(pair.client);
  } else {
    check(shutdown(pair.client, SD_SEND) == 0, "shutdown(SD_SEND)");
  }
  bool closed = false;
  for (int waits = 0; waits < 100 && !closed; ++waits) {
    if (WSAWaitForMultipleEvents(1, &event, FALSE, 100, FALSE) != WSA_WAIT_EVENT_0) continue;
    WSANETWORKEVENTS events{};
    require(WSAEnumNetworkEvents(pair.server, event, &events) == 0, "WSAEnumNetworkEvents");
    if ((events.lNetworkEvents & FD_READ) != 0) {
      char buffer[16];
      receive(pair.server, buffer, sizeof(buffer));
    }
    if ((events.lNetworkEvents & FD_CLOSE) != 0) {
      say("server FD_CLOSE error %d", events.iErrorCode[FD_CLOSE_BIT]);
      closed = true;
    }
  }
  check(closed, "FD_CLOSE arrives within 10 s");
  WSAEventSelect(pair.server, nullptr, 0);
  WSACloseEvent(event);
  closesocket(pair.server);
  if (!reset) closesocket(pair.client);
}

constexpr UINT kSocketMessage = WM_APP + 1;

struct WindowState {
  SOCKET server = INVALID_SOCKET;
  bool closed = false;
};

LRESULT CALLBACK window_procedure(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
  if (message != kSocketMessage) return DefWindowProcW(window, message, wparam, lparam);
  auto* state = reinterpret_cast<WindowState*>(GetWindowLongPtrW(window, GWLP_USERDATA));
  if (state == nullptr || static_cast<SOCKET>(wparam) != state->server) return 0;
  if (WSAGETSELECTEVENT(lparam) == FD_READ) {
    char buffer[16];
    receive(state->server, buffer, sizeof(buffer));
  }
  if (WSAGETSELECTEVENT(lparam) == FD_CLOSE) {
    say("server FD_CLOSE error %d", WSAGETSELECTERROR(lparam));
    state->closed = true;
  }
  return 0;
}

// The server waits for FD_CLOSE with WSAAsyncSelect, in a message-only window.
void async_select() {
  WNDCLASSW window_class{};
  window_class.lpfnWndProc = window_procedure;
  window_class.hInstance = GetModuleHandleW(nullptr);
  window_class.lpszClassName = L"TeardownProbe";
  require(RegisterClassW(&window_class) != 0, "RegisterClassW");
  HWND window = CreateWindowExW(0, L"TeardownProbe", L"", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr,
                                window_class.hInstance, nullptr);
  require(window != nullptr, "CreateWindowExW");
  WindowState state;
  SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(&state));
  Pair pair = connected();
  state.server = pair.server;
  require(WSAAsyncSelect(pair.server, window, kSocketMessage, FD_READ | FD_CLOSE) == 0,
          "WSAAsyncSelect");
  send_text(pair.client, "hello");
  check(shutdown(pair.client, SD_SEND) == 0, "shutdown(SD_SEND)");
  ULONGLONG deadline = GetTickCount64() + 10000;
  while (!state.closed && GetTickCount64() < deadline) {
    MSG message;
    if (PeekMessageW(&message, nullptr, 0, 0, PM_REMOVE)) {
      DispatchMessageW(&message);
    } else {
      MsgWaitForMultipleObjects(0, nullptr, FALSE, 100, QS_ALLINPUT);
    }
  }
  check(state.closed, "FD_CLOSE arrives within 10 s");
  WSAAsyncSelect(pair.server, window, 0, 0);
  closesocket(pair.server);
  closesocket(pair.client);
  DestroyWindow(window);
}

// --- Overlapped I/O ----------------------------------------------------------------------------

struct Receive {
  WSAOVERLAPPED overlapped{};
  char buffer[64]{};
  WSABUF wsabuf{sizeof(buffer), buffer};
  DWORD flags = 0;
};

// Posts an overlapped WSARecv; true when it is pending or done.
bool post(SOCKET s, Receive& receive_request, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr) {
  DWORD received = 0;
  int result = WSARecv(s, &receive_request.wsabuf, 1, &received, &receive_request.flags,
                       &receive_request.overlapped, routine);
  return check(result == 0 || WSAGetLastError() == WSA_IO_PENDING, "WSARecv is started");
}

// The result WSAGetOverlappedResult gives: bytes, or minus the error.
int overlapped_result(SOCKET s, Receive& receive_request) {
  DWORD bytes = 0;
  DWORD flags = 0;
  if (WSAGetOverlappedResult(s, &receive_request.overlapped, &bytes, TRUE, &flags)) {
    return static_cast<int>(bytes);
  }
  return -WSAGetLastError();
}

DWORD routine_bytes = 0;
DWORD routine_error = 0;
bool routine_called = false;

void CALLBACK completion_routine(DWORD error, DWORD bytes, LPWSAOVERLAPPED, DWORD) {
  routine_error = error;
  routine_bytes = bytes;
  routine_called = true;
}

// An overlapped receive completes with the end of the stream, in each of the three ways an
// application can ask: an event, a completion routine, a completion port.
void overlapped() {
  {
    Pair pair = connected("event");
    Receive request;
    request.overlapped.hEvent = WSACreateEvent();
    post(pair.server, request);
    send_text(pair.client, "data");
    check(WSAWaitForMultipleEvents(1, &request.overlapped.hEvent, FALSE, 10000, FALSE) ==
              WSA_WAIT_EVENT_0,
          "the event is signalled");
    check(overlapped_result(pair.server, request) == 4, "the first receive has 4 bytes");
    WSAResetEvent(request.overlapped.hEvent);
    post(pair.server, request);
    check(shutdown(pair.client, SD_SEND) == 0, "shutdown(SD_SEND)");
    check(WSAWaitForMultipleEvents(1, &request.overlapped.hEvent, FALSE, 10000, FALSE) ==
              WSA_WAIT_EVENT_0,
          "the event is signalled again");
    check(overlapped_result(pair.server, request) == 0, "the second receive is the end");
    WSACloseEvent(request.overlapped.hEvent);
    closesocket(pair.server);
    closesocket(pair.client);
  }
  {
    Pair pair = connected("routine");
    Receive request;
    post(pair.server, request, completion_routine);
    check(shutdown(pair.client, SD_SEND) == 0, "shutdown(SD_SEND)");
    for (int waits = 0; waits < 100 && !routine_called; ++waits) SleepEx(100, TRUE);
    check(routine_called && routine_error == 0 && routine_bytes == 0,
          "the completion routine runs with the end");
    closesocket(pair.server);
    closesocket(pair.client);
  }
  {
    Pair pair = connected("port");
    HANDLE port = CreateIoCompletionPort(reinterpret_cast<HANDLE>(pair.server), nullptr, 7, 0);
    require(port != nullptr, "CreateIoCompletionPort");
    Receive request;
    post(pair.server, request);
    check(shutdown(pair.client, SD_SEND) == 0, "shutdown(SD_SEND)");
    DWORD bytes = 99;
    ULONG_PTR key = 0;
    LPOVERLAPPED completed = nullptr;
    BOOL done = GetQueuedCompletionStatus(port, &bytes, &key, &completed, 10000);
    check(done && bytes == 0 && key == 7 && completed == &request.overlapped,
          "the port delivers the end with the socket's key");
    closesocket(pair.server);
    closesocket(pair.client);
    CloseHandle(port);
  }
}

// A receive pending on a completion port when the peer resets: its error is printed.
void overlapped_reset() {
  Pair pair = connected();
  HANDLE port = CreateIoCompletionPort(reinterpret_cast<HANDLE>(pair.server), nullptr, 7, 0);
  require(port != nullptr, "CreateIoCompletionPort");
  Receive request;
  post(pair.server, request);
  set_linger(pair.client, 1, 0);
  closesocket(pair.client);
  DWORD bytes = 0;
  ULONG_PTR key = 0;
  LPOVERLAPPED completed = nullptr;
  BOOL done = GetQueuedCompletionStatus(port, &bytes, &key, &completed, 10000);
  check(!done && completed == &request.overlapped, "the port delivers a failed receive");
  say("server receive error %d", -overlapped_result(pair.server, request));
  closesocket(pair.server);
  CloseHandle(port);
}

// Closing a socket with a receive pending: it completes with WSA_OPERATION_ABORTED.
void close_with_pending_io() {
  Pair pair = connected();
  Receive request;
  request.overlapped.hEvent = WSACreateEvent();
  post(pair.server, request);
  check(closesocket(pair.server) == 0, "closesocket with a receive pending");
  check(WaitForSingleObject(request.overlapped.hEvent, 10000) == WAIT_OBJECT_0,
        "the pending receive completes");
  DWORD status = static_cast<DWORD>(request.overlapped.Internal);
  say("server pending receive completed with status 0x%lx", static_cast<unsigned long>(status));
  check(status != 0, "the pending receive did not succeed");
  WSACloseEvent(request.overlapped.hEvent);
  closesocket(pair.client);
}

// --- Extension functions -----------------------------------------------------------------------

template <typename Function>
Function extension(SOCKET s, GUID id) {
  Function function = nullptr;
  DWORD returned = 0;
  require(WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof(id), &function,
                   sizeof(function), &returned, nullptr, nullptr) == 0 &&
              function != nullptr,
          "SIO_GET_EXTENSION_FUNCTION_POINTER");
  return function;
}

// Whether an overlapped extension call was started (done at once, or pending): asked at once,
// before another call changes the last error.
bool started(BOOL result) { return result != FALSE || WSAGetLastError() == WSA_IO_PENDING; }

// Waits (10 s at most) for an overlapped extension call whose overlapped has an event; true
// when it was started and succeeded.
bool finish(SOCKET s, bool was_started, WSAOVERLAPPED& overlapped, DWORD* bytes = nullptr) {
  if (!was_started) return false;
  if (WaitForSingleObject(overlapped.hEvent, 10000) != WAIT_OBJECT_0) {
    say("an overlapped call did not complete within 10 s");
    return false;
  }
  DWORD transferred = 0;
  DWORD flags = 0;
  BOOL done = WSAGetOverlappedResult(s, &overlapped, &transferred, FALSE, &flags);
  if (bytes != nullptr) *bytes = transferred;
  return done != FALSE;
}

// AcceptEx of a connection whose first `first` bytes ConnectEx sends; the accepted socket is
// updated for the listener, and GetAcceptExSockaddrs must name the client.
void accept_connect(SOCKET listening, const sockaddr_in& address, SOCKET accepted, SOCKET client,
                    const char* first) {
  auto accept_ex = extension<LPFN_ACCEPTEX>(listening, WSAID_ACCEPTEX);
  auto sockaddrs = extension<LPFN_GETACCEPTEXSOCKADDRS>(listening, WSAID_GETACCEPTEXSOCKADDRS);
  auto connect_ex = extension<LPFN_CONNECTEX>(client, WSAID_CONNECTEX);
  constexpr DWORD kAddress = sizeof(sockaddr_in6) + 16;
  DWORD first_length = static_cast<DWORD>(std::strlen(first));
  char buffer[64 + 2 * kAddress]{};
  WSAOVERLAPPED accepting{};
  accepting.hEvent = WSACreateEvent();
  DWORD ignored = 0;
  bool accept_started = started(accept_ex(listening, accepted, buffer, first_length, kAddress,
                                          kAddress, &ignored, &accepting));
  check(accept_started, "AcceptEx is started");
  if (local_port(client) <= 0) {
    sockaddr_in any = loopback(0);
    require(bind(client, reinterpret_cast<sockaddr*>(&any), sizeof(any)) == 0,
            "bind before ConnectEx");
  }
  WSAOVERLAPPED connecting{};
  connecting.hEvent = WSACreateEvent();
  DWORD sent = 0;
  bool connect_started = started(connect_ex(client, reinterpret_cast<const sockaddr*>(&address),
                                            sizeof(address), const_cast<char*>(first),
                                            first_length, &ignored, &connecting));
  check(finish(client, connect_started, connecting, &sent) && sent == first_length,
        "ConnectEx connects and sends its first bytes");
  check(setsockopt(client, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0) == 0,
        "SO_UPDATE_CONNECT_CONTEXT");
  DWORD received = 0;
  check(finish(listening, accept_started, accepting, &received) && received == first_length,
        "AcceptEx accepts with the first bytes");
  check(std::memcmp(buffer, first, first_length) == 0, "AcceptEx's bytes are ConnectEx's");
  check(setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                   reinterpret_cast<const char*>(&listening), sizeof(listening)) == 0,
        "SO_UPDATE_ACCEPT_CONTEXT");
  sockaddr* local = nullptr;
  sockaddr* remote = nullptr;
  int local_length = 0;
  int remote_length = 0;
  sockaddrs(buffer, first_length, kAddress, kAddress, &local, &local_length, &remote,
            &remote_length);
  check(remote != nullptr && remote->sa_family == AF_INET &&
            ntohs(reinterpret_cast<sockaddr_in*>(remote)->sin_port) == local_port(client),
        "GetAcceptExSockaddrs names the client");
  WSACloseEvent(accepting.hEvent);
  WSACloseEvent(connecting.hEvent);
}

// A server that accepts with AcceptEx, a client that connects with ConnectEx and ends with
// DisconnectEx; the server reads the end and closes. `reuse`: the server ends its side with
// DisconnectEx(TF_REUSE_SOCKET) instead and accepts a second client (which ends with shutdown)
// on the same socket, as IIS does.
void extension_functions(bool reuse) {
  sockaddr_in address{};
  SOCKET listening = listener(address);
  SOCKET accepted = new_socket();
  SOCKET first = new_socket();
  role("server", accepted);
  accept_connect(listening, address, accepted, first, "hello");
  role("client", first);
  auto disconnect_ex = extension<LPFN_DISCONNECTEX>(first, WSAID_DISCONNECTEX);
  WSAOVERLAPPED disconnecting{};
  disconnecting.hEvent = WSACreateEvent();
  check(finish(first, started(disconnect_ex(first, &disconnecting, 0, 0)), disconnecting),
        "the client's DisconnectEx");
  int end = 1;
  check(drain(accepted, end) == 0 && end == 0, "the server reads the end");
  if (reuse) {
    // The server is the passive closer: its socket is reusable at once, with no TIME_WAIT.
    WSAResetEvent(disconnecting.hEvent);
    check(finish(accepted,
                 started(disconnect_ex(accepted, &disconnecting, TF_REUSE_SOCKET, 0)),
                 disconnecting),
          "the server's DisconnectEx(TF_REUSE_SOCKET)");
    SOCKET second = new_socket();
    accept_connect(listening, address, accepted, second, "again");
    role("client-again", second);
    check(shutdown(second, SD_SEND) == 0, "the second client's shutdown");
    check(drain(accepted, end) == 0 && end == 0, "the reused socket reads the end");
    closesocket(second);
  }
  WSACloseEvent(disconnecting.hEvent);
  closesocket(accepted);
  closesocket(first);
  closesocket(listening);
}

// A temporary file of `size` bytes, open for reading (deleted when closed).
HANDLE temporary_file(DWORD size) {
  wchar_t directory[MAX_PATH];
  wchar_t path[MAX_PATH];
  require(GetTempPathW(MAX_PATH, directory) != 0 &&
              GetTempFileNameW(directory, L"tdp", 0, path) != 0,
          "GetTempFileNameW");
  HANDLE file = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                            FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, nullptr);
  require(file != INVALID_HANDLE_VALUE, "CreateFileW");
  std::vector<char> bytes(size, 'f');
  DWORD written = 0;
  require(WriteFile(file, bytes.data(), size, &written, nullptr) && written == size, "WriteFile");
  SetFilePointer(file, 0, nullptr, FILE_BEGIN);
  return file;
}

// TransmitFile of 1,000 bytes with TF_DISCONNECT: the client reads them, then the end.
void transmit_file() {
  Pair pair = connected();
  auto transmit = extension<LPFN_TRANSMITFILE>(pair.server, WSAID_TRANSMITFILE);
  HANDLE file = temporary_file(1000);
  int end = 1;
  int read = 0;
  std::thread reader([&] { read = drain(pair.client, end); });
  check(transmit(pair.server, file, 0, 0, nullptr, nullptr, TF_DISCONNECT) != FALSE,
        "TransmitFile(TF_DISCONNECT)");
  reader.join();
  say("client read %d, then %d", read, end);
  check(read == 1000 && end == 0, "the client reads 1,000 bytes, then the end");
  CloseHandle(file);
  closesocket(pair.server);
  closesocket(pair.client);
}

// TransmitPackets of two buffers (600 and 400 bytes) with TF_DISCONNECT.
void transmit_packets() {
  Pair pair = connected();
  auto transmit = extension<LPFN_TRANSMITPACKETS>(pair.server, WSAID_TRANSMITPACKETS);
  std::vector<char> first(600, 'a');
  std::vector<char> second(400, 'b');
  TRANSMIT_PACKETS_ELEMENT packets[2]{};
  packets[0].dwElFlags = TP_ELEMENT_MEMORY;
  packets[0].cLength = 600;
  packets[0].pBuffer = first.data();
  packets[1].dwElFlags = TP_ELEMENT_MEMORY | TP_ELEMENT_EOP;
  packets[1].cLength = 400;
  packets[1].pBuffer = second.data();
  int end = 1;
  int read = 0;
  std::thread reader([&] { read = drain(pair.client, end); });
  check(transmit(pair.server, packets, 2, 0, nullptr, TF_DISCONNECT) != FALSE,
        "TransmitPackets(TF_DISCONNECT)");
  reader.join();
  say("client read %d, then %d", read, end);
  check(read == 1000 && end == 0, "the client reads 1,000 bytes, then the end");
  closesocket(pair.server);
  closesocket(pair.client);
}

// SIO_BASE_HANDLE and the SIO_BSP_HANDLE family, as libuv, wepoll and trio ask for them.
// SIO_BASE_HANDLE and SIO_BSP_HANDLE_SELECT name the base provider's socket (trio refuses to run
// when they differ); SIO_BSP_HANDLE and SIO_BSP_HANDLE_POLL name the application's own socket,
// so that WSASendMsg and WSAPoll reach a layered provider (without one, the application's socket
// is the base's, and every check holds the same).
void bsp_handles() {
  Pair pair = connected();
  struct Query {
    const char* name;
    DWORD code;
    SOCKET handle;
  };
  Query queries[] = {{"SIO_BASE_HANDLE", SIO_BASE_HANDLE, INVALID_SOCKET},
                     {"SIO_BSP_HANDLE", SIO_BSP_HANDLE, INVALID_SOCKET},
                     {"SIO_BSP_HANDLE_SELECT", SIO_BSP_HANDLE_SELECT, INVALID_SOCKET},
                     {"SIO_BSP_HANDLE_POLL", SIO_BSP_HANDLE_POLL, INVALID_SOCKET}};
  for (Query& query : queries) {
    DWORD returned = 0;
    int result = WSAIoctl(pair.client, query.code, nullptr, 0, &query.handle,
                          sizeof(query.handle), &returned, nullptr, nullptr);
    check(result == 0 && returned == sizeof(SOCKET), query.name);
    say("%s %llu", query.name, static_cast<unsigned long long>(query.handle));
  }
  SOCKET base = queries[0].handle;
  check(queries[2].handle == base,
        "SIO_BSP_HANDLE_SELECT agrees with SIO_BASE_HANDLE: select goes to the base provider");
  check(queries[1].handle == pair.client && queries[3].handle == pair.client,
        "SIO_BSP_HANDLE and SIO_BSP_HANDLE_POLL name the application's socket");
  say("base %s the application's socket", base == pair.client ? "is" : "differs from");
  check(local_port(base) == local_port(pair.client), "the base socket has the same port");
  closesocket(pair.client);
  closesocket(pair.server);
}

// A connected pair of the base provider's own sockets, made on its catalog entry so that no
// layered provider is in their way: what a program gets without Teardown.
Pair base_pair() {
  int protocols[] = {IPPROTO_TCP, 0};
  DWORD bytes = 0;
  WSAEnumProtocolsW(protocols, nullptr, &bytes);
  std::vector<WSAPROTOCOL_INFOW> entries(bytes / sizeof(WSAPROTOCOL_INFOW) + 1);
  bytes = static_cast<DWORD>(entries.size() * sizeof(WSAPROTOCOL_INFOW));
  int count = WSAEnumProtocolsW(protocols, entries.data(), &bytes);
  const WSAPROTOCOL_INFOW* base = nullptr;
  for (size_t i = 0; count > 0 && i < static_cast<size_t>(count) && base == nullptr; ++i) {
    const WSAPROTOCOL_INFOW& entry = entries[i];
    if (entry.ProtocolChain.ChainLen == BASE_PROTOCOL && entry.iAddressFamily == AF_INET &&
        entry.iSocketType == SOCK_STREAM) {
      base = &entry;
    }
  }
  require(base != nullptr, "the catalog lists a base TCP/IPv4 provider");
  WSAPROTOCOL_INFOW info = *base;
  auto open = [&info] {
    SOCKET s = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0,
                          WSA_FLAG_OVERLAPPED);
    require(s != INVALID_SOCKET, "a socket of the base provider's own");
    bound_receives(s);
    return s;
  };
  SOCKET listening = open();
  sockaddr_in address = loopback(0);
  int length = sizeof(address);
  require(bind(listening, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
              getsockname(listening, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
              listen(listening, 1) == 0,
          "the base provider's listener");
  Pair pair;
  pair.client = open();
  require(connect(pair.client, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0,
          "connect on the base provider");
  pair.server = accept(listening, nullptr, nullptr);
  require(pair.server != INVALID_SOCKET, "accept on the base provider");
  closesocket(listening);
  return pair;
}

// WSASendMsg of "ab" and "cd" on `s`: 0, or the error.
int send_message(SOCKET s, LPWSAOVERLAPPED overlapped = nullptr, DWORD* sent = nullptr) {
  char first[] = "ab", second[] = "cd";
  WSABUF buffers[2] = {{2, first}, {2, second}};
  WSAMSG message{};
  message.lpBuffers = buffers;
  message.dwBufferCount = 2;
  return WSASendMsg(s, &message, 0, sent, overlapped, nullptr) == 0 ? 0 : WSAGetLastError();
}

// WSASendMsg and WSAPoll, which ws2_32 routes to the provider SIO_BSP_HANDLE and
// SIO_BSP_HANDLE_POLL name. WSASendMsg is documented for datagram and raw sockets: on TCP it does
// whatever the base provider's own sockets do, plain and overlapped (an overlapped one on a socket
// that also has an overlapped receive pending must complete through its event). Then polls, and
// the end.
void routed_calls() {
  Pair pair = connected();
  Pair base = base_pair();
  DWORD sent = 0, base_sent = 0;
  int without = send_message(base.client, nullptr, &base_sent);
  int through = send_message(pair.client, nullptr, &sent);
  say("WSASendMsg on TCP: %s %d; through whatever Winsock gives: %d", without == 0 ? "sends" : "refused",
      without, through);
  check(through == without && sent == base_sent,
        "WSASendMsg on TCP answers as the base provider's own sockets answer it");
  char data[16] = {};
  Receive pending;
  pending.overlapped.hEvent = WSACreateEvent();
  if (without == 0) {
    check(recv(pair.server, data, sizeof(data), 0) == 4 && std::memcmp(data, "abcd", 4) == 0,
          "the server reads them");
    post(pair.client, pending);
    WSAOVERLAPPED sending{};
    sending.hEvent = WSACreateEvent();
    int result = send_message(pair.client, &sending);
    check(result == 0 || result == WSA_IO_PENDING, "an overlapped WSASendMsg starts");
    check(WSAWaitForMultipleEvents(1, &sending.hEvent, FALSE, 10000, FALSE) == WSA_WAIT_EVENT_0,
          "and completes through its event");
    DWORD bytes = 0, flags = 0;
    check(WSAGetOverlappedResult(pair.client, &sending, &bytes, FALSE, &flags) && bytes == 4,
          "with 4 bytes");
    check(recv(pair.server, data, sizeof(data), 0) == 4, "the server reads them");
    WSACloseEvent(sending.hEvent);
  } else {
    post(pair.client, pending);
  }
  WSAPOLLFD fds[1] = {{pair.server, POLLRDNORM, 0}};
  check(WSAPoll(fds, 1, 0) == 0, "WSAPoll: nothing more to read");
  send_text(pair.client, "q");
  check(WSAPoll(fds, 1, 10000) == 1 && (fds[0].revents & POLLRDNORM) != 0,
        "WSAPoll waits until the server can read");
  check(recv(pair.server, data, sizeof(data), 0) == 1, "the server reads it");
  send_text(pair.server, "k");
  check(overlapped_result(pair.client, pending) == 1, "the client's pending receive completes");
  check(shutdown(pair.client, SD_SEND) == 0, "shutdown(SD_SEND)");
  check(recv(pair.server, data, sizeof(data), 0) == 0, "the server reads the end");
  fds[0].revents = 0;
  check(WSAPoll(fds, 1, 10000) == 1 && (fds[0].revents & POLLHUP) != 0,
        "WSAPoll reports the hang-up");
  WSACloseEvent(pending.overlapped.hEvent);
  for (Pair* each : {&pair, &base}) {
    closesocket(each->server);
    closesocket(each->client);
  }
}

struct Scenario {
  const char* name;
  std::function<void()> run;
};

const Scenario kScenarios[] = {
    {"graceful", graceful},
    {"abortive", abortive},
    {"linger-timeout", linger_timeout},
    {"shutdown-each-way", shutdown_each_way},
    {"disconnect-data", disconnect_data},
    {"emulated-totals", emulated_totals},
    {"event-select", [] { event_select(false); }},
    {"event-select-reset", [] { event_select(true); }},
    {"async-select", async_select},
    {"overlapped", overlapped},
    {"overlapped-reset", overlapped_reset},
    {"close-with-pending-io", close_with_pending_io},
    {"extension-functions", [] { extension_functions(false); }},
    {"accept-reuse", [] { extension_functions(true); }},
    {"transmit-file", transmit_file},
    {"transmit-packets", transmit_packets},
    {"bsp-handles", bsp_handles},
    {"routed-calls", routed_calls},
};

}  // namespace

int main(int argc, char** argv) {
  const Scenario* chosen = nullptr;
  for (const Scenario& scenario : kScenarios) {
    if (argc == 2 && std::strcmp(argv[1], scenario.name) == 0) chosen = &scenario;
  }
  if (chosen == nullptr) {
    std::fprintf(stderr, "usage: teardown_probe <scenario>; scenarios:");
    for (const Scenario& scenario : kScenarios) std::fprintf(stderr, " %s", scenario.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  WSADATA data;
  if (WSAStartup(MAKEWORD(2, 2), &data) != 0) {
    say("FAILED: WSAStartup");
    return 1;
  }
  say("pid %lu", static_cast<unsigned long>(GetCurrentProcessId()));
  say("bits %d", static_cast<int>(sizeof(void*) * 8));
  try {
    chosen->run();
  } catch (const Abandon&) {
    say("abandoned %s", chosen->name);
  }
  WSACleanup();
  say(failures == 0 ? "ok" : "failed");
  return failures == 0 ? 0 : 1;
}
