// The framing two Teardown layers put on a TCP stream so that disconnect data can travel with a
// graceful shutdown (disconnect-data emulation, opted in per port on both ends).
//
// Wire format, version 1. Each side's stream is a sequence of records, each a 4-byte header
// followed by its payload:
//
//   byte 0     kind: 0xA1 HELLO, 0xA2 DATA, 0xA3 DISCONNECT
//   byte 1     flags: 0 in version 1
//   bytes 2-3  payload length, big-endian
//
//   HELLO       first record of each side, payload "TDWN" and the version (5 bytes)
//   DATA        1 to kMaxDataPayload bytes of the application's stream
//   DISCONNECT  0 to kMaxDisconnectData bytes of disconnect data; the sender then shuts down
//               sending, so nothing follows it
//
// The kinds have the high bit set, so a peer that does not frame (plain text, TLS, HTTP) is
// recognised at its first byte. The decoder is incremental: bytes can arrive split anywhere. It
// reads only the bytes it is given, bounds every length, and stops at the first malformed byte
// with an error that names what was wrong; the layer then aborts the connection.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teardown {

enum class FrameKind : uint8_t { kHello = 0xA1, kData = 0xA2, kDisconnect = 0xA3 };

constexpr size_t kFrameHeaderSize = 4;
constexpr uint8_t kFramingVersion = 1;
constexpr size_t kHelloPayloadSize = 5;
constexpr size_t kHelloSize = kFrameHeaderSize + kHelloPayloadSize;
constexpr size_t kMaxDataPayload = 16384;
// The most disconnect data one side can send. Winsock's disconnect-data providers refuse more
// with WSAEINVAL; the layers do the same.
constexpr size_t kMaxDisconnectData = 1024;

// Writes a record header for `payload_length` bytes (at most 65535). Returns kFrameHeaderSize.
size_t encode_frame_header(FrameKind kind, size_t payload_length, uint8_t* out);

// Writes the HELLO record. Returns kHelloSize.
size_t encode_hello(uint8_t* out);

enum class FrameError : uint8_t {
  kNone = 0,
  kNotFramed,        // the first bytes are not a Teardown HELLO: the peer does not frame
  kVersion,          // a HELLO of a version this side does not speak
  kUnknownKind,      // a record kind that does not exist
  kFlags,            // flags set that version 1 does not define
  kEmptyData,        // a DATA record with no payload
  kTooLong,          // a length over the bound of its kind
  kAfterDisconnect,  // bytes after the DISCONNECT record
  kTruncated,        // the stream ended inside the DISCONNECT record
  kUnexpected,       // (a stream not expected to be framed) the peer frames it
};
// The values are td_framing_error's (teardown.h), as RESET events carry them.

// What went wrong, in words, for events and logs.
const char* describe(FrameError error);

class FrameDecoder {
 public:
  // Where decoded records go. `data` may be called several times for one DATA record, as its
  // bytes arrive; `disconnect` once, with the whole disconnect data.
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void data(const uint8_t* bytes, size_t length) = 0;
    virtual void disconnect(const uint8_t* bytes, size_t length) = 0;
  };

  // Decodes `length` bytes. Returns how many were consumed: all of them, unless an error stopped
  // the decoder, which then consumes nothing more.
  size_t feed(const uint8_t* bytes, size_t length, Sink& sink);

  // The stream has ended (the peer shut down sending). Ending inside a HELLO or a DATA record is a
  // clean end: a sender stops inside a record only when it was told the rest was not sent (a
  // short or refused non-blocking write), so what its application sent has all been delivered.
  // Ending inside a DISCONNECT record is kTruncated: a sender always completes that one.
  FrameError finish();

  FrameError error() const { return error_; }
  bool hello_seen() const { return hello_seen_; }
  bool disconnected() const { return disconnected_; }
  uint8_t peer_version() const { return peer_version_; }

  // Where the decoder stands, so that a read can be laid out around the records to come: the
  // header bytes of the next record already taken (0 at a record boundary, 4 inside a payload),
  // and the bytes left of a DATA record's payload (0 elsewhere).
  size_t header_filled() const { return header_filled_; }
  size_t data_remaining() const {
    return header_filled_ == kFrameHeaderSize && kind_ == FrameKind::kData
               ? payload_length_ - payload_filled_
               : 0;
  }

 private:
  size_t fail(FrameError error);
  size_t take_header(const uint8_t* bytes, size_t length);
  size_t take_payload(const uint8_t* bytes, size_t length, Sink& sink);
  FrameError check_header();
  void record_done(Sink& sink);

  FrameError error_ = FrameError::kNone;
  bool hello_seen_ = false;
  bool disconnected_ = false;
  uint8_t peer_version_ = 0;
  uint8_t header_[kFrameHeaderSize] = {};
  size_t header_filled_ = 0;
  FrameKind kind_ = FrameKind::kHello;
  size_t payload_length_ = 0;
  size_t payload_filled_ = 0;
  // HELLO and DISCONNECT payloads are kept whole; DATA passes straight through.
  uint8_t kept_[kMaxDisconnectData] = {};
};

// Whether a stream that was not expected to be framed starts with a Teardown HELLO: a peer that
// emulates disconnect data on a port where this side does not. Fed the stream's first bytes as
// they arrive; decided by the ninth byte at the latest, and at the first that differs.
class HelloSniffer {
 public:
  enum class Verdict : uint8_t { kUndecided, kHello, kNotHello };
  Verdict feed(const uint8_t* bytes, size_t length);
  Verdict verdict() const { return verdict_; }

 private:
  uint8_t matched_ = 0;
  Verdict verdict_ = Verdict::kUndecided;
};

}  // namespace teardown
