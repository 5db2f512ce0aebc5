// libFuzzer target for the emulated stream (docs/building.md: Fuzzing): the layout of reads and writes
// around the application's own buffers, where a wrong guess moves bytes within them.
//
// Reading: the input's bytes arrive as a peer's stream, read by an EmulatedStream into buffers
// of sizes and scatter the input chooses, each an exact-size heap block so that AddressSanitizer
// catches a byte written or read past one. What the application receives must be exactly what a
// plain FrameDecoder makes of the same bytes, up to the same error.
//
// Writing: the input's bytes, as application data, go out through an EmulatedStream whose wire
// takes as many bytes of each write as the input says; the program offers again what was not
// taken. The wire must decode to exactly the data.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../src/core/emulation.h"
#include "recording_sink.h"

namespace {

using namespace teardown;

void require(bool condition) {
  if (!condition) std::abort();
}

// The input's choices (read sizes, scatter, how much the wire takes), used round and round.
class Choices {
 public:
  Choices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t next() {
    uint8_t choice = data_[used_];
    used_ = (used_ + 1) % size_;
    return choice;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t used_ = 0;
};

void read_side(const uint8_t* wire, size_t size, Choices& choices) {
  RecordingSink reference;
  FrameDecoder plain;
  plain.feed(wire, size, reference);

  EmulatedStream stream;
  std::string received;
  size_t at = 0;
  for (int round = 0; at < size && round < 100000; ++round) {
    size_t capacity = 1 + (static_cast<size_t>(choices.next()) << 4 | (choices.next() & 0xF));
    size_t pieces = 1 + choices.next() % 4;
    std::vector<std::unique_ptr<uint8_t[]>> blocks;
    std::vector<Span> spans;
    for (size_t i = 0, left = capacity; i < pieces && left > 0; ++i) {
      size_t length = i + 1 == pieces ? left : 1 + left / (pieces - i + 1);
      blocks.emplace_back(new uint8_t[length]);
      spans.push_back(Span{blocks.back().get(), length});
      left -= length;
    }
    AppBuffers app(spans.data(), spans.size());
    ReadPlan plan;
    stream.plan_read(app, plan);
    size_t got = 0;
    for (size_t i = 0; i < plan.count && at < size; ++i) {
      size_t n = plan.spans[i].length < size - at ? plan.spans[i].length : size - at;
      std::memcpy(plan.spans[i].data, wire + at, n);
      at += n;
      got += n;
      if (n < plan.spans[i].length) break;
    }
    ReadOutcome outcome = stream.finish_read(plan, app, got);
    require(outcome.app_bytes <= app.total());
    for (size_t i = 0, left = outcome.app_bytes; i < spans.size() && left > 0; ++i) {
      size_t n = spans[i].length < left ? spans[i].length : left;
      received.append(reinterpret_cast<const char*>(spans[i].data), n);
      left -= n;
    }
    if (outcome.error != FrameError::kNone) {
      require(outcome.error == plain.error());
      break;
    }
  }
  require(received == reference.stream);
  require(stream.error() == plain.error());
  if (plain.error() == FrameError::kNone) {
    require(stream.disconnect_arrived() == plain.disconnected());
    if (plain.disconnected()) {
      require(std::string(reinterpret_cast<const char*>(stream.disconnect_data()),
                          stream.disconnect_length()) == reference.disconnect_data);
    }
  }
}

void write_side(const uint8_t* data, size_t size, Choices& choices) {
  EmulatedStream sender;
  std::vector<uint8_t> wire;
  size_t sent = 0;
  int stalled = 0;
  for (int round = 0; round < 100000 && (sent < size || sender.owes_bytes()); ++round) {
    Span span{const_cast<uint8_t*>(data) + sent, size - sent};
    AppBuffers app(&span, 1);
    WritePlan plan;
    sender.plan_write(app, plan);
    size_t accept = choices.next() % 3 == 0 ? choices.next() % 6 : choices.next() * 97u;
    accept = accept < plan.raw_length ? accept : plan.raw_length;
    // A wire that takes nothing for long is a wire that later takes everything.
    stalled = accept == 0 ? stalled + 1 : 0;
    if (stalled > 8) accept = plan.raw_length;
    for (size_t i = 0, left = accept; i < plan.count && left > 0; ++i) {
      size_t n = plan.spans[i].length < left ? plan.spans[i].length : left;
      wire.insert(wire.end(), plan.spans[i].data, plan.spans[i].data + n);
      left -= n;
    }
    size_t taken = sender.commit_write(plan, accept);
    require(taken <= size - sent);
    sent += taken;
  }
  require(sent == size && !sender.owes_bytes() && !sender.owes_data());
  RecordingSink decoded;
  FrameDecoder decoder;
  require(decoder.feed(wire.data(), wire.size(), decoded) == wire.size());
  require(decoder.finish() == FrameError::kNone);
  require(decoded.stream == std::string(reinterpret_cast<const char*>(data), size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  bool writing = (data[0] & 1) != 0;
  size_t choice_bytes = 1 + data[1] % 64;
  if (size - 2 < choice_bytes) return 0;
  Choices choices(data + 2, choice_bytes);
  const uint8_t* body = data + 2 + choice_bytes;
  size_t body_size = size - 2 - choice_bytes;
  // The body in a block of exactly its size: a read past it is caught.
  std::unique_ptr<uint8_t[]> exact(new uint8_t[body_size + 1]);
  std::memcpy(exact.get(), body, body_size);
  if (writing) {
    write_side(exact.get(), body_size, choices);
  } else {
    read_side(exact.get(), body_size, choices);
  }
  return 0;
}
