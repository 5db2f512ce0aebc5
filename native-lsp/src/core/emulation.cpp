#include "emulation.h"

#include <cstring>

namespace teardown {

namespace {

size_t smaller(size_t a, size_t b) { return a < b ? a : b; }

}  // namespace

AppBuffers::AppBuffers(const Span* spans, size_t count) : spans_(spans), count_(count) {
  for (size_t i = 0; i < count_; ++i) total_ += spans_[i].length;
}

size_t AppBuffers::slice(size_t from, size_t length, Span* out, size_t room, size_t& used) const {
  size_t covered = 0;
  size_t start = 0;  // flat offset of spans_[i]
  for (size_t i = 0; i < count_ && covered < length; start += spans_[i].length, ++i) {
    size_t end = start + spans_[i].length;
    size_t at = from + covered;
    if (at >= end || spans_[i].length == 0) continue;
    if (used == room) break;
    size_t offset = at - start;
    size_t take = smaller(spans_[i].length - offset, length - covered);
    out[used++] = Span{spans_[i].data + offset, take};
    covered += take;
  }
  return covered;
}

void AppBuffers::move_to(size_t to, const uint8_t* source, size_t length) const {
  size_t start = 0;
  for (size_t i = 0; i < count_ && length > 0; start += spans_[i].length, ++i) {
    size_t end = start + spans_[i].length;
    if (to >= end) continue;
    size_t take = smaller(end - to, length);
    std::memmove(spans_[i].data + (to - start), source, take);
    source += take;
    to += take;
    length -= take;
  }
}

HelloSniffer::Verdict sniff(HelloSniffer& sniffer, const Span* buffers, size_t count,
                            size_t received) {
  HelloSniffer::Verdict verdict = sniffer.verdict();
  for (size_t i = 0; i < count && received > 0 && verdict == HelloSniffer::Verdict::kUndecided; ++i) {
    size_t length = smaller(buffers[i].length, received);
    verdict = sniffer.feed(buffers[i].data, length);
    received -= length;
  }
  return verdict;
}

// ---- Sending -----------------------------------------------------------------------------------

void EmulatedStream::plan_write(const AppBuffers& app, WritePlan& plan) const {
  plan.count = 0;
  auto add = [&plan](Span span, SpanRole role) {
    plan.roles[plan.count] = role;
    plan.spans[plan.count++] = span;
  };
  auto add_app = [&plan, &app](size_t from, size_t length, SpanRole role) {
    size_t first = plan.count;
    size_t covered = app.slice(from, length, plan.spans, kMaxSpans, plan.count);
    for (size_t i = first; i < plan.count; ++i) plan.roles[i] = role;
    return covered;
  };
  if (owes_bytes()) {
    add(Span{const_cast<uint8_t*>(owed_) + owed_begin_, owed_end_ - owed_begin_}, SpanRole::kOwed);
  } else if (!hello_written_) {
    encode_hello(plan.hello);  // the HELLO goes with whatever is written first
    add(Span{plan.hello, kHelloSize}, SpanRole::kHello);
  }
  size_t total = disconnect_queued_ ? 0 : app.total();  // nothing may follow the DISCONNECT
  size_t at = 0;
  if (data_owed_ > 0) at = add_app(0, smaller(total, data_owed_), SpanRole::kContinue);
  if (at == data_owed_) {  // no record left open: new ones for the rest
    while (at < total && plan.count + 2 <= kMaxSpans) {
      size_t header = plan.count;
      add(Span{plan.headers[header], kFrameHeaderSize}, SpanRole::kHeader);
      size_t covered = add_app(at, smaller(total - at, kMaxDataPayload), SpanRole::kPayload);
      if (covered == 0) {  // only empty buffers left: no empty record
        --plan.count;
        break;
      }
      encode_frame_header(FrameKind::kData, covered, plan.headers[header]);
      plan.record_length[header] = static_cast<uint16_t>(covered);
      at += covered;
    }
  }
  plan.app_length = at;
  plan.raw_length = 0;
  for (size_t i = 0; i < plan.count; ++i) plan.raw_length += plan.spans[i].length;
}

size_t EmulatedStream::commit_write(const WritePlan& plan, size_t written) {
  size_t app = 0;
  for (size_t i = 0; i < plan.count && written > 0; ++i) {
    const Span& span = plan.spans[i];
    size_t take = smaller(span.length, written);
    written -= take;
    switch (plan.roles[i]) {
      case SpanRole::kOwed:
        owed_begin_ += take;
        if (owed_begin_ == owed_end_) owed_begin_ = owed_end_ = 0;
        break;
      case SpanRole::kHello:
        hello_written_ = true;
        if (take < span.length) {  // the rest is owed before anything else
          std::memcpy(owed_, span.data + take, span.length - take);
          owed_begin_ = 0;
          owed_end_ = span.length - take;
        }
        break;
      case SpanRole::kHeader:
        data_owed_ = plan.record_length[i];
        if (take < span.length) {
          std::memcpy(owed_ + owed_end_, span.data + take, span.length - take);
          owed_end_ += span.length - take;
        }
        break;
      case SpanRole::kContinue:
      case SpanRole::kPayload:
        data_owed_ -= take;
        app += take;
        break;
      case SpanRole::kScratch:
      case SpanRole::kApp:
        break;
    }
  }
  return app;
}

void EmulatedStream::flush_plan(WritePlan& plan) const {
  plan.count = 0;
  plan.app_length = 0;
  plan.raw_length = owed_end_ - owed_begin_;
  if (plan.raw_length == 0) return;
  plan.spans[0] = Span{const_cast<uint8_t*>(owed_) + owed_begin_, plan.raw_length};
  plan.roles[0] = SpanRole::kOwed;
  plan.count = 1;
}

bool EmulatedStream::queue_disconnect(const uint8_t* data, size_t length) {
  if (length > kMaxDisconnectData || data_owed_ > 0 || disconnect_queued_) return false;
  // Everything owed so far is the stream's own (a HELLO tail at most): the record follows it.
  size_t end = owed_end_;
  if (!hello_written_) {
    end += encode_hello(owed_ + end);
    hello_written_ = true;
  }
  end += encode_frame_header(FrameKind::kDisconnect, length, owed_ + end);
  if (length > 0) std::memcpy(owed_ + end, data, length);
  owed_end_ = end + length;
  disconnect_queued_ = true;
  return true;
}

// ---- Receiving ---------------------------------------------------------------------------------

void EmulatedStream::plan_read(const AppBuffers& app, ReadPlan& plan) const {
  plan.count = 0;
  plan.raw_length = 0;
  size_t total = app.total();
  auto place_app = [&](size_t from, size_t length) {
    size_t first = plan.count;
    size_t covered = app.slice(from, length, plan.spans, kMaxSpans, plan.count);
    for (size_t i = first, offset = from; i < plan.count; offset += plan.spans[i].length, ++i) {
      plan.roles[i] = SpanRole::kApp;
      plan.app_offset[i] = offset;
    }
    return covered;
  };
  auto place_scratch = [&](size_t length) {
    plan.spans[plan.count] = Span{plan.scratch[plan.count], length};
    plan.roles[plan.count++] = SpanRole::kScratch;
  };
  // Only a record's own payload is ever read into the application's buffers: bytes past what a
  // receive returns must stay as the program left them, so nothing is guessed there. Anything
  // else (the HELLO, headers, disconnect data) goes to the stream's scratch, and bytes whose
  // place is unknown (after a header not read yet) to its staging area, at most the room left.
  auto scratch_only = [&](size_t length) {
    while (length > 0 && plan.count < kMaxSpans) {
      size_t piece = smaller(length, kFrameHeaderSize);
      place_scratch(piece);
      length -= piece;
    }
  };
  auto stage = [&](size_t room) {
    if (room == 0 || plan.count >= kMaxSpans) return;
    plan.spans[plan.count] = Span{const_cast<uint8_t*>(staging_), smaller(room, kStagingSize)};
    plan.roles[plan.count++] = SpanRole::kScratch;
  };
  size_t remaining = decoder_.data_remaining();
  bool in_payload = decoder_.hello_seen() && !decoder_.disconnected() &&
                    decoder_.header_filled() == kFrameHeaderSize && remaining > 0;
  if (!decoder_.hello_seen()) {
    scratch_only(kHelloSize);  // at most the HELLO's bytes: a record may follow it
    stage(total);
  } else if (decoder_.disconnected() || decoder_.header_filled() == kFrameHeaderSize) {
    if (in_payload) {
      size_t covered = place_app(0, smaller(total, remaining));
      // The next record's header, where the payload ends before the application's room does.
      if (covered == remaining && covered < total && plan.count < kMaxSpans) {
        place_scratch(kFrameHeaderSize);
        stage(total - covered);
      }
    } else {
      scratch_only(kMaxSpans * kFrameHeaderSize);  // disconnect data, or past the end
    }
  } else {
    place_scratch(kFrameHeaderSize - decoder_.header_filled());
    stage(total);
  }
  for (size_t i = 0; i < plan.count; ++i) plan.raw_length += plan.spans[i].length;
}

// Gathers decoded payload at the start of the application's buffers: where a payload byte already
// is where it belongs (the guess held), nothing moves.
class EmulatedStream::GatherSink : public FrameDecoder::Sink {
 public:
  GatherSink(const AppBuffers& app, EmulatedStream* owner) : app_(app), owner_(owner) {}

