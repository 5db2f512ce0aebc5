#include "layer.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "../core/platform.h"
#include "../core/winsock_errors.h"
#include "emulated_io.h"
#include "epoll_registry.h"
#include "errors.h"
#include "real_calls.h"

extern "C" {
__thread bool teardown_vfork_pending __attribute__((tls_model("initial-exec"))) = false;
}

namespace teardown::preload {

namespace {

// Never destroyed: sockets may still close while the process runs its exit handlers.
Producer& producer() {
  static Producer* instance = new Producer();
  return *instance;
}

bool is_tcp(int domain, int type) {
  return (domain == AF_INET || domain == AF_INET6) && (type & 0xF) == SOCK_STREAM;
}

td_address address_of(const sockaddr_storage& storage) {
  td_address out{};
  if (storage.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(storage);
    out.family = TD_FAMILY_IPV4;
    out.port = ntohs(v4.sin_port);
    std::memcpy(out.bytes, &v4.sin_addr, 4);
  } else if (storage.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(storage);
    out.family = TD_FAMILY_IPV6;
    out.port = ntohs(v6.sin6_port);
    out.scope_id = v6.sin6_scope_id;
    std::memcpy(out.bytes, &v6.sin6_addr, 16);
  }
  return out;
}

td_address local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return td_address{};
  return address_of(storage);
}

td_address peer_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return td_address{};
  return address_of(storage);
}

bool nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

void emit(td_event_record& event, const void* data = nullptr, size_t length = 0) {
  Policy policy = producer().policy();
  producer().publish(event, policy, data, length);
}

// Forgets every epoll registration of `entry` (its socket is closing, or a new one takes its
// place).
void forget_epoll_registrations(int fd, SocketEntry& entry) {
  for (int i = 0; i < SocketEntry::kEpollSets; ++i) {
    if (entry.epoll_fds[i].load(std::memory_order_relaxed) < 0) continue;  // the usual case
    int epfd = entry.epoll_fds[i].exchange(-1, std::memory_order_acq_rel);
    EpollRegistry* registry = epfd >= 0 ? epoll_registry() : nullptr;  // made by a registration
    if (registry != nullptr) {
      registry->remove(epfd, entry.epoll_data[i].load(std::memory_order_relaxed), fd);
    }
  }
}

// Which open socket `fd` names now; false if it names no socket.
bool identify(int fd, uint64_t& device, uint64_t& inode) {
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return false;
  device = static_cast<uint64_t>(info.st_dev);
  inode = static_cast<uint64_t>(info.st_ino);
  return true;
}

bool ends_a_connection(const SocketEntry& entry);

// The connection is made: a CONNECTED event where the configuration asks for them.
void established(SocketEntry& entry) {
  if (!producer().wants(TD_KIND_CONNECTED)) return;
  td_event_record event;
  entry.teardown.on_established(event);
  emit(event);
}

// A connect under way is made (first seen by any of the ways the program learns it).
void connection_made(SocketEntry& entry) {
  if (entry.connecting.exchange(false, std::memory_order_relaxed)) established(entry);
}

// `entry`'s socket was closed where the layer could not see it (a raw close system call, a close
// through io_uring): its descriptor now names something else. The connection it held ended then,
// at the latest now: recorded as such, with what the layer knew of it.
void record_unseen_close(SocketEntry& entry) {
  if (!ends_a_connection(entry)) return;
  ClosePlan plan = entry.teardown.plan_close(false);
  plan.extra_flags = static_cast<uint16_t>(entry.flags.load(std::memory_order_relaxed) |
                                           TD_FLAG_UNSEEN_CLOSE);
  td_event_record event;
  entry.teardown.on_close(plan, 0, true, platform::wall_clock_ns(), event);
  emit(event);
}

// The entry for `fd`, a descriptor just made a new socket; one still live there names a socket
// closed behind libc's back, whose close is recorded first.
SocketEntry* prepare_new(int fd) {
  bool was_live = false;
  SocketEntry* entry = sockets().prepare(fd, &was_live);
  if (entry != nullptr && was_live) record_unseen_close(*entry);
  return entry;
}

// Starts tracking `fd`, a TCP socket, with what is known of it now.
SocketEntry* track(int fd, int type_flags, uint64_t created_ns) {
  SocketEntry* entry = prepare_new(fd);
  if (entry == nullptr) return nullptr;
  entry->device = 0;
  entry->inode = 0;  // learned when the layer first may act on the socket (remember_identity)
  entry->connecting.store(false, std::memory_order_relaxed);
  forget_epoll_registrations(fd, *entry);
  entry->teardown.reset(SocketIdentity{static_cast<uint64_t>(fd), IPPROTO_TCP, SOCK_STREAM, false},
                        created_ns);
  entry->teardown.set_nonblocking((type_flags & SOCK_NONBLOCK) != 0);
  entry->flags.store(0, std::memory_order_relaxed);
  entry->listening.store(false, std::memory_order_relaxed);
  // A descriptor closed behind libc's back may have left its connection here: not ours any more.
  entry->emulation.store(nullptr, std::memory_order_relaxed);
  entry->sniffing.store(false, std::memory_order_relaxed);
  sockets().publish(entry);
  return entry;
}

