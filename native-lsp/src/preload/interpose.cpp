// libteardown_preload.so's exported functions: libc's socket calls, each passed to libc unchanged
// (same arguments, same result, same errno), with the layer told what happened. Non-socket
// descriptors cost one table lookup. In a vfork child every call goes straight to libc: the child
// shares the parent's memory, and nothing it does may change the parent's state or be recorded
// in its name.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "emulated_io.h"
#include "layer.h"
#include "real_calls.h"
#include "teardown/disconnect.h"

#define TD_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using teardown::preload::in_vfork_child;
using teardown::preload::real;

// Keeps the program's errno across the layer's own work.
class ErrnoGuard {
 public:
  ErrnoGuard() : saved_(errno) {}
  ~ErrnoGuard() { errno = saved_; }
  ErrnoGuard(const ErrnoGuard&) = delete;
  ErrnoGuard& operator=(const ErrnoGuard&) = delete;
  int saved() const { return saved_; }
  void replace(int error) { saved_ = error; }

 private:
  int saved_;
};

// After a consuming receive into `buffers`: the program's result, unless the bytes were a
// framing peer's HELLO on a connection not emulated here (then ECONNABORTED: the layer reset it).
ssize_t report_received(int fd, const iovec* buffers, int count, ssize_t result, int flags) {
  if (in_vfork_child() || teardown::preload::counted_receive(fd, result, flags)) return result;
  ErrnoGuard guard;
  if (teardown::preload::on_received(fd, buffers, count, result, guard.saved(), flags)) {
    result = -1;
    guard.replace(ECONNABORTED);
  }
  return result;
}

void report_sent(int fd, ssize_t result) {
  if (in_vfork_child() || teardown::preload::counted_send(fd, result)) return;
  ErrnoGuard guard;
  teardown::preload::on_sent(fd, result, guard.saved());
}

using teardown::preload::ProgramCall;

// The kernel takes at most IOV_MAX buffers in one call and refuses a longer vector before it
// touches the stream (sendmsg, recvmsg: EMSGSIZE; writev, readv: EINVAL). Such a call goes to
// libc as it is, framed connection or not, so that it fails as the plain one does; the layer
// never slices it into calls that would succeed.
constexpr bool vector_fits(size_t count) { return count <= IOV_MAX; }
constexpr bool vector_fits(int count) { return count >= 0 && count <= IOV_MAX; }

// How many of a message's buffers the layer may look at: none of a vector the kernel refused.
int buffers_to_look_at(const msghdr* message) {
  return message != nullptr && vector_fits(message->msg_iovlen) ? static_cast<int>(message->msg_iovlen)
                                                                : 0;
}

// A send on an emulated connection, reported as the plain one is.
// What the framed calls return when the descriptor turned out not to be the socket the layer
// emulates (closed behind libc's back and reused by a file: ENOTSOCK): the program's call then
// goes to libc as it is.
constexpr ssize_t kNotOurs = -2;

ssize_t framed_send(int fd, teardown::EmulatedConnection& connection,
                    const ProgramCall& call) {
  ssize_t result = teardown::preload::emulated_send(fd, connection, call);
  if (result < 0 && errno == ENOTSOCK && teardown::preload::forget_if_stale(fd)) return kNotOurs;
  report_sent(fd, result);
  return result;
}

// A receive on an emulated connection: consuming ones are reported as the plain ones are.
ssize_t framed_receive(int fd, teardown::EmulatedConnection& connection,
                       const ProgramCall& program_call) {
  ProgramCall call = program_call;
  call.known_blocking = teardown::preload::known_blocking(fd);
  ssize_t result = teardown::preload::emulated_receive(fd, connection, call);
  if (result < 0 && errno == ENOTSOCK && teardown::preload::forget_if_stale(fd)) return kNotOurs;
  if ((call.flags & MSG_PEEK) == 0 && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_received(fd, call.buffers, call.count, result, guard.saved(), call.flags);
  }
  return result;
}

