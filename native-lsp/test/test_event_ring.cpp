// The event ring in one process: order, loss accounting, stalled and torn slots, damage. Every
// reader test runs twice: reading the ring in place, as a reader maps its own user's rings, and
// through copies of it, as other users' rings are read.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "event_ring.h"
#include "test_support.h"

namespace teardown {
namespace {

using teardown::testing::make_event;

// The ring's memory read only by copying, as a file is.
class CopiedSource final : public RingSource {
 public:
  explicit CopiedSource(const std::vector<uint8_t>& memory) : memory_(memory) {}
  bool copy(uint64_t offset, void* out, size_t length) const override {
    if (offset > memory_.size() || length > memory_.size() - offset) return false;
    std::memcpy(out, memory_.data() + offset, length);
    return true;
  }

 private:
  const std::vector<uint8_t>& memory_;
};

enum class ReadThrough { Mapping, Copies };

class EventRingTest : public ::testing::TestWithParam<ReadThrough> {
 protected:
  static constexpr uint32_t kSlots = 64;
  std::vector<uint8_t> memory_ = std::vector<uint8_t>(layout::events_file_bytes(kSlots));
  EventRing ring_;
  CopiedSource copied_{memory_};

  RingReader reader_of(ReaderStart start, uint64_t stall_timeout_ns) {
    if (GetParam() == ReadThrough::Mapping) return RingReader(ring_, 0, start, stall_timeout_ns);
    return RingReader(copied_, ring_.geometry(), 0, start, stall_timeout_ns);
  }

  void SetUp() override {
    EventRing::initialize(memory_.data(), kSlots, 77);
    ASSERT_EQ(EventRing::bind(memory_.data(), memory_.size(), ring_), TD_OK);
  }

  void publish(uint64_t count, uint64_t first_socket = 0) {
    for (uint64_t i = 0; i < count; ++i) {
      ASSERT_TRUE(ring_.publish(make_event(TD_KIND_CLOSE, first_socket + i)));
    }
  }

  // Three events published and the middle one's record damaged in its slot by `damage`: a
  // reader delivers the other two and counts that one lost.
  void expect_middle_lost(void (*damage)(td_event_record&)) {
    publish(3);
    auto* slots = reinterpret_cast<layout::Slot*>(memory_.data() + sizeof(layout::EventsHeader));
    damage(slots[1].record);
    RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000);
    uint64_t lost = 0;
    std::vector<td_event_record> events = drain(reader, lost);
    EXPECT_EQ(lost, 1u);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].sequence, 0u);
    EXPECT_EQ(events[1].sequence, 2u);
  }

  std::vector<td_event_record> drain(RingReader& reader, uint64_t& lost) {
    std::vector<td_event_record> all;
    lost = 0;
    td_event_record batch[16];
    for (;;) {
      size_t count = 0;
      uint64_t batch_lost = 0;
      EXPECT_EQ(reader.read(batch, 16, count, batch_lost), TD_OK);
      lost += batch_lost;
      all.insert(all.end(), batch, batch + count);
      if (count == 0 && batch_lost == 0) return all;
    }
  }
};

TEST_P(EventRingTest, ValidatesWhatItInitialised) {
  EXPECT_EQ(EventRing::validate(memory_.data(), memory_.size()), TD_OK);
  EXPECT_TRUE(ring_.healthy());
  EXPECT_EQ(ring_.slot_count(), kSlots);
}

