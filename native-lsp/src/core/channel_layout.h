// The bytes of the channel's files, shared by every producer and reader process.
//
// a ring (rings/ring-<user>): EventsHeader (4096 bytes) followed by slot_count Slots of 512 bytes.
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
constexpr uint32_t kLayoutVersion = 1;

constexpr uint32_t kDefaultSlotCount = 16384;
constexpr uint32_t kMinSlotCount = 64;
constexpr uint32_t kMaxSlotCount = 1u << 20;

static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared counters must be lock-free");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "shared seqlock must be lock-free");
static_assert(sizeof(std::atomic<uint64_t>) == 8, "atomics must have the size of their value");

// Counters are striped by CPU so that producers on different CPUs never write the same cache
// line for them; readers add the stripes up. In each stripe, index 0 counts dropped events and
// index k counts published events of kind k.
constexpr uint32_t kCounterStripes = 16;

struct CounterStripe {
  std::atomic<uint64_t> values[TD_KIND_SLOTS];
};
static_assert(sizeof(CounterStripe) == 128, "a stripe is two cache lines");

struct EventsHeader {
  std::atomic<uint64_t> magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint32_t slot_size;
  uint32_t slot_count;
  uint64_t generation;
  uint8_t reserved0[32];
  // Next sequence number to hand out; alone on its cache line, it is the one contended word.
  alignas(64) std::atomic<uint64_t> head;
  uint8_t reserved1[56];
  alignas(64) CounterStripe stripes[kCounterStripes];
  uint8_t reserved2[4096 - 128 - sizeof(CounterStripe) * kCounterStripes];
};
static_assert(sizeof(EventsHeader) == 4096, "events header layout");
static_assert(offsetof(EventsHeader, head) == 64, "events header layout");
static_assert(offsetof(EventsHeader, stripes) == 128, "events header layout");

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
static_assert(sizeof(td_event_record) == 448, "event record layout");
static_assert(sizeof(Slot) == 512, "slot layout");

constexpr uint64_t stamp_of(uint64_t sequence) { return sequence + 1; }
constexpr uint64_t stamp_sequence(uint64_t stamp) { return stamp - 1; }

// The part of a record that is always copied; captured bytes follow, captured_length of them.
constexpr size_t kRecordFixedBytes = offsetof(td_event_record, captured);
static_assert(kRecordFixedBytes == 192, "event record layout");

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

}  // namespace teardown::layout
