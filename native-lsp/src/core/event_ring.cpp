#include "event_ring.h"

#include <cstring>

#include "platform.h"

namespace teardown {

using layout::EventsHeader;
using layout::Slot;

namespace {

constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ull;

uint64_t load_word(const uint8_t* bytes) {
  uint64_t word;
  std::memcpy(&word, bytes, sizeof(word));
  return word;
}

uint64_t mix(uint64_t state, uint64_t word) {
  uint64_t h = (state ^ word) * kMultiplier;
  return h ^ (h >> 32);
}

size_t checked_bytes(const td_event_record& record) {
  size_t captured = record.captured_length <= TD_CAPTURE_MAX ? record.captured_length : 0;
  return layout::kRecordFixedBytes + captured;
}

}  // namespace

uint64_t record_check(const td_event_record& record, uint64_t sequence) {
  // Fletcher-style sums over 64-bit words, in two lanes so that the adds run in parallel: `sum`
  // sees every word, `weighted` also where it stands, so a record mixed from two writers or
  // damaged in place shows. The fixed part has a constant length, so its loop unrolls; the
  // sequence field (word 0) is covered by the seed instead.
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&record);
  constexpr size_t kFixedWords = layout::kRecordFixedBytes / 8;
  static_assert(kFixedWords % 2 == 0, "the fixed part is processed in pairs of words");
  uint64_t sum[2] = {sequence, load_word(bytes + 8)};
  uint64_t weighted[2] = {0, sum[1]};
  for (size_t word = 2; word < kFixedWords; word += 2) {
    sum[0] += load_word(bytes + 8 * word);
    sum[1] += load_word(bytes + 8 * word + 8);
    weighted[0] += sum[0];
    weighted[1] += sum[1];
  }
  size_t length = checked_bytes(record);
  for (size_t offset = layout::kRecordFixedBytes; offset < length; offset += 8) {
    uint8_t word[8] = {};
    std::memcpy(word, bytes + offset, length - offset < 8 ? length - offset : 8);
    sum[0] += load_word(word);
    weighted[0] += sum[0];
  }
  // Chained, never XORed together: a change that moves a sum and its weighted twin by the same
  // amount would cancel out in an XOR.
  uint64_t hash = mix(sequence ^ length, sum[0]);
  hash = mix(hash, weighted[0]);
  hash = mix(hash, sum[1]);
  return mix(hash, weighted[1]);
}

td_status EventRing::validate(const uint8_t* base, size_t size) {
  if (base == nullptr || size < sizeof(EventsHeader)) return TD_ERR_CORRUPT;
  const auto* header = reinterpret_cast<const EventsHeader*>(base);
  if (header->magic.load(std::memory_order_acquire) != layout::kEventsMagic) return TD_ERR_CORRUPT;
  if (header->layout_version != layout::kLayoutVersion) return TD_ERR_VERSION;
  if (header->header_size != sizeof(EventsHeader) || header->slot_size != sizeof(Slot) ||
      !layout::valid_slot_count(header->slot_count) ||
      size < layout::events_file_bytes(header->slot_count)) {
    return TD_ERR_CORRUPT;
  }
  return TD_OK;
}

void EventRing::initialize(uint8_t* base, uint32_t slot_count, uint64_t generation) {
  auto* header = reinterpret_cast<EventsHeader*>(base);
  header->magic.store(0, std::memory_order_release);
  std::memset(base + sizeof(header->magic), 0,
              layout::events_file_bytes(slot_count) - sizeof(header->magic));
  header->layout_version = layout::kLayoutVersion;
  header->header_size = sizeof(EventsHeader);
  header->slot_size = sizeof(Slot);
  header->slot_count = slot_count;
  header->generation = generation;
  header->magic.store(layout::kEventsMagic, std::memory_order_release);
}

EventRing::EventRing(uint8_t* base)
    : header_(reinterpret_cast<EventsHeader*>(base)),
      slots_(reinterpret_cast<Slot*>(base + sizeof(EventsHeader))),
      mask_(header_->slot_count - 1u),
      slot_count_(header_->slot_count),
      generation_(header_->generation) {}

bool EventRing::healthy() const {
  return header_->magic.load(std::memory_order_relaxed) == layout::kEventsMagic &&
         header_->generation == generation_;
}

layout::CounterStripe& EventRing::stripe() {
  return header_->stripes[platform::cpu_number() % layout::kCounterStripes];
}

