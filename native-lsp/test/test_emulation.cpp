// Disconnect-data emulation on one connection, without sockets: a sender's writes go through a
// "wire" that takes as many bytes as each test says (all, some, none, a header's half), and a
// receiver reads them into buffers of every shape. Whatever the wire does, the receiving
// application gets exactly the bytes the sending application was told it sent, in order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emulation.h"

namespace teardown {
namespace {

std::string pattern(size_t length, uint32_t seed) {
  std::string out(length, '\0');
  std::mt19937 random(seed);
  for (char& c : out) c = static_cast<char>(random() & 0xFF);
  return out;
}

// One application send: `data` offered, the wire taking at most `accept` bytes of the write.
// Returns the application bytes accepted.
size_t send_once(EmulatedStream& sender, const std::string& data, size_t accept,
                 std::vector<uint8_t>& wire) {
  Span span{reinterpret_cast<uint8_t*>(const_cast<char*>(data.data())), data.size()};
  AppBuffers app(&span, 1);
  WritePlan plan;
  sender.plan_write(app, plan);
  size_t taken = std::min(accept, plan.raw_length);
  size_t left = taken;
  for (size_t i = 0; i < plan.count && left > 0; ++i) {
    size_t n = std::min(left, plan.spans[i].length);
    wire.insert(wire.end(), plan.spans[i].data, plan.spans[i].data + n);
    left -= n;
  }
  return sender.commit_write(plan, taken);
}

// Sends all of `data` the way a program does: what was not taken is offered again.
void send_all(EmulatedStream& sender, const std::string& data, std::vector<uint8_t>& wire,
              size_t wire_limit = SIZE_MAX) {
  size_t at = 0;
  while (at < data.size()) at += send_once(sender, data.substr(at), wire_limit, wire);
  // The stream's own owed bytes, if the last write left a header's half.
  while (sender.owes_bytes()) send_once(sender, "", wire_limit, wire);
}

struct Received {
  std::string data;
  size_t moved = 0;
  size_t reads = 0;
  size_t touched_past = 0;  // bytes of the buffers past what a read returned that it changed
  FrameError error = FrameError::kNone;
};

constexpr uint8_t kUntouched = 0xEE;

// Reads the whole wire into buffers of `read_size` bytes, split into `pieces` spans.
Received receive_all(EmulatedStream& receiver, const std::vector<uint8_t>& wire, size_t read_size,
                     size_t pieces = 1) {
  Received out;
  size_t at = 0;
  std::vector<uint8_t> storage(read_size);
  std::vector<Span> spans;
  size_t per = std::max<size_t>(1, read_size / pieces);
  for (size_t offset = 0; offset < read_size; offset += per) {
    spans.push_back(Span{storage.data() + offset, std::min(per, read_size - offset)});
  }
  AppBuffers app(spans.data(), spans.size());
  for (int guard = 0; at < wire.size() && guard < 1000000; ++guard) {
    std::fill(storage.begin(), storage.end(), kUntouched);
    ++out.reads;
    ReadPlan plan;
    receiver.plan_read(app, plan);
    size_t got = std::min(plan.raw_length, wire.size() - at);
    size_t left = got;
    for (size_t i = 0; i < plan.count && left > 0; ++i) {
      size_t n = std::min(left, plan.spans[i].length);
      std::memcpy(plan.spans[i].data, wire.data() + at, n);
      at += n;
      left -= n;
    }
    ReadOutcome outcome = receiver.finish_read(plan, app, got);
    out.moved += outcome.moved_bytes;
    // The flat start of the buffers holds the application's bytes.
    std::vector<uint8_t> flat;
    for (const Span& span : spans) flat.insert(flat.end(), span.data, span.data + span.length);
    out.data.append(reinterpret_cast<const char*>(flat.data()), outcome.app_bytes);
    // Past what the read returns, the program's buffers are as it left them.
    for (size_t i = outcome.app_bytes; i < flat.size(); ++i)
      out.touched_past += flat[i] != kUntouched;
    if (outcome.error != FrameError::kNone) {
      out.error = outcome.error;
      break;
    }
  }
  return out;
}

TEST(EmulatedStream, BulkDataArrivesWholeAndMostOfItLandsInPlace) {
  std::string data = pattern(5 * kMaxDataPayload, 1);
  EmulatedStream sender;
  EmulatedStream receiver;
  std::vector<uint8_t> wire;
  send_all(sender, data, wire);
  EXPECT_EQ(wire.size(), kHelloSize + data.size() + 5 * kFrameHeaderSize);
  Received got = receive_all(receiver, wire, 4 * kMaxDataPayload);
  EXPECT_EQ(got.data, data);
  EXPECT_EQ(got.touched_past, 0u) << "nothing lands past what a read returns";
  // Only what follows a header not yet read is staged and copied: at most one staging area a read.
  EXPECT_LE(got.moved, got.reads * kStagingSize);
  EXPECT_EQ(receiver.finish(), FrameError::kNone);
}

TEST(EmulatedStream, SmallSendsIntoLargeAndScatteredBuffersArriveInOrder) {
  std::mt19937 random(7);
  std::string stream;
  EmulatedStream sender;
  std::vector<uint8_t> wire;
  for (int message = 0; message < 300; ++message) {
    std::string piece = pattern(1 + random() % 700, static_cast<uint32_t>(message));
    send_all(sender, piece, wire);
    stream += piece;
  }
  for (size_t read_size : {1u, 3u, 4u, 5u, 64u, 1000u, 70000u}) {
    for (size_t pieces : {1u, 3u, 7u}) {
      EmulatedStream receiver;
      Received got = receive_all(receiver, wire, read_size, pieces);
      EXPECT_EQ(got.error, FrameError::kNone);
      EXPECT_EQ(got.data, stream) << "reads of " << read_size << " in " << pieces << " pieces";
      EXPECT_EQ(got.touched_past, 0u) << "reads of " << read_size << " in " << pieces << " pieces";
    }
  }
}

// The wire takes any number of bytes of each write, a header's half included; the program offers
// again what it was told was not sent. Nothing is lost, duplicated or reordered.
TEST(EmulatedStream, ShortWritesAnywhereKeepTheStreamExact) {
  std::mt19937 random(11);
  std::string stream = pattern(3 * kMaxDataPayload + 123, 3);
  for (int round = 0; round < 200; ++round) {
    EmulatedStream sender;
    std::vector<uint8_t> wire;
    size_t at = 0;
    size_t sent_total = 0;
    while (at < stream.size()) {
      size_t offer = std::min<size_t>(1 + random() % (2 * kMaxDataPayload), stream.size() - at);
      size_t accept = random() % 3 == 0 ? random() % 6 : random() % (offer + 20);
      size_t sent = send_once(sender, stream.substr(at, offer), accept, wire);
      ASSERT_LE(sent, offer);
      at += sent;
      sent_total += sent;
    }
    while (sender.owes_bytes()) send_once(sender, "", 1 + random() % 3, wire);
    EXPECT_EQ(sent_total, stream.size());
    EXPECT_FALSE(sender.owes_data());
    EmulatedStream receiver;
    Received got = receive_all(receiver, wire, 1 + random() % 40000, 1 + random() % 4);
    ASSERT_EQ(got.data, stream) << "round " << round;
    EXPECT_EQ(got.touched_past, 0u) << "round " << round;
    EXPECT_EQ(receiver.finish(), FrameError::kNone);
  }
}

// A program that stops inside a record (its send was short and it shut down instead of sending
// the rest): the peer receives exactly what the program was told it sent, then a clean end.
TEST(EmulatedStream, AProgramThatGivesUpInsideARecordEndsTheStreamCleanly) {
  std::string data = pattern(5000, 5);
  for (size_t accept : {kHelloSize + 1, kHelloSize + 2, kHelloSize + 4, kHelloSize + 4 + 1234}) {
    EmulatedStream sender;
    std::vector<uint8_t> wire;
    size_t sent = send_once(sender, data, accept, wire);
    EXPECT_EQ(sent, accept > kHelloSize + 4 ? accept - kHelloSize - 4 : 0u);
    EXPECT_EQ(sender.owes_data(), true);
    EXPECT_FALSE(sender.queue_disconnect(nullptr, 0)) << "no DISCONNECT inside a record";
    EmulatedStream receiver;
    Received got = receive_all(receiver, wire, 8192);
    EXPECT_EQ(got.data, data.substr(0, sent));
    EXPECT_EQ(receiver.finish(), FrameError::kNone) << "accepted " << accept;
  }
}

TEST(EmulatedStream, DisconnectDataFollowsTheDataAndIsKeptForTheReceiver) {
  EmulatedStream sender;
  std::vector<uint8_t> wire;
  send_all(sender, "TX 1\nTX 2\n", wire);
  const uint8_t total[8] = {0, 0, 0, 0, 0, 0, 0, 42};
  ASSERT_TRUE(sender.queue_disconnect(total, sizeof(total)));
  EXPECT_TRUE(sender.owes_bytes());
  EXPECT_FALSE(sender.queue_disconnect(total, sizeof(total))) << "one DISCONNECT";
  EXPECT_EQ(send_once(sender, "late", SIZE_MAX, wire), 0u) << "nothing is sent after it";
  EXPECT_FALSE(sender.owes_bytes());

  EmulatedStream receiver;
  Received got = receive_all(receiver, wire, 3);
  EXPECT_EQ(got.data, "TX 1\nTX 2\n");
  EXPECT_TRUE(receiver.disconnect_arrived());
  ASSERT_EQ(receiver.disconnect_length(), sizeof(total));
  EXPECT_EQ(std::memcmp(receiver.disconnect_data(), total, sizeof(total)), 0);
  EXPECT_EQ(receiver.finish(), FrameError::kNone);
}

TEST(EmulatedStream, ADisconnectAloneCarriesTheHelloAndSurvivesShortWrites) {
  EmulatedStream sender;
  std::string data(kMaxDisconnectData, 'd');
  ASSERT_TRUE(sender.queue_disconnect(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  std::vector<uint8_t> wire;
  while (sender.owes_bytes()) send_once(sender, "", 7, wire);
  EXPECT_EQ(wire.size(), kHelloSize + kFrameHeaderSize + kMaxDisconnectData);
  EmulatedStream receiver;
  EXPECT_EQ(receiver.absorb(wire.data(), wire.size()), FrameError::kNone);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(receiver.disconnect_data()),
                        receiver.disconnect_length()),
            data);
}

TEST(EmulatedStream, DisconnectDataOverTheLimitIsRefused) {
  EmulatedStream sender;
  std::vector<uint8_t> big(kMaxDisconnectData + 1, 1);
  EXPECT_FALSE(sender.queue_disconnect(big.data(), big.size()));
  EXPECT_FALSE(sender.owes_bytes());
  EXPECT_FALSE(sender.disconnect_queued());
}

TEST(EmulatedStream, ADisconnectCutShortIsTruncated) {
  EmulatedStream sender;
  const uint8_t data[4] = {1, 2, 3, 4};
  sender.queue_disconnect(data, sizeof(data));
  std::vector<uint8_t> wire;
  send_once(sender, "", kHelloSize + kFrameHeaderSize + 2, wire);
  EmulatedStream receiver;
  receiver.absorb(wire.data(), wire.size());
  EXPECT_FALSE(receiver.disconnect_arrived());
  EXPECT_EQ(receiver.finish(), FrameError::kTruncated);
}

TEST(EmulatedStream, APeekShowsTheDataAndLeavesTheStreamWhereItWas) {
  EmulatedStream sender;
  std::vector<uint8_t> wire;
  send_all(sender, "first", wire);
  send_all(sender, "second", wire);
  EmulatedStream receiver;
  uint8_t buffer[64];
  Span span{buffer, sizeof(buffer)};
  AppBuffers app(&span, 1);
  ReadOutcome peeked = receiver.peek(wire.data(), wire.size(), app);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buffer), peeked.app_bytes), "firstsecond");
  uint8_t three[3];
  Span small{three, sizeof(three)};
  ReadOutcome part = receiver.peek(wire.data(), wire.size(), AppBuffers(&small, 1));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(three), part.app_bytes), "fir") << "what fits";
  Received read = receive_all(receiver, wire, 64);
  EXPECT_EQ(read.data, "firstsecond") << "the peeks consumed nothing";
}

