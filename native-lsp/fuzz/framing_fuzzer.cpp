// libFuzzer target for the framing decoder of disconnect-data emulation (docs/building.md: Fuzzing).
//
// The input's first byte chooses a chunk size; the rest arrives in chunks of that size, each in a
// heap buffer of exactly its size, so that AddressSanitizer catches any read past what the decoder
// was given. The decoder must consume every byte until an error, and nothing after it; and a
// stream it accepts must decode the same once framed again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "../src/core/framing.h"
#include "recording_sink.h"

namespace {

using teardown::FrameDecoder;
using teardown::FrameError;
using teardown::FrameKind;

using Recorder = teardown::RecordingSink;

void require(bool condition) {
  if (!condition) std::abort();
}

// What an encoder would send for what was decoded.
std::vector<uint8_t> framed(const Recorder& decoded) {
  std::vector<uint8_t> out(teardown::kHelloSize);
  teardown::encode_hello(out.data());
  auto append = [&](FrameKind kind, const std::string& payload) {
    uint8_t header[teardown::kFrameHeaderSize];
    teardown::encode_frame_header(kind, payload.size(), header);
    out.insert(out.end(), header, header + sizeof(header));
    out.insert(out.end(), payload.begin(), payload.end());
  };
  for (size_t at = 0; at < decoded.stream.size(); at += teardown::kMaxDataPayload) {
    append(FrameKind::kData, decoded.stream.substr(at, teardown::kMaxDataPayload));
  }
  if (decoded.disconnects > 0) append(FrameKind::kDisconnect, decoded.disconnect_data);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = static_cast<size_t>(data[0] % 16) + 1;
  ++data;
  --size;
  FrameDecoder decoder;
  Recorder decoded;
  bool stopped = false;
  for (size_t offset = 0; offset < size; offset += chunk) {
    size_t length = size - offset < chunk ? size - offset : chunk;
    std::vector<uint8_t> piece(data + offset, data + offset + length);
    size_t used = decoder.feed(piece.data(), piece.size(), decoded);
    require(used <= length);
    require(!stopped || used == 0);
    if (decoder.error() != FrameError::kNone) {
      stopped = true;
    } else {
      require(used == length);
    }
  }
  require(decoded.disconnects <= 1);
  require(decoded.disconnect_data.size() <= teardown::kMaxDisconnectData);
  if (decoder.finish() == FrameError::kNone && decoder.hello_seen()) {
    std::vector<uint8_t> again = framed(decoded);
    FrameDecoder second;
    Recorder redecoded;
    require(second.feed(again.data(), again.size(), redecoded) == again.size());
    require(second.finish() == FrameError::kNone);
    require(redecoded.stream == decoded.stream);
    require(redecoded.disconnect_data == decoded.disconnect_data);
  }
  return 0;
}