TEST_P(EventRingTest, RejectsTruncatedWrongVersionAndForeignFiles) {
  EXPECT_EQ(EventRing::validate(memory_.data(), memory_.size() - 1), TD_ERR_CORRUPT);
  EXPECT_EQ(EventRing::validate(memory_.data(), 100), TD_ERR_CORRUPT);
  auto* header = reinterpret_cast<layout::EventsHeader*>(memory_.data());
  for (uint32_t other : {layout::kEventsLayoutVersion - 1, layout::kEventsLayoutVersion + 1}) {
    header->layout_version = other;
    EXPECT_EQ(EventRing::validate(memory_.data(), memory_.size()), TD_ERR_VERSION);
  }
  header->layout_version = layout::kEventsLayoutVersion;
  // Lanes: a power of two, at most kMaxLanes, none smaller than the smallest ring.
  for (uint32_t lanes : {0u, 3u, 2u, 32u}) {
    header->lane_count = lanes;
    EXPECT_EQ(EventRing::validate(memory_.data(), memory_.size()), TD_ERR_CORRUPT) << lanes;
  }
  header->lane_count = 1;
  header->slot_count = 63;
  EXPECT_EQ(EventRing::validate(memory_.data(), memory_.size()), TD_ERR_CORRUPT);
  header->slot_count = kSlots;
  header->magic.store(0x1234);
  EXPECT_EQ(EventRing::validate(memory_.data(), memory_.size()), TD_ERR_CORRUPT);
}

TEST_P(EventRingTest, ReaderGetsEveryEventInOrderWithItsFields) {
  RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000);
  td_event_record event = make_event(TD_KIND_RECV_DISCONNECT, 9, 5000, 80);
  event.data_length = 5;
  event.captured_length = 5;
  std::memcpy(event.captured, "hello", 5);
  std::strcpy(event.process_name, "client.exe");
  ASSERT_TRUE(ring_.publish(event));
  publish(3, 10);

  uint64_t lost = 0;
  std::vector<td_event_record> events = drain(reader, lost);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(events[0].kind, TD_KIND_RECV_DISCONNECT);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(events[0].captured), 5), "hello");
  EXPECT_STREQ(events[0].process_name, "client.exe");
  EXPECT_EQ(events[0].local.port, 5000);
  for (uint64_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence, i);
  EXPECT_EQ(events[3].socket_id, 12u);
}

TEST_P(EventRingTest, ReaderStartingAtNewestSeesOnlyLaterEvents) {
  publish(5);
  RingReader reader = reader_of(ReaderStart::Newest, 1'000'000);
  publish(2, 100);
  uint64_t lost = 0;
  std::vector<td_event_record> events = drain(reader, lost);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].socket_id, 100u);
  EXPECT_EQ(lost, 0u);
}

TEST_P(EventRingTest, SlowReaderLosesTheOldestAndIsToldExactlyHowMany) {
  RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000);
  publish(kSlots + 37);
  uint64_t lost = 0;
  std::vector<td_event_record> events = drain(reader, lost);
  EXPECT_EQ(lost, 37u);
  ASSERT_EQ(events.size(), kSlots);
  EXPECT_EQ(events.front().sequence, 37u) << "the oldest were lost, the newest kept";
  EXPECT_EQ(events.back().sequence, kSlots + 36u);
}

TEST_P(EventRingTest, ReadersAreIndependent) {
  RingReader early = reader_of(ReaderStart::Oldest, 1'000'000);
  publish(10);
  uint64_t lost = 0;
  EXPECT_EQ(drain(early, lost).size(), 10u);
  RingReader late = reader_of(ReaderStart::Oldest, 1'000'000);
  EXPECT_EQ(drain(late, lost).size(), 10u) << "reading does not consume";
}

TEST_P(EventRingTest, AStalledProducerHoldsReadersBackOnlyUntilTheTimeout) {
  RingReader reader = reader_of(ReaderStart::Oldest, 20'000'000);  // 20 ms
  publish(2);
  EventRing::Claim abandoned;
  ASSERT_TRUE(ring_.claim(abandoned));  // a producer that never completes its slot
  publish(3, 50);

  td_event_record batch[16];
  size_t count = 0;
  uint64_t lost = 0;
  ASSERT_EQ(reader.read(batch, 16, count, lost), TD_OK);
  EXPECT_EQ(count, 2u) << "events after the open slot wait, to keep the order";
  EXPECT_EQ(lost, 0u);

  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ASSERT_EQ(reader.read(batch, 16, count, lost), TD_OK);
  EXPECT_EQ(lost, 1u);
  ASSERT_EQ(count, 3u);
  EXPECT_EQ(batch[0].socket_id, 50u);
}