bool EventRing::claim(Claim& claim) {
  uint64_t sequence = header_->head.fetch_add(1, std::memory_order_relaxed);
  Slot& slot = slots_[sequence & mask_];
  uint64_t seen = slot.stamp.load(std::memory_order_acquire);
  // A producer a lap (or more) ahead already filled this slot: this event can only be lost.
  if (seen != 0 && layout::stamp_sequence(seen) >= sequence) {
    stripe().values[0].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  claim.slot = &slot;
  claim.sequence = sequence;
  claim.seen_stamp = seen;
  return true;
}

bool EventRing::complete(const Claim& claim, const td_event_record& record) {
  Slot& slot = *claim.slot;
  // Overtaken while this producer was away: leave the newer record alone.
  if (slot.stamp.load(std::memory_order_relaxed) != claim.seen_stamp) {
    stripe().values[0].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  size_t captured = record.captured_length <= TD_CAPTURE_MAX ? record.captured_length : 0;
  std::memcpy(&slot.record, &record, layout::kRecordFixedBytes + captured);
  slot.record.sequence = claim.sequence;
  slot.record.captured_length = static_cast<uint16_t>(captured);
  slot.check = record_check(slot.record, claim.sequence);
  uint64_t expected = claim.seen_stamp;
  if (!slot.stamp.compare_exchange_strong(expected, layout::stamp_of(claim.sequence),
                                          std::memory_order_release, std::memory_order_relaxed)) {
    stripe().values[0].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (record.kind > 0 && record.kind < TD_KIND_SLOTS) {
    stripe().values[record.kind].fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

bool EventRing::publish(const td_event_record& record) {
  Claim claim;
  return this->claim(claim) && complete(claim, record);
}

void EventRing::counters(td_counters& out) const {
  out.produced = header_->head.load(std::memory_order_acquire);
  uint64_t totals[TD_KIND_SLOTS] = {};
  for (const layout::CounterStripe& stripe : header_->stripes) {
    for (int index = 0; index < TD_KIND_SLOTS; ++index) {
      totals[index] += stripe.values[index].load(std::memory_order_relaxed);
    }
  }
  out.dropped = totals[0];
  out.per_kind[0] = 0;
  for (int kind = 1; kind < TD_KIND_SLOTS; ++kind) out.per_kind[kind] = totals[kind];
}

uint64_t EventRing::head() const { return header_->head.load(std::memory_order_acquire); }

RingReader::RingReader(const EventRing& ring, ReaderStart start, uint64_t stall_timeout_ns)
    : ring_(ring), stall_timeout_ns_(stall_timeout_ns) {
  uint64_t head = ring.head();
  if (start == ReaderStart::Newest) {
    cursor_ = head;
  } else {
    cursor_ = head > ring.slot_count() ? head - ring.slot_count() : 0;
  }
}

RingReader::SlotState RingReader::take(uint64_t sequence, td_event_record& out) const {
  const Slot& slot = ring_.slot(sequence);
  uint64_t before = slot.stamp.load(std::memory_order_acquire);
  if (before != layout::stamp_of(sequence)) {
    bool overtaken = before != 0 && layout::stamp_sequence(before) > sequence;
    return overtaken ? SlotState::Lost : SlotState::NotReady;
  }
  std::memcpy(&out, &slot.record, layout::kRecordFixedBytes);
  uint64_t check = slot.check;
  bool plausible = out.captured_length <= TD_CAPTURE_MAX;
  if (plausible) std::memcpy(out.captured, slot.record.captured, out.captured_length);
  std::atomic_thread_fence(std::memory_order_acquire);
  uint64_t after = slot.stamp.load(std::memory_order_relaxed);
  if (after != before || !plausible || out.sequence != sequence ||
      record_check(out, sequence) != check) {
    return SlotState::Lost;
  }
  return SlotState::Delivered;
}

td_status RingReader::read(td_event_record* out, size_t capacity, size_t& count, uint64_t& lost) {
  count = 0;
  lost = 0;
  if (!ring_.healthy()) return TD_ERR_CORRUPT;
  uint64_t head = ring_.head();
  if (head < cursor_) return TD_ERR_CORRUPT;  // the head never moves back in a sound channel
  if (head - cursor_ > ring_.slot_count()) {
    lost += head - ring_.slot_count() - cursor_;
    cursor_ = head - ring_.slot_count();
  }
  while (count < capacity && cursor_ < head) {
    SlotState state = take(cursor_, out[count]);
    if (state == SlotState::NotReady) {
      uint64_t now = platform::monotonic_ns();
      if (stalled_sequence_ != cursor_) {
        stalled_sequence_ = cursor_;
        stalled_since_ns_ = now;
        break;
      }
      if (now - stalled_since_ns_ < stall_timeout_ns_) break;
      state = SlotState::Lost;  // its producer stopped half way: move on
    }
    if (state == SlotState::Delivered) {
      ++count;
    } else {
      ++lost;
    }
    ++cursor_;
  }
  return ring_.healthy() ? TD_OK : TD_ERR_CORRUPT;
}

}  // namespace teardown
