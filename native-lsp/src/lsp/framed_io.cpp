#include "framed_io.h"

#include <vector>

#include "../core/framed_calls.h"
#include "../core/platform.h"
#include "recorder.h"

namespace teardown::lsp {

namespace {

size_t capture(const WSABUF* buffers, DWORD count, Span* out) {
  size_t used = 0;
  for (DWORD i = 0; i < count && used < kMaxSpans; ++i) {
    out[used++] = Span{reinterpret_cast<uint8_t*>(buffers[i].buf), buffers[i].len};
  }
  return used;
}

DWORD to_wsabufs(const Span* spans, size_t count, WSABUF* out) {
  for (size_t i = 0; i < count; ++i) {
    out[i].buf = reinterpret_cast<char*>(spans[i].data);
    out[i].len = static_cast<ULONG>(spans[i].length);
  }
  return static_cast<DWORD>(count);
}

// The framed calls' calls on the provider below, errors as Winsock's.
class LowerIo {
 public:
  LowerIo(SocketContext& context, DWORD flags, const sockaddr* to, int to_length, sockaddr* from,
          LPINT from_length)
      : context_(context), procs_(context.provider->procs), flags_(flags), to_(to),
        to_length_(to_length), from_(from), from_length_(from_length) {}

  // The framed calls' writes and reads never wait: the provider's call is made only once
  // select says it will not block.
  // The records go without MSG_OOB: an urgent byte is sent alone (write_urgent).
  long write(const Span* spans, size_t count, bool /*own*/) {
    if (!ready(false, 0)) return would_block_now();
    return send_below(spans, count, flags_ & ~static_cast<DWORD>(MSG_OOB));
  }

  long write_urgent(const uint8_t* byte) {
    if (!ready(false, 0)) return would_block_now();
    Span one{const_cast<uint8_t*>(byte), 1};
    return send_below(&one, 1, flags_ | MSG_OOB);
  }

  long read(const Span* spans, size_t count, bool peek) {
    if (!ready(true, 0)) return would_block_now();
    return read_now(spans, count, peek);
  }

  // The program's own call, passed below as it is (it may wait): empty buffers.
  long write_now(const Span* spans, size_t count) { return send_below(spans, count, flags_); }

  long send_below(const Span* spans, size_t count, DWORD flags) {
    WSABUF buffers[kMaxSpans];
    DWORD n = to_wsabufs(spans, count, buffers);
    DWORD sent = 0;
    int result = to_ == nullptr
                     ? procs_.lpWSPSend(context_.lower, buffers, n, &sent, flags, nullptr, nullptr,
                                        nullptr, &error_)
                     : procs_.lpWSPSendTo(context_.lower, buffers, n, &sent, flags, to_, to_length_,
                                          nullptr, nullptr, nullptr, &error_);
    return result == 0 ? static_cast<long>(sent) : -1;
  }

  long read_now(const Span* spans, size_t count, bool peek) {
    WSABUF buffers[kMaxSpans];
    DWORD n = to_wsabufs(spans, count, buffers);
    DWORD received = 0;
    DWORD flags = (flags_ & ~static_cast<DWORD>(MSG_WAITALL | MSG_PEEK)) | (peek ? MSG_PEEK : 0);
    int result = procs_.lpWSPRecvFrom(context_.lower, buffers, n, &received, &flags, from_,
                                      from_length_, nullptr, nullptr, nullptr, &error_);
    return result == 0 ? static_cast<long>(received) : -1;
  }

  bool would_block() const { return error_ == WSAEWOULDBLOCK; }

  bool program_waits() const { return !context_.teardown.nonblocking(); }

  // A blocked send or receive waits for its socket within SO_SNDTIMEO / SO_RCVTIMEO, and fails
  // with WSAETIMEDOUT when that runs out, as Windows' own blocking calls do.
  bool wait_for_room() { return wait_until_ready(false, SO_SNDTIMEO); }
  bool wait_for_data(bool /*holding*/) { return wait_until_ready(true, SO_RCVTIMEO); }

  // Winsock keeps a connection's reset for every later call: no call takes it away.
  bool error_pending() const { return false; }