  // The span being decoded: its flat offset in the application's buffers, or none (scratch).
  void at(const uint8_t* span_start, bool in_app, size_t flat_offset) {
    span_start_ = span_start;
    in_app_ = in_app;
    flat_offset_ = flat_offset;
  }

  // Data the application will not see (a receive-disconnect discards what is left).
  void discard_data() { discard_ = true; }

  // A peek: the application's buffers take what fits, and the rest is not wanted.
  void stop_when_full() { stop_when_full_ = true; }
  bool full() const { return full_; }

  void data(const uint8_t* bytes, size_t length) override {
    if (discard_ || full_) return;
    if (stop_when_full_ && written_ + length >= app_.total()) {
      length = app_.total() - written_;
      full_ = true;
    }
    if (written_ + length > app_.total()) {  // cannot happen (see plan_read); never overrun
      overrun_ = true;
      return;
    }
    bool in_place = in_app_ && flat_offset_ + static_cast<size_t>(bytes - span_start_) == written_;
    if (!in_place) {
      app_.move_to(written_, bytes, length);
      moved_ += length;
    }
    written_ += length;
  }

  void disconnect(const uint8_t* bytes, size_t length) override {
    if (owner_ != nullptr) owner_->keep_disconnect(bytes, length);
  }

  size_t written() const { return written_; }
  size_t moved() const { return moved_; }
  bool overrun() const { return overrun_; }