// What poll and epoll said of the layer's sockets: a connect made, a hang-up, an error.
void report_readiness(const pollfd* fds, nfds_t count) {
  ErrnoGuard guard;
  for (nfds_t i = 0; i < count; ++i) {
    short seen = fds[i].revents;
    if ((seen & (POLLOUT | POLLRDHUP | POLLHUP | POLLERR)) == 0) continue;
    teardown::preload::on_readiness(fds[i].fd, (seen & POLLOUT) != 0, (seen & POLLERR) != 0,
                                    (seen & (POLLRDHUP | POLLHUP)) != 0);
  }
}

void report_epoll_readiness(int epfd, const epoll_event* events, int count) {
  ErrnoGuard guard;
  for (int i = 0; i < count; ++i) {
    uint32_t seen = events[i].events;
    if ((seen & (EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) continue;
    int fd = teardown::preload::epoll_descriptor(epfd, events[i].data.u64);
    if (fd < 0) continue;
    teardown::preload::on_readiness(fd, (seen & EPOLLOUT) != 0, (seen & EPOLLERR) != 0,
                                    (seen & (EPOLLRDHUP | EPOLLHUP)) != 0);
  }
}

}  // namespace

// vfork, as the program calls it: the calling thread is marked (see in_vfork_child), then libc's
// vfork is entered by a jump, so that it returns straight to the program in both processes (a
// wrapper's own frame would not survive the child). Only on x86-64; elsewhere vfork is libc's.
extern "C" {
__attribute__((visibility("hidden"))) void* teardown_real_vfork = nullptr;
__attribute__((visibility("hidden"))) void* teardown_resolve_vfork() {
  void* found = dlsym(RTLD_NEXT, "vfork");
  teardown_real_vfork = found;
  return found;
}
}

#if defined(__x86_64__)
asm(R"(
  .text
  .globl vfork
  .type vfork, @function
vfork:
  .cfi_startproc
  movq teardown_vfork_pending@gottpoff(%rip), %rax
  movb $1, %fs:(%rax)
  movq teardown_real_vfork(%rip), %rax
  testq %rax, %rax
  jz 1f
  jmp *%rax
1:
  subq $8, %rsp
  .cfi_adjust_cfa_offset 8
  call teardown_resolve_vfork
  addq $8, %rsp
  .cfi_adjust_cfa_offset -8
  jmp *%rax
  .cfi_endproc
  .size vfork, .-vfork
)");
#endif

namespace {

__attribute__((constructor)) void load_layer() {
  teardown::preload::initialize();
  teardown_resolve_vfork();
}
__attribute__((destructor)) void unload_layer() { teardown::preload::on_exit(); }

}  // namespace

TD_EXPORT int socket(int domain, int type, int protocol) {
  int fd = real().socket(domain, type, protocol);
  if (fd >= 0 && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_socket_created(fd, domain, type);
  }
  return fd;
}

TD_EXPORT int connect(int fd, const sockaddr* address, socklen_t length) {
  uint64_t started = teardown::preload::call_started(fd);
  int result = real().connect(fd, address, length);
  if (in_vfork_child() || started == 0) return result;
  ErrnoGuard guard;
  int error = result == 0 ? 0 : guard.saved();
  if (error == 0 || error == EINPROGRESS || error == EINTR) {
    // Interrupted, a connect goes on in the background, as a non-blocking one does.
    teardown::preload::on_connected(fd, address, length, error != 0, started);
  } else if (error == EISCONN) {
    teardown::preload::on_connect_outcome(fd, 0);  // asked again: the first one went through
  } else if (error != EALREADY && error != EAGAIN) {
    teardown::preload::on_connect_error(fd, address, length, error, started);
  }
  return result;
}

TD_EXPORT int getsockopt(int fd, int level, int name, void* value, socklen_t* length) {
  int result = real().getsockopt(fd, level, name, value, length);
  if (result == 0 && level == SOL_SOCKET && name == SO_ERROR && value != nullptr &&
      length != nullptr && *length >= static_cast<socklen_t>(sizeof(int)) && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_connect_outcome(fd, *static_cast<const int*>(value));
  }
  return result;
}

// The peer's address is taken from accept itself (into the layer's own buffer when the program
// passes none): by the time it could be asked for, the connection may already be reset.
static int accept_connection(int fd, sockaddr* address, socklen_t* length, int flags,
                             bool with_flags) {
  sockaddr_storage own{};
  socklen_t own_length = sizeof(own);
  bool program_wants_address = address != nullptr && length != nullptr;
  sockaddr* target = program_wants_address ? address : reinterpret_cast<sockaddr*>(&own);
  socklen_t* target_length = program_wants_address ? length : &own_length;
  socklen_t capacity = *target_length;
  int accepted = with_flags ? real().accept4(fd, target, target_length, flags)
                            : real().accept(fd, target, target_length);
  if (accepted >= 0 && !in_vfork_child()) {
    ErrnoGuard guard;
    socklen_t filled = *target_length < capacity ? *target_length : capacity;
    teardown::preload::on_accepted(fd, accepted, with_flags ? flags : 0, target, filled);
  }
  return accepted;
}

TD_EXPORT int accept(int fd, sockaddr* address, socklen_t* length) {
  return accept_connection(fd, address, length, 0, false);
}

TD_EXPORT int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  return accept_connection(fd, address, length, flags, true);
}