TEST_P(EventRingTest, ASlotCompletedLateIsDeliveredIfTheReaderWaited) {
  RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000'000);
  EventRing::Claim slow;
  ASSERT_TRUE(ring_.claim(slow));
  td_event_record batch[4];
  size_t count = 0;
  uint64_t lost = 0;
  ASSERT_EQ(reader.read(batch, 4, count, lost), TD_OK);
  EXPECT_EQ(count, 0u);
  ASSERT_TRUE(ring_.complete(slow, make_event(TD_KIND_EOF, 3)));
  ASSERT_EQ(reader.read(batch, 4, count, lost), TD_OK);
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(batch[0].kind, TD_KIND_EOF);
}

TEST_P(EventRingTest, AProducerLappedBeforeItCompletesDropsItsEvent) {
  EventRing::Claim slow;
  ASSERT_TRUE(ring_.claim(slow));
  publish(kSlots);  // the last of these takes the slow producer's slot
  EXPECT_FALSE(ring_.complete(slow, make_event(TD_KIND_RESET, 1)));
  td_counters counters{};
  ring_.counters(counters);
  EXPECT_EQ(counters.dropped, 1u);
  EXPECT_EQ(counters.produced, kSlots + 1u);
  EXPECT_EQ(counters.per_kind[TD_KIND_CLOSE], kSlots);
  EXPECT_EQ(counters.per_kind[TD_KIND_RESET], 0u);

  RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000);
  uint64_t lost = 0;
  std::vector<td_event_record> events = drain(reader, lost);
  EXPECT_EQ(events.size() + lost, kSlots) << "everything in the ring is accounted for";
}

TEST_P(EventRingTest, ATornRecordIsCountedLostNeverDelivered) {
  // Bytes changed under a complete stamp.
  expect_middle_lost([](td_event_record& record) { record.socket_id ^= 0xFF; });
}

// The check is seeded with the sequence a reader asks for, not summed from the record's own field:
// that field is compared on its own (a producer a lap ahead writes it first).
TEST_P(EventRingTest, ARecordWhoseSequenceFieldIsAnotherIsCountedLost) {
  // The next lap's sequence, under this lap's stamp and check.
  expect_middle_lost([](td_event_record& record) { record.sequence = 1 + kSlots; });
}

TEST_P(EventRingTest, AnImplausibleCaptureLengthIsNeverCopied) {
  publish(1);
  auto* slots = reinterpret_cast<layout::Slot*>(memory_.data() + sizeof(layout::EventsHeader));
  slots[0].record.captured_length = 60000;
  RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000);
  uint64_t lost = 0;
  EXPECT_TRUE(drain(reader, lost).empty());
  EXPECT_EQ(lost, 1u);
}

TEST_P(EventRingTest, ReaderReportsADamagedHeader) {
  RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000);
  publish(1);
  reinterpret_cast<layout::EventsHeader*>(memory_.data())->magic.store(0xBAD);
  td_event_record batch[4];
  size_t count = 0;
  uint64_t lost = 0;
  EXPECT_EQ(reader.read(batch, 4, count, lost), TD_ERR_CORRUPT);
  EXPECT_FALSE(ring_.healthy());
}

TEST_P(EventRingTest, AReinitialisedRingIsNotTheOneProducersBoundTo) {
  EventRing::initialize(memory_.data(), kSlots, 78);
  EXPECT_FALSE(ring_.healthy()) << "a new generation sends producers to re-attach";
}

