// The Microsoft extension functions through Teardown's wrappers: AcceptEx, ConnectEx,
// DisconnectEx, TransmitFile, WSARecvMsg.
#include <cstring>

#include "host.h"

namespace spi_host {

namespace {

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

}  // namespace

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

// TransmitFile: the file's bytes sent through the LSP and counted when it completes, or, done at
// once, as asked. (Wine's
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
  // Done at once (no OVERLAPPED), TransmitFile tells no count: Teardown counts what it was asked to
  // send, here a head buffer of 3 bytes and the whole rest of the file from its current position.
  char head[] = "abc";
  TRANSMIT_FILE_BUFFERS around{head, 3, nullptr, 0};
  SetFilePointer(file, 500, nullptr, FILE_BEGIN);
  check(transmit_file(pair.server, file, 0, 0, nullptr, &around, 0) != FALSE,
        "TransmitFile done at once");
  total = 0;
  for (int rounds = 0; rounds < 100 && total < 503; ++rounds) {
    int n = receive(pair.client, data, sizeof(data), error);
    if (n <= 0) break;
    total += n;
  }
  check(total == 503, "the client reads its 3 and 500 bytes");
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

}  // namespace spi_host
