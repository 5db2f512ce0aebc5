#include "event_ring.h"

#include <cstddef>
#include <cstring>

// SSE2 is part of x86-64, and of every 32-bit x86 build that asks for it.
#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define TEARDOWN_SSE2 1
#include <emmintrin.h>
#else
#define TEARDOWN_SSE2 0
#endif

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

// Asks for the cache lines of `slot` that every event writes (the stamp, the check and the
// record's fixed part) before they are used: to write them (a producer's next slot) or to read.
template <bool kToWrite>
void prefetch_slot(const Slot& slot) {
  constexpr size_t kLines = (16 + layout::kRecordFixedBytes + 63) / 64;
  const char* bytes = reinterpret_cast<const char*>(&slot);
  for (size_t line = 0; line < kLines; ++line) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(bytes + 64 * line, kToWrite ? 1 : 0);
#elif TEARDOWN_SSE2
    _mm_prefetch(bytes + 64 * line, _MM_HINT_T0);
#else
    (void)bytes;
#endif
  }
}

// How many slots ahead of its cursor a reader of a mapping asks for.
constexpr uint64_t kReadAhead = 4;

// The captured bytes a record's check covers: none for a length past the limit.
size_t checked_captured(const td_event_record& record) {
  return record.captured_length <= TD_CAPTURE_MAX ? record.captured_length : 0;
}

// The check's sums over a record's fixed part: Fletcher-style sums over 64-bit words, in two lanes
// so that the adds run in parallel: `sum` sees every word, `weighted` also where it stands, so a
// record mixed from two writers or damaged in place shows. Lane 0 takes the even words, lane 1
// the odd ones, which is exactly one SSE2 register of two 64-bit lanes: where SSE2 is there the
// fixed part is summed in it, with the same wrap-around adds and so the same result. The fixed
// part has a constant length, so its loop unrolls; the sequence field (word 0) is covered by the
// seed instead. With `to`, each piece of the record is also stored there on its way through, so
// that a producer storing a record into its slot, or a reader copying it out, reads it once.
struct Sums {
  uint64_t sum[2];
  uint64_t weighted[2];
};

constexpr size_t kFixedWords = layout::kRecordFixedBytes / 8;
static_assert(kFixedWords % 2 == 0, "the fixed part is processed in pairs of words");

// One word at a time: what builds without SSE2 (32-bit x86) compute. With `to`, the record is
// copied first and the copy summed, so that the sums are of exactly the bytes copied.
Sums scalar_sums(const uint8_t* bytes, uint64_t sequence, uint8_t* to) {
  if (to != nullptr) {
    std::memcpy(to, &sequence, 8);
    std::memcpy(to + 8, bytes + 8, layout::kRecordFixedBytes - 8);
    bytes = to;
  }
  Sums out;
  out.sum[0] = sequence;
  out.sum[1] = load_word(bytes + 8);
  out.weighted[0] = 0;
  out.weighted[1] = out.sum[1];
  for (size_t word = 2; word < kFixedWords; word += 2) {
    out.sum[0] += load_word(bytes + 8 * word);
    out.sum[1] += load_word(bytes + 8 * word + 8);
    out.weighted[0] += out.sum[0];
    out.weighted[1] += out.sum[1];
  }
  return out;
}

#if TEARDOWN_SSE2
// A pair of words at a time in one SSE2 register; with `to`, each pair is stored there from the
// register it is summed from.
Sums vector_sums(const uint8_t* bytes, uint64_t sequence, uint8_t* to) {
  // Word 1 is read once: a reader's source may change under it, and what is summed, weighted
  // and copied must be the same value.
  auto second = static_cast<long long>(load_word(bytes + 8));
  __m128i sums = _mm_set_epi64x(second, static_cast<long long>(sequence));
  __m128i weights = _mm_set_epi64x(second, 0);
  if (to != nullptr) _mm_storeu_si128(reinterpret_cast<__m128i*>(to), sums);
  for (size_t word = 2; word < kFixedWords; word += 2) {
    __m128i pair = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 8 * word));
    if (to != nullptr) _mm_storeu_si128(reinterpret_cast<__m128i*>(to + 8 * word), pair);
    sums = _mm_add_epi64(sums, pair);
    weights = _mm_add_epi64(weights, sums);
  }
  Sums out;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.sum), sums);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.weighted), weights);
  return out;
}
#endif

