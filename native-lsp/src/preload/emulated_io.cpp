#include "emulated_io.h"

#include <poll.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

#include "../core/platform.h"
#include "layer.h"
#include "real_calls.h"

namespace teardown::preload {

namespace {

// How long teardown_send_disconnect waits for room for the DISCONNECT record on a send buffer
// the peer has let fill up, before it gives up and resets the connection.
constexpr int kDisconnectFlushMs = 2000;
// A receive-disconnect discards what is left unread; this much at most, then what is there is
// left for the shutdown to drop.
constexpr int kDiscardReads = 256;

size_t to_iovecs(const Span* spans, size_t count, iovec* out) {
  for (size_t i = 0; i < count; ++i) out[i] = iovec{spans[i].data, spans[i].length};
  return count;
}

// The program's buffers from flat offset `skip` on, as spans (at most kMaxSpans).
size_t program_spans(const ProgramCall& call, size_t skip, Span* out) {
  size_t count = 0;
  for (int i = 0; i < call.count && count < kMaxSpans; ++i) {
    size_t length = call.buffers[i].iov_len;
    if (skip >= length) {
      skip -= length;
      continue;
    }
    out[count++] = Span{static_cast<uint8_t*>(call.buffers[i].iov_base) + skip, length - skip};
    skip = 0;
  }
  return count;
}

size_t program_total(const ProgramCall& call) {
  size_t total = 0;
  for (int i = 0; i < call.count; ++i) total += call.buffers[i].iov_len;
  return total;
}

// The program's message header with the layer's buffers in place of its own.
msghdr with_buffers(const ProgramCall& call, iovec* buffers, size_t count) {
  msghdr message{};
  if (call.message != nullptr) message = *call.message;
  message.msg_iov = buffers;
  message.msg_iovlen = count;
  return message;
}

void hand_back(const ProgramCall& call, const msghdr& message) {
  if (call.message == nullptr) return;
  call.message->msg_namelen = message.msg_namelen;
  call.message->msg_controllen = message.msg_controllen;
  call.message->msg_flags = message.msg_flags;
}

// Resets the connection and records a framing error as the reason; every later call on it fails
// with ECONNABORTED.
void abort_connection(int fd, EmulatedConnection& connection, FrameError why) {
  if (connection.aborted.exchange(true)) return;
  reset_connection(fd);
  if (why != FrameError::kNone) on_framing_failure(fd, why);
}

ssize_t fail(int error) {
  errno = error;
  return -1;
}

// Writes what the stream owes, waiting for room up to `deadline_ms` (0: not at all). True when
// nothing is owed any more.
bool flush_owed(int fd, EmulatedConnection& connection, int deadline_ms) {
  uint64_t deadline = platform::monotonic_ns() + static_cast<uint64_t>(deadline_ms) * 1000000u;
  while (connection.stream.owes_bytes()) {
    WritePlan plan;
    connection.stream.flush_plan(plan);
    iovec buffers[kMaxSpans];
    msghdr message{};
    message.msg_iov = buffers;
    message.msg_iovlen = to_iovecs(plan.spans, plan.count, buffers);
    ssize_t written = real().sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (written > 0) {
      connection.stream.commit_write(plan, static_cast<size_t>(written));
      continue;
    }
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    uint64_t now = platform::monotonic_ns();
    if (deadline_ms == 0 || now >= deadline) return false;
    pollfd room{fd, POLLOUT, 0};
    real().poll(&room, 1, static_cast<int>((deadline - now) / 1000000u) + 1);
  }
  return true;
}

// MSG_PEEK: the wire's next bytes are peeked into a window of the layer's, decoded with a copy of
// the stream's state, and the program's bytes among them copied out. A window too small for what
// is available grows; bytes of the stream's own with no data behind them are taken off the wire
// for real (they are not the program's) and the peek is made again.
ssize_t emulated_peek(int fd, EmulatedConnection& connection, const ProgramCall& call,
                      size_t total) {
  Span spans[kMaxSpans];
  AppBuffers app(spans, program_spans(call, 0, spans));
  constexpr size_t kLargestWindow = 4u << 20;
  size_t window = total + kHelloSize + kFrameHeaderSize;
  std::unique_ptr<uint8_t[]> buffer;
  size_t capacity = 0;
  for (int round = 0; round < 64; ++round) {
    window = window < kLargestWindow ? window : kLargestWindow;
    if (capacity < window) {
      buffer.reset(new (std::nothrow) uint8_t[window]);
      if (!buffer) return fail(ENOBUFS);
      capacity = window;
    }
    msghdr message = with_buffers(call, nullptr, 0);
    iovec whole{buffer.get(), window};
    message.msg_iov = &whole;
    message.msg_iovlen = 1;
    ssize_t got = real().recvmsg(fd, &message, call.flags & ~MSG_WAITALL);
    hand_back(call, message);
    if (got <= 0) return got;
    ReadOutcome outcome = connection.stream.peek(buffer.get(), static_cast<size_t>(got), app);
    if (outcome.app_bytes > 0) {
      bool all_seen = static_cast<size_t>(got) < window || window == kLargestWindow;
      if (outcome.app_bytes == total || all_seen) return static_cast<ssize_t>(outcome.app_bytes);
      window *= 2;
      continue;
    }
    if (outcome.error != FrameError::kNone) {
      abort_connection(fd, connection, outcome.error);
      return fail(ECONNABORTED);
    }
    ssize_t taken = real().recv(fd, buffer.get(), static_cast<size_t>(got), MSG_DONTWAIT);
    if (taken > 0) connection.stream.absorb(buffer.get(), static_cast<size_t>(taken));
  }
  return fail(EAGAIN);
}

}  // namespace


ssize_t emulated_send(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept {
  std::lock_guard<std::mutex> hold(connection.writing);
  if (connection.aborted.load(std::memory_order_relaxed)) return fail(ECONNABORTED);
  size_t total = program_total(call);
  if (total == 0 || connection.stream.disconnect_queued()) {
    // Nothing to frame, or nothing may follow the DISCONNECT: the kernel answers (EPIPE after
    // the shutdown that follows it).
    iovec none{};
    msghdr message = with_buffers(call, &none, 0);
    return real().sendmsg(fd, &message, call.flags);
  }
  size_t sent = 0;
  for (int round = 0; round < 1 << 20; ++round) {
    Span spans[kMaxSpans];
    AppBuffers app(spans, program_spans(call, sent, spans));
    WritePlan plan;
    connection.stream.plan_write(app, plan);
    iovec buffers[kMaxSpans];
    msghdr message = with_buffers(call, buffers, to_iovecs(plan.spans, plan.count, buffers));
    ssize_t written = real().sendmsg(fd, &message, call.flags);
    if (written < 0) return sent > 0 ? static_cast<ssize_t>(sent) : -1;
    sent += connection.stream.commit_write(plan, static_cast<size_t>(written));
    if (sent == total) return static_cast<ssize_t>(sent);
    // Short: the kernel took what it had room for. Tell the program, as the kernel would; if
    // only the stream's own bytes went, ask again (a blocking socket waits, another says EAGAIN).
    if (static_cast<size_t>(written) < plan.raw_length && sent > 0) {
      return static_cast<ssize_t>(sent);
    }
  }
  return static_cast<ssize_t>(sent);
}

ssize_t emulated_receive(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept {
  std::lock_guard<std::mutex> hold(connection.reading);
  if (connection.aborted.load(std::memory_order_relaxed)) return fail(ECONNABORTED);
  size_t total = program_total(call);
  if (total == 0 || (call.flags & MSG_OOB) != 0) {  // urgent data is outside the stream
    msghdr message = with_buffers(call, const_cast<iovec*>(call.buffers), static_cast<size_t>(call.count));
    ssize_t result = real().recvmsg(fd, &message, call.flags);
    hand_back(call, message);
    return result;
  }
  if ((call.flags & MSG_PEEK) != 0) return emulated_peek(fd, connection, call, total);
  bool wait_all = (call.flags & MSG_WAITALL) != 0;
  int flags = call.flags & ~MSG_WAITALL;
  size_t delivered = 0;
  for (int round = 0; round < 1 << 20; ++round) {
    if (connection.stream.error() != FrameError::kNone) {
      abort_connection(fd, connection, connection.stream.error());
      return delivered > 0 ? static_cast<ssize_t>(delivered) : fail(ECONNABORTED);
    }
    Span spans[kMaxSpans];
    AppBuffers app(spans, program_spans(call, delivered, spans));
    ReadPlan plan;
    connection.stream.plan_read(app, plan);
    iovec buffers[kMaxSpans];
    msghdr message = with_buffers(call, buffers, to_iovecs(plan.spans, plan.count, buffers));
    // Once the program has bytes, only what is there now is added to them (as the kernel does).
    int now = delivered > 0 && !wait_all ? MSG_DONTWAIT : 0;
    ssize_t got = real().recvmsg(fd, &message, flags | now);
    hand_back(call, message);
    if (got < 0) return delivered > 0 ? static_cast<ssize_t>(delivered) : -1;
    if (got == 0) {  // the peer's end: clean, or inside its DISCONNECT record
      FrameError end = connection.stream.finish();
      if (end != FrameError::kNone) {
        abort_connection(fd, connection, end);
        return delivered > 0 ? static_cast<ssize_t>(delivered) : fail(ECONNABORTED);
      }
      return static_cast<ssize_t>(delivered);
    }
    ReadOutcome outcome = connection.stream.finish_read(plan, app, static_cast<size_t>(got));
    delivered += outcome.app_bytes;
    if (outcome.error != FrameError::kNone) continue;  // deliver what came before, then abort
    if (delivered == total) return static_cast<ssize_t>(delivered);
    // The read took all it was laid out for: more may be waiting (records shorter than the
    // layout guessed leave less data than room). Otherwise the program has what there was.
    bool drained = static_cast<size_t>(got) < plan.raw_length;
    if (delivered > 0 && drained && !wait_all) return static_cast<ssize_t>(delivered);
    // Nothing for the program yet (a header, the HELLO): read on. A blocking socket waits for
    // the payload behind it; another says EAGAIN.
  }
  return static_cast<ssize_t>(delivered);
}

void flush_before_shutdown(int fd, EmulatedConnection& connection) noexcept {
  std::lock_guard<std::mutex> hold(connection.writing);
  flush_owed(fd, connection, 0);
}

int emulated_send_disconnect(int fd, EmulatedConnection& connection, const void* data,
                             size_t length, int& error) noexcept {
  std::lock_guard<std::mutex> hold(connection.writing);
  error = 0;
  if (connection.aborted.load(std::memory_order_relaxed)) {
    error = ECONNABORTED;
  } else if (length > kMaxDisconnectData) {
    error = EINVAL;  // what a disconnect-data provider answers for more than it carries
  } else if (connection.stream.owes_data()) {
    error = EAGAIN;  // the program has not finished the send it started
  } else if (!connection.stream.queue_disconnect(static_cast<const uint8_t*>(data),
                                                 data == nullptr ? 0 : length)) {
    error = EPIPE;  // already sent
  } else if (!flush_owed(fd, connection, kDisconnectFlushMs)) {
    error = errno == EAGAIN || errno == EWOULDBLOCK ? ECONNABORTED : errno;
    if (error == ECONNABORTED) abort_connection(fd, connection, FrameError::kNone);
  } else if (real().shutdown(fd, SHUT_WR) != 0) {
    error = errno;
  }
  return error == 0 ? 0 : -1;
}

ssize_t emulated_recv_disconnect(int fd, EmulatedConnection& connection, void* buffer,
                                 size_t capacity, int& error) noexcept {
  std::lock_guard<std::mutex> hold(connection.reading);
  error = 0;
  if (connection.aborted.load(std::memory_order_relaxed)) {
    error = ECONNABORTED;
    return -1;
  }
  // The DISCONNECT record may still be behind data the program will now never read.
  uint8_t discarded[4096];
  for (int read = 0; read < kDiscardReads && !connection.stream.disconnect_arrived(); ++read) {
    ssize_t got = real().recv(fd, discarded, sizeof(discarded), MSG_DONTWAIT);
    if (got <= 0) break;
    if (connection.stream.absorb(discarded, static_cast<size_t>(got)) != FrameError::kNone) {
      abort_connection(fd, connection, connection.stream.error());
      error = ECONNABORTED;
      return -1;
    }
  }
  size_t length = connection.stream.disconnect_arrived() ? connection.stream.disconnect_length() : 0;
  if (buffer != nullptr && capacity > 0 && length > capacity) {
    error = EMSGSIZE;  // Winsock: WSAEFAULT, the buffer is too small; the data stays
    return -1;
  }
  if (real().shutdown(fd, SHUT_RD) != 0 && errno != ENOTCONN) {
    error = errno;
    return -1;
  }
  if (buffer == nullptr || capacity == 0) return 0;
  std::memcpy(buffer, connection.stream.disconnect_data(), length);
  return static_cast<ssize_t>(length);
}

}  // namespace teardown::preload