TD_EXPORT int listen(int fd, int backlog) {
  int result = real().listen(fd, backlog);
  if (result == 0 && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_listening(fd);
  }
  return result;
}

TD_EXPORT int shutdown(int fd, int how) {
  if (in_vfork_child()) return real().shutdown(fd, how);
  uint64_t started;
  {
    ErrnoGuard guard;
    started = teardown::preload::call_started(fd);
    auto* connection = teardown::preload::emulation_of(fd);
    if (connection != nullptr && how != SHUT_RD) teardown::preload::flush_before_shutdown(fd, *connection);
  }
  int result = real().shutdown(fd, how);
  ErrnoGuard guard;
  teardown::preload::on_shutdown(fd, how, result, guard.saved(), started);
  return result;
}

TD_EXPORT int close(int fd) {
  if (in_vfork_child()) return real().close(fd);
  teardown::preload::PendingClose pending;
  {
    ErrnoGuard guard;
    teardown::preload::before_close(fd, pending);
  }
  int result = real().close(fd);
  if (pending.recorded) {
    ErrnoGuard guard;
    teardown::preload::after_close(pending, result, guard.saved());
  }
  return result;
}

// close_range closes every descriptor in a range (daemons use it before exec): each tracked
// socket in it is a close. With CLOSE_RANGE_CLOEXEC nothing is closed now. Each close is worked
// out and recorded before the range is closed (an event's time is when its close began), so
// that nothing need be kept and nothing allocated; a call libc will refuse is only passed on.
TD_EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  bool closes_now = first <= last && (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) == 0 &&
                    (flags & CLOSE_RANGE_CLOEXEC) == 0;
  if (closes_now && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::sockets().for_each([&](int fd, teardown::preload::SocketEntry&) {
      if (static_cast<unsigned int>(fd) < first || static_cast<unsigned int>(fd) > last) return;
      teardown::preload::PendingClose pending;
      teardown::preload::before_close(fd, pending);
      teardown::preload::after_close(pending, 0, 0);
    });
  }
  return real().close_range(first, last, flags);
}

TD_EXPORT int dup(int fd) {
  int copy = real().dup(fd);
  if (copy >= 0 && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_duplicated(fd, copy);
  }
  return copy;
}

