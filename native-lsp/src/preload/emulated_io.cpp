#include "emulated_io.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <new>

#include "../core/framed_calls.h"
#include "../core/platform.h"
#include "layer.h"
#include "real_calls.h"

namespace teardown::preload {

namespace {

// The framed calls' system calls on one descriptor: sendmsg and recvmsg with the program's flags
// and message header (its name and control parts pass through), never waiting; errors in errno.
// When the program's call must wait, it waits as the plain call would: a receive in a blocking
// peek (the system's own timeout, signal and error rules), a send in poll, bounded by the
// socket's SO_SNDTIMEO and ended by a signal as the plain send would be.
class DescriptorIo {
 public:
  DescriptorIo(int fd, const ProgramCall& call) : fd_(fd), call_(call) {}

  long write(const Span* spans, size_t count, bool own) {
    iovec buffers[kMaxSpans];
    msghdr message = header(spans, count, buffers);
    // The stream's own bytes are no send of the program's: they never raise SIGPIPE.
    int flags = (call_.flags & ~MSG_OOB) | MSG_DONTWAIT | (own ? MSG_NOSIGNAL : 0);
    return finish(real().sendmsg(fd_, &message, flags), message);
  }

  long read(const Span* spans, size_t count, bool peek) {
    iovec buffers[kMaxSpans];
    msghdr message = header(spans, count, buffers);
    int flags = (call_.flags & ~(MSG_WAITALL | MSG_PEEK | MSG_TRUNC)) | (peek ? MSG_PEEK : 0) |
                MSG_DONTWAIT;
    return finish(real().recvmsg(fd_, &message, flags), message);
  }

  bool would_block() const { return errno == EAGAIN || errno == EWOULDBLOCK; }

  bool program_waits() {
    if (waits_ < 0) {
      int saved = errno;
      int status = real().fcntl(fd_, F_GETFL);
      waits_ = (call_.flags & MSG_DONTWAIT) == 0 && status >= 0 && (status & O_NONBLOCK) == 0;
      errno = saved;
    }
    return waits_ > 0;
  }

  bool wait_for_room() { return wait_until_ready(POLLOUT, SO_SNDTIMEO, send_deadline_ns_); }

  // With nothing for the program yet, a blocking peek waits exactly as its receive would (its
  // timeout, its signals, and taking the error it would take). Holding bytes for it, poll waits
  // instead, leaving an error for the program's next call.
  bool wait_for_data(bool holding) {
    if (holding) return wait_until_ready(POLLIN, SO_RCVTIMEO, receive_deadline_ns_);
    char byte;
    return real().recv(fd_, &byte, 1, MSG_PEEK) >= 0;
  }

  bool error_pending() {
    pollfd item{fd_, 0, 0};
    return real().poll(&item, 1, 0) > 0 && (item.revents & POLLERR) != 0;
  }

  long write_urgent(const uint8_t* byte) {
    return real().send(fd_, byte, 1, call_.flags | MSG_OOB | MSG_DONTWAIT);
  }

  bool at_urgent_mark() {
    int saved = errno;
    int at_mark = 0;
    bool at = real().ioctl(fd_, SIOCATMARK, &at_mark) == 0 && at_mark != 0;
    errno = saved;
    return at;
  }

  void wait_writable(int milliseconds) {
    pollfd room{fd_, POLLOUT, 0};
    real().poll(&room, 1, milliseconds);
  }

  void abort(FrameError why) {
    reset_connection(fd_);
    if (why != FrameError::kNone) on_framing_failure(fd_, why);
  }

  void fail(CallError error) {
    switch (error) {
      case CallError::kAborted: errno = ECONNABORTED; break;
      case CallError::kWouldBlock: errno = EAGAIN; break;
      case CallError::kInvalid: errno = EINVAL; break;
      case CallError::kShutDown: errno = EPIPE; break;
      case CallError::kMessageSize: errno = EMSGSIZE; break;
      case CallError::kNoBuffers: errno = ENOBUFS; break;
    }
  }

 private:
  static constexpr uint64_t kNoDeadline = ~0ull;

  // Waits for `events` as the plain call blocked in the system would: until its socket's
  // timeout `option` (counted from the call's first wait) runs out (EAGAIN), or a signal ends it
  // (EINTR, unless the plain call would have been restarted).
  bool wait_until_ready(short events, int option, uint64_t& deadline) {
    if (deadline == 0) deadline = deadline_for(option);
    for (;;) {
      int timeout = -1;
      if (deadline != kNoDeadline) {
        uint64_t now = platform::monotonic_ns();
        if (now >= deadline) {
          errno = EAGAIN;  // the socket's timeout ran out
          return false;
        }
        timeout = static_cast<int>((deadline - now + 999999u) / 1000000u);
      }
      pollfd item{fd_, events, 0};
      int ready = real().poll(&item, 1, timeout);
      if (ready > 0) return true;
      if (ready == 0) continue;  // the deadline is checked above
      if (errno != EINTR) return false;
      // The plain call is restarted after a handler only when every handler asks for it and no
      // timeout is set on the socket (signal(7)); otherwise it fails with EINTR.
      if (deadline != kNoDeadline || !handlers_restart()) return false;
    }
  }