Sums fixed_sums(const uint8_t* bytes, uint64_t sequence, uint8_t* to) {
#if TEARDOWN_SSE2
  return vector_sums(bytes, sequence, to);
#else
  return scalar_sums(bytes, sequence, to);
#endif
}

// Adds `length` bytes from `from` to lane 0's sums, a word at a time (the last one zero-padded).
void add_tail(Sums& sums, const uint8_t* from, size_t length) {
  for (size_t offset = 0; offset < length; offset += 8) {
    uint8_t word[8] = {};
    std::memcpy(word, from + offset, length - offset < 8 ? length - offset : 8);
    sums.sum[0] += load_word(word);
    sums.weighted[0] += sums.sum[0];
  }
}

// The check from the fixed part's sums, the kernel's view where the record carries it, and its
// `captured` bytes (`bytes` is the record). The bytes checked are those copied: the fixed part,
// the view or not, the captured bytes.
uint64_t finish_check(Sums sums, const uint8_t* bytes, bool kernel, size_t captured,
                      uint64_t sequence) {
  if (kernel) {
    add_tail(sums, bytes + offsetof(td_event_record, kernel), layout::kKernelViewBytes);
  }
  add_tail(sums, bytes + offsetof(td_event_record, captured), captured);
  size_t length = layout::kRecordFixedBytes + (kernel ? layout::kKernelViewBytes : 0) + captured;
  // Chained, never XORed together: a change that moves a sum and its weighted twin by the same
  // amount would cancel out in an XOR.
  uint64_t hash = mix(sequence ^ length, sums.sum[0]);
  hash = mix(hash, sums.weighted[0]);
  hash = mix(hash, sums.sum[1]);
  return mix(hash, sums.weighted[1]);
}

using SumsOf = Sums (*)(const uint8_t* bytes, uint64_t sequence, uint8_t* to);

template <SumsOf kSums>
uint64_t check_of(const td_event_record& record, uint64_t sequence) {
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&record);
  return finish_check(kSums(bytes, sequence, nullptr), bytes, layout::carries_kernel_view(record),
                      checked_captured(record), sequence);
}

template <SumsOf kSums>
uint64_t store_of(td_event_record& to, const td_event_record& from, uint64_t sequence) {
  size_t captured = checked_captured(from);
  bool kernel = layout::carries_kernel_view(from);
  auto* out = reinterpret_cast<uint8_t*>(&to);
  if (captured != from.captured_length) {
    // A length past the limit is stored as nothing captured, which the sums must see.
    std::memcpy(out, &from, layout::kRecordFixedBytes);
    if (kernel) to.kernel = from.kernel;
    to.sequence = sequence;
    to.captured_length = 0;
    return check_of<kSums>(to, sequence);
  }
  Sums sums = kSums(reinterpret_cast<const uint8_t*>(&from), sequence, out);
  if (kernel) to.kernel = from.kernel;
  if (captured > 0) std::memcpy(to.captured, from.captured, captured);
  return finish_check(sums, out, kernel, captured, sequence);
}

}  // namespace

uint64_t record_check(const td_event_record& record, uint64_t sequence) {
  return check_of<fixed_sums>(record, sequence);
}

uint64_t store_record(td_event_record& to, const td_event_record& from, uint64_t sequence) {
  return store_of<fixed_sums>(to, from, sequence);
}

namespace portable {

uint64_t record_check(const td_event_record& record, uint64_t sequence) {
  return check_of<scalar_sums>(record, sequence);
}

uint64_t store_record(td_event_record& to, const td_event_record& from, uint64_t sequence) {
  return store_of<scalar_sums>(to, from, sequence);
}

}  // namespace portable

bool MemorySource::copy(uint64_t offset, void* out, size_t length) const {
  if (base_ == nullptr || offset > size_ || length > size_ - offset) return false;
  std::memcpy(out, base_ + offset, length);
  return true;
}

