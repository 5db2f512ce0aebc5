// The SPI host's application side, shared by its scenario files: the DLL under test, the calls an
// application makes through it (host.cpp), and the scenarios, one file per family:
// seed_scenarios.cpp, overlapped_scenarios.cpp, extension_scenarios.cpp, lifecycle_scenarios.cpp,
// emulation_scenarios.cpp, and the benchmark (bench.cpp).
#pragma once

#include <string>

#include "stand_in.h"  // the Windows headers

namespace spi_host {

extern int failures;

// The mode Teardown runs in (TEARDOWN_TEST_MODE: "compatible", the default, or "full"): its
// catalog entries carry XP1_IFS_HANDLES, and the application's sockets are the base provider's.
extern bool compatible_mode;

void say(const char* format, ...);
// False (and a FAILED line) when the condition does not hold.
bool check(bool condition, const char* what);

// The directory of this program, where both DLLs are.
std::wstring host_dir();

// The DLL under test, started on the chain entries the scenarios use.
class Layer {
 public:
  // Loads teardown_lsp.dll from beside the host, its catalog imports bound to the host's catalog
  // (built for the mode the host runs in); false with `problem`.
  bool load(std::string& problem);
  // WSPStartup for `chain`, as ws2_32 calls it the first time a process uses that entry.
  int start(DWORD chain);
  // WSPCleanup for every startup, as WSACleanup does; 0 when all succeeded.
  int cleanup();
  // FreeLibrary, as ws2_32 does after the last WSACleanup: the DLL is unloaded.
  void unload();
  const WSPPROC_TABLE& procs() const { return procs_; }

 private:
  HMODULE module_ = nullptr;
  LPWSPSTARTUP startup_ = nullptr;
  WSPPROC_TABLE procs_{};
  int starts_ = 0;
};

extern Layer layer;
// Where the benchmark measures the base provider alone, its table; otherwise null.
extern const WSPPROC_TABLE* bypass;

// The table the application's calls go through: Teardown's, or `bypass`.
const WSPPROC_TABLE& lsp();

sockaddr_storage loopback(int family, u_short port);
int address_length(int family);
SOCKET open_socket(DWORD chain);

struct Pair {
  SOCKET listener = INVALID_SOCKET;
  SOCKET client = INVALID_SOCKET;
  SOCKET server = INVALID_SOCKET;
};

// A connected pair on loopback, both ends through the LSP, the listener on `port` (0: any).
Pair connect_pair(DWORD chain, u_short port = 0);
void announce(const char* role, SOCKET s);
// A connected pair whose ends the observer knows as "client" and "server".
Pair announced_pair(DWORD chain);
// Closes the pair's three sockets, each checked.
void close_pair(const Pair& pair);

int send_text(SOCKET s, const char* text, int& error);
// Bytes received, 0 at the end of the stream, -1 with `error`.
int receive(SOCKET s, char* data, int capacity, int& error);
// Reads until the end of the stream or an error: the total read, and how it ended.
int drain(SOCKET s, int& ended_with);
int close_socket(SOCKET s);
void set_linger(SOCKET s, u_short on, u_short seconds);

// Binds the application's socket `s` to its completion port, as CreateIoCompletionPort does on
// Windows: the socket's own handle in compatible mode, ws2_32's for a handle of the layer's.
void bind_completion_port(SOCKET s, HANDLE port, ULONG_PTR key);

// Whether the provider below was handed `overlapped` itself: in compatible mode the application's
// requests go down with their own OVERLAPPED; in full mode never (Teardown's own instead). A
// check that says which, for the mode the host runs in.
void check_request_went_below(const WSAOVERLAPPED& overlapped, const char* what);

// An overlapped receive into `buffer` on `s`, completed by the event, the port or the routine.
int overlapped_receive(SOCKET s, WSABUF& buffer, WSAOVERLAPPED& overlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr);
// Waits for an event-completed request and reads its result: bytes, or -error.
long event_result(SOCKET s, WSAOVERLAPPED& overlapped);
// Waits on `event` (selected for FD_CLOSE, and FD_READ when `read` is given) until the socket
// is told FD_CLOSE, reading what FD_READ announces: FD_CLOSE's error, or -1 if it never came.
int await_fd_close(SOCKET s, WSAEVENT event, int* read);

// An extension function through the LSP's SIO_GET_EXTENSION_FUNCTION_POINTER, or null.
template <typename Function>
Function extension(SOCKET s, GUID guid) {
  void* function = nullptr;
  DWORD returned = 0;
  int error = 0;
  lsp().lpWSPIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &function,
                   sizeof(function), &returned, nullptr, nullptr, nullptr, &error);
  return reinterpret_cast<Function>(function);
}