TEST(EmulatedStream, GarbageStopsTheStreamAfterTheBytesBeforeIt) {
  EmulatedStream sender;
  std::vector<uint8_t> wire;
  send_all(sender, "good", wire);
  wire.push_back(0x41);  // no record kind
  wire.push_back(0x42);
  EmulatedStream receiver;
  Received got = receive_all(receiver, wire, 64);
  EXPECT_EQ(got.data, "good");
  EXPECT_EQ(got.error, FrameError::kUnknownKind);
}

TEST(EmulatedStream, APeerThatDoesNotFrameIsRefusedAtItsFirstByte) {
  std::string http = "HTTP/1.1 200 OK\r\n\r\n";
  std::vector<uint8_t> wire(http.begin(), http.end());
  EmulatedStream receiver;
  Received got = receive_all(receiver, wire, 64);
  EXPECT_EQ(got.data, "");
  EXPECT_EQ(got.error, FrameError::kNotFramed);
}

TEST(HelloSniffer, TellsAFramingPeerFromAnyOtherAtTheFirstDifferentByte) {
  uint8_t hello[kHelloSize];
  encode_hello(hello);
  HelloSniffer split;
  EXPECT_EQ(split.feed(hello, 4), HelloSniffer::Verdict::kUndecided);
  EXPECT_EQ(split.feed(hello + 4, kHelloSize - 4), HelloSniffer::Verdict::kHello);
  HelloSniffer http;
  EXPECT_EQ(http.feed(reinterpret_cast<const uint8_t*>("GET"), 3), HelloSniffer::Verdict::kNotHello);
  HelloSniffer almost;
  hello[7] = 'X';
  EXPECT_EQ(almost.feed(hello, kHelloSize), HelloSniffer::Verdict::kNotHello);
}

}  // namespace
}  // namespace teardown