// Remembers which socket `fd` names, once the layer may act on it (emulation, the sniffer's
// reset, a linger the policy may change): the program's own call on it just now shows it is its
// socket. Plain recording never acts, so costs no system call for it.
void remember_identity(int fd, SocketEntry& entry) {
  if (entry.inode != 0) return;
  uint64_t device = 0, inode = 0;
  if (!identify(fd, device, inode)) return;
  entry.device = device;
  entry.inode = inode;
}

// A connection is established with these endpoints: its disconnect data is emulated when the
// configuration lists either port; otherwise its first bytes are watched for a peer that frames.
void start_connection(int fd, SocketEntry& entry, const td_address& local,
                      const td_address& remote) {
  entry.teardown.set_endpoints(local, remote);
  Policy policy = producer().policy();
  if (policy.emulates(local.port, remote.port)) {
    EmulatedConnection* connection = acquire_connection();
    if (connection != nullptr) {
      remember_identity(fd, entry);
      // Urgent data read in line: set on the socket already (or inherited from its listener).
      int inline_urgent = 0;
      socklen_t length = sizeof(inline_urgent);
      if (real().getsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &inline_urgent, &length) == 0) {
        connection->urgent_inline.store(inline_urgent != 0, std::memory_order_relaxed);
      }
      entry.emulation.store(connection, std::memory_order_release);
      return;
    }
  }
  if (!policy.watches_for_framing()) return;
  remember_identity(fd, entry);
  entry.sniffer = HelloSniffer{};
  entry.sniffing.store(true, std::memory_order_release);
}

// Whether `fd` still names the socket `entry` tracked, asked before the layer acts on it. A
// descriptor closed behind libc's back (a raw close, fclose of an fdopen'ed socket, closefrom)
// and reused names something else: its entry is dropped, and the program's calls on it go to
// libc unchanged. An entry the layer never acts on has no identity to compare: it is kept.
bool still_tracked(int fd, SocketEntry& entry) {
  if (entry.inode == 0) return true;
  uint64_t device = 0, inode = 0;
  if (identify(fd, device, inode) && device == entry.device && inode == entry.inode) return true;
  sockets().remove(&entry);
  release_connection(entry.emulation.exchange(nullptr, std::memory_order_acq_rel));
  forget_epoll_registrations(fd, entry);
  return false;
}

SocketEntry* track_connected(int fd, int type_flags, uint32_t flags, const td_address& peer) {
  SocketEntry* entry = track(fd, type_flags, platform::wall_clock_ns());
  if (entry == nullptr) return nullptr;
  entry->teardown.set_endpoints(local_address(fd), peer);
  entry->flags.store(flags, std::memory_order_relaxed);
  return entry;
}

// Descriptors inherited through exec that are TCP sockets: tracked from here on, as shared (the
// parent may hold them too). Their age is unknown; their lifetime counts from now.
void adopt_inherited_sockets() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  int own = dirfd(dir);
  while (dirent* item = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(item->d_name, &end, 10);
    if (end == item->d_name || *end != '\0' || fd == own) continue;
    struct stat info {};
    if (fstat(static_cast<int>(fd), &info) != 0 || !S_ISSOCK(info.st_mode)) continue;
    int type = 0;
    socklen_t length = sizeof(type);
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &length) != 0) continue;
    sockaddr_storage storage{};
    socklen_t address_length = sizeof(storage);
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&storage), &address_length) != 0) {
      continue;
    }
    if (!is_tcp(storage.ss_family, type)) continue;
    int accepting = 0;
    length = sizeof(accepting);
    getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length);
    SocketEntry* entry =
        track_connected(static_cast<int>(fd), nonblocking(static_cast<int>(fd)) ? SOCK_NONBLOCK : 0,
                        TD_FLAG_SHARED, peer_address(static_cast<int>(fd)));
    if (entry != nullptr) entry->listening.store(accepting != 0, std::memory_order_relaxed);
  }
  closedir(dir);
}

// A listener, or a socket that never connected (a probe, a failed bind): no connection ends
// with it. The peer comes from connect and accept themselves, so an unknown one means none.
bool ends_a_connection(const SocketEntry& entry) {
  return !entry.listening.load(std::memory_order_relaxed) &&
         entry.teardown.remote().family != TD_FAMILY_NONE;
}