// dup2 and dup3 first close the target descriptor if it is open: that is a close too, made only
// if the call succeeds. A call that will fail (a bad source, bad flags) is only passed on: the
// close is worked out (and a policy applied to the target) only for a call that will replace it.
static int duplicate_onto(int fd, int target, int flags, bool with_flags) {
  if (in_vfork_child())
    return with_flags ? real().dup3(fd, target, flags) : real().dup2(fd, target);
  teardown::preload::PendingClose pending;
  bool replaces = fd != target && (!with_flags || (flags & ~O_CLOEXEC) == 0);
  if (replaces) {
    ErrnoGuard guard;
    if (real().fcntl(fd, F_GETFD) != -1) teardown::preload::before_replace(target, pending);
  }
  int result = with_flags ? real().dup3(fd, target, flags) : real().dup2(fd, target);
  ErrnoGuard guard;
  teardown::preload::after_replace(pending, result, guard.saved());
  if (result >= 0) teardown::preload::on_duplicated(fd, result);
  return result;
}

TD_EXPORT int dup2(int fd, int target) { return duplicate_onto(fd, target, 0, false); }

TD_EXPORT int dup3(int fd, int target, int flags) { return duplicate_onto(fd, target, flags, true); }

// fcntl and ioctl take one optional argument, passed on as it came (an int or a pointer, both in
// a register on the supported ABIs); only O_NONBLOCK changes on tracked sockets are looked at.
static int control_flags(int fd, int command, uintptr_t argument, bool wide) {
  int result = wide ? real().fcntl64(fd, command, argument) : real().fcntl(fd, command, argument);
  if (result == -1 || in_vfork_child()) return result;
  if (command == F_SETFL) {
    ErrnoGuard guard;
    teardown::preload::on_blocking_set(fd, (static_cast<int>(argument) & O_NONBLOCK) != 0);
  } else if (command == F_DUPFD || command == F_DUPFD_CLOEXEC) {
    ErrnoGuard guard;
    teardown::preload::on_duplicated(fd, result);
  }
  return result;
}

TD_EXPORT int fcntl(int fd, int command, ...) {
  va_list arguments;
  va_start(arguments, command);
  uintptr_t argument = va_arg(arguments, uintptr_t);
  va_end(arguments);
  return control_flags(fd, command, argument, false);
}

TD_EXPORT int fcntl64(int fd, int command, ...) {
  va_list arguments;
  va_start(arguments, command);
  uintptr_t argument = va_arg(arguments, uintptr_t);
  va_end(arguments);
  return control_flags(fd, command, argument, true);
}

TD_EXPORT int ioctl(int fd, unsigned long request, ...) {
  va_list arguments;
  va_start(arguments, request);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  if (request == FIONREAD && argument != nullptr) {
    // The bytes the program would read, not the wire's records.
    if (auto* connection = teardown::preload::emulation_of(fd)) {
      return teardown::preload::emulated_available(fd, *connection, static_cast<int*>(argument));
    }
  }
  int result = real().ioctl(fd, request, argument);
  if (result != -1 && request == FIONBIO && argument != nullptr && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_blocking_set(fd, *static_cast<const int*>(argument) != 0);
  }
  return result;
}

TD_EXPORT int setsockopt(int fd, int level, int name, const void* value, socklen_t length) {
  int result = real().setsockopt(fd, level, name, value, length);
  if (result == 0 && level == SOL_SOCKET && name == SO_LINGER && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_linger_set(fd, value, length);
  }
  if (result == 0 && level == SOL_SOCKET && name == SO_OOBINLINE && !in_vfork_child()) {
    teardown::preload::on_urgent_inline_set(fd, value, length);
  }
  return result;
}

