// What the preload layer does around each libc call: the calls are in interpose.cpp, the
// decisions and events here. Every function is noexcept and never changes errno or a result.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "../core/framing.h"
#include "../core/producer.h"
#include "socket_table.h"
#include "teardown/teardown.h"

// See in_vfork_child() below.
extern "C" __thread bool teardown_vfork_pending __attribute__((tls_model("initial-exec")));

namespace teardown::preload {

// Once, when the library is loaded: libc's functions, fork handlers, and the TCP sockets this
// process inherited (through exec) adopted into the table.
void initialize() noexcept;

// teardown_vfork_pending is set (in the calling thread) just before that thread calls vfork. A
// vfork child shares the parent's memory and runs on the parent's thread: while the mark is there,
// a call first asks whether it is the child, which must change nothing of the parent's and record
// nothing in its name. The parent, back from vfork, clears the mark at its next call.
bool vfork_child_now() noexcept;
inline bool in_vfork_child() noexcept {
  return teardown_vfork_pending && vfork_child_now();
}

void on_socket_created(int fd, int domain, int type) noexcept;
// connect returned 0 or, with `in_progress`, EINPROGRESS (or EINTR: it goes on). `started`:
// from call_started.
void on_connected(int fd, const sockaddr* remote, socklen_t length, bool in_progress,
                  uint64_t started) noexcept;
// connect itself failed with `error` (an errno): a blocking attempt that made no connection, or
// a repeated connect telling how a non-blocking one went.
void on_connect_error(int fd, const sockaddr* remote, socklen_t length, int error,
                      uint64_t started) noexcept;
// How a non-blocking connect went, as the program learned it (SO_ERROR, a repeated connect, a
// receive or send): 0, or the errno that means no connection was made (recorded as
// CONNECT_FAILED).
void on_connect_outcome(int fd, int pending_error) noexcept;
void on_listening(int fd) noexcept;
// `peer` is what accept returned: the connection may already be reset, so it cannot be asked.
void on_accepted(int listener, int fd, int accept_flags, const sockaddr* peer, socklen_t length) noexcept;
// O_NONBLOCK set or cleared with fcntl(F_SETFL) or ioctl(FIONBIO).
void on_blocking_set(int fd, bool nonblocking_now) noexcept;
void on_duplicated(int old_fd, int new_fd) noexcept;
void on_linger_set(int fd, const void* value, socklen_t length) noexcept;
// SO_OOBINLINE set or cleared on an emulated connection: the peer's urgent byte is read in line.
void on_urgent_inline_set(int fd, const void* value, socklen_t length) noexcept;
// `started`: the wall clock when the call began (0 if the descriptor is not tracked).
uint64_t call_started(int fd) noexcept;
void on_shutdown(int fd, int how, int result, int error, uint64_t started) noexcept;
void on_sent(int fd, ssize_t result, int error) noexcept;
// The usual send and receive, which moved bytes: counted, and true, when that is all there is to
// do (no event can follow from them); false when on_sent or on_received must see the call. Never
// changes errno.
bool counted_send(int fd, ssize_t result) noexcept;
bool counted_receive(int fd, ssize_t result, int flags) noexcept;
// A consuming receive into `buffers` with `flags` returned `result` (errno `error`). True when the
// bytes were a framing peer's HELLO on a connection not emulated here: the layer has reset the
// connection and recorded why, and the program's call must fail with ECONNABORTED instead.
bool on_received(int fd, const iovec* buffers, int count, ssize_t result, int error,
                 int flags) noexcept;
// An emulated connection's stream was malformed: a RESET with TD_FLAG_FRAMING.
void on_framing_failure(int fd, FrameError why) noexcept;
// Sends the peer a reset and keeps the descriptor (connect to AF_UNSPEC).
void reset_connection(int fd) noexcept;
// The emulated connection of `fd`, or null: one load while the process has none.
EmulatedConnection* emulated_entry(int fd) noexcept;
inline EmulatedConnection* emulation_of(int fd) noexcept {
  return any_emulated() ? emulated_entry(fd) : nullptr;
}
// A framed call failed with ENOTSOCK: true, the entry dropped, when `fd` no longer names the
// socket the layer emulated (the program's call then goes to libc as it is).
bool forget_if_stale(int fd) noexcept;
// Whether the layer saw the socket made or left blocking (no O_NONBLOCK, no SOCK_NONBLOCK).
bool known_blocking(int fd) noexcept;
// poll or epoll reported `fd` writable, in error, or hung up.
void on_readiness(int fd, bool writable, bool error_flagged, bool hung_up) noexcept;

// A close is prepared before libc closes the descriptor (policy, unread data, the event) and
// finished after: the descriptor number may be reused the moment libc returns.
struct PendingClose {
  bool recorded = false;
  SocketEntry* entry = nullptr;  // before_replace: the entry to drop once the target is gone
  Policy policy;
  td_event_record event;
};
void before_close(int fd, PendingClose& pending) noexcept;
void after_close(PendingClose& pending, int result, int error) noexcept;
// dup2 and dup3 close their target only when they succeed: the target's entry goes only then.
void before_replace(int fd, PendingClose& pending) noexcept;
void after_replace(PendingClose& pending, int result, int error) noexcept;

int send_disconnect(int fd, const void* data, size_t length) noexcept;
ssize_t recv_disconnect(int fd, void* buffer, size_t capacity) noexcept;

void on_exit() noexcept;

// The process changed user: see Producer::user_changed.
void on_user_changed() noexcept;

// epoll reports user data, not descriptors: registrations of our sockets are remembered.
void on_epoll_registered(int epfd, int op, int fd, const epoll_event* event) noexcept;
int epoll_descriptor(int epfd, uint64_t data) noexcept;

SocketTable& sockets() noexcept;

}  // namespace teardown::preload
