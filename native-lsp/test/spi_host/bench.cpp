// The SPI host's benchmark (not a test: `teardown_spi_host.exe bench`), and the count of the calls
// a connection makes of the provider below through Teardown (the lower-calls scenario).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "host.h"

namespace spi_host {

namespace {

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

}  // namespace

// What a connection asks of the provider below through Teardown beyond the program's own calls
// (a churn's, through Teardown against the base alone). Where nothing is recorded
// (TEARDOWN_TEST_RECORDED=0: the configuration selects other programs), nothing: Teardown asks
// for no address, no unread count and no TCP state. Where everything is, the connecting end's own
// address at its first event, and at each close before the end of the stream the unread byte
// count and the kernel's TCP state (two ioctls an end); the accepting end takes the listener's
// address, which the program's own getsockname told.
void scenario_lower_calls() {
  const char* recorded_text = std::getenv("TEARDOWN_TEST_RECORDED");
  bool recorded = recorded_text == nullptr || std::strcmp(recorded_text, "0") != 0;
  WSPPROC_TABLE base{};
  HMODULE module = start_base(base);
  if (module == nullptr) return;
  std::vector<double> extra = extra_calls(base, module, 10);
  if (!extra.empty()) {
    const double expected[kCountedCalls] = {recorded ? 1.0 : 0.0, 0.0, recorded ? 4.0 : 0.0, 0.0,
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

// The median of each round's ratio, layer over base: a round's two runs sit side by side in
// time, so what drifts under Wine (the wineserver, the other core's load) cancels in each ratio
// rather than in the medians of two series taken apart.
double paired_ratio(const std::vector<double>& base, const std::vector<double>& layered) {
  std::vector<double> ratios;
  for (size_t i = 0; i < base.size() && i < layered.size(); ++i) {
    ratios.push_back(layered[i] / base[i]);
  }
  return median(ratios);
}

// The base provider alone against Teardown over it, in alternating rounds on the same machine:
// many short rounds, each side first in every other one, so that neither gains from going second.
void scenario_bench() {
  WSPPROC_TABLE base{};
  HMODULE module = start_base(base);
  if (module == nullptr) return;
  constexpr int kRounds = 21;
  std::vector<double> trips[2], overlapped_trips[2], churns[2], completing_trips;
  for (int round = 0; round < kRounds; ++round) {
    for (int turn = 0; turn < 2; ++turn) {
      int through = (turn + round) % 2;
      bypass = through == 0 ? &base : nullptr;
      trips[through].push_back(round_trip_ns(1500));
      overlapped_trips[through].push_back(overlapped_round_trip_ns(700));
      churns[through].push_back(churn_ns(70));
    }
    if (!compatible_mode) completing_trips.push_back(completing_layer_round_trip_ns(base, 700));
  }
  bypass = nullptr;
  double trip_base = median(trips[0]), trip_layer = median(trips[1]);
  double overlapped_base = median(overlapped_trips[0]);
  double overlapped_layer = median(overlapped_trips[1]);
  double churn_base = median(churns[0]), churn_layer = median(churns[1]);
  say("round trip (64 B each way): base %.0f ns, through Teardown %.0f ns, ratio %.3f", trip_base,
      trip_layer, paired_ratio(trips[0], trips[1]));
  say("overlapped round trip: base %.0f ns, through Teardown %.0f ns, ratio %.3f", overlapped_base,
      overlapped_layer, paired_ratio(overlapped_trips[0], overlapped_trips[1]));
  // The breakdown of the overlapped round trip in full mode: what any layer completing requests
  // itself adds, and the rest, which is Teardown's own. (In compatible mode no layer completes
  // them: the provider below does.)
  if (!compatible_mode) {
    double completing = median(completing_trips);
    say("a layer doing nothing but complete requests itself: overlapped round trip %.0f ns, ratio "
        "%.3f; Teardown's own on top: %+.0f ns, %+.1f%% of the base's",
        completing, paired_ratio(overlapped_trips[0], completing_trips),
        overlapped_layer - completing,
        (overlapped_layer - completing) / overlapped_base * 100);
  }
  say("connection churn: base %.0f ns, through Teardown %.0f ns, ratio %.3f", churn_base,
      churn_layer, paired_ratio(churns[0], churns[1]));
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
    say("a lower call under the base provider: getsockname %.0f ns, getpeername %.0f ns, ioctl "
        "(FIONREAD) %.0f ns; Teardown's lower calls: %.0f ns a connection, %.1f%% of the base's",
        cost[0], cost[1], cost[2], lower_ns, lower_ns / churn_base * 100);
  }
  stop_base(base, module);
}

}  // namespace spi_host
