// Disconnect-data emulation on one TCP connection: the framing of framing.h laid around what the
// application sends and taken back off what it receives, invisibly to the application.
//
// The layers (the Linux preload, the Windows LSP) make the system calls; this class decides the
// bytes. Each write and read is laid out as a list of spans over the application's own buffers and
// a few bytes of the stream's, so that the application's bytes are neither copied on the way out
// nor, in the common case, on the way in:
//
//  - A write is [bytes the stream still owes][HELLO, once][rest of an open record]
//    [header][payload][header][payload]... After the write, commit_write() says how many of the
//    application's bytes went, and keeps what is owed: a record the wire has started must be
//    finished by the application's next bytes (its next send starts with the bytes it was told
//    were not sent, so the record continues with exactly the stream it announced).
//  - A read puts the rest of the current record's payload straight into the application's
//    buffer, the next header into the stream's scratch, and what follows (whose length is not
//    known yet) into the stream's staging area, whose payload finish_read() then copies into
//    place. So the application's buffers receive nothing but its own bytes, never past what the
//    read returns, and never more than they hold.
//
// Not thread-safe: a layer serialises the writes, and the reads, of one connection.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framing.h"

namespace teardown {

// A buffer: the application's (one of its iovecs or WSABUFs) or the stream's own.
struct Span {
  uint8_t* data;
  size_t length;
};

// The application's buffers of one call, one or scattered, addressed as one flat range.
class AppBuffers {
 public:
  AppBuffers(const Span* spans, size_t count);
  size_t total() const { return total_; }

  // Spans covering [from, from + length) of the flat range, appended to out[] (at most `room`).
  // Returns how many bytes they cover: `length`, or less when room ran out.
  size_t slice(size_t from, size_t length, Span* out, size_t room, size_t& used) const;
  // Copies `length` bytes from `source` (the stream's own, or a later part of these buffers) to
  // flat offset `to`.
  void move_to(size_t to, const uint8_t* source, size_t length) const;

 private:
  const Span* spans_;
  size_t count_;
  size_t total_ = 0;
};

// Feeds `sniffer` the first `received` bytes spread over `buffers`, until it decides.
HelloSniffer::Verdict sniff(HelloSniffer& sniffer, const Span* buffers, size_t count,
                            size_t received);

// The stream's staging area for bytes whose place is not known when a read is laid out: as large
// as a program's usual bulk read, so that one system call serves it (the staged part is copied).
constexpr size_t kStagingSize = 65536;

// The most spans one call lays out: under every system's iovec limit, and few enough for the stack.
constexpr size_t kMaxSpans = 64;

enum class SpanRole : uint8_t {
  kOwed,      // the stream's own bytes still owed to the wire (a HELLO or header tail, a DISCONNECT)
  kHello,     // the HELLO, the first time anything is written
  kContinue,  // application bytes finishing a record the wire has started
  kHeader,    // a new DATA record's header
  kPayload,   // application bytes of a new record
  kScratch,   // (reads) a header's guessed place
  kApp,       // (reads) a place in the application's buffers
};

struct WritePlan {
  Span spans[kMaxSpans];
  SpanRole roles[kMaxSpans];
  uint16_t record_length[kMaxSpans];  // a kHeader span: the payload its record announces
  uint8_t headers[kMaxSpans][kFrameHeaderSize];
  uint8_t hello[kHelloSize];
  size_t count = 0;
  size_t raw_length = 0;  // bytes the spans hold
  size_t app_length = 0;  // the application's bytes among them
};

struct ReadPlan {
  Span spans[kMaxSpans];
  SpanRole roles[kMaxSpans];
  size_t app_offset[kMaxSpans];  // a kApp span: its flat offset in the application's buffers
  uint8_t scratch[kMaxSpans][kFrameHeaderSize];
  size_t count = 0;
  size_t raw_length = 0;
};

struct ReadOutcome {
  size_t app_bytes = 0;          // application bytes now at the start of its buffers
  size_t moved_bytes = 0;        // of those, bytes that had to be moved (a record was short)
  FrameError error = FrameError::kNone;  // the stream is malformed: abort the connection
};

class EmulatedStream {
 public:
  EmulatedStream() = default;

  // ---- Sending ------------------------------------------------------------------------------

  // Lays out the next write of the application's `app` (all of it, or as much as kMaxSpans allows).
  void plan_write(const AppBuffers& app, WritePlan& plan) const;
  // The write put `written` bytes of `plan` on the wire: returns the application's bytes among
  // them, and keeps what the stream now owes.
  size_t commit_write(const WritePlan& plan, size_t written);

  // A DATA record was started on the wire and the application has not finished it.
  bool owes_data() const { return data_owed_ > 0; }
  // The stream's own bytes wait to be written (flush_plan writes them).
  bool owes_bytes() const { return owed_end_ > owed_begin_; }
  void flush_plan(WritePlan& plan) const;

  // Queues the DISCONNECT record with `data` (at most kMaxDisconnectData bytes, and never while
  // owes_data()): after it, owes_bytes() until flushed. False, changing nothing, if refused.
  bool queue_disconnect(const uint8_t* data, size_t length);
  bool disconnect_queued() const { return disconnect_queued_; }

  // ---- Receiving ----------------------------------------------------------------------------

  // Lays out the next read into the application's `app`.
  void plan_read(const AppBuffers& app, ReadPlan& plan) const;
  // The read put `got` bytes into `plan`: decodes them, gathers the application's bytes at the
  // start of `app`.
  ReadOutcome finish_read(const ReadPlan& plan, const AppBuffers& app, size_t got);
  // What a peek of the wire's next `length` bytes (`raw`) shows the application: its bytes copied
  // to the start of `app` (as many as fit). The stream's state is left as it was.
  ReadOutcome peek(const uint8_t* raw, size_t length, const AppBuffers& app) const;
  // Bytes read off the wire that the application will not see (the stream's own, or data
  // discarded by a receive-disconnect). Returns the framing error, if any.
  FrameError absorb(const uint8_t* bytes, size_t length);
  // The peer shut down sending (a read returned 0): a clean end, or the framing error.
  FrameError finish() { return decoder_.finish(); }

  bool disconnect_arrived() const { return decoder_.disconnected(); }
  const uint8_t* disconnect_data() const { return disconnect_in_; }
  size_t disconnect_length() const { return disconnect_in_length_; }
  FrameError error() const { return decoder_.error(); }
  // No record is begun: the next byte on the wire starts one (or the HELLO).
  bool at_record_boundary() const {
    return decoder_.header_filled() == 0 && decoder_.error() == FrameError::kNone;
  }

 private:
  class GatherSink;

  void keep_disconnect(const uint8_t* data, size_t length);

  // Sending.
  uint8_t owed_[kHelloSize + kFrameHeaderSize + kMaxDisconnectData] = {};
  size_t owed_begin_ = 0;
  size_t owed_end_ = 0;
  bool hello_written_ = false;  // planned and at least started
  bool disconnect_queued_ = false;
  size_t data_owed_ = 0;

  // Receiving. Bytes whose place is not known yet (what follows a header that has not been read)
  // land here, and their payload is copied into the application's buffers: a read never writes
  // into those buffers past the bytes it returns.
  uint8_t staging_[kStagingSize];
  FrameDecoder decoder_;
  uint8_t disconnect_in_[kMaxDisconnectData] = {};
  size_t disconnect_in_length_ = 0;
};

}  // namespace teardown
