// The event ring inside the events file: many producer processes, many independent readers.
//
// A ring is divided into lanes (channel_layout.h), and each thread publishes into one of them.
// A producer takes a sequence number with one fetch_add on its lane's head, writes the record
// into the slot it maps to, and advances the slot's stamp with one compare-and-swap. No lock, no
// wait, no allocation, no system call. A reader keeps its own cursor in each lane, copies slots
// out of the file and checks each copy's stamp, sequence and hash; it counts as lost whatever was
// overwritten, torn, damaged, or held by a producer that stopped half way for longer than its
// stall timeout.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "channel_layout.h"
#include "teardown/teardown.h"

namespace teardown {

// The hash a slot's check field holds for a record published as `sequence`.
uint64_t record_check(const td_event_record& record, uint64_t sequence);

// Stores `from` into `to` as published under `sequence` (its sequence field set, captured bytes
// past the limit stored as none) and returns the check of what `to` then holds, reading `from`
// once for both.
uint64_t store_record(td_event_record& to, const td_event_record& from, uint64_t sequence);

// The same two computed one word at a time, as builds without SSE2 (32-bit x86) compute them:
// for tests that hold every build to the one check a ring's readers expect.
namespace portable {
uint64_t record_check(const td_event_record& record, uint64_t sequence);
uint64_t store_record(td_event_record& to, const td_event_record& from, uint64_t sequence);
}  // namespace portable

// What a producer or reader keeps of an events file's header, read once and checked against the
// size of the file (or mapping): nothing read from the file later can move an access outside it.
struct RingGeometry {
  uint32_t slot_count = 0;
  uint32_t lane_count = 1;
  uint64_t generation = 0;

  uint32_t lane_slots() const { return slot_count / lane_count; }
};

// Checks a copy of an events header (`length` bytes at `header`) for a file of `file_size` bytes.
td_status read_geometry(const uint8_t* header, size_t length, uint64_t file_size,
                        RingGeometry& out);

// Where a reader copies an events file's bytes from: a mapping (a ring of the reader's own user,
// the ring a process writes itself, tests) or the file (`FileSource` in channel.h: rings of other
// users are never mapped).
class RingSource {
 public:
  virtual ~RingSource() = default;
  // Copies `length` bytes at `offset`; false when they cannot be had.
  virtual bool copy(uint64_t offset, void* out, size_t length) const = 0;
  // The whole file when it is mapped (`size` bytes, at least the ring's geometry), or null:
  // slots are then copied straight out of it, each only as far as its record reaches.
  virtual const uint8_t* mapping(size_t& size) const {
    size = 0;
    return nullptr;
  }
};

class MemorySource final : public RingSource {
 public:
  MemorySource() = default;
  MemorySource(const uint8_t* base, size_t size) : base_(base), size_(size) {}
  bool copy(uint64_t offset, void* out, size_t length) const override;
  const uint8_t* mapping(size_t& size) const override {
    size = size_;
    return base_;
  }