 private:
  const AppBuffers& app_;
  EmulatedStream* owner_;
  const uint8_t* span_start_ = nullptr;
  bool in_app_ = false;
  size_t flat_offset_ = 0;
  size_t written_ = 0;
  size_t moved_ = 0;
  bool overrun_ = false;
  bool discard_ = false;
  bool stop_when_full_ = false;
  bool full_ = false;
};

ReadOutcome EmulatedStream::finish_read(const ReadPlan& plan, const AppBuffers& app, size_t got) {
  GatherSink sink(app, this);
  for (size_t i = 0; i < plan.count && got > 0; ++i) {
    size_t length = smaller(plan.spans[i].length, got);
    got -= length;
    bool in_app = plan.roles[i] == SpanRole::kApp;
    sink.at(plan.spans[i].data, in_app, in_app ? plan.app_offset[i] : 0);
    decoder_.feed(plan.spans[i].data, length, sink);
    if (decoder_.error() != FrameError::kNone || sink.overrun()) break;
  }
  ReadOutcome outcome;
  outcome.app_bytes = sink.written();
  outcome.moved_bytes = sink.moved();
  outcome.error = sink.overrun() ? FrameError::kTooLong : decoder_.error();
  return outcome;
}

ReadOutcome EmulatedStream::peek(const uint8_t* raw, size_t length, const AppBuffers& app) const {
  FrameDecoder copy = decoder_;
  GatherSink sink(app, nullptr);
  sink.stop_when_full();
  sink.at(raw, false, 0);
  copy.feed(raw, length, sink);
  ReadOutcome outcome;
  outcome.app_bytes = sink.written();
  outcome.moved_bytes = sink.moved();
  // An error after the bytes that fit is for a later read to meet.
  outcome.error = sink.full() ? FrameError::kNone : copy.error();
  return outcome;
}

FrameError EmulatedStream::absorb(const uint8_t* bytes, size_t length) {
  AppBuffers nowhere(nullptr, 0);
  GatherSink sink(nowhere, this);
  sink.discard_data();
  decoder_.feed(bytes, length, sink);
  return decoder_.error();
}

void EmulatedStream::keep_disconnect(const uint8_t* data, size_t length) {
  std::memcpy(disconnect_in_, data, length);
  disconnect_in_length_ = length;
}

}  // namespace teardown
