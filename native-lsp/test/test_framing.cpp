// The framing codec of disconnect-data emulation: round trips split at every byte, and every way a
// stream can be malformed named, at the byte where it goes wrong.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../fuzz/recording_sink.h"
#include "framing.h"

namespace teardown {
namespace {

using Collected = RecordingSink;

std::vector<uint8_t> record(FrameKind kind, const std::string& payload) {
  std::vector<uint8_t> out(kFrameHeaderSize);
  encode_frame_header(kind, payload.size(), out.data());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> hello() {
  std::vector<uint8_t> out(kHelloSize);
  encode_hello(out.data());
  return out;
}

std::vector<uint8_t> join(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

std::vector<uint8_t> text(const std::string& value) {
  return {value.begin(), value.end()};
}

std::vector<uint8_t> exchange() {
  return join({hello(), record(FrameKind::kData, "transaction 1;"),
               record(FrameKind::kData, std::string(kMaxDataPayload, 'x')),
               record(FrameKind::kDisconnect, "client-total=17")});
}

TEST(FrameDecoder, AnExchangeDecodesWholeWhereverTheBytesAreSplit) {
  std::vector<uint8_t> stream = exchange();
  std::string expected = "transaction 1;" + std::string(kMaxDataPayload, 'x');
  for (size_t split = 0; split <= stream.size(); split += (split < 64 ? 1 : 997)) {
    FrameDecoder decoder;
    Collected got;
    EXPECT_EQ(decoder.feed(stream.data(), split, got), split);
    EXPECT_EQ(decoder.feed(stream.data() + split, stream.size() - split, got),
              stream.size() - split);
    EXPECT_EQ(decoder.finish(), FrameError::kNone) << "split at " << split;
    EXPECT_EQ(got.stream, expected) << "split at " << split;
    EXPECT_EQ(got.disconnect_data, "client-total=17");
    EXPECT_EQ(got.disconnects, 1);
    EXPECT_TRUE(decoder.disconnected());
  }
}

TEST(FrameDecoder, OneByteAtATimeIsTheSame) {
  std::vector<uint8_t> stream = exchange();
  FrameDecoder decoder;
  Collected got;
  for (uint8_t byte : stream) ASSERT_EQ(decoder.feed(&byte, 1, got), 1u);
  EXPECT_EQ(decoder.finish(), FrameError::kNone);
  EXPECT_EQ(got.stream.size(), 14 + kMaxDataPayload);
  EXPECT_EQ(decoder.peer_version(), kFramingVersion);
}

TEST(FrameDecoder, EmptyDisconnectDataIsAGracefulEndWithNoData) {
  std::vector<uint8_t> stream = join({hello(), record(FrameKind::kDisconnect, "")});
  FrameDecoder decoder;
  Collected got;
  EXPECT_EQ(decoder.feed(stream.data(), stream.size(), got), stream.size());
  EXPECT_EQ(got.disconnects, 1);
  EXPECT_EQ(got.disconnect_data, "");
}

// What the decoder says, and how many bytes it took before the malformed one.
std::pair<FrameError, size_t> decode(const std::vector<uint8_t>& stream) {
  FrameDecoder decoder;
  Collected got;
  size_t used = decoder.feed(stream.data(), stream.size(), got);
  EXPECT_EQ(decoder.feed(stream.data(), stream.size(), got), 0u) << "an error is final";
  return {decoder.finish(), used};
}

TEST(FrameDecoder, APeerThatDoesNotFrameIsKnownAtItsFirstByte) {
  EXPECT_EQ(decode(text("GET / HTTP/1.1\r\n")), std::make_pair(FrameError::kNotFramed, size_t{0}));
  EXPECT_EQ(decode({0x16, 0x03, 0x01}), std::make_pair(FrameError::kNotFramed, size_t{0}));  // TLS
  // A data record without a HELLO first: framed, but not by a peer that said who it is.
  EXPECT_EQ(decode(record(FrameKind::kData, "x")).first, FrameError::kNotFramed);
  // The right first byte, the wrong magic.
  std::vector<uint8_t> fake = hello();
  fake[5] = 'X';
  EXPECT_EQ(decode(fake), std::make_pair(FrameError::kNotFramed, size_t{5}));
}

TEST(FrameDecoder, AnotherVersionIsNamed) {
  std::vector<uint8_t> future = hello();
  future[kHelloSize - 1] = 2;
  FrameDecoder decoder;
  Collected got;
  decoder.feed(future.data(), future.size(), got);
  EXPECT_EQ(decoder.error(), FrameError::kVersion);
  EXPECT_EQ(decoder.peer_version(), 2);
}

TEST(FrameDecoder, MalformedRecordsAreNamedAtTheirByte) {
  size_t after_hello = kHelloSize;
  EXPECT_EQ(decode(join({hello(), std::vector<uint8_t>{0x41}})),
            std::make_pair(FrameError::kUnknownKind, after_hello));
  EXPECT_EQ(decode(join({hello(), hello()})),
            std::make_pair(FrameError::kUnknownKind, after_hello));
  EXPECT_EQ(decode(join({hello(), std::vector<uint8_t>{0xA2, 0x80, 0, 1, 'x'}})),
            std::make_pair(FrameError::kFlags, after_hello + 1));
  EXPECT_EQ(decode(join({hello(), std::vector<uint8_t>{0xA2, 0, 0, 0}})),
            std::make_pair(FrameError::kEmptyData, after_hello + 3));
  EXPECT_EQ(decode(join({hello(), std::vector<uint8_t>{0xA2, 0, 0x40, 0x01}})),
            std::make_pair(FrameError::kTooLong, after_hello + 3));  // 16385 bytes of data
  EXPECT_EQ(
      decode(join({hello(), std::vector<uint8_t>{0xA3, 0, 0x04, 0x01}})),
      std::make_pair(FrameError::kTooLong, after_hello + 3));  // 1025 bytes of disconnect data
  std::vector<uint8_t> closed = join({hello(), record(FrameKind::kDisconnect, "17")});
  EXPECT_EQ(decode(join({closed, record(FrameKind::kData, "late")})),
            std::make_pair(FrameError::kAfterDisconnect, closed.size()));
}

// A sender stops inside a HELLO or a DATA record only when it was told the rest was not sent: that
// end is clean. A DISCONNECT record is always finished, so ending inside one is truncation.
TEST(FrameDecoder, AStreamEndingInsideADataRecordIsCleanButInsideADisconnectTruncated) {
  std::vector<uint8_t> data = join({hello(), record(FrameKind::kData, "hello")});
  for (size_t cut = 1; cut < data.size(); ++cut) {
    FrameDecoder decoder;
    Collected got;
    decoder.feed(data.data(), cut, got);
    EXPECT_EQ(decoder.finish(), FrameError::kNone) << "cut at " << cut;
  }
  std::vector<uint8_t> disconnect = join({hello(), record(FrameKind::kDisconnect, "17")});
  for (size_t cut = kHelloSize + 1; cut < disconnect.size(); ++cut) {
    FrameDecoder decoder;
    Collected got;
    decoder.feed(disconnect.data(), cut, got);
    EXPECT_EQ(decoder.finish(), FrameError::kTruncated) << "cut at " << cut;
  }
}

TEST(FrameDecoder, EveryErrorHasWords) {
  for (FrameError error : {FrameError::kNotFramed, FrameError::kVersion, FrameError::kUnknownKind,
                           FrameError::kFlags, FrameError::kEmptyData, FrameError::kTooLong,
                           FrameError::kAfterDisconnect, FrameError::kTruncated,
                           FrameError::kUnexpected}) {
    EXPECT_GT(std::string(describe(error)).size(), 10u);
  }
}

}  // namespace
}  // namespace teardown