  // Never asked: the LSP does not follow SO_OOBINLINE (urgent bytes stay outside the records).
  bool at_urgent_mark() const { return false; }

  void wait_writable(int milliseconds) { ready(false, milliseconds); }

  void abort(FrameError why) { abort_connection(context_, why); }

  void fail(CallError error) {
    switch (error) {
      case CallError::kAborted: error_ = WSAECONNABORTED; break;
      case CallError::kWouldBlock: error_ = WSAEWOULDBLOCK; break;
      case CallError::kInvalid: error_ = WSAEINVAL; break;
      case CallError::kShutDown: error_ = WSAESHUTDOWN; break;
      case CallError::kMessageSize: error_ = WSAEFAULT; break;
      case CallError::kNoBuffers: error_ = WSAENOBUFS; break;
    }
  }

  int error() const { return error_; }

  // Resets the connection without closing the application's handle: the lower socket lingers
  // {1, 0}, so its close resets, and stops receiving, which resets at once when the peer's data
  // is queued or arrives (as Windows does after SD_RECEIVE). Records why, for a framing error.
  static void abort_connection(SocketContext& context, FrameError why) {
    linger hard{1, 0};
    int ignored = 0;
    context.provider->procs.lpWSPSetSockOpt(context.lower, SOL_SOCKET, SO_LINGER,
                                            reinterpret_cast<const char*>(&hard), sizeof(hard),
                                            &ignored);
    context.teardown.set_linger(true, 0);
    context.provider->procs.lpWSPShutdown(context.lower, SD_RECEIVE, &ignored);
    td_event_record event;
    if (why != FrameError::kNone && context.teardown.on_framing_failure(static_cast<uint8_t>(why), event)) {
      emit(context, event);
    }
  }

 private:
  long would_block_now() {
    error_ = WSAEWOULDBLOCK;
    return -1;
  }

  bool wait_until_ready(bool readable, int timeout_option) {
    DWORD timeout = 0;
    int length = sizeof(timeout);
    int ignored = 0;
    if (procs_.lpWSPGetSockOpt(context_.lower, SOL_SOCKET, timeout_option,
                               reinterpret_cast<char*>(&timeout), &length, &ignored) != 0) {
      timeout = 0;
    }
    int ready_now = select_one(readable, timeout == 0 ? -1 : static_cast<int>(timeout));
    if (ready_now > 0) return true;
    if (ready_now == 0) error_ = WSAETIMEDOUT;
    return false;
  }

  // Whether the lower socket is readable (data or its end) or writable within `milliseconds`.
  bool ready(bool readable, int milliseconds) { return select_one(readable, milliseconds) > 0; }

  // WSPSelect on the lower socket alone: 1 ready, 0 timed out, -1 failed (error_ set).
  // `milliseconds` < 0: no time limit.
  int select_one(bool readable, int milliseconds) {
    fd_set set;
    set.fd_count = 1;
    set.fd_array[0] = context_.lower;
    timeval wait{milliseconds / 1000, (milliseconds % 1000) * 1000};
    int result = procs_.lpWSPSelect(0, readable ? &set : nullptr, readable ? nullptr : &set,
                                    nullptr, milliseconds < 0 ? nullptr : &wait, &error_);
    return result == SOCKET_ERROR ? -1 : result;
  }

