// The data calls of an emulated connection, written once for both layers: each layer supplies
// an Io that makes its own system calls (the Linux layer: sendmsg/recvmsg; the Windows LSP: the
// provider below's WSPSend/WSPRecv) and speaks its own error numbers. The program sees what the
// plain calls would give it: the same counts, blocking, "would block", end of stream.
//
// No lock is held across a call that can block. The connection's locks cover only calls that
// return at once (the Io's write and read never wait); when the program's call must wait, the
// lock is let go and the Io waits the way the plain call would (its timeouts, its signals), so
// that shutdown, close and the other direction on other threads are never held up by it. Two
// threads writing at once may interleave their bytes, as on a plain stream socket; each record
// stays whole.
//
// An Io provides:
//   long write(const Span* spans, size_t count, bool own)   bytes written, or -1; never waits.
//       `own`: only the stream's own bytes (a flush), not the program's
//   long read(const Span* spans, size_t count, bool peek)   bytes, 0 at the end of the stream,
//       or -1; never waits
//   bool would_block() const   the last write or read failed for want of room or data
//   bool program_waits()   the program's call blocks (a blocking socket, no don't-wait flag)
//   bool wait_for_room()   waits, as the program's blocked send would, until the wire may take
//       more; false when the program's call must end now (its timeout, a signal, an error),
//       with that error left for the caller
//   bool wait_for_data(bool holding)   the same for a receive: until there may be bytes or an end
//       to read. `holding`: the call already has bytes for the program, so an error that arrives
//       meanwhile must be left pending for the program's next call, not taken
//   bool error_pending()   the connection has an error waiting (reset, say) that the next call
//       would take; asked, without taking it, before a call that already moved bytes makes
//       another (the plain call returns the bytes and leaves the error for the next one)
//   void wait_writable(int milliseconds)   returns when there may be room, or the time is up
//   bool at_urgent_mark()   the next byte to read is the peer's urgent byte, read in line (asked
//       only when the program set SO_OOBINLINE)
//   long write_urgent(const uint8_t* byte)   sends the one byte as urgent data (MSG_OOB): 1, or
//       -1; never waits
//   void abort(FrameError why)   resets the connection; records why when it is a framing error
//   void fail(CallError error)   the call's error, in the layer's numbers, for the calls below
// A -1 from write or read, or a false from a wait, leaves the system's error where the layer's
// caller finds it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "emulated_connection.h"
#include "platform.h"

namespace teardown {

// The errors the framed calls make themselves.
enum class CallError {
  kAborted,      // the connection was reset after a framing error (WSAECONNABORTED)
  kWouldBlock,   // a send the program has not finished (WSAEWOULDBLOCK)
  kInvalid,      // more disconnect data than the limit (WSAEINVAL)
  kShutDown,     // disconnect data already sent (WSAESHUTDOWN / EPIPE)
  kMessageSize,  // the buffer is too small for the disconnect data (WSAEFAULT / EMSGSIZE)
  kNoBuffers,    // no memory for a peek's window (WSAENOBUFS)
};

// How long a send-disconnect waits for room for its record on a send buffer the peer has let
// fill up, before it gives up and resets the connection.
constexpr int kDisconnectFlushMs = 2000;

// A program's buffers (iovecs, WSABUFs) as spans: on the stack for the usual few.
class SpanList {
 public:
  template <typename Buffer, typename ToSpan>
  SpanList(const Buffer* buffers, size_t count, ToSpan to_span) {
    if (count > kMaxSpans) heap_.resize(count);
    Span* out = count > kMaxSpans ? heap_.data() : local_;
    for (size_t i = 0; i < count; ++i) out[i] = to_span(buffers[i]);
    spans_ = out;
    count_ = count;
  }
  SpanList(const SpanList&) = delete;
  SpanList& operator=(const SpanList&) = delete;

  const Span* spans() const { return spans_; }
  size_t count() const { return count_; }

