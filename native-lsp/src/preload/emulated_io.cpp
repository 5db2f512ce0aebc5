#include "emulated_io.h"

#include <poll.h>

#include <cerrno>

#include "../core/framed_calls.h"
#include "layer.h"
#include "real_calls.h"

namespace teardown::preload {

namespace {

// The framed calls' system calls on one descriptor: sendmsg and recvmsg with the program's flags
// and message header (its name and control parts pass through), errors in errno.
class DescriptorIo {
 public:
  DescriptorIo(int fd, const ProgramCall& call) : fd_(fd), call_(call) {}

  long write(const Span* spans, size_t count, bool dont_wait) {
    iovec buffers[kMaxSpans];
    msghdr message = header(spans, count, buffers);
    int flags = call_.flags | (dont_wait ? MSG_DONTWAIT | MSG_NOSIGNAL : 0);
    return finish(real().sendmsg(fd_, &message, flags), message);
  }

  long read(const Span* spans, size_t count, bool peek, bool dont_wait) {
    iovec buffers[kMaxSpans];
    msghdr message = header(spans, count, buffers);
    int flags = (call_.flags & ~(MSG_WAITALL | MSG_PEEK)) | (peek ? MSG_PEEK : 0) |
                (dont_wait ? MSG_DONTWAIT : 0);
    return finish(real().recvmsg(fd_, &message, flags), message);
  }

  bool would_block() const { return errno == EAGAIN || errno == EWOULDBLOCK; }

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
};

// The program's iovecs as spans.
SpanList program_spans(const ProgramCall& call) {
  return SpanList(call.buffers, call.count > 0 ? static_cast<size_t>(call.count) : 0,
                  [](const iovec& buffer) {
                    return Span{static_cast<uint8_t*>(buffer.iov_base), buffer.iov_len};
                  });
}

}  // namespace

ssize_t emulated_send(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept {
  try {
    SpanList program = program_spans(call);
    DescriptorIo io(fd, call);
    if (spans_total(program.spans(), program.count()) == 0) return io.write(nullptr, 0, false);
    return framed_send(io, connection, program.spans(), program.count());
  } catch (...) {
    errno = ENOBUFS;
    return -1;
  }
}

ssize_t emulated_receive(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept {
  try {
    SpanList program = program_spans(call);
    DescriptorIo io(fd, call);
    if (spans_total(program.spans(), program.count()) == 0 || (call.flags & MSG_OOB) != 0) {
      // Nothing to fill, or urgent data, which is outside the stream: the kernel answers.
      return io.read(program.spans(), program.count(), false, false);
    }
    return framed_receive(io, connection, program.spans(), program.count(),
                          (call.flags & MSG_PEEK) != 0, (call.flags & MSG_WAITALL) != 0);
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
