// Disconnect-data emulation through teardown_lsp.dll: both ends of each connection go through
// the LSP on the port in TEARDOWN_TEST_PORT, which the observer's configuration emulates, over
// the test base provider's plain TCP (no XP1_DISCONNECT_DATA of its own).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "host.h"

namespace spi_host {

namespace {

constexpr DWORD kChain = kBaseTcp4 + kChainOffset;

u_short emulated_port() {
  const char* text = std::getenv("TEARDOWN_TEST_PORT");
  int port = text != nullptr ? std::atoi(text) : 0;
  check(port > 0 && port < 65536, "TEARDOWN_TEST_PORT names the emulated port");
  return static_cast<u_short>(port);
}

// What the socket's protocol info says of disconnect data.
bool carries_disconnect_data(SOCKET s) {
  WSAPROTOCOL_INFOW info{};
  int length = sizeof(info);
  int error = 0;
  if (lsp().lpWSPGetSockOpt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info),
                            &length, &error) != 0) {
    return false;
  }
  return (info.dwServiceFlags1 & XP1_DISCONNECT_DATA) != 0;
}

int send_disconnect(SOCKET s, const std::string& data) {
  WSABUF buffer{static_cast<ULONG>(data.size()), const_cast<char*>(data.data())};
  int error = 0;
  return lsp().lpWSPSendDisconnect(s, data.empty() ? nullptr : &buffer, &error) == 0 ? 0 : error;
}

// The peer's disconnect data, or "error N".
std::string recv_disconnect(SOCKET s, ULONG capacity) {
  std::vector<char> data(capacity);
  WSABUF buffer{capacity, data.data()};
  int error = 0;
  if (lsp().lpWSPRecvDisconnect(s, &buffer, &error) != 0) return "error " + std::to_string(error);
  return std::string(data.data(), buffer.len);
}

// The stream's byte at `offset`: a pattern no shift or repetition matches by chance.
char stream_byte(uint64_t offset) {
  return static_cast<char>((offset * 0x9E3779B97F4A7C15ull) >> 56);
}

void set_nonblocking(SOCKET s) {
  u_long on = 1;
  DWORD returned = 0;
  int error = 0;
  check(lsp().lpWSPIoctl(s, FIONBIO, &on, sizeof(on), nullptr, 0, &returned, nullptr, nullptr,
                         nullptr, &error) == 0,
        "FIONBIO");
}

}  // namespace

