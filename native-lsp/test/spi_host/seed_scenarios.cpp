// The seed's teardowns through the LSP, each entry point's pass-through, and what Teardown
// answers for the application's memory it cannot use: shutdown, closes by their linger options,
// the peer's end by select, event select and async select, disconnect data, and the rest of
// the table.
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>

#include "host.h"

namespace spi_host {

namespace {

// What `role` saw at the end of its reads, for the observer.
void print_end(const char* role, int ended_with) {
  if (ended_with == 0) {
    say("%s saw end-of-stream", role);
  } else {
    say("%s saw error %d", role, ended_with);
  }
}

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

}  // namespace

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

namespace {

constexpr UINT kAppNotification = WM_USER + 7;

}  // namespace

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

namespace {

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

}  // namespace

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

// The kernel's view at close (SIO_TCP_INFO, played by the base provider): clients that never read
// how their servers ended the connection, and one that read the end through a completion port,
// which in compatible mode Teardown never sees. Every pair is made first, so that no handle value
// is used twice among the roles.
void scenario_unread_endings() {
  Pair fin = connect_pair(kBaseTcp4 + kChainOffset);
  Pair reset = connect_pair(kBaseTcp4 + kChainOffset);
  Pair ported = connect_pair(kBaseTcp4 + kChainOffset);
  const char* roles[] = {"fin-client", "fin-server", "reset-client", "reset-server",
                         "port-client", "port-server"};
  const Pair* pairs[] = {&fin, &reset, &ported};
  for (int i = 0; i < 3; ++i) {
    announce(roles[2 * i], pairs[i]->client);
    announce(roles[2 * i + 1], pairs[i]->server);
  }
  int error = 0;
  // The server closes; its FIN waits unread in the client's socket.
  check(close_socket(fin.server) == 0, "fin: the server closes");
  // The server resets.
  linger hard{1, 0};
  check(lsp().lpWSPSetSockOpt(reset.server, SOL_SOCKET, SO_LINGER,
                              reinterpret_cast<const char*>(&hard), sizeof(hard), &error) == 0,
        "reset: the server sets SO_LINGER {1, 0}");
  check(close_socket(reset.server) == 0, "reset: the server closes");
  // The client reads the end through its port.
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  bind_completion_port(ported.client, port, 9);
  char data[16];
  WSABUF buffer{sizeof(data), data};
  WSAOVERLAPPED by_port{};
  check(overlapped_receive(ported.client, buffer, by_port) == WSA_IO_PENDING,
        "port: the client's receive is pending");
  check(close_socket(ported.server) == 0, "port: the server closes");
  DWORD bytes = 99;
  ULONG_PTR key = 0;
  LPOVERLAPPED done = nullptr;
  check(GetQueuedCompletionStatus(port, &bytes, &key, &done, 5000) != 0 && key == 9 &&
            bytes == 0,
        "port: the client's receive completes on its port with 0 bytes");
  Sleep(100);  // the FIN and the reset reach the clients' sockets
  for (const Pair* pair : pairs) {
    check(close_socket(pair->client) == 0, "the client closes without reading more");
    check(close_socket(pair->listener) == 0, "the listener closes");
  }
  CloseHandle(port);
}

// Connects that make no connection (nothing listens on the port): a blocking one, and a
// non-blocking one whose failure comes with FD_CONNECT. Then a pair that connects, whose
// connections are made (CONNECTED, where the configuration asks for it).
void scenario_connect_refused() {
  DWORD chain = kBaseTcp4 + kChainOffset;
  int error = 0;
  // The refusing port stays bound, never listening, until the connects are done: a port closed
  // first could be handed to the pair's listener (the connects would then succeed).
  SOCKET bound = open_socket(chain);
  sockaddr_storage address = loopback(AF_INET, 0);
  check(lsp().lpWSPBind(bound, reinterpret_cast<sockaddr*>(&address), address_length(AF_INET),
                        &error) == 0,
        "WSPBind");
  int length = sizeof(address);
  check(lsp().lpWSPGetSockName(bound, reinterpret_cast<sockaddr*>(&address), &length, &error) == 0,
        "WSPGetSockName");
  SOCKET blocking = open_socket(chain);
  SOCKET pending = open_socket(chain);
  Pair made = connect_pair(chain);  // made first: no handle value is used twice among the roles
  announce("client", blocking);
  announce("nb-client", pending);
  announce("made-client", made.client);
  announce("made-server", made.server);
  check(lsp().lpWSPConnect(blocking, reinterpret_cast<sockaddr*>(&address), address_length(AF_INET),
                           nullptr, nullptr, nullptr, nullptr, &error) == SOCKET_ERROR &&
            error == WSAECONNREFUSED,
        "the blocking connect is refused");
  WSAEVENT event = WSACreateEvent();
  check(lsp().lpWSPEventSelect(pending, event, FD_CONNECT, &error) == 0, "WSPEventSelect");
  check(lsp().lpWSPConnect(pending, reinterpret_cast<sockaddr*>(&address), address_length(AF_INET),
                           nullptr, nullptr, nullptr, nullptr, &error) == SOCKET_ERROR &&
            error == WSAEWOULDBLOCK,
        "the non-blocking connect is under way");
  int told = -1;
  for (int rounds = 0; rounds < 50 && told < 0; ++rounds) {
    if (WSAWaitForMultipleEvents(1, &event, FALSE, 100, FALSE) != WSA_WAIT_EVENT_0) continue;
    WSANETWORKEVENTS events{};
    check(lsp().lpWSPEnumNetworkEvents(pending, event, &events, &error) == 0, "WSPEnumNetworkEvents");
    if ((events.lNetworkEvents & FD_CONNECT) != 0) told = events.iErrorCode[FD_CONNECT_BIT];
  }
  check(told == WSAECONNREFUSED, "FD_CONNECT says the connect was refused");
  say("fd_connect %d", told);
  check(close_socket(blocking) == 0, "the refused client closes");
  check(close_socket(pending) == 0, "the refused non-blocking client closes");
  WSACloseEvent(event);
  close_pair(made);
  check(close_socket(bound) == 0, "the refusing port's socket closes");
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

}  // namespace spi_host