TEST_P(EventRingTest, AProducerLappingTheReaderNeverGetsATornRecordDelivered) {
  // Every record a producer writes is made of one value, so a record mixed from two is seen.
  RingReader reader = reader_of(ReaderStart::Oldest, 1'000'000'000);
  constexpr uint64_t kEvents = 200'000;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 1; i <= kEvents; ++i) {
      td_event_record event =
          make_event(TD_KIND_CLOSE, i, static_cast<uint16_t>(i), static_cast<uint16_t>(i));
      event.bytes_sent = i;
      event.bytes_received = i;
      event.captured_length = static_cast<uint16_t>(i % 17);
      std::memset(event.captured, static_cast<int>(i & 0xFF), event.captured_length);
      ring_.publish(event);
    }
    done = true;
  });
  uint64_t delivered = 0;
  uint64_t lost = 0;
  uint64_t last_sequence = 0;
  bool first = true;
  td_event_record batch[16];
  for (bool finished = false; !finished;) {
    bool producer_done = done.load();
    size_t count = 0;
    uint64_t batch_lost = 0;
    ASSERT_EQ(reader.read(batch, 16, count, batch_lost), TD_OK);
    finished = producer_done && count == 0 && batch_lost == 0;  // and all it left is read
    lost += batch_lost;
    for (size_t k = 0; k < count; ++k) {
      const td_event_record& event = batch[k];
      uint64_t value = event.socket_id;
      ASSERT_EQ(event.bytes_sent, value);
      ASSERT_EQ(event.bytes_received, value);
      ASSERT_EQ(event.local.port, static_cast<uint16_t>(value));
      ASSERT_EQ(event.captured_length, value % 17);
      for (size_t b = 0; b < event.captured_length; ++b) ASSERT_EQ(event.captured[b], value & 0xFF);
      ASSERT_EQ(event.sequence, value - 1) << "one producer: sequence and value go together";
      ASSERT_TRUE(first || event.sequence > last_sequence);
      first = false;
      last_sequence = event.sequence;
    }
    delivered += count;
  }
  producer.join();
  EXPECT_EQ(delivered + lost, kEvents) << "every event delivered or counted lost";
  EXPECT_GT(delivered, 0u);
}

INSTANTIATE_TEST_SUITE_P(ReadThrough, EventRingTest,
                         ::testing::Values(ReadThrough::Mapping, ReadThrough::Copies),
                         [](const ::testing::TestParamInfo<ReadThrough>& param) {
                           return param.param == ReadThrough::Mapping ? "Mapping" : "Copies";
                         });

TEST(RecordCheck, DependsOnSequenceAndEveryCheckedByte) {
  td_event_record event = teardown::testing::make_event(TD_KIND_SHUTDOWN, 1);
  event.captured_length = 3;
  uint64_t base = record_check(event, 5);
  EXPECT_NE(base, record_check(event, 6));
  event.captured[2] = 1;
  EXPECT_NE(base, record_check(event, 5));
  event.captured[2] = 0;
  event.captured[3] = 1;  // past captured_length: not part of the record
  EXPECT_EQ(base, record_check(event, 5));
  event.process_name[63] = 'x';
  EXPECT_NE(base, record_check(event, 5));
  // The kernel's view counts where the record carries it, and only there.
  uint64_t without = record_check(event, 5);
  event.kernel.unread_bytes = 1000;
  EXPECT_EQ(without, record_check(event, 5)) << "not carried: not part of the record";
  event.flags |= TD_FLAG_KERNEL_VIEW;
  uint64_t with = record_check(event, 5);
  event.kernel.unread_bytes = 999;
  EXPECT_NE(with, record_check(event, 5));
}

// The format's fixed part: every field before the kernel's view (the record's first 192 bytes);
// the view (32 bytes) follows where the record carries it, then the captured bytes.
constexpr size_t kFixed = 192;
constexpr size_t kView = 32;
constexpr size_t kCaptured = kFixed + kView;

// The check as the ring format defines it, word by word: whichever way record_check computes it
// (SSE2 lanes or scalar), rings written by one build are read by another.