td_status read_geometry(const uint8_t* header, size_t length, uint64_t file_size,
                        RingGeometry& out) {
  constexpr size_t kFields = offsetof(EventsHeader, reserved0);
  if (header == nullptr || length < kFields || file_size < sizeof(EventsHeader)) {
    return TD_ERR_CORRUPT;
  }
  // One copy of the fields, then only the copy is looked at.
  uint64_t magic;
  uint32_t version, header_size, slot_size, slot_count;
  uint64_t generation;
  std::memcpy(&magic, header + offsetof(EventsHeader, magic), sizeof(magic));
  std::memcpy(&version, header + offsetof(EventsHeader, layout_version), sizeof(version));
  std::memcpy(&header_size, header + offsetof(EventsHeader, header_size), sizeof(header_size));
  std::memcpy(&slot_size, header + offsetof(EventsHeader, slot_size), sizeof(slot_size));
  std::memcpy(&slot_count, header + offsetof(EventsHeader, slot_count), sizeof(slot_count));
  std::memcpy(&generation, header + offsetof(EventsHeader, generation), sizeof(generation));
  uint32_t lanes;
  std::memcpy(&lanes, header + offsetof(EventsHeader, lane_count), sizeof(lanes));
  if (magic != layout::kEventsMagic) return TD_ERR_CORRUPT;
  if (version != layout::kEventsLayoutVersion) return TD_ERR_VERSION;
  if (header_size != sizeof(EventsHeader) || slot_size != sizeof(Slot) ||
      !layout::valid_slot_count(slot_count) || !layout::valid_lane_count(lanes, slot_count) ||
      file_size < layout::events_file_bytes(slot_count)) {
    return TD_ERR_CORRUPT;
  }
  out.slot_count = slot_count;
  out.lane_count = lanes;
  out.generation = generation;
  return TD_OK;
}

bool read_counters(const RingSource& source, td_counters& out) {
  layout::LaneHead heads[layout::kMaxLanes];
  layout::CounterStripe stripes[layout::kCounterStripes];
  if (!source.copy(offsetof(EventsHeader, heads), static_cast<void*>(heads), sizeof(heads)) ||
      !source.copy(offsetof(EventsHeader, stripes), static_cast<void*>(stripes), sizeof(stripes))) {
    return false;
  }
  // Lanes a ring does not use have never had an event.
  out.produced = 0;
  for (const layout::LaneHead& head : heads) {
    out.produced = saturating_add(out.produced, head.claimed.load(std::memory_order_relaxed));
  }
  uint64_t totals[TD_KIND_SLOTS] = {};
  for (const layout::CounterStripe& stripe : stripes) {
    for (int index = 0; index < TD_KIND_SLOTS; ++index) {
      // Whatever the file says, a total saturates instead of wrapping.
      uint64_t value = stripe.values[index].load(std::memory_order_relaxed);
      totals[index] = saturating_add(totals[index], value);
    }
  }
  out.dropped = totals[0];
  out.per_kind[0] = 0;
  for (int kind = 1; kind < TD_KIND_SLOTS; ++kind) out.per_kind[kind] = totals[kind];
  return true;
}

td_status EventRing::validate(const uint8_t* base, size_t size) {
  RingGeometry geometry;
  return read_geometry(base, size, size, geometry);
}

void EventRing::initialize(uint8_t* base, uint32_t slot_count, uint64_t generation,
                           uint32_t lane_count) {
  auto* header = reinterpret_cast<EventsHeader*>(base);
  header->magic.store(0, std::memory_order_release);
  std::memset(base + sizeof(header->magic), 0,
              layout::events_file_bytes(slot_count) - sizeof(header->magic));
  header->layout_version = layout::kEventsLayoutVersion;
  header->header_size = sizeof(EventsHeader);
  header->slot_size = sizeof(Slot);
  header->slot_count = slot_count;
  header->generation = generation;
  header->lane_count = lane_count;
  header->magic.store(layout::kEventsMagic, std::memory_order_release);
}

td_status EventRing::bind(uint8_t* base, size_t size, EventRing& out) {
  RingGeometry geometry;
  td_status status = read_geometry(base, size, size, geometry);
  if (status != TD_OK) return status;
  out.header_ = reinterpret_cast<EventsHeader*>(base);
  out.slots_ = reinterpret_cast<Slot*>(base + sizeof(EventsHeader));
  out.slot_count_ = geometry.slot_count;
  out.lane_count_ = geometry.lane_count;
  out.lane_slots_ = geometry.lane_slots();
  out.after_fork();
  out.generation_.store(geometry.generation, std::memory_order_relaxed);
  out.source_ = MemorySource(base, layout::events_file_bytes(geometry.slot_count));
  return TD_OK;
}

