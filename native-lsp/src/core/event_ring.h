// The event ring inside the events file: many producer processes, many independent readers.
//
// Producers take a sequence number with one fetch_add on the head, write the record into the slot
// it maps to, and advance the slot's stamp with one compare-and-swap. No lock, no wait, no
// allocation, no system call. A reader keeps its own cursor, copies slots between two reads of
// their stamp and checks the record's hash; it counts as lost whatever was overwritten, torn, or
// held by a producer that stopped half way for longer than its stall timeout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "channel_layout.h"
#include "teardown/teardown.h"

namespace teardown {

// The hash a slot's check field holds for a record published as `sequence`.
uint64_t record_check(const td_event_record& record, uint64_t sequence);

class EventRing {
 public:
  EventRing() = default;

  // Whether `size` bytes at `base` hold a complete, current-version events file.
  static td_status validate(const uint8_t* base, size_t size);

  // Lays out a fresh ring; the magic is stored last, so attachers never see a half-made header.
  static void initialize(uint8_t* base, uint32_t slot_count, uint64_t generation);

  // Binds to a validated file. The slot count and generation are cached here, so a header
  // damaged later can never send a producer outside the mapping.
  explicit EventRing(uint8_t* base);

  bool bound() const { return header_ != nullptr; }

  // One relaxed load each: the file still carries the magic and generation it had at bind time.
  bool healthy() const;

  uint32_t slot_count() const { return slot_count_; }
  uint64_t generation() const { return generation_; }

  // Publishes a copy of `record` (its sequence field is assigned). False if the event could not
  // be completed because a producer a full lap ahead took its slot; that is counted as dropped.
  bool publish(const td_event_record& record);

  // The two halves of publish, for tests that stop a producer between them.
  struct Claim {
    layout::Slot* slot = nullptr;
    uint64_t sequence = 0;
    uint64_t seen_stamp = 0;  // the slot's stamp before this producer wrote
  };
  bool claim(Claim& claim);
  bool complete(const Claim& claim, const td_event_record& record);

  void counters(td_counters& out) const;
  uint64_t head() const;

  const layout::Slot& slot(uint64_t sequence) const { return slots_[sequence & mask_]; }

 private:
  layout::CounterStripe& stripe();

  layout::EventsHeader* header_ = nullptr;
  layout::Slot* slots_ = nullptr;
  uint64_t mask_ = 0;
  uint32_t slot_count_ = 0;
  uint64_t generation_ = 0;
};

enum class ReaderStart { Oldest, Newest };

class RingReader {
 public:
  RingReader(const EventRing& ring, ReaderStart start, uint64_t stall_timeout_ns);

  // Copies up to `capacity` events in sequence order. `lost` receives how many sequence numbers
  // were passed over without delivery during this call. TD_ERR_CORRUPT once the header is
  // damaged or replaced.
  td_status read(td_event_record* out, size_t capacity, size_t& count, uint64_t& lost);

 private:
  enum class SlotState { Delivered, Lost, NotReady };
  SlotState take(uint64_t sequence, td_event_record& out) const;

  const EventRing& ring_;
  uint64_t cursor_ = 0;
  uint64_t stall_timeout_ns_;
  uint64_t stalled_sequence_ = UINT64_MAX;
  uint64_t stalled_since_ns_ = 0;
};

}  // namespace teardown