  // When a wait that starts now must end: the socket's timeout option, or never.
  uint64_t deadline_for(int option) const {
    int saved = errno;
    timeval timeout{};
    socklen_t length = sizeof(timeout);
    bool set = real().getsockopt(fd_, SOL_SOCKET, option, &timeout, &length) == 0 &&
               (timeout.tv_sec > 0 || timeout.tv_usec > 0);
    errno = saved;
    if (!set) return kNoDeadline;
    return platform::monotonic_ns() + static_cast<uint64_t>(timeout.tv_sec) * 1000000000u +
           static_cast<uint64_t>(timeout.tv_usec) * 1000u;
  }

  // Whether every signal handler the program installed has SA_RESTART.
  static bool handlers_restart() {
    int saved = errno;
    bool restart = true;
    for (int signal_number = 1; signal_number < NSIG && restart; ++signal_number) {
      struct sigaction action {};
      if (sigaction(signal_number, nullptr, &action) != 0) continue;
      bool handled = (action.sa_flags & SA_SIGINFO) != 0 ||
                     (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN);
      if (handled && (action.sa_flags & SA_RESTART) == 0) restart = false;
    }
    errno = saved;
    return restart;
  }

  msghdr header(const Span* spans, size_t count, iovec* buffers) const {
    msghdr message{};
    if (call_.message != nullptr) message = *call_.message;
    for (size_t i = 0; i < count; ++i) buffers[i] = iovec{spans[i].data, spans[i].length};
    message.msg_iov = buffers;
    message.msg_iovlen = count;
    return message;
  }

  long finish(ssize_t result, const msghdr& message) const {
    if (call_.message != nullptr) {
      call_.message->msg_namelen = message.msg_namelen;
      call_.message->msg_controllen = message.msg_controllen;
      call_.message->msg_flags = message.msg_flags;
    }
    return static_cast<long>(result);
  }