uint64_t reference_check(const td_event_record& record, uint64_t sequence) {
  auto word_at = [&](size_t offset) {
    uint64_t word = 0;
    std::memcpy(&word, reinterpret_cast<const uint8_t*>(&record) + offset, 8);
    return word;
  };
  auto mix = [](uint64_t state, uint64_t word) {
    uint64_t h = (state ^ word) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 32);
  };
  size_t captured = record.captured_length <= TD_CAPTURE_MAX ? record.captured_length : 0;
  bool view = (record.flags & TD_FLAG_KERNEL_VIEW) != 0;
  size_t length = kFixed + (view ? kView : 0) + captured;
  uint64_t even = sequence, odd = word_at(8), even_weighted = 0, odd_weighted = odd;
  for (size_t offset = 16; offset < kFixed; offset += 16) {
    even += word_at(offset);
    odd += word_at(offset + 8);
    even_weighted += even;
    odd_weighted += odd;
  }
  // Then, in lane 0, the view's words where the record carries it, and the captured bytes' words.
  auto tail = [&](size_t from, size_t count) {
    for (size_t offset = 0; offset < count; offset += 8) {
      uint64_t word = 0;
      std::memcpy(&word, reinterpret_cast<const uint8_t*>(&record) + from + offset,
                  count - offset < 8 ? count - offset : 8);
      even += word;
      even_weighted += even;
    }
  };
  if (view) tail(kFixed, kView);
  tail(kCaptured, captured);
  uint64_t hash = mix(sequence ^ length, even);
  hash = mix(hash, even_weighted);
  hash = mix(hash, odd);
  return mix(hash, odd_weighted);
}

TEST(RecordCheck, IsTheFormatsFunctionForEveryRecordShape) {
  uint64_t state = 0x2545F4914F6CDD1Dull;
  for (int round = 0; round < 2000; ++round) {
    td_event_record event;
    auto* bytes = reinterpret_cast<uint8_t*>(&event);
    for (size_t i = 0; i < sizeof(event); ++i) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      bytes[i] = static_cast<uint8_t>(state);
    }
    // Every captured length, past the limit too (then nothing captured counts).
    event.captured_length = static_cast<uint16_t>(round % (TD_CAPTURE_MAX + 20));
    EXPECT_EQ(record_check(event, state), reference_check(event, state)) << "round " << round;
    // What builds without SSE2 (32-bit x86 LSPs) compute, for 64-bit readers to check.
    EXPECT_EQ(portable::record_check(event, state), reference_check(event, state))
        << "round " << round;
  }
}

// What a producer writes into a slot: the record with its sequence, nothing captured for a length
// past the limit, and the format's check of exactly that, for every record shape.
TEST(StoreRecord, StoresTheRecordAndReturnsTheFormatsCheckOfWhatItStored) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 2000; ++round) {
    td_event_record from;
    td_event_record to;
    for (size_t i = 0; i < sizeof(from); ++i) {
      reinterpret_cast<uint8_t*>(&from)[i] = static_cast<uint8_t>(next());
      reinterpret_cast<uint8_t*>(&to)[i] = static_cast<uint8_t>(next());
    }
    from.captured_length = static_cast<uint16_t>(round % (TD_CAPTURE_MAX + 20));
    uint64_t sequence = next();
    bool past_limit = from.captured_length > TD_CAPTURE_MAX;
    size_t captured = past_limit ? 0 : from.captured_length;
    // Every build's way: SSE2 where there is SSE2, one word at a time in 32-bit x86 LSPs.
    for (auto store : {&store_record, &portable::store_record}) {
      td_event_record stored = to;
      uint64_t check = store(stored, from, sequence);
      EXPECT_EQ(stored.sequence, sequence) << "round " << round;
      EXPECT_EQ(stored.captured_length, captured) << "round " << round;
      // Every other byte of the fixed part, the view where it is carried, and every captured byte,
      // as given; a view not carried is not copied.
      bool view = (from.flags & TD_FLAG_KERNEL_VIEW) != 0;
      td_event_record expected = stored;
      std::memcpy(&expected, &from, layout::kRecordFixedBytes);
      expected.sequence = sequence;
      expected.captured_length = static_cast<uint16_t>(captured);
      std::memcpy(expected.captured, from.captured, captured);
      if (view) expected.kernel = from.kernel;
      EXPECT_EQ(std::memcmp(&stored, &expected, layout::kRecordFixedBytes), 0) << "round " << round;
      EXPECT_EQ(std::memcmp(&stored.kernel, view ? &from.kernel : &to.kernel, sizeof(stored.kernel)), 0)
          << "round " << round;
      EXPECT_EQ(std::memcmp(stored.captured, from.captured, captured), 0) << "round " << round;
      EXPECT_EQ(check, reference_check(stored, sequence)) << "round " << round;
    }
  }
}


