// Reading what a channel holds, the way Teardown's readers do: every user's ring, merged by time.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "channel.h"

namespace teardown::testing {

// Makes `path` a sound, empty ring of 64 slots in one lane, as a producer would (or another user
// planting one).
inline td_status make_sound_ring(const std::string& path) {
  struct Seed {
    static void make(uint8_t* bytes, size_t, void*) { EventRing::initialize(bytes, 64, 1); }
  };
  return MappedFile::create_new(path, FileKind::Ring, layout::events_file_bytes(64), Seed::make, nullptr);
}

// Every event the channel's rings hold now, oldest first; `lost` (if given) receives how many
// went by undelivered.
inline std::vector<td_event_record> channel_events(const Channel& channel,
                                                   uint64_t* lost = nullptr) {
  ChannelReader reader(channel.rings_dir(), ReaderStart::Oldest, 1'000'000);
  std::vector<td_event_record> all;
  std::vector<td_event_record> batch(4096);
  uint64_t total_lost = 0;
  // Until two reads a stall timeout apart bring nothing: a slot never completed is given up on
  // only after the timeout.
  int empty_reads = 0;
  for (int round = 0; round < 1000 && empty_reads < 2; ++round) {
    size_t count = 0;
    uint64_t batch_lost = 0;
    EXPECT_EQ(reader.read(batch.data(), batch.size(), count, batch_lost), TD_OK);
    total_lost += batch_lost;
    if (count == 0 && batch_lost == 0) {
      ++empty_reads;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    empty_reads = 0;
    all.insert(all.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(count));
  }
  if (lost != nullptr) *lost = total_lost;
  return all;
}

}  // namespace teardown::testing