void mark_all_shared() {
  sockets().for_each([](int, SocketEntry& entry) {
    entry.flags.fetch_or(TD_FLAG_SHARED, std::memory_order_relaxed);
  });
}

std::atomic<pid_t> owner_pid{0};

// fork copies the memory of every thread but runs only the caller: a lock another thread held
// would stay held in the child for ever. The layer's only locks are the emulated connections'
// (held briefly, never while waiting): they are all taken before fork and let go after.
void before_fork() {
  lock_all_connections();
}

void after_fork_in_parent() {
  unlock_all_connections();
  mark_all_shared();
}

void after_fork_in_child() {
  unlock_all_connections();
  owner_pid.store(getpid(), std::memory_order_relaxed);
  producer().after_fork();
  mark_all_shared();
}

// Whether TCP_INFO of `length` bytes holds `field` (older kernels tell less).
#define TD_HOLDS(length, field) \
  ((length) >= offsetof(tcp_info, field) + sizeof(static_cast<tcp_info*>(nullptr)->field))

template <typename T>
T saturated(uint64_t value, T unknown) {
  return value < unknown ? static_cast<T>(value) : static_cast<T>(unknown - 1);
}

// What TCP_INFO tells of the connection, as the event model has it; `unread` < 0: not known.
// Linux counts sequence space: the SYN of a connect among the bytes acked, a peer's FIN among
// those received, this end's FIN among those acked once it is. The event model counts payload.
td_kernel_view kernel_view_of(const tcp_info& info, socklen_t length, int unread,
                              const SocketEntry& entry) {
  constexpr uint8_t kFinWait2 = 5, kTimeWait = 6, kClose = 7, kCloseWait = 8, kLastAck = 9,
                    kClosing = 11;
  td_kernel_view view = unknown_kernel_view();
  if (TD_HOLDS(length, tcpi_bytes_received)) {
    uint64_t acked = info.tcpi_bytes_acked;
    uint64_t received = info.tcpi_bytes_received;
    uint8_t state = info.tcpi_state;
    if (!entry.teardown.identity().accepted && acked > 0) --acked;  // its SYN
    if ((state == kFinWait2 || state == kTimeWait) && acked > 0) --acked;  // its FIN, acked
    bool peer_fin = state == kCloseWait || state == kLastAck || state == kClosing ||
                    state == kTimeWait || entry.teardown.saw_end_of_stream();
    // Gone (reset) after a FIN the program never read: one more than it read and left unread.
    if (state == kClose && !peer_fin) {
      uint64_t accounted = entry.teardown.bytes_received() + (unread > 0 ? unread : 0);
      peer_fin = received == accounted + 1;
    }
    if (peer_fin && received > 0) --received;
    view.bytes_acked = acked;
    view.bytes_received = received;
  }
  if (TD_HOLDS(length, tcpi_notsent_bytes)) view.unsent_bytes = info.tcpi_notsent_bytes;
  if (unread >= 0) view.unread_bytes = static_cast<uint32_t>(unread);
  view.rtt_us = info.tcpi_rtt;
  view.retransmits = saturated<uint16_t>(info.tcpi_total_retrans, 0xFFFF);
  view.timeouts = saturated<uint8_t>(info.tcpi_retransmits, 0xFF);
  view.probes = saturated<uint8_t>(info.tcpi_probes, 0xFF);
  return view;
}

// The kernel's view of the connection: its TCP state for the summary (what the program may never
// have read: the peer's FIN, a reset) and its counts, into `view`. TCP_INFO reads without
// consuming anything: the socket's pending error stays the program's. A connection was made unless
// a connect is still in progress and the kernel had only the peer's answer to it (a refusal is one
// segment in; a connection made had its SYN-ACK).
bool read_kernel(int fd, SocketEntry& entry, int unread, td_kernel_view& view) {
  // Not zeroed (a close's path): only fields within the length the kernel filled are read.
  tcp_info info;
  socklen_t length = sizeof(info);
  if (real().getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
      !TD_HOLDS(length, tcpi_segs_in)) {
    return false;
  }
  bool made = !entry.connecting.load(std::memory_order_relaxed) || info.tcpi_segs_in >= 2;
  entry.teardown.on_kernel_state(static_cast<td_tcp_state>(info.tcpi_state), made);
  view = kernel_view_of(info, length, unread, entry);
  return true;
}

// Received bytes the program has not read (FIONREAD), or -1. After the end of the stream nothing
// can be left, and the question needs no system call.
int unread_bytes(int fd, const SocketEntry& entry) {
  if (entry.teardown.saw_end_of_stream()) return 0;
  int unread = 0;
  return ioctl(fd, FIONREAD, &unread) == 0 ? unread : -1;
}