  SocketContext& context_;
  const WSPPROC_TABLE& procs_;
  DWORD flags_;
  const sockaddr* to_;
  int to_length_;
  sockaddr* from_;
  LPINT from_length_;
  int error_ = 0;
};

// The application's WSABUFs as spans.
SpanList app_spans(const WSABUF* buffers, DWORD count) {
  return SpanList(buffers, count, [](const WSABUF& buffer) {
    return Span{reinterpret_cast<uint8_t*>(buffer.buf), buffer.len};
  });
}

void issue_receive(Request* request, LPINT error_out);

// The connection's next waiting receive goes below, or none is reading any more.
void next_receive(SocketContext& context) {
  for (;;) {
    Request* next = nullptr;
    {
      std::lock_guard<std::mutex> held(context.framed_lock);
      if (context.framed_waiting.empty()) {
        context.framed_reading = false;
        return;
      }
      next = context.framed_waiting.front();
      context.framed_waiting.pop_front();
    }
    if (!context.closing.load(std::memory_order_acquire)) {
      issue_receive(next, nullptr);
      return;
    }
    complete(next, WSA_OPERATION_ABORTED, 0, 0);
  }
}

// Ends a receive and lets the next one go below.
void finish_receive(Request* request, int error, DWORD bytes) {
  SocketRef context = SocketRef::share(*request->context);
  complete(request, error, bytes, 0);
  next_receive(*context);
}

// Lays out the read below for `request` and starts it. A failure at once completes it: through
// `error_out` when the application's call is still running, else through its overlapped.
void issue_receive(Request* request, LPINT error_out) {
  SocketContext& context = *request->context;
  EmulatedConnection& connection = *request->framed->connection;
  int lower_error = WSAECONNABORTED;
  int result = SOCKET_ERROR;
  if (!connection.aborted.load(std::memory_order_relaxed)) {
    FramedRequest& framed = *request->framed;
    AppBuffers app(framed.app, framed.app_count);
    connection.stream.plan_read(app, framed.read);
    WSABUF buffers[kMaxSpans];
    DWORD n = to_wsabufs(framed.read.spans, framed.read.count, buffers);
    request->flags = request->flags_in & ~static_cast<DWORD>(MSG_WAITALL);
    enlist(request);  // its completion may be taken off the port again
    result = context.provider->procs.lpWSPRecv(context.lower, buffers, n, nullptr, &request->flags,
                                               &request->lower, nullptr, nullptr, &lower_error);
  }
  if (result == 0 || lower_error == WSA_IO_PENDING) {
    if (error_out != nullptr) *error_out = WSA_IO_PENDING;
    return;
  }
  delist(request);
  SocketRef kept = SocketRef::share(context);
  if (error_out != nullptr) {
    started(request, SOCKET_ERROR, lower_error, error_out);
  } else {
    complete(request, lower_error, 0, 0);
  }
  next_receive(*kept);
}

// The socket's emulated connection for a call about to use it; null with WSAECONNABORTED when a
// DisconnectEx on another thread has just ended it.
EmulatedConnection* connection_for(SocketContext& context, LPINT error) {
  EmulatedConnection* connection = emulation_of(context);
  if (connection == nullptr) *error = WSAECONNABORTED;
  return connection;
}

int result_of(long value, LPDWORD out, const LowerIo& io, LPINT error) {
  if (value < 0) {
    *error = io.error();
    return SOCKET_ERROR;
  }
  if (out != nullptr) *out = static_cast<DWORD>(value);
  return 0;
}

}  // namespace

namespace {

// Gives the socket an emulated connection (unless it has one).
void emulate(SocketContext& context) {
  if (context.emulation.load(std::memory_order_acquire) != nullptr) return;
  EmulatedConnection* connection = acquire_connection();
  EmulatedConnection* expected = nullptr;
  if (connection != nullptr &&
      !context.emulation.compare_exchange_strong(expected, connection, std::memory_order_acq_rel)) {
    release_connection(connection);  // another thread decided first
  }
}

}  // namespace

// Not emulated here: watch the first bytes for a peer that frames them.
void sniff(SocketContext& context) {
  if (context.emulation.load(std::memory_order_acquire) != nullptr) return;
  context.sniffer = HelloSniffer{};
  context.sniffing.store(true, std::memory_order_release);
}

bool emulation_possible(const SocketContext& context) {
  return !context.provider->ifs;
}

void start_emulation(SocketContext& context) {
  if (!emulation_possible(context)) return;
  const td_address& local = context.teardown.local();
  const td_address& remote = context.teardown.remote();
  if (remote.family == TD_FAMILY_NONE) return;
  Policy policy = producer().policy();
  if (policy.emulates(local.port, remote.port)) {
    emulate(context);
  } else if (policy.watches_for_framing() && !context.sniffing.load(std::memory_order_acquire)) {
    sniff(context);
  }
}

bool emulate_from_start(SocketContext& context, uint16_t local_port, uint16_t remote_port) {
  if (!emulation_possible(context)) return false;
  Policy policy = producer().policy();
  if (!policy.emulates(local_port, remote_port)) {
    // With no emulation configured, nothing is watched: Teardown changes nothing.
    if (policy.watches_for_framing()) sniff(context);
    return false;
  }
  emulate(context);
  return emulation_of(context) != nullptr;
}

bool framed_unexpectedly(SocketContext& context, const WSABUF* buffers, DWORD count, DWORD received) {
  if (received == 0 || buffers == nullptr || !context.sniffing.load(std::memory_order_acquire)) {
    return false;
  }
  SpanList spans = app_spans(buffers, count);
  HelloSniffer::Verdict verdict = sniff(context.sniffer, spans.spans(), spans.count(), received);
  if (verdict == HelloSniffer::Verdict::kUndecided) return false;
  context.sniffing.store(false, std::memory_order_release);
  if (verdict == HelloSniffer::Verdict::kNotHello) return false;
  LowerIo::abort_connection(context, FrameError::kUnexpected);
  return true;
}

void end_emulation(SocketContext& context) {
  release_connection(context.emulation.exchange(nullptr, std::memory_order_acq_rel));
}

bool frame_first_bytes(SocketContext& context, Request& request, const void* data, DWORD length) {
  EmulatedConnection* emulated = emulation_of(context);
  if (emulated == nullptr) return false;
  EmulatedConnection& connection = *emulated;
  std::lock_guard<std::mutex> held(connection.writing);
  request.framed.reset(new FramedRequest());
  FramedRequest& framed = *request.framed;
  framed.connection = emulated;
  Span app{static_cast<uint8_t*>(const_cast<void*>(data)), length};
  connection.stream.plan_write(AppBuffers(&app, 1), framed.write);
  if (framed.write.app_length != length) {
    request.framed.reset();
    return false;
  }
  for (size_t i = 0; i < framed.write.count; ++i) {
    const Span& span = framed.write.spans[i];
    framed.wire.insert(framed.wire.end(), span.data, span.data + span.length);
  }
  connection.stream.commit_write(framed.write, framed.write.raw_length);
  framed.app_length = length;
  return true;
}

void unframe_first_bytes_later(Request& request, void* buffer, DWORD length) {
  request.framed.reset(new FramedRequest());
  request.framed->app[0] = Span{static_cast<uint8_t*>(buffer), length};
  request.framed->app_count = 1;
}

EmulatedConnection* emulation_of(const SocketContext& context) {
  return context.emulation.load(std::memory_order_acquire);
}

int framed_send(SocketContext& context, LPWSABUF buffers, DWORD count, LPDWORD sent,
                DWORD flags, const sockaddr* to, int to_length, LPINT error) {
  EmulatedConnection* connection = connection_for(context, error);
  if (connection == nullptr) return SOCKET_ERROR;
  SpanList app = app_spans(buffers, count);
  LowerIo io(context, flags, to, to_length, nullptr, nullptr);
  long value = spans_total(app.spans(), app.count()) == 0 ? io.write_now(nullptr, 0)
               : (flags & MSG_OOB) != 0
                   ? teardown::framed_send_urgent(io, *connection, app.spans(), app.count())
                   : teardown::framed_send(io, *connection, app.spans(), app.count());
  return result_of(value, sent, io, error);
}

int framed_receive(SocketContext& context, LPWSABUF buffers, DWORD count, LPDWORD received,
                   LPDWORD flags, sockaddr* from, LPINT from_length, LPINT error) {
  EmulatedConnection* connection = connection_for(context, error);
  if (connection == nullptr) return SOCKET_ERROR;
  DWORD flags_in = flags != nullptr ? *flags : 0;
  SpanList app = app_spans(buffers, count);
  LowerIo io(context, flags_in, nullptr, 0, from, from_length);
  long value;
  if (spans_total(app.spans(), app.count()) == 0 || (flags_in & MSG_OOB) != 0) {
    value = io.read_now(app.spans(), app.count(), false);  // urgent data is outside the stream
  } else {
    value = teardown::framed_receive(io, *connection, app.spans(), app.count(),
                                     (flags_in & MSG_PEEK) != 0, (flags_in & MSG_WAITALL) != 0);
  }
  if (flags != nullptr && value >= 0) *flags = 0;
  return result_of(value, received, io, error);
}

void framed_available(SocketContext& context, u_long& bytes) {
  EmulatedConnection* connection = emulation_of(context);
  if (connection == nullptr) return;
  LowerIo io(context, 0, nullptr, 0, nullptr, nullptr);
  long app = teardown::framed_available(io, *connection, bytes);
  bytes = app > 0 ? static_cast<u_long>(app) : 0;
}

void flush_before_shutdown(SocketContext& context) {
  EmulatedConnection* connection = emulation_of(context);
  if (connection == nullptr) return;
  LowerIo io(context, 0, nullptr, 0, nullptr, nullptr);
  teardown::flush_before_shutdown(io, *connection);
}

int framed_send_disconnect(SocketContext& context, LPWSABUF data, LPINT error) {
  EmulatedConnection* connection = connection_for(context, error);
  if (connection == nullptr) return SOCKET_ERROR;
  LowerIo io(context, 0, nullptr, 0, nullptr, nullptr);
  const uint8_t* bytes = data != nullptr ? reinterpret_cast<const uint8_t*>(data->buf) : nullptr;
  size_t length = data != nullptr && data->buf != nullptr ? data->len : 0;
  if (!teardown::framed_send_disconnect(io, *connection, bytes, length)) {
    *error = io.error();
    return SOCKET_ERROR;
  }
  return context.provider->procs.lpWSPShutdown(context.lower, SD_SEND, error);
}

int framed_recv_disconnect(SocketContext& context, LPWSABUF data, LPINT error) {
  EmulatedConnection* connection = connection_for(context, error);
  if (connection == nullptr) return SOCKET_ERROR;
  LowerIo io(context, 0, nullptr, 0, nullptr, nullptr);
  uint8_t* buffer = data != nullptr ? reinterpret_cast<uint8_t*>(data->buf) : nullptr;
  size_t capacity = data != nullptr && data->buf != nullptr ? data->len : 0;
  long received = teardown::framed_recv_disconnect(io, *connection, buffer, capacity);
  if (received < 0) {
    *error = io.error();
    return SOCKET_ERROR;
  }
  int ignored = 0;
  context.provider->procs.lpWSPShutdown(context.lower, SD_RECEIVE, &ignored);
  if (data != nullptr) data->len = static_cast<ULONG>(received);
  return 0;
}

int framed_overlapped_receive(SocketRef& context, LPWSABUF buffers, DWORD count, DWORD flags,
                              LPWSAOVERLAPPED overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                              LPINT error) {
  if ((flags & MSG_PEEK) != 0) {  // a peek that completes later would show a stale stream
    *error = WSAEOPNOTSUPP;
    return SOCKET_ERROR;
  }
  Request* request = begin_request(context, Operation::kReceive, overlapped, routine, thread);
  request->flags = request->flags_in = flags;
  request->requested = requested_bytes(buffers, count);
  request->framed.reset(new FramedRequest());
  request->framed->app_count = capture(buffers, count, request->framed->app);
  request->framed->connection = emulation_of(*context);
  if (request->framed->connection == nullptr) {
    return started(request, SOCKET_ERROR, WSAECONNABORTED, error);
  }
  {
    std::lock_guard<std::mutex> held(context->framed_lock);
    if (context->framed_reading) {
      context->framed_waiting.push_back(request);
      *error = WSA_IO_PENDING;
      return SOCKET_ERROR;
    }
    context->framed_reading = true;
  }
  issue_receive(request, error);
  return SOCKET_ERROR;  // WSA_IO_PENDING, or the error it failed with at once
}

int framed_overlapped_send(SocketRef& context, LPWSABUF buffers, DWORD count, DWORD flags,
                           const sockaddr* to, int to_length, LPWSAOVERLAPPED overlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, LPWSATHREADID thread,
                           LPINT error) {
  if ((flags & MSG_OOB) != 0) {  // its records would carry the urgent mark: see framed_send_urgent
    *error = WSAEOPNOTSUPP;
    return SOCKET_ERROR;
  }
  Request* request = begin_request(context, Operation::kSend, overlapped, routine, thread);
  request->framed.reset(new FramedRequest());
  FramedRequest& framed = *request->framed;
  framed.app_count = capture(buffers, count, framed.app);
  framed.connection = emulation_of(*context);
  if (framed.connection == nullptr) return started(request, SOCKET_ERROR, WSAECONNABORTED, error);
  EmulatedConnection& connection = *framed.connection;
  std::lock_guard<std::mutex> held(connection.writing);
  if (connection.aborted.load(std::memory_order_relaxed)) {
    return started(request, SOCKET_ERROR, WSAECONNABORTED, error);
  }
  if (connection.stream.disconnect_queued()) {
    return started(request, SOCKET_ERROR, WSAESHUTDOWN, error);
  }
  // An overlapped send completes whole or fails the connection: its records are the stream's
  // from now on.
  connection.stream.plan_write(AppBuffers(framed.app, framed.app_count), framed.write);
  connection.stream.commit_write(framed.write, framed.write.raw_length);
  framed.app_length = framed.write.app_length;
  WSABUF lower[kMaxSpans];
  DWORD n = to_wsabufs(framed.write.spans, framed.write.count, lower);
  int lower_error = 0;
  const WSPPROC_TABLE& procs = context->provider->procs;
  int result = to == nullptr
                   ? procs.lpWSPSend(context->lower, lower, n, nullptr, flags, &request->lower,
                                     nullptr, nullptr, &lower_error)
                   : procs.lpWSPSendTo(context->lower, lower, n, nullptr, flags, to, to_length,
                                       &request->lower, nullptr, nullptr, &lower_error);
  return started(request, result, lower_error, error);
}

// AcceptEx's first bytes, read raw into the application's buffer: what it reads of them.
DWORD unframe_first_bytes(Request& request, int error, DWORD bytes) {
  EmulatedConnection* connection = request.accepted ? emulation_of(*request.accepted) : nullptr;
  if (error != 0 || bytes == 0 || connection == nullptr) return bytes;
  FramedRequest& framed = *request.framed;
  ReadPlan plan;
  plan.spans[0] = framed.app[0];
  plan.roles[0] = SpanRole::kApp;
  plan.app_offset[0] = 0;
  plan.count = 1;
  plan.raw_length = framed.app[0].length;
  ReadOutcome outcome =
      connection->stream.finish_read(plan, AppBuffers(framed.app, framed.app_count), bytes);
  return static_cast<DWORD>(outcome.app_bytes);  // an error waits for the first receive
}

bool framed_completion(Request* request, int error, DWORD bytes) {
  FramedRequest& framed = *request->framed;
  switch (request->operation) {
    case Operation::kSend:
    case Operation::kConnect:
      complete(request, error, error == 0 ? static_cast<DWORD>(framed.app_length) : 0, 0);
      return true;
    case Operation::kAccept:
      complete(request, error, unframe_first_bytes(*request, error, bytes), 0);
      return true;
    default:
      break;
  }
  if (request->operation != Operation::kReceive) return false;
  SocketContext& context = *request->context;
  EmulatedConnection& connection = *framed.connection;
  if (error != 0) {
    finish_receive(request, error, 0);
    return true;
  }
  FrameError problem = FrameError::kNone;
  size_t delivered = 0;
  if (bytes == 0) {  // the peer's end: clean, or inside its DISCONNECT record
    problem = connection.stream.finish();
  } else {
    ReadOutcome outcome =
        connection.stream.finish_read(framed.read, AppBuffers(framed.app, framed.app_count), bytes);
    delivered = outcome.app_bytes;
    if (delivered == 0) problem = outcome.error;
    if (delivered == 0 && problem == FrameError::kNone) {
      // Only the stream's own bytes: ask again below, before any other receive.
      if (!context.closing.load(std::memory_order_acquire)) {
        issue_receive(request, nullptr);
      } else {
        finish_receive(request, WSA_OPERATION_ABORTED, 0);
      }
      return true;
    }
  }
  if (problem != FrameError::kNone) {
    connection.aborted.store(true, std::memory_order_relaxed);
    LowerIo::abort_connection(context, problem);
    finish_receive(request, WSAECONNABORTED, 0);
    return true;
  }
  finish_receive(request, 0, static_cast<DWORD>(delivered));
  return true;
}

}  // namespace teardown::lsp