EventRing::EventRing(const EventRing& other)
    : header_(other.header_),
      slots_(other.slots_),
      slot_count_(other.slot_count_),
      lane_count_(other.lane_count_),
      lane_slots_(other.lane_slots_),
      lane_salt_(other.lane_salt_),
      generation_(other.generation()),
      source_(other.source_) {}

EventRing& EventRing::operator=(const EventRing& other) {
  header_ = other.header_;
  slots_ = other.slots_;
  slot_count_ = other.slot_count_;
  lane_count_ = other.lane_count_;
  lane_slots_ = other.lane_slots_;
  lane_salt_ = other.lane_salt_;
  generation_.store(other.generation(), std::memory_order_relaxed);
  source_ = other.source_;
  return *this;
}

bool EventRing::rebind() {
  if (header_ == nullptr) return false;
  uint8_t copy[offsetof(EventsHeader, reserved0)];
  std::memcpy(copy, header_, sizeof(copy));
  RingGeometry geometry;
  if (read_geometry(copy, sizeof(copy), layout::events_file_bytes(slot_count_), geometry) !=
          TD_OK ||
      geometry.slot_count != slot_count_ || geometry.lane_count != lane_count_) {
    return false;
  }
  generation_.store(geometry.generation, std::memory_order_relaxed);
  return true;
}

void EventRing::after_fork() {
  // The first thread of each process starts at a lane of its own (most likely).
  lane_salt_ = static_cast<uint32_t>((platform::process_id() * kMultiplier) >> 40);
}

uint32_t EventRing::lane_of_this_thread() const {
  return (platform::thread_number() + lane_salt_) & (lane_count_ - 1u);
}

bool EventRing::claim(Claim& claim) { return claim_in(lane_of_this_thread(), claim); }