// A receive or send failed and its event is about to go: what the kernel tells now goes with it.
void attach_kernel_now(int fd, SocketEntry& entry, td_event_record& event) {
  td_kernel_view view;
  if (read_kernel(fd, entry, -1, view)) attach_kernel_view(view, event);
}

}  // namespace

SocketTable& sockets() noexcept {
  static SocketTable* table = new SocketTable();
  return *table;
}

bool vfork_child_now() noexcept {
  if (getpid() != owner_pid.load(std::memory_order_relaxed))
    return true;                   // the child: stays marked
  teardown_vfork_pending = false;  // the parent, back from vfork
  return false;
}

void initialize() noexcept {
  try {
    owner_pid.store(getpid(), std::memory_order_relaxed);
    real();
    // Attach now, while the program has one thread: a first attach raced by two threads would
    // leave the loser passing its event through.
    producer().policy();
    sockets();
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    adopt_inherited_sockets();
  } catch (...) {
  }
}

void on_socket_created(int fd, int domain, int type) noexcept {
  if (!is_tcp(domain, type)) return;
  try {
    track(fd, type, platform::wall_clock_ns());
  } catch (...) {
  }
}

void on_connected(int fd, const sockaddr* remote, socklen_t length, bool in_progress,
                  uint64_t started) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || remote == nullptr) return;
  // A connect repeated to learn how the first one went starts nothing new.
  if (entry->teardown.remote().family != TD_FAMILY_NONE) {
    if (!in_progress) connection_made(*entry);  // 0 (after EINTR): it went through
    return;
  }
  sockaddr_storage storage{};
  std::memcpy(&storage, remote, length < sizeof(storage) ? length : sizeof(storage));
  if (storage.ss_family != AF_INET && storage.ss_family != AF_INET6) return;
  entry->connecting.store(in_progress, std::memory_order_relaxed);
  entry->teardown.on_connect_started(started);
  start_connection(fd, *entry, local_address(fd), address_of(storage));
  if (!in_progress) established(*entry);
}

// The connect under way on `entry` made no connection (`error`, an errno; `os_error` what the
// program saw, 0 when the layer concluded it from the kernel's state): recorded as CONNECT_FAILED
// with the address tried, then forgotten, so that the socket's close ends no connection.
static void connect_failed(SocketEntry& entry, int error, uint8_t seen) {
  entry.connecting.store(false, std::memory_order_relaxed);
  td_event_record event;
  entry.teardown.on_connect_failed(winsock_error(error), platform::wall_clock_ns(), event);
  event.os_error = seen;
  entry.teardown.set_endpoints(entry.teardown.local(), td_address{});
  entry.sniffing.store(false, std::memory_order_relaxed);
  release_connection(entry.emulation.exchange(nullptr, std::memory_order_acq_rel));
  emit(event);
}

void on_connect_outcome(int fd, int pending_error) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || !entry->connecting.load(std::memory_order_relaxed)) return;
  if (pending_error == 0) {
    // SO_ERROR says 0 while the connect is still under way, too: the kernel tells which.
    constexpr uint8_t kSynSent = 2;
    tcp_info info;  // its state, the first field, is all that is read
    socklen_t length = sizeof(info);
    if (real().getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) == 0 &&
        info.tcpi_state == kSynSent) {
      return;
    }
    connection_made(*entry);
    return;
  }
  connect_failed(*entry, pending_error, os_error(pending_error));
}

void on_connect_error(int fd, const sockaddr* remote, socklen_t length, int error,
                      uint64_t started) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr) return;
  if (entry->connecting.load(std::memory_order_relaxed)) {
    on_connect_outcome(fd, error);  // a repeated connect telling how the first one went
    return;
  }
  // A blocking connect that made no connection: only an attempt on the network is recorded (not
  // a bad address, a socket already connected, ...).
  if (!wsa::is_connect_failure(winsock_error(error)) || remote == nullptr ||
      entry->teardown.remote().family != TD_FAMILY_NONE) {
    return;
  }
  sockaddr_storage storage{};
  std::memcpy(&storage, remote, length < sizeof(storage) ? length : sizeof(storage));
  if (storage.ss_family != AF_INET && storage.ss_family != AF_INET6) return;
  entry->teardown.set_endpoints(local_address(fd), address_of(storage));
  entry->teardown.on_connect_started(started);
  connect_failed(*entry, error, os_error(error));
}

void on_listening(int fd) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr) return;
  entry->teardown.set_endpoints(local_address(fd), td_address{});
  entry->listening.store(true, std::memory_order_relaxed);
}