 private:
  Span local_[kMaxSpans];
  std::vector<Span> heap_;
  const Span* spans_ = nullptr;
  size_t count_ = 0;
};

// The program's buffers from flat offset `skip` on, at most `room` of them.
inline size_t spans_from(const Span* buffers, size_t count, size_t skip, Span* out, size_t room) {
  size_t used = 0;
  for (size_t i = 0; i < count && used < room; ++i) {
    if (skip >= buffers[i].length) {
      skip -= buffers[i].length;
      continue;
    }
    out[used++] = Span{buffers[i].data + skip, buffers[i].length - skip};
    skip = 0;
  }
  return used;
}

inline size_t spans_total(const Span* buffers, size_t count) {
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += buffers[i].length;
  return total;
}

// Writes what the stream owes; with `wait_ms`, waits up to that long for room (without the
// lock). True when nothing is owed any more.
template <typename Io>
bool flush_owed(Io& io, EmulatedConnection& connection, int wait_ms) {
  uint64_t deadline = platform::monotonic_ns() + static_cast<uint64_t>(wait_ms) * 1000000u;
  for (;;) {
    long written;
    {
      std::lock_guard<std::mutex> hold(connection.writing);
      if (!connection.stream.owes_bytes()) return true;
      WritePlan plan;
      connection.stream.flush_plan(plan);
      written = io.write(plan.spans, plan.count, true);
      if (written > 0) {
        connection.stream.commit_write(plan, static_cast<size_t>(written));
        continue;
      }
    }
    uint64_t now = platform::monotonic_ns();
    if (written < 0 && !io.would_block()) return false;
    if (now >= deadline) return false;
    io.wait_writable(static_cast<int>((deadline - now) / 1000000u) + 1);
  }
}

// A send of the program's `buffers`: the records laid around them. A program that does not wait
// gets what the wire took at once; one that waits gets everything, or what went before its wait
// ended (a timeout, a signal, the connection's end), as the plain send does.
template <typename Io>
long framed_send(Io& io, EmulatedConnection& connection, const Span* buffers, size_t count) {
  size_t total = spans_total(buffers, count);
  size_t sent = 0;
  for (int round = 0; round < (1 << 20); ++round) {
    long written;
    bool all_taken;
    {
      std::lock_guard<std::mutex> hold(connection.writing);
      if (connection.aborted.load(std::memory_order_relaxed)) {
        if (sent > 0) return static_cast<long>(sent);
        io.fail(CallError::kAborted);
        return -1;
      }
      if (connection.stream.disconnect_queued()) {
        if (sent > 0) return static_cast<long>(sent);
        io.fail(CallError::kShutDown);  // nothing may follow the DISCONNECT
        return -1;
      }
      Span window[kMaxSpans];
      AppBuffers app(window, spans_from(buffers, count, sent, window, kMaxSpans));
      WritePlan plan;
      connection.stream.plan_write(app, plan);
      if (sent > 0 && io.error_pending()) return static_cast<long>(sent);
      written = io.write(plan.spans, plan.count, false);
      if (written >= 0) sent += connection.stream.commit_write(plan, static_cast<size_t>(written));
      all_taken = written >= 0 && static_cast<size_t>(written) == plan.raw_length;
    }
    if (sent == total) break;
    if (written < 0) {
      if (!io.would_block() || !io.program_waits() || !io.wait_for_room()) {
        return sent > 0 ? static_cast<long>(sent) : -1;
      }
      continue;
    }
    // Short: the system took what it had room for. A program that does not wait is told, as
    // the system would tell it; if only the stream's own bytes went, it is asked again (and
    // refused). A waiting program's send goes on.
    if (!all_taken && sent > 0 && !io.program_waits()) break;
  }
  return static_cast<long>(sent);
}

// A send with MSG_OOB: the bytes before the last are framed as any send's, and the last, the
// urgent byte, goes as it is, between two records: the receiving system takes it out of the
// stream (or the program reads it in line: see framed_receive), so the records stay whole. Sent
// with the records, the urgent mark would fall on a record's byte, and the peer would lose it.
// Never inside a record: while another thread has one open the urgent byte is refused (a short
// send, as the plain call's may be); for room it waits as the plain send would.
template <typename Io>
long framed_send_urgent(Io& io, EmulatedConnection& connection, const Span* buffers, size_t count) {
  size_t total = spans_total(buffers, count);
  const uint8_t* urgent = nullptr;
  for (size_t i = count; i-- > 0 && urgent == nullptr;) {
    if (buffers[i].length > 0) urgent = buffers[i].data + buffers[i].length - 1;
  }
  if (urgent == nullptr) return 0;
  if (total > 1) {
    Span before[kMaxSpans];
    size_t used = 0, room = total - 1;
    for (size_t i = 0; i < count && used < kMaxSpans && room > 0; ++i) {
      size_t length = buffers[i].length < room ? buffers[i].length : room;
      before[used++] = Span{buffers[i].data, length};
      room -= length;
    }
    long sent = framed_send(io, connection, before, used);
    if (sent < 0 || static_cast<size_t>(sent) < total - 1) return sent;
  }
  long before = total > 1 ? static_cast<long>(total - 1) : -1;
  for (;;) {
    long result;
    {
      std::lock_guard<std::mutex> hold(connection.writing);
      if (connection.stream.owes_data() || connection.stream.owes_bytes()) {
        if (before < 0) io.fail(CallError::kWouldBlock);
        return before;
      }
      result = io.write_urgent(urgent);
    }
    if (result >= 0) return static_cast<long>(total);
    if (!io.would_block() || !io.program_waits() || !io.wait_for_room()) return before;
  }
}

// Whether the next byte on the wire is the peer's urgent byte, read in line: the program set
// SO_OOBINLINE, no record is begun, and the system says the mark is next.
template <typename Io>
bool urgent_byte_next(Io& io, EmulatedConnection& connection) {
  return connection.urgent_inline.load(std::memory_order_relaxed) &&
         connection.stream.at_record_boundary() && io.at_urgent_mark();
}

// Reads (or peeks) that urgent byte alone into the first byte of `app`'s buffers: 1, or what the
// read returned.
template <typename Io>
long read_urgent_byte(Io& io, const Span* app, size_t count, bool peek) {
  for (size_t i = 0; i < count; ++i) {
    if (app[i].length == 0) continue;
    Span one{app[i].data, 1};
    return io.read(&one, 1, peek);
  }
  return 0;
}

// MSG_PEEK: the wire's next bytes are peeked into a window of the layer's, decoded with a copy of
// the stream's state, and the program's bytes among them copied out. A window too small for what
// is there grows; bytes of the stream's own with no data behind them are taken off the wire for
// real (they are not the program's) and the peek is made again. Called with the reading lock
// held; returns with it held. When the program must wait for bytes, the lock is let go meanwhile.
template <typename Io>
long framed_peek(Io& io, EmulatedConnection& connection, std::unique_lock<std::mutex>& held,
                 const Span* buffers, size_t count) {
  constexpr size_t kLargestWindow = 4u << 20;
  Span first[kMaxSpans];
  size_t spans = spans_from(buffers, count, 0, first, kMaxSpans);
  AppBuffers app(first, spans);
  size_t total = app.total();
  if (urgent_byte_next(io, connection)) {
    long got = read_urgent_byte(io, first, spans, true);
    if (got == 1) return 1;  // a short peek, as a plain one may be
  }
  size_t window = total + kHelloSize + kFrameHeaderSize;
  std::unique_ptr<uint8_t[]> bytes;
  size_t capacity = 0;
  for (int round = 0; round < (1 << 20); ++round) {
    window = window < kLargestWindow ? window : kLargestWindow;
    if (capacity < window) {
      bytes.reset(new (std::nothrow) uint8_t[window]);
      if (!bytes) {
        io.fail(CallError::kNoBuffers);
        return -1;
      }
      capacity = window;
    }
    Span whole{bytes.get(), window};
    long got = io.read(&whole, 1, true);
    if (got < 0 && io.would_block() && io.program_waits()) {
      held.unlock();
      bool ready = io.wait_for_data(false);
      held.lock();
      if (!ready) return -1;
      if (connection.aborted.load(std::memory_order_relaxed)) {
        io.fail(CallError::kAborted);
        return -1;
      }
      continue;
    }
    if (got <= 0) return got;
    ReadOutcome outcome = connection.stream.peek(bytes.get(), static_cast<size_t>(got), app);
    if (outcome.app_bytes > 0) {
      bool all_seen = static_cast<size_t>(got) < window || window == kLargestWindow;
      if (outcome.app_bytes == total || all_seen) return static_cast<long>(outcome.app_bytes);
      window *= 2;
      continue;
    }
    if (outcome.error != FrameError::kNone) {
      connection.aborted.store(true, std::memory_order_relaxed);
      io.abort(outcome.error);
      io.fail(CallError::kAborted);
      return -1;
    }
    Span own{bytes.get(), static_cast<size_t>(got)};
    long taken = io.read(&own, 1, false);
    if (taken > 0) connection.stream.absorb(bytes.get(), static_cast<size_t>(taken));
  }
  io.fail(CallError::kWouldBlock);
  return -1;
}

// A receive into the program's `buffers`: what the plain receive would give, the records taken
// off. `wait_all`: MSG_WAITALL.
template <typename Io>
long framed_receive(Io& io, EmulatedConnection& connection, const Span* buffers, size_t count,
                    bool peek, bool wait_all) {
  std::unique_lock<std::mutex> held(connection.reading);
  if (connection.aborted.load(std::memory_order_relaxed)) {
    io.fail(CallError::kAborted);
    return -1;
  }
  if (peek) return framed_peek(io, connection, held, buffers, count);
  size_t total = spans_total(buffers, count);
  size_t delivered = 0;
  auto failed = [&](FrameError why) -> long {
    connection.aborted.store(true, std::memory_order_relaxed);
    io.abort(why);
    if (delivered > 0) return static_cast<long>(delivered);
    io.fail(CallError::kAborted);
    return -1;
  };
  for (int round = 0; round < (1 << 20); ++round) {
    if (connection.aborted.load(std::memory_order_relaxed)) {
      if (delivered > 0) return static_cast<long>(delivered);
      io.fail(CallError::kAborted);
      return -1;
    }
    if (connection.stream.error() != FrameError::kNone) return failed(connection.stream.error());
    Span window[kMaxSpans];
    size_t spans = spans_from(buffers, count, delivered, window, kMaxSpans);
    AppBuffers app(window, spans);
    if (urgent_byte_next(io, connection)) {
      // The peer's MSG_OOB byte, in line: raw, between records, the program's next byte, as on
      // a plain connection (a read stops before the mark, so none went into the records).
      long got = read_urgent_byte(io, window, spans, false);
      if (got == 1) {
        delivered += 1;
        if (delivered == total) break;
        continue;
      }
    }
    ReadPlan plan;
    connection.stream.plan_read(app, plan);
    if (delivered > 0 && io.error_pending()) return static_cast<long>(delivered);
    long got = io.read(plan.spans, plan.count, false);
    if (got < 0) {
      // Once the program has bytes, only what is there now is added to them (as the system
      // does), unless it asked for all; a program that waits waits without the lock.
      if (!io.would_block() || (delivered > 0 && !wait_all) || !io.program_waits()) {
        return delivered > 0 ? static_cast<long>(delivered) : -1;
      }
      held.unlock();
      bool ready = io.wait_for_data(delivered > 0);
      held.lock();
      if (!ready) return delivered > 0 ? static_cast<long>(delivered) : -1;
      continue;
    }
    if (got == 0) {  // the peer's end: clean, or inside its DISCONNECT record
      FrameError end = connection.stream.finish();
      return end == FrameError::kNone ? static_cast<long>(delivered) : failed(end);
    }
    ReadOutcome outcome = connection.stream.finish_read(plan, app, static_cast<size_t>(got));
    delivered += outcome.app_bytes;
    if (outcome.error != FrameError::kNone) continue;  // deliver what came before, then abort
    if (delivered == total) break;
    // The read took all it was laid out for: more may be waiting (records shorter than the
    // layout guessed leave less data than room). Otherwise the program has what there was.
    bool drained = static_cast<size_t>(got) < plan.raw_length;
    if (delivered > 0 && drained && !wait_all) break;
    // Nothing for the program yet (a header, the HELLO): read on. A program that waits waits
    // for the payload behind it; another is refused.
  }
  return static_cast<long>(delivered);
}

// FIONREAD on an emulated connection: the program's bytes that a receive would return now, not
// the wire's (whose records' headers are the stream's own). `wire_bytes`: what the system says
// is waiting. -1 with the error given to io.fail when no memory can be had to look.
template <typename Io>
long framed_available(Io& io, EmulatedConnection& connection, size_t wire_bytes) {
  constexpr size_t kLargestLook = 4u << 20;
  if (wire_bytes == 0) return 0;
  size_t length = wire_bytes < kLargestLook ? wire_bytes : kLargestLook;
  std::unique_ptr<uint8_t[]> raw(new (std::nothrow) uint8_t[length]);
  std::unique_ptr<uint8_t[]> app_bytes(new (std::nothrow) uint8_t[length]);
  if (!raw || !app_bytes) {
    io.fail(CallError::kNoBuffers);
    return -1;
  }
  std::lock_guard<std::mutex> hold(connection.reading);
  Span whole{raw.get(), length};
  long got = io.read(&whole, 1, true);
  if (got <= 0) return 0;
  Span out{app_bytes.get(), length};
  AppBuffers app(&out, 1);
  return static_cast<long>(connection.stream.peek(raw.get(), static_cast<size_t>(got), app).app_bytes);
}

// Before a shutdown of sending: the stream's own owed bytes, if the wire takes them now.
template <typename Io>
void flush_before_shutdown(Io& io, EmulatedConnection& connection) {
  flush_owed(io, connection, 0);
}

// The DISCONNECT record with `data`, written whole (waiting a while for room if it must); the
// caller then shuts down sending. False with the error given to io.fail, or left by the system.
template <typename Io>
bool framed_send_disconnect(Io& io, EmulatedConnection& connection, const uint8_t* data,
                            size_t length) {
  {
    std::lock_guard<std::mutex> hold(connection.writing);
    if (connection.aborted.load(std::memory_order_relaxed)) {
      io.fail(CallError::kAborted);
      return false;
    }
    if (length > kMaxDisconnectData) {
      io.fail(
          CallError::kInvalid);  // what a disconnect-data provider answers for more than it carries
      return false;
    }
    if (connection.stream.owes_data()) {
      io.fail(CallError::kWouldBlock);  // the program has not finished the send it started
      return false;
    }
    if (!connection.stream.queue_disconnect(data, length)) {
      io.fail(CallError::kShutDown);  // already sent
      return false;
    }
  }
  if (flush_owed(io, connection, kDisconnectFlushMs)) return true;
  if (io.would_block()) {  // the peer let its window fill and kept it so: give up, loudly
    connection.aborted.store(true, std::memory_order_relaxed);
    io.abort(FrameError::kNone);
    io.fail(CallError::kAborted);
  }
  return false;
}

// The peer's disconnect data, once its DISCONNECT record has been read; what the program had not
// read before it is discarded (a receive-disconnect ends receiving). Returns the bytes copied to
// `buffer` (0 when there is no buffer, or no record yet), or -1.
template <typename Io>
long framed_recv_disconnect(Io& io, EmulatedConnection& connection, uint8_t* buffer,
                            size_t capacity) {
  constexpr int kDiscardReads = 256;
  std::lock_guard<std::mutex> hold(connection.reading);
  if (connection.aborted.load(std::memory_order_relaxed)) {
    io.fail(CallError::kAborted);
    return -1;
  }
  uint8_t discarded[4096];
  for (int read = 0; read < kDiscardReads && !connection.stream.disconnect_arrived(); ++read) {
    Span scratch{discarded, sizeof(discarded)};
    long got = io.read(&scratch, 1, false);
    if (got <= 0) break;
    if (connection.stream.absorb(discarded, static_cast<size_t>(got)) != FrameError::kNone) {
      connection.aborted.store(true, std::memory_order_relaxed);
      io.abort(connection.stream.error());
      io.fail(CallError::kAborted);
      return -1;
    }
  }
  size_t length = connection.stream.disconnect_arrived() ? connection.stream.disconnect_length() : 0;
  if (buffer == nullptr || capacity == 0) return 0;
  if (length > capacity) {
    io.fail(CallError::kMessageSize);  // the data stays, for a larger buffer
    return -1;
  }
  if (length > 0) std::memcpy(buffer, connection.stream.disconnect_data(), length);
  return static_cast<long>(length);
}

}  // namespace teardown