// A ring of several lanes, in memory: each lane has its own head, slots and laps.
class LanedRing : public ::testing::Test {
 protected:
  static constexpr uint32_t kSlots = 256;
  static constexpr uint32_t kLanes = 4;  // 64 slots each
  std::vector<uint8_t> memory_ = std::vector<uint8_t>(layout::events_file_bytes(kSlots));
  EventRing ring_;

  void SetUp() override {
    EventRing::initialize(memory_.data(), kSlots, 5, kLanes);
    ASSERT_EQ(EventRing::bind(memory_.data(), memory_.size(), ring_), TD_OK);
  }

  uint64_t publish_in(uint32_t lane, uint64_t socket) {
    EventRing::Claim claim;
    EXPECT_TRUE(ring_.claim_in(lane, claim));
    EXPECT_TRUE(ring_.complete(claim, make_event(TD_KIND_EOF, socket)));
    return claim.sequence;
  }

  std::vector<td_event_record> drain(uint32_t lane, uint64_t& lost) {
    RingReader reader(ring_, lane, ReaderStart::First, 1'000'000);
    std::vector<td_event_record> all(kSlots);
    size_t count = 0;
    lost = 0;
    EXPECT_EQ(reader.read(all.data(), all.size(), count, lost), TD_OK);
    all.resize(count);
    return all;
  }
};

TEST_F(LanedRing, ALanesSequencesSayTheirLaneAndItsSlotsAreItsOwnRange) {
  EXPECT_EQ(ring_.lane_count(), kLanes);
  EXPECT_EQ(publish_in(2, 1), 2u);
  EXPECT_EQ(publish_in(2, 2), 6u);
  EXPECT_EQ(publish_in(0, 3), 0u);
  EXPECT_EQ(publish_in(2, 4), 10u);
  auto* slots = reinterpret_cast<layout::Slot*>(memory_.data() + sizeof(layout::EventsHeader));
  // Lane 2 holds slots 128..191: its third event is in the lane's third slot.
  EXPECT_EQ(slots[130].record.sequence, 10u);
  EXPECT_EQ(slots[130].record.socket_id, 4u);
  EXPECT_EQ(ring_.head(), 4u) << "events of all lanes";
  td_counters counters{};
  ring_.counters(counters);
  EXPECT_EQ(counters.produced, 4u);
  EXPECT_EQ(counters.per_kind[TD_KIND_EOF], 4u) << "each lane counts in a stripe of its own";
  auto* header = reinterpret_cast<layout::EventsHeader*>(memory_.data());
  EXPECT_EQ(header->stripes[2].values[TD_KIND_EOF].load(), 3u);
  EXPECT_EQ(header->stripes[0].values[TD_KIND_EOF].load(), 1u);
}

TEST_F(LanedRing, ALaneThatLapsOverwritesOnlyItself) {
  for (uint64_t i = 0; i < 3; ++i) publish_in(2, 1000 + i);
  for (uint64_t i = 0; i < 100; ++i) publish_in(1, i);
  uint64_t lost = 0;
  std::vector<td_event_record> busy = drain(1, lost);
  EXPECT_EQ(lost, 36u) << "a lane holds its 64 newest";
  ASSERT_EQ(busy.size(), 64u);
  EXPECT_EQ(busy.front().socket_id, 36u);
  EXPECT_EQ(busy.front().sequence, 36u * kLanes + 1);
  EXPECT_EQ(busy.back().socket_id, 99u);
  std::vector<td_event_record> quiet = drain(2, lost);
  EXPECT_EQ(lost, 0u) << "another lane's laps never touch this one";
  ASSERT_EQ(quiet.size(), 3u);
  EXPECT_EQ(quiet[2].socket_id, 1002u);
  EXPECT_EQ(quiet[2].sequence, 10u);
  EXPECT_TRUE(drain(0, lost).empty());
}