void on_accepted(int listener, int fd, int accept_flags, const sockaddr* peer,
                 socklen_t length) noexcept {
  // Only stream sockets accept; the peer's family tells TCP from local sockets.
  sockaddr_storage storage{};
  if (peer != nullptr) std::memcpy(&storage, peer, length < sizeof(storage) ? length : sizeof(storage));
  if (storage.ss_family != AF_INET && storage.ss_family != AF_INET6) return;
  // A listener bound to one address gives its connections that local address: no system call.
  SocketEntry* listening = sockets().find(listener);
  td_address local = listening != nullptr && is_specific(listening->teardown.local())
                         ? listening->teardown.local()
                         : local_address(fd);
  SocketEntry* entry = track(fd, accept_flags, platform::wall_clock_ns());  // O_NONBLOCK: not inherited
  if (entry == nullptr) return;
  entry->teardown.set_accepted();
  start_connection(fd, *entry, local, address_of(storage));
  established(*entry);
}

void on_blocking_set(int fd, bool nonblocking_now) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry != nullptr) entry->teardown.set_nonblocking(nonblocking_now);
}

void on_duplicated(int old_fd, int new_fd) noexcept {
  SocketEntry* original = sockets().find(old_fd);
  if (original == nullptr || old_fd == new_fd) return;
  SocketEntry* copy = prepare_new(new_fd);
  if (copy == nullptr) return;
  copy->teardown.copy_from(original->teardown);
  copy->teardown.reset_socket_id(static_cast<uint64_t>(new_fd));
  copy->device = original->device;
  copy->inode = original->inode;
  copy->connecting.store(original->connecting.load(std::memory_order_relaxed),
                         std::memory_order_relaxed);
  copy->listening.store(original->listening.load(std::memory_order_relaxed),
                        std::memory_order_relaxed);
  original->flags.fetch_or(TD_FLAG_SHARED, std::memory_order_relaxed);
  copy->flags.store(TD_FLAG_SHARED, std::memory_order_relaxed);
  EmulatedConnection* connection = original->emulation.load(std::memory_order_acquire);
  if (connection != nullptr) share_connection(connection);
  copy->emulation.store(connection, std::memory_order_release);
  copy->sniffing.store(false, std::memory_order_relaxed);
  sockets().publish(copy);
}

void on_linger_set(int fd, const void* value, socklen_t length) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || value == nullptr || length < static_cast<socklen_t>(sizeof(linger))) return;
  remember_identity(fd, *entry);  // the abortive-to-graceful policy may change it at close
  linger option{};
  std::memcpy(&option, value, sizeof(option));
  int seconds = option.l_linger < 0 ? 0 : option.l_linger > 65535 ? 65535 : option.l_linger;
  entry->teardown.set_linger(option.l_onoff != 0, static_cast<uint16_t>(seconds));
}

void on_urgent_inline_set(int fd, const void* value, socklen_t length) noexcept {
  EmulatedConnection* connection = emulation_of(fd);
  if (connection == nullptr || value == nullptr || length < static_cast<socklen_t>(sizeof(int))) {
    return;
  }
  int on = 0;
  std::memcpy(&on, value, sizeof(on));
  connection->urgent_inline.store(on != 0, std::memory_order_relaxed);
}

uint64_t call_started(int fd) noexcept {
  return sockets().find(fd) != nullptr ? platform::wall_clock_ns() : 0;
}

void on_shutdown(int fd, int how, int result, int error, uint64_t started) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || how < SHUT_RD || how > SHUT_RDWR) return;
  if (entry->listening.load(std::memory_order_relaxed)) return;  // wakes accept, ends nothing
  td_event_record event;
  entry->teardown.on_shutdown(how, result == 0 ? 0 : winsock_error(error), event);
  if (result != 0) event.os_error = os_error(error);
  event.time_ns = started;
  emit(event);
}

bool counted_send(int fd, ssize_t result) noexcept {
  if (result <= 0) return false;
  SocketEntry* entry = sockets().find(fd);
  if (entry != nullptr) entry->teardown.count_sent(static_cast<uint64_t>(result));
  return true;
}

bool counted_receive(int fd, ssize_t result, int flags) noexcept {
  if (result <= 0 || (flags & (MSG_OOB | MSG_ERRQUEUE)) != 0) return false;
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr) return true;
  // A connection whose first bytes are watched for a framing peer goes the long way.
  if (entry->sniffing.load(std::memory_order_acquire)) return false;
  if (entry->connecting.load(std::memory_order_relaxed)) connection_made(*entry);
  entry->teardown.count_received(static_cast<uint64_t>(result));
  return true;
}

// A receive or send that failed because a connect under way failed: true when that was recorded.
static bool connect_failed_now(SocketEntry& entry, ssize_t result, int error) {
  if (result >= 0 || !entry.connecting.load(std::memory_order_relaxed) ||
      !wsa::is_connect_failure(winsock_error(error))) {
    return false;
  }
  connect_failed(entry, error, os_error(error));
  return true;
}