bool EventRing::claim_in(uint32_t lane, Claim& claim) {
  lane &= lane_count_ - 1u;
  uint64_t index = header_->heads[lane].claimed.fetch_add(1, std::memory_order_relaxed);
  uint64_t sequence = index * lane_count_ + lane;
  Slot* lane_slots = slots_ + static_cast<size_t>(lane) * lane_slots_;
  const uint64_t mask = lane_slots_ - 1u;
  Slot& slot = lane_slots[index & mask];
  uint64_t seen = slot.stamp.load(std::memory_order_acquire);
  // A producer a lap (or more) ahead already filled this slot: this event can only be lost.
  if (seen != 0 && layout::stamp_sequence(seen) >= sequence) {
    stripe(lane).values[0].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // The slots the lane's next two events go to, most likely this thread's own in a burst: their
  // first lines are asked for now, while this event is written, and not when they are needed.
  // Two, because a line from memory takes longer to come than an event takes to publish: asking
  // one slot ahead, a burst published an event in 37-42 ns here; two ahead, 33-34; three, no
  // better.
  prefetch_slot<true>(lane_slots[(index + 1) & mask]);
  prefetch_slot<true>(lane_slots[(index + 2) & mask]);
  claim.slot = &slot;
  claim.sequence = sequence;
  claim.seen_stamp = seen;
  claim.lane = lane;
  return true;
}

bool EventRing::complete(const Claim& claim, const td_event_record& record) {
  Slot& slot = *claim.slot;
  // Overtaken while this producer was away: leave the newer record alone.
  if (slot.stamp.load(std::memory_order_relaxed) != claim.seen_stamp) {
    stripe(claim.lane).values[0].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  slot.check = store_record(slot.record, record, claim.sequence);
  uint64_t expected = claim.seen_stamp;
  if (!slot.stamp.compare_exchange_strong(expected, layout::stamp_of(claim.sequence),
                                          std::memory_order_release, std::memory_order_relaxed)) {
    stripe(claim.lane).values[0].fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (record.kind > 0 && record.kind < TD_KIND_SLOTS) {
    stripe(claim.lane).values[record.kind].fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

// The whole of a publish in one function, its halves inlined into it: the hot path calls nothing
// from another file but the one that numbers the thread.
#if defined(__GNUC__) || defined(__clang__)
__attribute__((flatten))
#endif
bool EventRing::publish(const td_event_record& record) {
  Claim claim;
  return claim_in(lane_of_this_thread(), claim) && complete(claim, record);
}

void EventRing::counters(td_counters& out) const {
  if (!read_counters(source_, out)) out = td_counters{};
}

uint64_t EventRing::head() const {
  uint64_t total = 0;
  for (uint32_t lane = 0; lane < lane_count_; ++lane) {
    total += header_->heads[lane].claimed.load(std::memory_order_acquire);
  }
  return total;
}

namespace {
constexpr size_t kCopyChunk = 256;  // slots copied per read of the file (128 KiB)
}  // namespace

RingReader::RingReader(const RingSource& source, RingGeometry geometry, uint32_t lane,
                       ReaderStart start, uint64_t stall_timeout_ns)
    : source_(source),
      geometry_(geometry),
      lane_(lane < geometry.lane_count ? lane : 0),
      stall_timeout_ns_(stall_timeout_ns) {
  size_t mapped_size = 0;
  const uint8_t* base = source_.mapping(mapped_size);
  if (base != nullptr && layout::valid_slot_count(geometry_.slot_count) &&
      layout::valid_lane_count(geometry_.lane_count, geometry_.slot_count) &&
      mapped_size >= layout::events_file_bytes(geometry_.slot_count)) {
    mapped_slots_ = reinterpret_cast<const Slot*>(base + sizeof(EventsHeader)) +
                    static_cast<size_t>(lane_) * geometry_.lane_slots();
  }
  uint64_t head = 0;
  if (!current_head(head)) return;  // the first read reports the damage
  if (start == ReaderStart::Newest) {
    cursor_ = head;
  } else if (start == ReaderStart::First) {
    cursor_ = 0;
  } else {
    cursor_ = head > geometry_.lane_slots() ? head - geometry_.lane_slots() : 0;
  }
}

void RingReader::seek(uint64_t sequence) {
  if (sequence % geometry_.lane_count != lane_) return;
  uint64_t head = 0;
  if (!current_head(head)) return;  // the next read reports the damage
  uint64_t index = sequence / geometry_.lane_count;
  cursor_ = index < head ? index : head;
  stalled_sequence_ = UINT64_MAX;
}

bool RingReader::current_head(uint64_t& head) const {
  uint8_t copy[offsetof(EventsHeader, reserved0)];
  if (!source_.copy(0, copy, sizeof(copy)) ||
      !source_.copy(offsetof(EventsHeader, heads) + lane_ * sizeof(layout::LaneHead), &head,
                    sizeof(head))) {
    return false;
  }
  uint64_t magic;
  uint64_t generation;
  std::memcpy(&magic, copy + offsetof(EventsHeader, magic), sizeof(magic));
  std::memcpy(&generation, copy + offsetof(EventsHeader, generation), sizeof(generation));
  return magic == layout::kEventsMagic && generation == geometry_.generation;
}

bool RingReader::has_unread() const {
  uint64_t head = 0;
  // A header that cannot be read is for read() to report.
  return !current_head(head) || head != cursor_;
}

bool RingReader::copy_slots(uint64_t first, size_t count) {
  // The slots of `count` consecutive events of the lane: at most two runs, split where the lane
  // wraps.
  const uint64_t lane_slots = geometry_.lane_slots();
  const uint64_t lane_first = sizeof(EventsHeader) + lane_ * lane_slots * sizeof(Slot);
  uint64_t index = first & (lane_slots - 1u);
  size_t before_wrap = static_cast<size_t>(lane_slots - index);
  size_t run = count < before_wrap ? count : before_wrap;
  if (!source_.copy(lane_first + index * sizeof(Slot), copies_.data(), run * sizeof(Slot))) {
    return false;
  }
  return run == count ||
         source_.copy(lane_first, copies_.data() + run, (count - run) * sizeof(Slot));
}

RingReader::SlotState RingReader::take(const SlotCopy& copy, uint64_t sequence,
                                       td_event_record& out) {
  if (copy.stamp != layout::stamp_of(sequence)) {
    bool overtaken = copy.stamp != 0 && layout::stamp_sequence(copy.stamp) > sequence;
    return overtaken ? SlotState::Lost : SlotState::NotReady;
  }
  // Everything below is about one copy: a record torn by a writer, mixed from two, or damaged
  // fails its sequence or its hash.
  const td_event_record& record = copy.record;
  if (record.sequence != sequence || record.captured_length > TD_CAPTURE_MAX ||
      record_check(record, sequence) != copy.check) {
    return SlotState::Lost;
  }
  std::memcpy(&out, &record, layout::kRecordFixedBytes);
  if (layout::carries_kernel_view(record)) out.kernel = record.kernel;
  std::memcpy(out.captured, record.captured, record.captured_length);
  return SlotState::Delivered;
}

RingReader::SlotState RingReader::take_mapped(const Slot& slot, uint64_t sequence,
                                              td_event_record& out) {
  uint64_t stamp = slot.stamp.load(std::memory_order_acquire);
  if (stamp != layout::stamp_of(sequence)) {
    bool overtaken = stamp != 0 && layout::stamp_sequence(stamp) > sequence;
    return overtaken ? SlotState::Lost : SlotState::NotReady;
  }
  uint64_t check = slot.check;
  // The fixed part is copied in pieces that are summed for the check on the way, so that the
  // check is of exactly the bytes copied, read once. The copy's sequence field is the one asked
  // for; the slot's own is compared with it.
  const auto* from = reinterpret_cast<const uint8_t*>(&slot.record);
  uint64_t recorded_sequence = load_word(from);
  Sums sums = fixed_sums(from, sequence, reinterpret_cast<uint8_t*>(&out));
  if (recorded_sequence != sequence || out.captured_length > TD_CAPTURE_MAX) {
    return SlotState::Lost;
  }
  // Whether the view is there, and how many bytes were captured, as the copy says: what the hash
  // then covers is what was copied.
  bool kernel = layout::carries_kernel_view(out);
  if (kernel) std::memcpy(&out.kernel, &slot.record.kernel, layout::kKernelViewBytes);
  std::memcpy(out.captured, slot.record.captured, out.captured_length);
  // A producer a lap ahead that finished while this copy was made has changed the stamp; one
  // still writing has not, and its half-written record fails the hash.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (slot.stamp.load(std::memory_order_relaxed) != stamp ||
      finish_check(sums, reinterpret_cast<const uint8_t*>(&out), kernel, out.captured_length,
                   sequence) != check) {
    return SlotState::Lost;
  }
  return SlotState::Delivered;
}

bool RingReader::settle(SlotState state, size_t& count, uint64_t& lost) {
  if (state == SlotState::NotReady) {
    uint64_t now = platform::monotonic_ns();
    if (stalled_sequence_ != cursor_) {
      stalled_sequence_ = cursor_;
      stalled_since_ns_ = now;
      return false;
    }
    if (now - stalled_since_ns_ < stall_timeout_ns_) return false;
    state = SlotState::Lost;  // its producer stopped half way: move on
  }
  if (state == SlotState::Delivered) {
    ++count;
  } else {
    ++lost;
  }
  ++cursor_;
  return true;
}

td_status RingReader::read(td_event_record* out, size_t capacity, size_t& count, uint64_t& lost) {
  count = 0;
  lost = 0;
  uint64_t head = 0;
  if (!current_head(head)) return TD_ERR_CORRUPT;
  if (head < cursor_) return TD_ERR_CORRUPT;  // the head never moves back in a sound channel
  const uint64_t lane_slots = geometry_.lane_slots();
  if (head - cursor_ > lane_slots) {
    lost += head - lane_slots - cursor_;
    cursor_ = head - lane_slots;
  }
  if (mapped_slots_ != nullptr) {
    // Slot by slot out of the mapping: the fixed part and the captured bytes there are, never
    // the unused rest of a slot.
    const uint64_t mask = lane_slots - 1u;
    while (count < capacity && cursor_ < head) {
      // A slot a few events on is asked for now, so that its lines arrive while these are read.
      prefetch_slot<false>(mapped_slots_[(cursor_ + kReadAhead) & mask]);
      const Slot& slot = mapped_slots_[cursor_ & mask];
      if (!settle(take_mapped(slot, sequence_of(cursor_), out[count]), count, lost)) break;
    }
  } else {
    if (copies_.empty()) copies_.resize(kCopyChunk);
    while (count < capacity && cursor_ < head) {
      uint64_t wanted = head - cursor_;
      size_t chunk = static_cast<size_t>(wanted < kCopyChunk ? wanted : kCopyChunk);
      if (chunk > capacity - count) chunk = capacity - count;
      if (!copy_slots(cursor_, chunk)) return TD_ERR_CORRUPT;
      size_t used = 0;
      while (used < chunk &&
             settle(take(copies_[used], sequence_of(cursor_), out[count]), count, lost)) {
        ++used;
      }
      if (used < chunk) break;  // waiting for a slot still being written
    }
  }
  return current_head(head) ? TD_OK : TD_ERR_CORRUPT;
}

}  // namespace teardown
