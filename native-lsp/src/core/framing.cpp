#include "framing.h"

#include <cstring>

#include "teardown/teardown.h"

namespace teardown {

static_assert(static_cast<int>(FrameError::kNotFramed) == TD_FRAMING_NOT_FRAMED &&
                  static_cast<int>(FrameError::kTruncated) == TD_FRAMING_TRUNCATED &&
                  static_cast<int>(FrameError::kUnexpected) == TD_FRAMING_UNEXPECTED,
              "FrameError carries td_framing_error's values");

namespace {

constexpr uint8_t kHelloMagic[4] = {'T', 'D', 'W', 'N'};

bool known_kind(uint8_t byte) {
  return byte == static_cast<uint8_t>(FrameKind::kHello) ||
         byte == static_cast<uint8_t>(FrameKind::kData) ||
         byte == static_cast<uint8_t>(FrameKind::kDisconnect);
}

size_t smaller(size_t a, size_t b) {
  return a < b ? a : b;
}

}  // namespace

size_t encode_frame_header(FrameKind kind, size_t payload_length, uint8_t* out) {
  out[0] = static_cast<uint8_t>(kind);
  out[1] = 0;
  out[2] = static_cast<uint8_t>((payload_length >> 8) & 0xFF);
  out[3] = static_cast<uint8_t>(payload_length & 0xFF);
  return kFrameHeaderSize;
}

size_t encode_hello(uint8_t* out) {
  encode_frame_header(FrameKind::kHello, kHelloPayloadSize, out);
  std::memcpy(out + kFrameHeaderSize, kHelloMagic, sizeof(kHelloMagic));
  out[kFrameHeaderSize + sizeof(kHelloMagic)] = kFramingVersion;
  return kHelloSize;
}

const char* describe(FrameError error) {
  switch (error) {
    case FrameError::kNone:
      return "no error";
    case FrameError::kNotFramed:
      return "the peer does not frame its stream (disconnect-data emulation is on at one end only)";
    case FrameError::kVersion:
      return "the peer frames with a version this side does not speak";
    case FrameError::kUnknownKind:
      return "a record of an unknown kind";
    case FrameError::kFlags:
      return "a record with flags version 1 does not define";
    case FrameError::kEmptyData:
      return "a data record with no data";
    case FrameError::kTooLong:
      return "a record longer than its kind allows";
    case FrameError::kAfterDisconnect:
      return "bytes after the disconnect record";
    case FrameError::kTruncated:
      return "the stream ended inside the disconnect record";
    case FrameError::kUnexpected:
      return "the peer frames its stream (disconnect-data emulation is on at its end only)";
  }
  return "unknown framing error";
}

size_t FrameDecoder::fail(FrameError error) {
  error_ = error;
  return 0;
}

FrameError FrameDecoder::finish() {
  if (error_ != FrameError::kNone || header_filled_ == 0) return error_;
  // The kind is known from the record's first byte; before the HELLO, only a HELLO can be there.
  bool in_disconnect = hello_seen_ && header_[0] == static_cast<uint8_t>(FrameKind::kDisconnect);
  if (in_disconnect) error_ = FrameError::kTruncated;
  return error_;
}

size_t FrameDecoder::feed(const uint8_t* bytes, size_t length, Sink& sink) {
  size_t used = 0;
  while (error_ == FrameError::kNone) {
    bool header_done = header_filled_ == kFrameHeaderSize;
    if (header_done && payload_length_ == 0) {  // an empty record (DISCONNECT) is complete at once
      record_done(sink);
      continue;
    }
    if (used == length) break;
    used += header_done ? take_payload(bytes + used, length - used, sink)
                        : take_header(bytes + used, length - used);
  }
  return used;
}

size_t FrameDecoder::take_header(const uint8_t* bytes, size_t length) {
  if (disconnected_) return fail(FrameError::kAfterDisconnect);
  // Each header byte is judged as soon as it arrives: a peer that does not frame is told apart
  // at its first byte, without waiting for more.
  size_t taken = 0;
  while (taken < length && header_filled_ < kFrameHeaderSize) {
    header_[header_filled_++] = bytes[taken++];
    FrameError problem = check_header();
    if (problem != FrameError::kNone) {
      fail(problem);
      return taken - 1;
    }
  }
  if (header_filled_ == kFrameHeaderSize) {
    kind_ = static_cast<FrameKind>(header_[0]);
    payload_length_ = (static_cast<size_t>(header_[2]) << 8) | header_[3];
    payload_filled_ = 0;
    FrameError problem = FrameError::kNone;
    if (kind_ == FrameKind::kHello && payload_length_ != kHelloPayloadSize) {
      problem = FrameError::kNotFramed;
    } else if (kind_ == FrameKind::kData && payload_length_ == 0) {
      problem = FrameError::kEmptyData;
    } else if (kind_ == FrameKind::kData && payload_length_ > kMaxDataPayload) {
      problem = FrameError::kTooLong;
    } else if (kind_ == FrameKind::kDisconnect && payload_length_ > kMaxDisconnectData) {
      problem = FrameError::kTooLong;
    }
    if (problem != FrameError::kNone) {
      fail(problem);
      return taken - 1;  // the length's last byte is the malformed one
    }
  }
  return taken;
}

// The header so far, judged byte by byte.
FrameError FrameDecoder::check_header() {
  uint8_t kind = header_[0];
  if (header_filled_ == 1) {
    if (!hello_seen_) {
      return kind == static_cast<uint8_t>(FrameKind::kHello) ? FrameError::kNone
                                                             : FrameError::kNotFramed;
    }
    if (!known_kind(kind)) return FrameError::kUnknownKind;
    if (kind == static_cast<uint8_t>(FrameKind::kHello)) return FrameError::kUnknownKind;
  }
  if (header_filled_ == 2 && header_[1] != 0) {
    return hello_seen_ ? FrameError::kFlags : FrameError::kNotFramed;
  }
  return FrameError::kNone;
}

size_t FrameDecoder::take_payload(const uint8_t* bytes, size_t length, Sink& sink) {
  size_t wanted = payload_length_ - payload_filled_;
  size_t taken = smaller(wanted, length);
  if (kind_ == FrameKind::kData) {
    if (taken > 0) sink.data(bytes, taken);
  } else if (kind_ == FrameKind::kHello) {
    // Judged byte by byte too: the magic tells a Teardown peer from anything else.
    for (size_t i = 0; i < taken; ++i) {
      size_t at = payload_filled_ + i;
      if (at < sizeof(kHelloMagic) && bytes[i] != kHelloMagic[at]) {
        fail(FrameError::kNotFramed);
        return i;
      }
      if (at == sizeof(kHelloMagic) && bytes[i] != kFramingVersion) {
        peer_version_ = bytes[i];
        fail(FrameError::kVersion);
        return i;
      }
    }
  } else {
    std::memcpy(kept_ + payload_filled_, bytes, taken);
  }
  payload_filled_ += taken;
  if (payload_filled_ == payload_length_) record_done(sink);
  return taken;
}

void FrameDecoder::record_done(Sink& sink) {
  if (kind_ == FrameKind::kHello) {
    hello_seen_ = true;
    peer_version_ = kFramingVersion;
  } else if (kind_ == FrameKind::kDisconnect) {
    disconnected_ = true;
    sink.disconnect(kept_, payload_length_);
  }
  header_filled_ = 0;
  payload_length_ = 0;
  payload_filled_ = 0;
}

HelloSniffer::Verdict HelloSniffer::feed(const uint8_t* bytes, size_t length) {
  uint8_t hello[kHelloSize];
  encode_hello(hello);
  for (size_t i = 0; i < length && verdict_ == Verdict::kUndecided; ++i) {
    if (bytes[i] != hello[matched_]) {
      verdict_ = Verdict::kNotHello;
    } else if (++matched_ == kHelloSize) {
      verdict_ = Verdict::kHello;
    }
  }
  return verdict_;
}

}  // namespace teardown