// Publishes a receive's or send's failure that ended the connection, with what the kernel tells
// of it now (asked only when the event is recorded: a failure is rare, the read is one call).
static void emit_failure(int fd, SocketEntry& entry, td_event_record& event, int error) {
  event.os_error = os_error(error);
  Policy policy = producer().policy();
  if (!policy.records(event)) return;
  attach_kernel_now(fd, entry, event);
  producer().publish(event, policy);
}

void on_sent(int fd, ssize_t result, int error) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || connect_failed_now(*entry, result, error)) return;
  int32_t code = result >= 0 ? 0 : winsock_error(error);
  // EPIPE without a local shutdown: the peer reset the connection and a send already said so.
  if (result < 0 && error == EPIPE && !entry->teardown.send_shut()) code = wsa::kConnectionReset;
  td_event_record event;
  if (entry->teardown.on_send(result, code, event)) emit_failure(fd, *entry, event, error);
}

// A connection not emulated here: its first bytes are watched for a peer that frames them. True
// when they are its HELLO: the connection is reset and why recorded. Only bytes that landed in
// the program's buffers are looked at.
static bool framed_unexpectedly(int fd, SocketEntry& entry, const iovec* buffers, int count,
                                size_t received) {
  Span spans[kMaxSpans];
  size_t used = 0;
  for (int i = 0; i < count && used < kMaxSpans; ++i) {
    spans[used++] = Span{static_cast<uint8_t*>(buffers[i].iov_base), buffers[i].iov_len};
  }
  HelloSniffer::Verdict verdict = sniff(entry.sniffer, spans, used, received);
  if (verdict == HelloSniffer::Verdict::kUndecided) return false;
  entry.sniffing.store(false, std::memory_order_release);
  if (verdict == HelloSniffer::Verdict::kNotHello || !still_tracked(fd, entry)) return false;
  reset_connection(fd);
  on_framing_failure(fd, FrameError::kUnexpected);
  return true;
}

bool on_received(int fd, const iovec* buffers, int count, ssize_t result, int error,
                 int flags) noexcept {
  // Urgent data and the error queue are outside the stream: they say nothing of its end.
  if ((flags & (MSG_OOB | MSG_ERRQUEUE)) != 0) return false;
  SocketEntry* entry = sockets().find(fd);
  size_t requested = 0;
  for (int i = 0; buffers != nullptr && i < count; ++i) requested += buffers[i].iov_len;
  if (entry == nullptr || (result == 0 && requested == 0)) return false;  // a 0-byte read is no EOF
  if (result > 0 && entry->connecting.load(std::memory_order_relaxed)) connection_made(*entry);
  if (result > 0 && entry->sniffing.load(std::memory_order_acquire)) {
    if ((flags & MSG_TRUNC) != 0) {
      // Discarded, never in the program's buffers (which may be null): nothing to look at.
      entry->sniffing.store(false, std::memory_order_release);
    } else {
      size_t landed =
          static_cast<size_t>(result) < requested ? static_cast<size_t>(result) : requested;
      if (framed_unexpectedly(fd, *entry, buffers, count, landed)) return true;
    }
  }
  if (connect_failed_now(*entry, result, error)) return false;
  td_event_record event;
  if (entry->teardown.on_receive(result, result >= 0 ? 0 : winsock_error(error), event)) {
    if (result < 0) {
      emit_failure(fd, *entry, event, error);
    } else {
      emit(event);
    }
  }
  return false;
}

void on_readiness(int fd, bool writable, bool error_flagged, bool hung_up) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || entry->teardown.remote().family == TD_FAMILY_NONE) return;
  if (entry->connecting.load(std::memory_order_relaxed)) {
    // Writable with no error: the non-blocking connect is made.
    if (writable && !error_flagged && !hung_up) connection_made(*entry);
    if (!error_flagged && !hung_up) return;
  }
  // Only a connection can be hung up by its peer; this side's own SHUT_RD also raises it.
  if (!(error_flagged || hung_up) || entry->teardown.receive_shut() ||
      entry->teardown.fd_close_seen()) {
    return;
  }
  // The socket's pending error belongs to the program (SO_ERROR, its next call): it is never
  // read here. TCP_INFO tells, without consuming anything, whether a connection was made and
  // how it ended.
  constexpr uint8_t kSynSent = 2, kClose = 7;  // the kernel's TCP states (net/tcp_states.h)
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (real().getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return;
  if (!hung_up && info.tcpi_state != kClose) return;  // an error the connection outlives
  if (entry->connecting.load(std::memory_order_relaxed)) {
    if (info.tcpi_state == kSynSent) return;
    // No connection made: a connection that was made got the peer's SYN-ACK first (two segments
    // in by now). The peer's reset alone (one segment) refused it; with nothing in (unanswered,
    // or unreachable by ICMP), the program's own reading of its error tells which.
    if (info.tcpi_state == kClose && info.tcpi_segs_in < 2) {
      if (info.tcpi_segs_in == 1) connect_failed(*entry, ECONNREFUSED, os_error(ECONNREFUSED));
      return;
    }
    connection_made(*entry);  // made, then hung up before the program learned it
  }
  int32_t code = 0;
  if (error_flagged && info.tcpi_state == kClose) {
    // Reset by the peer, or given up after retransmitting in vain (Winsock's FD_CLOSE says
    // WSAECONNABORTED for that).
    code = info.tcpi_retransmits > 0 ? wsa::kConnectionAborted : wsa::kConnectionReset;
  }
  td_event_record event;
  if (entry->teardown.on_fd_close(code, event)) emit(event);
}


