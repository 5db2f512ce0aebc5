// Overlapped requests in each style (event, routine, completion port), on sockets the provider
// below binds elsewhere, raced by threads, closed under, and the calls ws2_32 routes by ioctl
// (WSASendMsg, WSAPoll, registered I/O): completed by Teardown in full mode, by the provider
// below in compatible mode, and recorded either way.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "host.h"

namespace spi_host {

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

namespace {

// Sends 4 bytes on the socket `client` after 300 ms: a thread's body.
DWORD WINAPI send_late(void* client) {
  Sleep(300);
  int ignored = 0;
  return send_text(reinterpret_cast<SOCKET>(client), "wxyz", ignored) == 4 ? 0 : 1;
}

}  // namespace

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

RoutineResult routine_result;

void CALLBACK on_completion(DWORD error, DWORD bytes, LPWSAOVERLAPPED, DWORD) {
  ++routine_result.calls;
  routine_result.error = error;
  routine_result.bytes = bytes;
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

namespace {

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

}  // namespace

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

}  // namespace spi_host