  int fd_;
  const ProgramCall& call_;
  int waits_ = -1;
  uint64_t send_deadline_ns_ = 0;
  uint64_t receive_deadline_ns_ = 0;
};

// The program's iovecs as spans.
SpanList program_spans(const ProgramCall& call) {
  return SpanList(call.buffers, call.count > 0 ? static_cast<size_t>(call.count) : 0,
                  [](const iovec& buffer) {
                    return Span{static_cast<uint8_t*>(buffer.iov_base), buffer.iov_len};
                  });
}

// The program's own call as a message header: its buffers, name and control parts.
msghdr program_header(const ProgramCall& call) {
  msghdr message{};
  if (call.message != nullptr) message = *call.message;
  message.msg_iov = const_cast<iovec*>(call.buffers);
  message.msg_iovlen = call.count > 0 ? static_cast<size_t>(call.count) : 0;
  return message;
}

// The program's call made as it is, its results handed back.
ssize_t passthrough_send(int fd, const ProgramCall& call) {
  msghdr message = program_header(call);
  return real().sendmsg(fd, &message, call.flags);
}

ssize_t passthrough_receive(int fd, const ProgramCall& call) {
  msghdr message = program_header(call);
  ssize_t result = real().recvmsg(fd, &message, call.flags);
  if (call.message != nullptr) {
    call.message->msg_namelen = message.msg_namelen;
    call.message->msg_controllen = message.msg_controllen;
    call.message->msg_flags = message.msg_flags;
  }
  return result;
}

// MSG_TRUNC: the program's bytes are taken off the stream and thrown away (or, with MSG_PEEK,
// counted), never written into its buffers, which may be null.
ssize_t receive_discarding(int fd, EmulatedConnection& connection, const ProgramCall& call,
                           size_t wanted) {
  constexpr size_t kLargestDiscard = 64u << 10;
  size_t length = wanted < kLargestDiscard ? wanted : kLargestDiscard;
  std::unique_ptr<uint8_t[]> scratch(new (std::nothrow) uint8_t[length]);
  if (!scratch) {
    errno = ENOBUFS;
    return -1;
  }
  Span discard{scratch.get(), length};
  DescriptorIo io(fd, call);
  return framed_receive(io, connection, &discard, 1, (call.flags & MSG_PEEK) != 0,
                        (call.flags & MSG_WAITALL) != 0);
}

}  // namespace

ssize_t emulated_send(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept {
  try {
    SpanList program = program_spans(call);
    DescriptorIo io(fd, call);
    if (spans_total(program.spans(), program.count()) == 0) return passthrough_send(fd, call);
    if ((call.flags & MSG_OOB) != 0) {
      return framed_send_urgent(io, connection, program.spans(), program.count());
    }
    return framed_send(io, connection, program.spans(), program.count());
  } catch (...) {
    errno = ENOBUFS;
    return -1;
  }
}

ssize_t emulated_receive(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept {
  try {
    SpanList program = program_spans(call);
    size_t wanted = spans_total(program.spans(), program.count());
    if (wanted == 0 || (call.flags & (MSG_OOB | MSG_ERRQUEUE)) != 0) {
      // Nothing to fill, urgent data or the error queue, which are outside the stream: the
      // system answers the program's own call.
      return passthrough_receive(fd, call);
    }
    if ((call.flags & MSG_TRUNC) != 0) return receive_discarding(fd, connection, call, wanted);
    DescriptorIo io(fd, call);
    if (call.known_blocking && (call.flags & MSG_DONTWAIT) == 0 &&
        !connection.aborted.load(std::memory_order_relaxed) && !io.wait_for_data(false)) {
      // The blocking peek took what the program's own receive would have: its error, or (the
      // socket was not blocking after all) EAGAIN.
      return -1;
    }
    return framed_receive(io, connection, program.spans(), program.count(),
                          (call.flags & MSG_PEEK) != 0, (call.flags & MSG_WAITALL) != 0);
  } catch (...) {
    errno = ENOBUFS;
    return -1;
  }
}

ssize_t emulated_sendfile(int fd, EmulatedConnection& connection, int in_fd, off_t* offset,
                          size_t count) noexcept {
  // The file's bytes are read here and sent as the program's own, framed; a plain sendfile
  // would put them on the wire around the records. The file position (or *offset) moves by
  // what was sent, as it does for the plain call.
  constexpr size_t kChunk = 64u << 10;
  try {
    std::unique_ptr<uint8_t[]> chunk(new (std::nothrow) uint8_t[kChunk]);
    if (!chunk) {
      errno = ENOBUFS;
      return -1;
    }
    size_t total = 0;
    while (total < count) {
      size_t want = count - total < kChunk ? count - total : kChunk;
      ssize_t got = offset != nullptr ? pread(in_fd, chunk.get(), want, *offset)
                                      : real().read(in_fd, chunk.get(), want);
      if (got < 0) return total > 0 ? static_cast<ssize_t>(total) : -1;
      if (got == 0) break;
      iovec one{chunk.get(), static_cast<size_t>(got)};
      ProgramCall call{&one, 1, MSG_NOSIGNAL, nullptr};
      ssize_t sent = emulated_send(fd, connection, call);
      size_t taken = sent > 0 ? static_cast<size_t>(sent) : 0;
      if (offset != nullptr) {
        *offset += static_cast<off_t>(taken);
      } else if (taken < static_cast<size_t>(got)) {
        int saved = errno;
        lseek(in_fd, -static_cast<off_t>(static_cast<size_t>(got) - taken), SEEK_CUR);
        errno = saved;
      }
      if (sent < 0) return total > 0 ? static_cast<ssize_t>(total) : -1;
      total += taken;
      if (taken < static_cast<size_t>(got)) break;  // the socket took what it had room for
    }
    return static_cast<ssize_t>(total);
  } catch (...) {
    errno = ENOBUFS;
    return -1;
  }
}

int emulated_available(int fd, EmulatedConnection& connection, int* out) noexcept {
  try {
    int wire = 0;
    if (real().ioctl(fd, FIONREAD, &wire) != 0) return -1;
    ProgramCall none{nullptr, 0, 0, nullptr};
    DescriptorIo io(fd, none);
    int saved = errno;
    long app = framed_available(io, connection, wire > 0 ? static_cast<size_t>(wire) : 0);
    if (app < 0) return -1;
    errno = saved;
    *out = static_cast<int>(app);
    return 0;
  } catch (...) {
    errno = ENOBUFS;
    return -1;
  }
}

void flush_before_shutdown(int fd, EmulatedConnection& connection) noexcept {
  ProgramCall none{nullptr, 0, 0, nullptr};
  DescriptorIo io(fd, none);
  teardown::flush_before_shutdown(io, connection);
}

int emulated_send_disconnect(int fd, EmulatedConnection& connection, const void* data,
                             size_t length, int& error) noexcept {
  ProgramCall none{nullptr, 0, 0, nullptr};
  DescriptorIo io(fd, none);
  errno = 0;
  bool sent = framed_send_disconnect(io, connection, static_cast<const uint8_t*>(data),
                                     data == nullptr ? 0 : length);
  if (sent && real().shutdown(fd, SHUT_WR) != 0) sent = false;
  error = sent ? 0 : (errno != 0 ? errno : ECONNABORTED);
  return sent ? 0 : -1;
}

ssize_t emulated_recv_disconnect(int fd, EmulatedConnection& connection, void* buffer,
                                 size_t capacity, int& error) noexcept {
  ProgramCall none{nullptr, 0, 0, nullptr};
  DescriptorIo io(fd, none);
  long received = framed_recv_disconnect(io, connection, static_cast<uint8_t*>(buffer), capacity);
  if (received >= 0 && real().shutdown(fd, SHUT_RD) != 0 && errno != ENOTCONN) received = -1;
  error = received >= 0 ? 0 : errno;
  return received;
}

}  // namespace teardown::preload