// What a close of `entry` will be, worked out before libc closes it (policy, unread data, the
// abortive-to-graceful conversion). Async-signal-safe: no lock, no allocation, no attaching.
static void plan_close(int fd, SocketEntry& entry, PendingClose& pending) {
  if (!ends_a_connection(entry)) return;
  pending.policy = producer().policy_if_attached();
  SocketTeardown& teardown = entry.teardown;
  // Received data left unread makes the stack reset the connection.
  int unread = pending.policy.active ? unread_bytes(fd, entry) : -1;
  td_kernel_view view;
  bool viewed = pending.policy.active && read_kernel(fd, entry, unread, view);
  ClosePlan plan = teardown.plan_close(pending.policy.abortive_to_graceful, unread > 0);
  plan.extra_flags = static_cast<uint16_t>(entry.flags.load(std::memory_order_relaxed));
  if (plan.converted) {
    linger graceful{0, 0};
    real().setsockopt(fd, SOL_SOCKET, SO_LINGER, &graceful, sizeof(graceful));
  }
  uint64_t now = platform::wall_clock_ns();
  teardown.on_close(plan, 0, true, now, pending.event);
  if (viewed) attach_kernel_view(view, pending.event);
  pending.event.time_ns = now;  // the close begins now; it is published once libc returns
  pending.recorded = true;
}

void before_close(int fd, PendingClose& pending) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || !still_tracked(fd, *entry)) return;
  sockets().remove(entry);
  release_connection(entry->emulation.exchange(nullptr, std::memory_order_acq_rel));
  forget_epoll_registrations(fd, *entry);
  plan_close(fd, *entry, pending);
}

void before_replace(int fd, PendingClose& pending) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr || !still_tracked(fd, *entry)) return;
  pending.entry = entry;
  plan_close(fd, *entry, pending);
}

void after_replace(PendingClose& pending, int result, int error) noexcept {
  if (pending.entry == nullptr) return;
  if (result < 0) return;  // the target was not closed: it lives on, tracked as it was
  sockets().remove(pending.entry);
  release_connection(pending.entry->emulation.exchange(nullptr, std::memory_order_acq_rel));
  forget_epoll_registrations(result, *pending.entry);  // dup2 returns the target
  after_close(pending, 0, error);
}

void after_close(PendingClose& pending, int result, int error) noexcept {
  if (!pending.recorded) return;
  // Linux releases the descriptor even when close reports an error (EINTR, EIO).
  if (result != 0) {
    pending.event.error = winsock_error(error);
    pending.event.os_error = os_error(error);
  }
  producer().publish(pending.event, pending.policy);
}

int send_disconnect(int fd, const void* data, size_t length) noexcept {
  uint64_t started = platform::wall_clock_ns();
  SocketEntry* entry = sockets().find(fd);
  EmulatedConnection* connection =
      entry != nullptr ? entry->emulation.load(std::memory_order_acquire) : nullptr;
  bool with_data = data != nullptr && length > 0;
  int result = -1;
  int error = ENOPROTOOPT;  // TCP carries no disconnect data (as Windows' TCP provider)
  if (connection != nullptr) {
    result = emulated_send_disconnect(fd, *connection, data, length, error);
  } else if (!with_data) {
    result = real().shutdown(fd, SHUT_WR);
    error = result == 0 ? 0 : errno;
  }
  if (entry != nullptr) {
    td_event_record event;
    entry->teardown.on_send_disconnect(static_cast<uint32_t>(length), winsock_error(error), event);
    event.time_ns = started;
    emit(event, data, length);
  }
  errno = error;
  return result;
}