// The seed's table, steps (1) to (8), over plain TCP: the totals travel as disconnect data.
void scenario_emulated_totals() {
  Pair pair = connect_pair(kChain, emulated_port());
  announce("client", pair.client);
  announce("server", pair.server);
  check(carries_disconnect_data(pair.client) && carries_disconnect_data(pair.server),
        "the sockets' protocol info says XP1_DISCONNECT_DATA");
  int error = 0;
  check(send_text(pair.client, "TX 1\nTX 2\n", error) == 10, "the transactions go");
  check(send_disconnect(pair.client, std::string(1025, 'x')) == WSAEINVAL,
        "over 1,024 bytes of disconnect data: WSAEINVAL, and nothing changes");
  WSAEVENT event = WSACreateEvent();
  check(lsp().lpWSPEventSelect(pair.client, event, FD_CLOSE, &error) == 0, "WSPEventSelect");
  check(send_disconnect(pair.client, "client-total=17") == 0, "(1) WSPSendDisconnect");
  char data[64] = {};
  check(receive(pair.server, data, sizeof(data), error) == 10 &&
            std::string(data, 10) == "TX 1\nTX 2\n",
        "the server reads the transactions, unframed");
  int ended = -1;
  check(drain(pair.server, ended) == 0 && ended == 0, "(2) the server's WSPRecv returns zero");
  check(recv_disconnect(pair.server, 64) == "client-total=17", "(3) the client's total arrives");
  check(send_disconnect(pair.server, "grand-total=1234") == 0, "(5) WSPSendDisconnect");  // (4)
  check(close_socket(pair.server) == 0, "(5') the server closes");
  check(await_fd_close(pair.client, event, nullptr) == 0, "(6) the client gets FD_CLOSE");
  check(recv_disconnect(pair.client, 4) == "error " + std::to_string(WSAEFAULT),
        "too small a buffer: WSAEFAULT, the data kept");
  check(recv_disconnect(pair.client, 64) == "grand-total=1234", "(7) the grand total arrives");
  check(close_socket(pair.client) == 0, "(8) the client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
  WSACloseEvent(event);
}

// 1 MiB from a non-blocking sender, in sends of every size and several buffers each, against a
// receiver that reads every size, peeks and waits for whole blocks: the stream arrives exact.
void scenario_emulated_stream() {
  Pair pair = connect_pair(kChain, emulated_port());
  announce("client", pair.client);
  announce("server", pair.server);
  constexpr uint64_t kTotal = 1u << 20;
  set_nonblocking(pair.client);
  bool sent_all = false;
  int refused = 0;
  std::thread sender([&] {
    std::vector<char> chunk(70000);
    uint32_t random = 12345;
    uint64_t sent = 0;
    while (sent < kTotal) {
      random = random * 1103515245u + 12345u;
      size_t offer = 1 + (random >> 8) % chunk.size();
      if (offer > kTotal - sent) offer = static_cast<size_t>(kTotal - sent);
      for (size_t i = 0; i < offer; ++i) chunk[i] = stream_byte(sent + i);
      WSABUF buffers[3] = {{static_cast<ULONG>(offer / 3), chunk.data()},
                           {0, chunk.data()},
                           {static_cast<ULONG>(offer - offer / 3), chunk.data() + offer / 3}};
      DWORD done = 0;
      int error = 0;
      if (lsp().lpWSPSend(pair.client, buffers, 3, &done, 0, nullptr, nullptr, nullptr, &error) == 0) {
        sent += done;
      } else if (error == WSAEWOULDBLOCK) {
        ++refused;
        Sleep(1);
      } else {
        return;
      }
    }
    sent_all = send_disconnect(pair.client, "") == 0;
  });
  std::vector<char> buffer(100000);
  uint64_t received = 0;
  bool intact = true;
  for (int round = 0; received < kTotal && intact && round < 1000000; ++round) {
    size_t want = 1 + (static_cast<size_t>(round) * 7919u) % buffer.size();
    if (want > kTotal - received) want = static_cast<size_t>(kTotal - received);
    WSABUF into{static_cast<ULONG>(want), buffer.data()};
    DWORD got = 0;
    DWORD flags = round % 5 == 3 ? MSG_PEEK : round % 5 == 4 ? MSG_WAITALL : 0;
    int error = 0;
    if (lsp().lpWSPRecv(pair.server, &into, 1, &got, &flags, nullptr, nullptr, nullptr, &error) != 0) {
      check(false, "the server's WSPRecv");
      break;
    }
    if (got == 0) break;
    for (DWORD i = 0; i < got && intact; ++i) intact = buffer[i] == stream_byte(received + i);
    if (round % 5 == 4) intact = intact && got == want;  // MSG_WAITALL: the whole block
    if (round % 5 != 3) received += got;                  // a peek consumes nothing
  }
  sender.join();
  check(intact && received == kTotal, "the server receives the 1 MiB stream unchanged");
  check(sent_all, "the client sends it all, then its disconnect");
  say("stream of %llu bytes, %d sends refused with WSAEWOULDBLOCK",
      static_cast<unsigned long long>(kTotal), refused);
  int ended = -1;
  check(drain(pair.server, ended) == 0 && ended == 0, "then the end of the stream");
  check(recv_disconnect(pair.server, 16).empty(), "a DISCONNECT with no data");
  check(close_socket(pair.client) == 0 && close_socket(pair.server) == 0, "both close");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// Overlapped requests on an emulated connection: receives posted before the data complete in
// order with the application's bytes only; an overlapped send completes with the application's
// count; the end of the stream completes a receive with 0; a close aborts a pending one.
void scenario_emulated_overlapped() {
  Pair pair = connect_pair(kChain, emulated_port());
  announce("client", pair.client);
  announce("server", pair.server);
  constexpr int kPosted = 3;
  char data[kPosted][32] = {};
  WSABUF buffers[kPosted];
  WSAOVERLAPPED overlapped[kPosted] = {};
  for (int i = 0; i < kPosted; ++i) {
    buffers[i] = WSABUF{sizeof(data[i]), data[i]};
    overlapped[i].hEvent = WSACreateEvent();
    check(overlapped_receive(pair.server, buffers[i], overlapped[i]) == WSA_IO_PENDING,
          "an overlapped receive is pending");
  }
  int error = 0;
  for (const char* message : {"first", "second", "third"}) {
    check(send_text(pair.client, message, error) == static_cast<int>(std::strlen(message)),
          "the client sends");
    Sleep(20);  // one message per receive
  }
  const char* expected[kPosted] = {"first", "second", "third"};
  for (int i = 0; i < kPosted; ++i) {
    long got = event_result(pair.server, overlapped[i]);
    check(got == static_cast<long>(std::strlen(expected[i])) &&
              std::string(data[i], static_cast<size_t>(got)) == expected[i],
          "the receives complete in order with the application's bytes");
  }

  std::vector<char> bulk(100000);
  for (size_t i = 0; i < bulk.size(); ++i) bulk[i] = stream_byte(i);
  WSABUF out{static_cast<ULONG>(bulk.size()), bulk.data()};
  WSAOVERLAPPED sending{};
  sending.hEvent = WSACreateEvent();
  int result = lsp().lpWSPSend(pair.server, &out, 1, nullptr, 0, &sending, nullptr, nullptr, &error);
  check(result == 0 || error == WSA_IO_PENDING, "an overlapped send starts");
  std::vector<char> in(bulk.size());
  size_t received = 0;
  while (received < in.size()) {
    int n = receive(pair.client, in.data() + received, static_cast<int>(in.size() - received), error);
    if (n <= 0) break;
    received += static_cast<size_t>(n);
  }
  check(event_result(pair.server, sending) == static_cast<long>(bulk.size()),
        "the overlapped send completes with the application's count");
  check(received == bulk.size() && in == bulk, "its bytes arrive unframed");

  WSAResetEvent(overlapped[0].hEvent);
  check(overlapped_receive(pair.server, buffers[0], overlapped[0]) == WSA_IO_PENDING,
        "a receive waits for the end");
  check(lsp().lpWSPShutdown(pair.client, SD_SEND, &error) == 0, "the client shuts down sending");
  check(event_result(pair.server, overlapped[0]) == 0, "the end completes it with 0 bytes");

  WSAResetEvent(overlapped[1].hEvent);
  check(overlapped_receive(pair.client, buffers[1], overlapped[1]) == WSA_IO_PENDING,
        "a receive is pending on the client");
  check(close_socket(pair.client) == 0, "the client closes with it pending");
  WSAWaitForMultipleEvents(1, &overlapped[1].hEvent, FALSE, 5000, FALSE);
  check(overlapped[1].OffsetHigh == WSA_OPERATION_ABORTED, "it completes aborted");
  check(close_socket(pair.server) == 0, "the server closes");
  check(close_socket(pair.listener) == 0, "listener closes");
  for (WSAOVERLAPPED& each : overlapped) WSACloseEvent(each.hEvent);
  WSACloseEvent(sending.hEvent);
}

// A peer without Teardown (the system's own sockets): what it sends is refused (the LSP resets
// the connection and says why), and what it reads is the records themselves.
void scenario_emulated_plain_peer() {
  u_short port = emulated_port();
  SOCKET listener = open_socket(kChain);
  sockaddr_storage address = loopback(AF_INET, port);
  int error = 0;
  check(lsp().lpWSPBind(listener, reinterpret_cast<sockaddr*>(&address), address_length(AF_INET),
                        &error) == 0 &&
            lsp().lpWSPListen(listener, 8, &error) == 0,
        "the LSP's listener on the emulated port");
  auto plain_client = [&] {
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    check(connect(s, reinterpret_cast<sockaddr*>(&address), address_length(AF_INET)) == 0,
          "a plain client connects");
    return s;
  };

  SOCKET talker = plain_client();
  SOCKET refused = lsp().lpWSPAccept(listener, nullptr, nullptr, nullptr, 0, &error);
  announce("server-refusing", refused);
  const char request[] = "GET / HTTP/1.0\r\n\r\n";
  check(send(talker, request, sizeof(request) - 1, 0) == sizeof(request) - 1, "the plain client sends");
  char data[64];
  check(receive(refused, data, sizeof(data), error) == -1 && error == WSAECONNABORTED,
        "the LSP refuses plain bytes on the emulated port: WSAECONNABORTED");
  check(receive(refused, data, sizeof(data), error) == -1 && error == WSAECONNABORTED,
        "and keeps refusing");
  closesocket(talker);

  SOCKET reader = plain_client();
  SOCKET framing = lsp().lpWSPAccept(listener, nullptr, nullptr, nullptr, 0, &error);
  announce("server-framing", framing);
  check(send_text(framing, "hi", error) == 2, "the LSP sends");
  check(send_disconnect(framing, "42") == 0, "and its disconnect data");
  char raw[64];
  int got = 0;
  for (int n; (n = recv(reader, raw + got, static_cast<int>(sizeof(raw)) - got, 0)) > 0;) got += n;
  std::string hex;
  for (int i = 0; i < got; ++i) {
    char digits[3];
    std::snprintf(digits, sizeof(digits), "%02x", static_cast<unsigned char>(raw[i]));
    hex += digits;
  }
  say("plain peer read %s", hex.c_str());
  check(hex == "a10000055444574e01a20000026869a30000023432", "the plain peer reads the records");
  closesocket(reader);

  // The other way round: a peer that frames, on a port this side does not emulate. Its HELLO is
  // known at once, by a plain receive and by an overlapped one, and refused the same way.
  SOCKET plain_listener = open_socket(kChain);
  sockaddr_storage any_port = loopback(AF_INET, 0);
  int length = sizeof(any_port);
  check(lsp().lpWSPBind(plain_listener, reinterpret_cast<sockaddr*>(&any_port),
                        address_length(AF_INET), &error) == 0 &&
            lsp().lpWSPListen(plain_listener, 8, &error) == 0 &&
            lsp().lpWSPGetSockName(plain_listener, reinterpret_cast<sockaddr*>(&any_port), &length,
                                   &error) == 0,
        "an LSP listener on a port not emulated");
  const char framed[] = "\xa1\x00\x00\x05TDWN\x01\xa2\x00\x00\x02hi";
  SOCKET sniffed[2];
  for (int overlapped = 0; overlapped < 2; ++overlapped) {
    SOCKET framer = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    check(connect(framer, reinterpret_cast<sockaddr*>(&any_port), address_length(AF_INET)) == 0,
          "a framing client connects");
    sniffed[overlapped] = lsp().lpWSPAccept(plain_listener, nullptr, nullptr, nullptr, 0, &error);
    announce(overlapped == 0 ? "server-sniffing" : "server-sniffing-overlapped", sniffed[overlapped]);
    check(send(framer, framed, sizeof(framed) - 1, 0) == sizeof(framed) - 1, "it sends records");
    if (overlapped == 0) {
      check(receive(sniffed[0], data, sizeof(data), error) == -1 && error == WSAECONNABORTED,
            "a plain receive is refused the records: WSAECONNABORTED");
    } else {
      WSABUF into{sizeof(data), data};
      WSAOVERLAPPED receiving{};
      receiving.hEvent = WSACreateEvent();
      check(overlapped_receive(sniffed[1], into, receiving) == WSA_IO_PENDING ||
                event_result(sniffed[1], receiving) == -WSAECONNABORTED,
            "an overlapped receive starts");
      check(event_result(sniffed[1], receiving) == -WSAECONNABORTED,
            "an overlapped receive is refused the records: WSAECONNABORTED");
      WSACloseEvent(receiving.hEvent);
    }
    closesocket(framer);
  }
  // Closed last, so that the accepted sockets have handles of their own.
  check(close_socket(sniffed[0]) == 0 && close_socket(sniffed[1]) == 0, "they close");
  check(close_socket(plain_listener) == 0, "and their listener");
  check(close_socket(refused) == 0, "the refusing server closes");
  check(close_socket(framing) == 0 && close_socket(listener) == 0, "the LSP's sockets close");
}

// AcceptEx on an emulated listener and ConnectEx to it, each with first bytes, then more through
// the framed calls, DisconnectEx; TransmitFile and WSARecvMsg, which would put or take the
// provider's bytes unframed, are refused.
void scenario_emulated_extension_functions() {
  int error = 0;
  SOCKET listener = open_socket(kChain);
  sockaddr_storage address = loopback(AF_INET, emulated_port());
  check(lsp().lpWSPBind(listener, reinterpret_cast<sockaddr*>(&address), address_length(AF_INET),
                        &error) == 0 &&
            lsp().lpWSPListen(listener, 8, &error) == 0,
        "the listener on the emulated port");
  SOCKET server = open_socket(kChain);
  SOCKET client = open_socket(kChain);
  announce("server", server);
  announce("client", client);
  auto disconnect_ex = extension<LPFN_DISCONNECTEX>(client, WSAID_DISCONNECTEX);
  auto transmit_file = extension<LPFN_TRANSMITFILE>(client, WSAID_TRANSMITFILE);
  auto recv_msg = extension<LPFN_WSARECVMSG>(server, WSAID_WSARECVMSG);
  // Room for the records' own bytes before "hello", which AcceptEx gives the application alone.
  char accepted_data[64 + 2 * kAcceptExAddressSpace] = {};
  if (!accept_and_connect(listener, address, server, client, accepted_data, 64)) return;
  check(carries_disconnect_data(server) && carries_disconnect_data(client),
        "both sockets say XP1_DISCONNECT_DATA");
  check(send_text(client, " world", error) == 6, "the client sends more");
  char data[16] = {};
  check(receive(server, data, sizeof(data), error) == 6 && std::string(data, 6) == " world",
        "the server receives it unframed");
  check(!transmit_file(client, nullptr, 0, 0, nullptr, nullptr, 0) &&
            GetLastError() == WSAEOPNOTSUPP,
        "TransmitFile is refused: its bytes would go unframed");
  WSAMSG message{};
  WSABUF into{sizeof(data), data};
  message.lpBuffers = &into;
  message.dwBufferCount = 1;
  DWORD received = 0;
  check(recv_msg(server, &message, &received, nullptr, nullptr) == SOCKET_ERROR &&
            GetLastError() == WSAEOPNOTSUPP,
        "WSARecvMsg is refused: it would read the records");
  WSAOVERLAPPED disconnecting{};
  disconnecting.hEvent = WSACreateEvent();
  BOOL done = disconnect_ex(client, reinterpret_cast<LPOVERLAPPED>(&disconnecting), 0, 0);
  check(done || GetLastError() == ERROR_IO_PENDING, "DisconnectEx starts");
  check(event_result(client, disconnecting) == 0, "DisconnectEx completes");
  int ended = -1;
  check(drain(server, ended) == 0 && ended == 0, "the server reads the end of the stream");
  WSACloseEvent(disconnecting.hEvent);
  check(close_socket(server) == 0 && close_socket(client) == 0 && close_socket(listener) == 0,
        "the sockets close");
}

}  // namespace spi_host

namespace spi_host {

// Another thread blocks in a send the peer never reads; WSPShutdown from this thread returns at
// once and the send ends (no lock of Teardown's is held while a call waits). FIONREAD answers the
// application's bytes, not the records'.
void scenario_emulated_unblocking() {
  Pair pair = connect_pair(kChain, emulated_port());
  announce("client", pair.client);
  announce("server", pair.server);
  int error = 0;
  check(send_text(pair.client, "hello", error) == 5, "five bytes go");
  u_long waiting = 0;
  DWORD returned = 0;
  for (int round = 0; round < 100 && waiting == 0; ++round) {
    check(lsp().lpWSPIoctl(pair.server, FIONREAD, nullptr, 0, &waiting, sizeof(waiting), &returned,
                           nullptr, nullptr, nullptr, &error) == 0,
          "FIONREAD");
    if (waiting == 0) Sleep(10);
  }
  check(waiting == 5, "FIONREAD counts the application's five bytes, not the wire's records");
  char five[5];
  check(receive(pair.server, five, sizeof(five), error) == 5, "and they are read");

  std::vector<char> lots(64u << 20, 'x');
  int send_result = 0;
  std::thread sender([&] {
    WSABUF buffer{static_cast<ULONG>(lots.size()), lots.data()};
    DWORD sent = 0;
    int send_error = 0;
    send_result = lsp().lpWSPSend(pair.client, &buffer, 1, &sent, 0, nullptr, nullptr, nullptr,
                                  &send_error);
  });
  Sleep(300);
  ULONGLONG before = GetTickCount64();
  check(lsp().lpWSPShutdown(pair.client, SD_BOTH, &error) == 0, "WSPShutdown while a send waits");
  check(GetTickCount64() - before < 2000, "WSPShutdown returns at once");
  check(close_socket(pair.server) == 0, "the server closes: the waiting send must end");
  sender.join();
  check(close_socket(pair.client) == 0, "client closes");
  check(close_socket(pair.listener) == 0, "listener closes");
}

// WSASendMsg and WSAPoll on an emulated connection: the bytes are framed like a send's (the peer
// reads them exactly), readiness is the program's, and control data, which the records cannot
// carry, is refused.
void scenario_emulated_routed_calls() {
  Pair pair = connect_pair(kChain, emulated_port());
  announce("client", pair.client);
  announce("server", pair.server);
  WSABUF buffers[2] = {{5, const_cast<char*>("hello")}, {6, const_cast<char*>(" world")}};
  DWORD sent = 0;
  check(send_message(pair.client, buffers, 2, &sent, nullptr) == 0 && sent == 11,
        "WSASendMsg sends 11 bytes");
  WSAPOLLFD fd{pair.server, POLLRDNORM, 0};
  check(poll_sockets(&fd, 1, 2000) == 1 && (fd.revents & POLLRDNORM) != 0,
        "WSAPoll says the server can read");
  char data[32] = {};
  int error = 0;
  int read = 0;
  for (int rounds = 0; rounds < 10 && read < 11; ++rounds) {
    int n = receive(pair.server, data + read, static_cast<int>(sizeof(data)) - read, error);
    if (n <= 0) break;
    read += n;
  }
  check(read == 11 && std::string(data, 11) == "hello world",
        "the server reads exactly the 11 bytes, unframed");
  check(send_message(pair.client, buffers, 1, &sent, nullptr, "ctl") == WSAEOPNOTSUPP,
        "WSASendMsg with control data is refused with WSAEOPNOTSUPP");
  close_pair(pair);
}

// Urgent data on an emulated connection, as ftplib's abort sends it: the MSG_OOB send's last byte
// goes alone as urgent data between two records, so the server reads the bytes before it, takes
// the urgent byte with MSG_OOB, and the stream goes on framed and whole. An overlapped MSG_OOB
// send, whose records would carry the urgent mark, is refused.
void scenario_emulated_urgent() {
  Pair pair = connect_pair(kChain, emulated_port());
  announce("client", pair.client);
  announce("server", pair.server);
  int error = 0;
  char command[] = "ABOR\r\n";
  WSABUF abort_command{6, command};
  DWORD sent = 0;
  check(lsp().lpWSPSend(pair.client, &abort_command, 1, &sent, MSG_OOB, nullptr, nullptr, nullptr,
                        &error) == 0 &&
            sent == 6,
        "a MSG_OOB send takes its 6 bytes");
  Sleep(100);
  char data[16] = {};
  check(receive(pair.server, data, sizeof(data), error) == 5 && std::memcmp(data, "ABOR\r", 5) == 0,
        "the server reads the 5 bytes before the urgent one");
  WSABUF one{1, data};
  DWORD got = 0, flags = MSG_OOB;
  check(
      lsp().lpWSPRecv(pair.server, &one, 1, &got, &flags, nullptr, nullptr, nullptr, &error) == 0 &&
          got == 1 && data[0] == '\n',
      "and the urgent byte with MSG_OOB");
  check(send_text(pair.client, "more", error) == 4, "the client sends 4 more bytes");
  check(receive(pair.server, data, sizeof(data), error) == 4 && std::memcmp(data, "more", 4) == 0,
        "the stream goes on, framed and whole");
  WSAOVERLAPPED overlapped{};
  overlapped.hEvent = WSACreateEvent();
  check(lsp().lpWSPSend(pair.client, &abort_command, 1, nullptr, MSG_OOB, &overlapped, nullptr,
                        nullptr, &error) != 0 &&
            error == WSAEOPNOTSUPP,
        "an overlapped MSG_OOB send is refused with WSAEOPNOTSUPP");
  WSACloseEvent(overlapped.hEvent);
  close_pair(pair);
}

// Compatible mode never changes a stream, emulation configured or not: on the emulated port a
// connection through Teardown carries the application's bytes as they are, offers no disconnect
// data of Teardown's, and a peer outside Teardown is read as it writes, never refused.
void scenario_emulation_needs_full() {
  if (!check(compatible_mode, "this scenario is compatible mode's")) return;
  u_short port = emulated_port();
  Pair pair = connect_pair(kChain, port);
  announce("client", pair.client);
  announce("server", pair.server);
  check(!carries_disconnect_data(pair.client) && !carries_disconnect_data(pair.server),
        "SO_PROTOCOL_INFOW offers no disconnect data");
  int error = 0;
  check(send_text(pair.client, "hello", error) == 5, "the client sends 5 bytes through Teardown");
  // The application's handle is the base provider's socket: what is on the wire is read there.
  char wire[16] = {};
  check(recv(pair.server, wire, sizeof(wire), 0) == 5 && std::memcmp(wire, "hello", 5) == 0,
        "the wire carries exactly those 5 bytes, no records around them");
  check(send_disconnect(pair.client, "17") == WSAENOPROTOOPT,
        "disconnect data is refused as the provider below refuses it");
  SOCKET plain = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  sockaddr_storage address = loopback(AF_INET, port);
  check(connect(plain, reinterpret_cast<sockaddr*>(&address), address_length(AF_INET)) == 0,
        "a client outside Teardown connects");
  sockaddr_storage peer{};
  int length = sizeof(peer);
  SOCKET accepted = lsp().lpWSPAccept(pair.listener, reinterpret_cast<sockaddr*>(&peer), &length,
                                      nullptr, 0, &error);
  announce("server-plain-peer", accepted);
  check(send(plain, "plain", 5, 0) == 5, "it sends 5 bytes of its own");
  char data[16] = {};
  check(receive(accepted, data, sizeof(data), error) == 5 && std::memcmp(data, "plain", 5) == 0,
        "Teardown's side reads them as they are, and nothing is refused");
  closesocket(plain);
  int ended = -1;
  drain(accepted, ended);
  check(ended == 0, "then the end of its stream");
  check(close_socket(accepted) == 0, "the accepted socket closes");
  close_pair(pair);
}

}  // namespace spi_host