 private:
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

// a + b, or UINT64_MAX where that would wrap: counters and losses added up from files their
// owners may have written anything into.
inline uint64_t saturating_add(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

// The counters of a ring, added up from a copy of its header.
bool read_counters(const RingSource& source, td_counters& out);

class EventRing {
 public:
  EventRing() = default;

  // Whether `size` bytes at `base` hold a complete, current-version events file.
  static td_status validate(const uint8_t* base, size_t size);

  // Lays out a fresh ring of `lane_count` lanes (layout::valid_lane_count); the magic is stored
  // last, so attachers never see a half-made header.
  static void initialize(uint8_t* base, uint32_t slot_count, uint64_t generation,
                         uint32_t lane_count = 1);

  // Binds `out` to the events file mapped at `base` (`size` bytes): the header is read once, and
  // its geometry checked against `size` and kept here.
  static td_status bind(uint8_t* base, size_t size, EventRing& out);

  EventRing(const EventRing& other);
  EventRing& operator=(const EventRing& other);

  bool bound() const { return header_ != nullptr; }

  // One relaxed load each: the file still carries the magic and generation it had at bind time.
  bool healthy() const {
    return header_->magic.load(std::memory_order_relaxed) == layout::kEventsMagic &&
           header_->generation == generation_.load(std::memory_order_relaxed);
  }

  // After the header was re-initialised in place (same file, same size): takes the new
  // generation if the geometry is the one this ring was bound with. False otherwise.
  bool rebind();

  uint32_t slot_count() const { return slot_count_; }
  uint32_t lane_count() const { return lane_count_; }
  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  RingGeometry geometry() const { return RingGeometry{slot_count_, lane_count_, generation()}; }
  const RingSource& source() const { return source_; }

  // Publishes a copy of `record` (its sequence field is assigned) into the calling thread's lane.
  // False if the event could not be completed because a producer a full lap ahead took its slot;
  // that is counted as dropped.
  bool publish(const td_event_record& record);

  // The two halves of publish, for tests that stop a producer between them.
  struct Claim {
    layout::Slot* slot = nullptr;
    uint64_t sequence = 0;
    uint64_t seen_stamp = 0;  // the slot's stamp before this producer wrote
    uint32_t lane = 0;
  };
  bool claim(Claim& claim);
  bool claim_in(uint32_t lane, Claim& claim);
  bool complete(const Claim& claim, const td_event_record& record);

  // The lane the calling thread publishes into: the same for all of its events.
  uint32_t lane_of_this_thread() const;

  // In a child just forked (one thread): spreads its threads over the lanes as a process of its
  // own, so that the children of one parent (a pre-forked server's workers) do not all publish
  // into the lane of the thread that forked them.
  void after_fork();

  void counters(td_counters& out) const;
  // Events claimed so far, in all lanes.
  uint64_t head() const;

 private:
  layout::CounterStripe& stripe(uint32_t lane) { return header_->stripes[lane]; }

  layout::EventsHeader* header_ = nullptr;
  layout::Slot* slots_ = nullptr;
  uint32_t slot_count_ = 0;
  uint32_t lane_count_ = 1;
  uint32_t lane_slots_ = 0;
  uint32_t lane_salt_ = 0;  // spreads the threads of different processes over the lanes
  std::atomic<uint64_t> generation_{0};
  MemorySource source_;
};

// Where a reader starts: the oldest event the ring still holds, the next one published, or the
// ring's very first (for a ring that appeared after its reader started: everything in it is new
// to the reader, and whatever was overwritten before it was found counts as lost).
enum class ReaderStart { Oldest, Newest, First };

// Reads one lane of a ring by copying it out of its source: a file whose owner truncates,
// scribbles on or regrows it can make events lost, never make the reader fault or go out of
// bounds. A ring's lanes are read by one reader each and merged (ChannelReader).
class RingReader {
 public:
  RingReader(const RingSource& source, RingGeometry geometry, uint32_t lane, ReaderStart start,
             uint64_t stall_timeout_ns);
  RingReader(const EventRing& ring, uint32_t lane, ReaderStart start, uint64_t stall_timeout_ns)
      : RingReader(ring.source(), ring.geometry(), lane, start, stall_timeout_ns) {}

  // Copies up to `capacity` events of the lane in sequence order. `lost` receives how many of
  // its events were passed over without delivery during this call. TD_ERR_CORRUPT once the
  // header is damaged or replaced, or the file cannot be read.
  td_status read(td_event_record* out, size_t capacity, size_t& count, uint64_t& lost);

  // Whether the lane has had events this reader has not passed yet (one read of its head).
  bool has_unread() const;

  // The sequence of the next event this reader delivers (one of this lane's).
  uint64_t cursor() const { return cursor_ * geometry_.lane_count + lane_; }

  // Reads on from `sequence` (a position in this lane saved earlier): events of the lane
  // overwritten since count as lost at the next read. A sequence past the lane's head is taken as
  // its head; one of another lane is ignored.
  void seek(uint64_t sequence);

 private:
  enum class SlotState { Delivered, Lost, NotReady };
  // A slot as copied out of the file: plain bytes, no atomics.
  struct SlotCopy {
    uint64_t stamp;
    uint64_t check;
    td_event_record record;
    uint8_t reserved[sizeof(layout::Slot) - 16 - sizeof(td_event_record)];
  };
  static_assert(sizeof(SlotCopy) == sizeof(layout::Slot), "a copy has the slot's layout");
  static SlotState take(const SlotCopy& copy, uint64_t sequence, td_event_record& out);
  // The same checks on a slot read in place, plus its stamp read again after the copy.
  static SlotState take_mapped(const layout::Slot& slot, uint64_t sequence, td_event_record& out);
  // Delivers what `take` or `take_mapped` made of the slot at the cursor; false to stop here
  // (that slot is still being written).
  bool settle(SlotState state, size_t& count, uint64_t& lost);
  // The lane's head: how many events it has had.
  bool current_head(uint64_t& head) const;
  bool copy_slots(uint64_t first, size_t count);
  uint64_t sequence_of(uint64_t index) const { return index * geometry_.lane_count + lane_; }

  const RingSource& source_;
  RingGeometry geometry_;
  uint32_t lane_;
  uint64_t cursor_ = 0;  // the lane's next event: its index in the lane, not its sequence
  uint64_t stall_timeout_ns_;
  uint64_t stalled_sequence_ = UINT64_MAX;
  uint64_t stalled_since_ns_ = 0;
  std::vector<SlotCopy> copies_;
  const layout::Slot* mapped_slots_ = nullptr;  // when the source is a mapping
};

}  // namespace teardown