ssize_t recv_disconnect(int fd, void* buffer, size_t capacity) noexcept {
  uint64_t started = platform::wall_clock_ns();
  SocketEntry* entry = sockets().find(fd);
  EmulatedConnection* connection =
      entry != nullptr ? entry->emulation.load(std::memory_order_acquire) : nullptr;
  bool wants_data = buffer != nullptr && capacity > 0;
  ssize_t result = -1;
  int error = ENOPROTOOPT;
  if (connection != nullptr) {
    result = emulated_recv_disconnect(fd, *connection, buffer, capacity, error);
  } else if (!wants_data) {
    result = real().shutdown(fd, SHUT_RD);
    error = result == 0 ? 0 : errno;
  }
  if (entry != nullptr) {
    td_event_record event;
    // Too small a buffer is Winsock's WSAEFAULT (the Linux call says EMSGSIZE).
    int32_t code = error == EMSGSIZE ? wsa::kFault : winsock_error(error);
    uint32_t received = result > 0 ? static_cast<uint32_t>(result) : 0;
    entry->teardown.on_recv_disconnect(received, code, event);
    event.time_ns = started;
    emit(event, buffer, received);
  }
  errno = error;
  return result;
}


void on_framing_failure(int fd, FrameError why) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr) return;
  td_event_record event;
  if (entry->teardown.on_framing_failure(static_cast<uint8_t>(why), event)) emit(event);
}

void reset_connection(int fd) noexcept {
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  real().connect(fd, &unspecified, sizeof(unspecified));
}

EmulatedConnection* emulated_entry(int fd) noexcept {
  SocketEntry* entry = sockets().find(fd);
  EmulatedConnection* connection =
      entry != nullptr ? entry->emulation.load(std::memory_order_acquire) : nullptr;
  return connection;
}

bool known_blocking(int fd) noexcept {
  SocketEntry* entry = sockets().find(fd);
  return entry != nullptr && !entry->teardown.nonblocking();
}

bool forget_if_stale(int fd) noexcept {
  SocketEntry* entry = sockets().find(fd);
  if (entry == nullptr) return true;
  int saved = errno;
  bool same = still_tracked(fd, *entry);
  errno = saved;
  return !same;
}

void on_user_changed() noexcept {
  try {
    producer().user_changed();
  } catch (...) {
  }
}

void on_exit() noexcept {
  try {
    Policy policy = producer().policy();
    uint64_t now = platform::wall_clock_ns();
    sockets().for_each([&](int fd, SocketEntry& entry) {
      sockets().remove(&entry);
      if (!ends_a_connection(entry)) return;
      // Closed behind libc's back and never reused: its descriptor names no socket, or another.
      uint64_t device = 0, inode = 0;
      if (!identify(fd, device, inode) ||
          (entry.inode != 0 && (device != entry.device || inode != entry.inode))) {
        record_unseen_close(entry);
        return;
      }
      int unread = policy.active ? unread_bytes(fd, entry) : -1;
      td_kernel_view view;
      bool viewed = policy.active && read_kernel(fd, entry, unread, view);
      ClosePlan plan = entry.teardown.plan_close(false, unread > 0);
      plan.extra_flags = static_cast<uint16_t>(entry.flags.load(std::memory_order_relaxed) |
                                               TD_FLAG_AT_EXIT);
      td_event_record event;
      entry.teardown.on_close(plan, 0, true, now, event);
      if (viewed) attach_kernel_view(view, event);
      producer().publish(event, policy);
    });
  } catch (...) {
  }
}

void on_epoll_registered(int epfd, int op, int fd, const epoll_event* event) noexcept {
  SocketEntry* entry = sockets().find(fd);
  EpollRegistry* registry = entry != nullptr ? epoll_registry() : nullptr;
  if (registry == nullptr) return;
  // The registration this socket had on `epfd` is replaced (MOD) or gone (DEL).
  for (int i = 0; i < SocketEntry::kEpollSets; ++i) {
    if (entry->epoll_fds[i].load(std::memory_order_acquire) != epfd) continue;
    registry->remove(epfd, entry->epoll_data[i].load(std::memory_order_relaxed), fd);
    entry->epoll_fds[i].store(-1, std::memory_order_release);
  }
  if ((op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD) || event == nullptr) return;
  for (int i = 0; i < SocketEntry::kEpollSets; ++i) {
    int unused = -1;
    if (!entry->epoll_fds[i].compare_exchange_strong(unused, epfd, std::memory_order_acq_rel))
      continue;
    entry->epoll_data[i].store(event->data.u64, std::memory_order_relaxed);
    registry->add(epfd, event->data.u64, fd);
    return;
  }
}

int epoll_descriptor(int epfd, uint64_t data) noexcept {
  EpollRegistry* registry = epoll_registry();
  return registry != nullptr ? registry->find(epfd, data) : -1;
}

}  // namespace teardown::preload
