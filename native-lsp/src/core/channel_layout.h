// The bytes of the channel's files, shared by every producer and reader process.
//
// a ring (rings/ring-<user>): EventsHeader (4096 bytes) followed by slot_count Slots of 512 bytes,
//               in lane_count lanes of equal size (see EventsHeader).
// config file:  ConfigHeader (128 bytes) followed by one td_config under a seqlock.
//
// Both start with a magic that is written last when a file is initialised and cleared when it is
// retired, and a generation that changes with every initialisation, so that a process holding a
// stale mapping notices with one load.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "teardown/teardown.h"

namespace teardown::layout {

constexpr uint64_t kEventsMagic = 0x3153544E45564454ull;  // "TDVENTS1", little-endian
constexpr uint64_t kConfigMagic = 0x3147464E4F434454ull;  // "TDCONFG1"
// Each file's layout has a version of its own: a ring of another layout is not written or read,
// and a configuration of another is not applied.
constexpr uint32_t kEventsLayoutVersion = 3;  // 2: lanes; 3: the kernel's view (480-byte records)
constexpr uint32_t kConfigLayoutVersion = 1;

constexpr uint32_t kDefaultSlotCount = 16384;
constexpr uint32_t kMinSlotCount = 64;
constexpr uint32_t kMaxSlotCount = 1u << 20;

// A ring is divided into lanes, each with its own head and its own range of slots, so that
// producers on different CPUs never write the same cache line: with one shared head, every event
// of two producers publishing at once moved the head's line and the slots' lines between their
// CPUs, and each event cost about three times one producer's. Each thread of a process keeps to
// one lane, so a thread's events are read in the order it published them.
constexpr uint32_t kMaxLanes = 16;
// What producers make: no more lanes than CPUs, at most kMadeLanes, and none smaller than
// kMinLaneSlots. A lane holds what one thread publishes between two reads, so a thread's burst
// is held up to a lane's size: few lanes keep that large (a default ring of 16384 slots has
// lanes of 8192 on two CPUs, 4096 on four or more). A ring smaller than two lanes of
// kMinLaneSlots has one lane, like every ring before lanes.
constexpr uint32_t kMadeLanes = 4;
constexpr uint32_t kMinLaneSlots = 4096;

static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared counters must be lock-free");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "shared seqlock must be lock-free");
static_assert(sizeof(std::atomic<uint64_t>) == 8, "atomics must have the size of their value");

// Counters are striped by lane, so that producers of different lanes never write the same cache
// line for them either; readers add the stripes up. In each stripe, index 0 counts dropped events
// and index k counts published events of kind k.
constexpr uint32_t kCounterStripes = 16;
static_assert(kCounterStripes >= kMaxLanes, "a counter stripe per lane");

struct CounterStripe {
  std::atomic<uint64_t> values[TD_KIND_SLOTS];
};
static_assert(sizeof(CounterStripe) == 128, "a stripe is two cache lines");

// How many events a lane has had: alone on its cache line.
struct LaneHead {
  std::atomic<uint64_t> claimed;
  uint8_t reserved[56];
};
static_assert(sizeof(LaneHead) == 64, "a lane's head is one cache line");

// Lane l of L holds slots [l * slot_count / L, (l + 1) * slot_count / L). Its k-th event has the
// ring's sequence k * L + l, so that sequences stay unique in the ring and say their lane, and
// it goes to the lane's slot k modulo the lane's size.
struct EventsHeader {
  std::atomic<uint64_t> magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint32_t slot_size;
  uint32_t slot_count;
  uint64_t generation;
  uint32_t lane_count;  // a power of two, at most kMaxLanes
  uint8_t reserved0[28];
  alignas(64) LaneHead heads[kMaxLanes];  // only the first lane_count are used
  alignas(64) CounterStripe stripes[kCounterStripes];
  uint8_t reserved2[4096 - 64 - sizeof(LaneHead) * kMaxLanes -
                    sizeof(CounterStripe) * kCounterStripes];
};
static_assert(sizeof(EventsHeader) == 4096, "events header layout");
static_assert(offsetof(EventsHeader, lane_count) == 32, "events header layout");
static_assert(offsetof(EventsHeader, heads) == 64, "events header layout");
static_assert(offsetof(EventsHeader, stripes) == 64 + 64 * kMaxLanes, "events header layout");

// A slot's stamp is 0 until first written, then the sequence of the record it holds plus one.
// A producer writes the record, then moves the stamp forward with one compare-and-swap from the
// value it saw before writing; `check` is a hash of the record and its sequence, so a record
// overwritten while being read, mixed by two producers a lap apart, or damaged in place is never
// delivered.
struct Slot {
  std::atomic<uint64_t> stamp;
  uint64_t check;
  td_event_record record;
  uint8_t reserved[512 - 16 - sizeof(td_event_record)];
};
static_assert(sizeof(td_event_record) == 480, "event record layout");
static_assert(sizeof(td_kernel_view) == 32, "event record layout");
static_assert(sizeof(Slot) == 512, "slot layout");

constexpr uint64_t stamp_of(uint64_t sequence) { return sequence + 1; }
constexpr uint64_t stamp_sequence(uint64_t stamp) { return stamp - 1; }

// The part of a record that is always copied: every field before the kernel's view. The view
// follows, copied only when the record carries it (TD_FLAG_KERNEL_VIEW: closes and lost
// connections), then the captured bytes, captured_length of them: most events copy 192 bytes.
constexpr size_t kRecordFixedBytes = offsetof(td_event_record, kernel);
static_assert(kRecordFixedBytes == 192, "event record layout");
constexpr size_t kKernelViewBytes = sizeof(td_kernel_view);
static_assert(offsetof(td_event_record, captured) == kRecordFixedBytes + kKernelViewBytes,
              "event record layout");

// Whether a record carries the kernel's view (and so has it copied and checked).
inline bool carries_kernel_view(const td_event_record& record) {
  return (record.flags & TD_FLAG_KERNEL_VIEW) != 0;
}

struct ConfigHeader {
  std::atomic<uint64_t> magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint32_t config_size;
  uint32_t ring_slot_count;  // slots in the rings producers create; 0 for the default
  uint64_t generation;
  uint8_t reserved1[32];
  // Seqlock: odd while the configuration is being written.
  alignas(64) std::atomic<uint32_t> sequence;
  uint8_t reserved2[60];
  td_config config;
};
static_assert(sizeof(td_config) == 1152, "config layout");
static_assert(offsetof(ConfigHeader, config) == 128, "config header layout");
static_assert(sizeof(ConfigHeader) == 128 + sizeof(td_config), "config header layout");

constexpr size_t events_file_bytes(uint32_t slot_count) {
  return sizeof(EventsHeader) + static_cast<size_t>(slot_count) * sizeof(Slot);
}
constexpr size_t config_file_bytes() { return sizeof(ConfigHeader); }

constexpr bool valid_slot_count(uint32_t count) {
  return count >= kMinSlotCount && count <= kMaxSlotCount && (count & (count - 1)) == 0;
}

// Lanes a ring of `slot_count` slots may have: a power of two up to kMaxLanes, each lane at least
// kMinSlotCount slots.
constexpr bool valid_lane_count(uint32_t lanes, uint32_t slot_count) {
  return lanes >= 1 && lanes <= kMaxLanes && (lanes & (lanes - 1)) == 0 &&
         slot_count / lanes >= kMinSlotCount;
}

// The lanes producers give a ring they make on a machine of `cpus` CPUs (see kMadeLanes).
constexpr uint32_t lanes_for(uint32_t slot_count, uint32_t cpus) {
  uint32_t lanes = 1;
  while (lanes < kMadeLanes && lanes < cpus && slot_count / (lanes * 2) >= kMinLaneSlots) {
    lanes *= 2;
  }
  return lanes;
}

}  // namespace teardown::layout
