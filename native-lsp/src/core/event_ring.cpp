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
  // Four independent lanes keep the multiplies in flight together: a publish pays a few ns.
  // Each round folds the high half down, since a multiply only carries changes upwards.
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&record);
  size_t length = checked_bytes(record);
  uint64_t lanes[4] = {sequence * kMultiplier, length, 0x243F6A8885A308D3ull,
                       0x13198A2E03707344ull};
  // The sequence field itself is covered by the seed above; skip its 8 bytes.
  size_t offset = 8;
  for (; offset + 32 <= length; offset += 32) {
    for (int lane = 0; lane < 4; ++lane) lanes[lane] = mix(lanes[lane], load_word(bytes + offset + 8 * lane));
  }
  for (int lane = 0; offset < length; offset += 8, lane = (lane + 1) & 3) {
    uint8_t tail[8] = {};
    std::memcpy(tail, bytes + offset, length - offset < 8 ? length - offset : 8);
    lanes[lane] = mix(lanes[lane], load_word(tail));
  }
  uint64_t hash = mix(mix(mix(lanes[0], lanes[1]), lanes[2]), lanes[3]);
  return mix(hash, length);
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

bool EventRing::claim(Claim& claim) {
  uint64_t sequence = header_->head.fetch_add(1, std::memory_order_relaxed);
  Slot& slot = slots_[sequence & mask_];
  uint64_t current = slot.stamp.load(std::memory_order_relaxed);
  do {
    // A producer a lap (or more) ahead already owns this slot: this event can only be lost.
    if (current != 0 && layout::stamp_sequence(current) >= sequence) {
      header_->dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!slot.stamp.compare_exchange_weak(current, layout::stamp_writing(sequence),
                                             std::memory_order_relaxed));
  std::atomic_thread_fence(std::memory_order_release);
  claim.slot = &slot;
  claim.sequence = sequence;
  return true;
}

bool EventRing::complete(const Claim& claim, const td_event_record& record) {
  Slot& slot = *claim.slot;
  size_t captured = record.captured_length <= TD_CAPTURE_MAX ? record.captured_length : 0;
  std::memcpy(&slot.record, &record, layout::kRecordFixedBytes + captured);
  slot.record.sequence = claim.sequence;
  slot.record.captured_length = static_cast<uint16_t>(captured);
  slot.check = record_check(slot.record, claim.sequence);
  uint64_t expected = layout::stamp_writing(claim.sequence);
  if (!slot.stamp.compare_exchange_strong(expected, layout::stamp_complete(claim.sequence),
                                          std::memory_order_release, std::memory_order_relaxed)) {
    header_->dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (record.kind < TD_KIND_SLOTS) {
    header_->per_kind[record.kind].fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

bool EventRing::publish(const td_event_record& record) {
  Claim claim;
  return this->claim(claim) && complete(claim, record);
}

void EventRing::counters(td_counters& out) const {
  out.produced = header_->head.load(std::memory_order_acquire);
  out.dropped = header_->dropped.load(std::memory_order_relaxed);
  for (int kind = 0; kind < TD_KIND_SLOTS; ++kind) {
    out.per_kind[kind] = header_->per_kind[kind].load(std::memory_order_relaxed);
  }
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
  if (before != layout::stamp_complete(sequence)) {
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