TEST_F(LanedRing, AReaderOfALaneTakesOnlyThatLanesPositions) {
  for (uint64_t i = 0; i < 5; ++i) publish_in(3, i);
  RingReader reader(ring_, 3, ReaderStart::First, 1'000'000);
  reader.seek(2);  // lane 2's
  EXPECT_EQ(reader.cursor(), 3u) << "its own first, untouched";
  reader.seek(11);  // lane 3's third event
  EXPECT_EQ(reader.cursor(), 11u);
  td_event_record batch[8];
  size_t count = 0;
  uint64_t lost = 0;
  ASSERT_EQ(reader.read(batch, 8, count, lost), TD_OK);
  ASSERT_EQ(count, 3u);
  EXPECT_EQ(batch[0].socket_id, 2u);
  EXPECT_EQ(reader.cursor(), 5u * kLanes + 3);
}

TEST_F(LanedRing, ThreadsPublishIntoLanesOfTheirOwnAndEachKeepsToOne) {
  uint32_t lanes[2] = {};
  bool steady[2] = {};
  auto run = [&](int t) {
    lanes[t] = ring_.lane_of_this_thread();
    steady[t] = true;
    for (int i = 0; i < 1000; ++i) steady[t] = steady[t] && ring_.lane_of_this_thread() == lanes[t];
  };
  std::thread first(run, 0);
  first.join();
  std::thread second(run, 1);
  second.join();
  EXPECT_TRUE(steady[0] && steady[1]);
  EXPECT_NE(lanes[0], lanes[1]) << "threads started one after another take different lanes";
}

TEST(Lanes, TheChildrenOfOneParentSpreadOverTheLanes) {
  // A pre-forked server: every worker is the forking thread's copy, with its thread number.
  constexpr uint32_t kSlots = 1024;
  constexpr uint32_t kLanes = 16;
  std::vector<uint8_t> memory(layout::events_file_bytes(kSlots));
  EventRing::initialize(memory.data(), kSlots, 9, kLanes);
  EventRing ring;
  ASSERT_EQ(EventRing::bind(memory.data(), memory.size(), ring), TD_OK);
  const uint32_t parent_lane = ring.lane_of_this_thread();
  std::set<uint32_t> lanes;
  for (int child = 0; child < 8; ++child) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ring.after_fork();
      _exit(static_cast<int>(ring.lane_of_this_thread()));
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    lanes.insert(static_cast<uint32_t>(WEXITSTATUS(status)));
  }
  lanes.insert(parent_lane);
  // Without the spread all nine are in one lane; with it, nine draws of sixteen all alike would
  // be a chance of one in 16^8.
  EXPECT_GE(lanes.size(), 2u);
}

TEST(Lanes, ProducersGiveRingsALanePerCpuUpToFourEachOfAtLeast4096Slots) {
  EXPECT_EQ(layout::lanes_for(16384, 1), 1u) << "one CPU: nobody to share a line with";
  EXPECT_EQ(layout::lanes_for(16384, 2), 2u);
  EXPECT_EQ(layout::lanes_for(16384, 3), 4u);
  EXPECT_EQ(layout::lanes_for(16384, 64), 4u);
  EXPECT_EQ(layout::lanes_for(1u << 20, 64), 4u);
  EXPECT_EQ(layout::lanes_for(8192, 64), 2u);
  EXPECT_EQ(layout::lanes_for(4096, 64), 1u) << "a small ring stays one lane";
  EXPECT_EQ(layout::lanes_for(64, 8), 1u);
  for (uint32_t slots = layout::kMinSlotCount; slots <= layout::kMaxSlotCount; slots *= 2) {
    for (uint32_t cpus : {1u, 2u, 5u, 1024u}) {
      EXPECT_TRUE(layout::valid_lane_count(layout::lanes_for(slots, cpus), slots));
    }
  }
}

}  // namespace
}  // namespace teardown
