// Lives of sockets, connections and the DLL itself: nothing may be left behind by thousands of
// them, by threads at once, by a close under a blocked call, or by Winsock's last cleanup with
// work in flight; and the DLL unloads cleanly, again and again.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "host.h"  // the Windows headers, before tlhelp32.h

#include <tlhelp32.h>

namespace spi_host {

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace spi_host