TD_EXPORT ssize_t send(int fd, const void* buffer, size_t length, int flags) {
  if (auto* connection = teardown::preload::emulation_of(fd)) {
    iovec one{const_cast<void*>(buffer), length};
    if (ssize_t framed = framed_send(fd, *connection, ProgramCall{&one, 1, flags, nullptr});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().send(fd, buffer, length, flags);
  report_sent(fd, result);
  return result;
}

TD_EXPORT ssize_t sendto(int fd, const void* buffer, size_t length, int flags,
                         const sockaddr* address, socklen_t address_length) {
  if (auto* connection = teardown::preload::emulation_of(fd)) {
    iovec one{const_cast<void*>(buffer), length};
    msghdr message{};
    message.msg_name = const_cast<sockaddr*>(address);
    message.msg_namelen = address_length;
    if (ssize_t framed = framed_send(fd, *connection, ProgramCall{&one, 1, flags, &message});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().sendto(fd, buffer, length, flags, address, address_length);
  report_sent(fd, result);
  return result;
}

TD_EXPORT ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  if (auto* connection = teardown::preload::emulation_of(fd);
      connection != nullptr && message != nullptr && vector_fits(message->msg_iovlen)) {
    msghdr copy = *message;
    if (ssize_t framed = framed_send(
            fd, *connection,
            ProgramCall{message->msg_iov, static_cast<int>(message->msg_iovlen), flags, &copy});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().sendmsg(fd, message, flags);
  report_sent(fd, result);
  return result;
}

TD_EXPORT ssize_t write(int fd, const void* buffer, size_t length) {
  if (auto* connection = teardown::preload::emulation_of(fd)) {
    iovec one{const_cast<void*>(buffer), length};
    if (ssize_t framed = framed_send(fd, *connection, ProgramCall{&one, 1, 0, nullptr});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().write(fd, buffer, length);
  report_sent(fd, result);
  return result;
}

TD_EXPORT ssize_t writev(int fd, const iovec* vectors, int count) {
  if (auto* connection = teardown::preload::emulation_of(fd); connection != nullptr && vector_fits(count)) {
    if (ssize_t framed = framed_send(fd, *connection, ProgramCall{vectors, count, 0, nullptr});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().writev(fd, vectors, count);
  report_sent(fd, result);
  return result;
}

// sendfile puts a file's bytes on the socket without passing them through send: on an emulated
// connection they must be framed like any other bytes of the program's. Elsewhere it is libc's.
TD_EXPORT ssize_t sendfile(int fd, int in_fd, off_t* offset, size_t count) {
  if (auto* connection = teardown::preload::emulation_of(fd)) {
    ssize_t result = teardown::preload::emulated_sendfile(fd, *connection, in_fd, offset, count);
    report_sent(fd, result);
    return result;
  }
  ssize_t result = real().sendfile(fd, in_fd, offset, count);
  report_sent(fd, result);
  return result;
}

TD_EXPORT ssize_t sendfile64(int fd, int in_fd, off64_t* offset, size_t count) {
  static_assert(sizeof(off64_t) == sizeof(off_t), "64-bit file offsets");
  return sendfile(fd, in_fd, reinterpret_cast<off_t*>(offset), count);
}

TD_EXPORT ssize_t recv(int fd, void* buffer, size_t length, int flags) {
  iovec one{buffer, length};
  if (auto* connection = teardown::preload::emulation_of(fd)) {
    if (ssize_t framed = framed_receive(fd, *connection, ProgramCall{&one, 1, flags, nullptr});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().recv(fd, buffer, length, flags);
  // A peek does not consume the end of the stream: the read that does will report it.
  if ((flags & MSG_PEEK) == 0) result = report_received(fd, &one, 1, result, flags);
  return result;
}

TD_EXPORT ssize_t recvfrom(int fd, void* buffer, size_t length, int flags, sockaddr* address,
                           socklen_t* address_length) {
  iovec one{buffer, length};
  if (auto* connection = teardown::preload::emulation_of(fd)) {
    msghdr message{};
    message.msg_name = address;
    message.msg_namelen = address_length != nullptr ? *address_length : 0;
    ssize_t result = framed_receive(fd, *connection, ProgramCall{&one, 1, flags, &message});
    if (result != kNotOurs) {
      if (address_length != nullptr && result >= 0) *address_length = message.msg_namelen;
      return result;
    }
  }
  ssize_t result = real().recvfrom(fd, buffer, length, flags, address, address_length);
  if ((flags & MSG_PEEK) == 0) result = report_received(fd, &one, 1, result, flags);
  return result;
}

TD_EXPORT ssize_t recvmsg(int fd, msghdr* message, int flags) {
  if (auto* connection = teardown::preload::emulation_of(fd);
      connection != nullptr && message != nullptr && vector_fits(message->msg_iovlen)) {
    if (ssize_t framed = framed_receive(
            fd, *connection,
            ProgramCall{message->msg_iov, static_cast<int>(message->msg_iovlen), flags, message});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().recvmsg(fd, message, flags);
  if ((flags & MSG_PEEK) == 0 && message != nullptr) {
    result = report_received(fd, message->msg_iov, buffers_to_look_at(message), result, flags);
  }
  return result;
}

TD_EXPORT ssize_t read(int fd, void* buffer, size_t length) {
  iovec one{buffer, length};
  if (auto* connection = teardown::preload::emulation_of(fd)) {
    if (ssize_t framed = framed_receive(fd, *connection, ProgramCall{&one, 1, 0, nullptr});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().read(fd, buffer, length);
  return report_received(fd, &one, 1, result, 0);
}

TD_EXPORT ssize_t readv(int fd, const iovec* vectors, int count) {
  if (auto* connection = teardown::preload::emulation_of(fd); connection != nullptr && vector_fits(count)) {
    if (ssize_t framed = framed_receive(fd, *connection, ProgramCall{vectors, count, 0, nullptr});
        framed != kNotOurs)
      return framed;
  }
  ssize_t result = real().readv(fd, vectors, count);
  return report_received(fd, vectors, vector_fits(count) ? count : 0, result, 0);
}

TD_EXPORT int poll(pollfd* fds, nfds_t count, int timeout) {
  int result = real().poll(fds, count, timeout);
  if (result > 0 && !in_vfork_child()) report_readiness(fds, count);
  return result;
}

TD_EXPORT int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  int result = real().ppoll(fds, count, timeout, mask);
  if (result > 0 && !in_vfork_child()) report_readiness(fds, count);
  return result;
}

TD_EXPORT int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  int result = real().epoll_ctl(epfd, op, fd, event);
  if (result == 0 && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_epoll_registered(epfd, op, fd, event);
  }
  return result;
}

TD_EXPORT int epoll_wait(int epfd, epoll_event* events, int capacity, int timeout) {
  int result = real().epoll_wait(epfd, events, capacity, timeout);
  if (result > 0 && !in_vfork_child()) report_epoll_readiness(epfd, events, result);
  return result;
}

TD_EXPORT int epoll_pwait(int epfd, epoll_event* events, int capacity, int timeout,
                          const sigset_t* mask) {
  int result = real().epoll_pwait(epfd, events, capacity, timeout, mask);
  if (result > 0 && !in_vfork_child()) report_epoll_readiness(epfd, events, result);
  return result;
}

TD_EXPORT void _exit(int status) {
  if (!in_vfork_child()) teardown::preload::on_exit();
  real().exit_now(status);
  __builtin_unreachable();
}

// A process that changes user (a server's worker giving up root's rights) records as its new
// user from then on, and keeps nothing of a user it can no longer become. Not in a vfork child:
// it shares the parent's memory, mappings and all.
namespace {
int after_user_call(int result) {
  if (result == 0 && !in_vfork_child()) {
    ErrnoGuard guard;
    teardown::preload::on_user_changed();
  }
  return result;
}
}  // namespace

TD_EXPORT int setuid(uid_t uid) { return after_user_call(real().setuid(uid)); }

TD_EXPORT int seteuid(uid_t uid) { return after_user_call(real().seteuid(uid)); }

TD_EXPORT int setreuid(uid_t real_uid, uid_t effective) {
  return after_user_call(real().setreuid(real_uid, effective));
}

TD_EXPORT int setresuid(uid_t real_uid, uid_t effective, uid_t saved) {
  return after_user_call(real().setresuid(real_uid, effective, saved));
}

TD_EXPORT int teardown_send_disconnect(int fd, const void* data, size_t length) {
  return teardown::preload::send_disconnect(fd, data, length);
}

TD_EXPORT ssize_t teardown_recv_disconnect(int fd, void* buffer, size_t capacity) {
  return teardown::preload::recv_disconnect(fd, buffer, capacity);
}