// What ws2_32 does for WSASendMsg on Vista and later, through the LSP: the ioctl SIO_EXT_SENDMSG on
// the handle SIO_BSP_HANDLE named, with `control` as the message's control data when given.
// 0, or the error the call reported through the ioctl's output.
int send_message(SOCKET s, WSABUF* buffers, DWORD count, LPDWORD sent, LPWSAOVERLAPPED overlapped,
                 const char* control = nullptr);
// What ws2_32 does for WSAPoll: the ioctl SIO_EXT_POLL with a WSAPOLLDATA of `fds`. WSAPoll's
// result (the count of sockets with revents, or SOCKET_ERROR), each revents put back in `fds`.
int poll_sockets(WSAPOLLFD* fds, ULONG count, INT timeout);

// The room AcceptEx needs for each of its two addresses.
constexpr DWORD kAcceptExAddressSpace = sizeof(sockaddr_in) + 16;

// AcceptEx of `server` on `listener` (reading up to `room` first bytes into `accepted`, which
// holds room + 2 * kAcceptExAddressSpace) while `client` connects with ConnectEx to `address`,
// sending "hello"; both complete with those 5 bytes, then the update-context options are set.
// True when every step held.
bool accept_and_connect(SOCKET listener, sockaddr_storage& address, SOCKET server, SOCKET client,
                        char* accepted, DWORD room);

// Threads of this process, from a snapshot.
int thread_count();

// What completion routines were called with (on_completion records each call).
struct RoutineResult {
  int calls = 0;
  DWORD error = 0;  // the last call's
  DWORD bytes = 0;  // the last call's
  DWORD total_bytes = 0;
};
extern RoutineResult routine_result;
void CALLBACK on_completion(DWORD error, DWORD bytes, LPWSAOVERLAPPED, DWORD);
// Waits alertably, at most five seconds, until `calls` routines have run in all: true if they have.
bool await_routine(int calls);

// The seed's teardowns and the other entry points (seed_scenarios.cpp).
void scenario_blocking();
void scenario_layered_over_another();
void scenario_layered_under_another();
void scenario_ipv6();
void scenario_event_select();
void scenario_async_select();
void scenario_shutdown_each_way();
void scenario_close_linger_nonblocking();
void scenario_event_select_reset();
void scenario_close_dontlinger();
void scenario_close_abortive();
void scenario_unread_endings();
void scenario_connect_refused();
void scenario_close_linger();
void scenario_discon();
void scenario_transaction_totals();
void scenario_disconnect_data_refused();
void scenario_select();
void scenario_entry_points();
void scenario_bad_pointers();

// Overlapped requests and the calls ws2_32 routes by ioctl (overlapped_scenarios.cpp).
void scenario_overlapped_event();
void scenario_overlapped_stale_event();
void scenario_overlapped_shared_event();
void scenario_overlapped_routine();
void scenario_overlapped_routine_failure();
void scenario_routed_calls();
void scenario_overlapped_port();
void scenario_overlapped_unbindable();
void scenario_overlapped_first_race();
void scenario_close_with_pending_io();

// The extension functions (extension_scenarios.cpp).
void scenario_extension_functions();
void scenario_transmit_file();

// Lives of sockets, connections and the DLL (lifecycle_scenarios.cpp).
void scenario_lifecycle();
void scenario_reload();
void scenario_cleanup_with_requests();
void scenario_overlapped_lifecycle();
void scenario_threads();
void scenario_close_while_receiving();

// The calls a connection makes below, and the benchmark (bench.cpp).
void scenario_lower_calls();
void scenario_bench();

// Disconnect-data emulation (emulation_scenarios.cpp), on the port in TEARDOWN_TEST_PORT that the
// observer configured for emulation.
void scenario_emulated_totals();
void scenario_emulated_stream();
void scenario_emulated_unblocking();
void scenario_emulated_routed_calls();
void scenario_emulated_urgent();
void scenario_emulated_overlapped();
void scenario_emulated_plain_peer();
void scenario_emulated_extension_functions();
void scenario_emulation_needs_full();

}  // namespace spi_host
