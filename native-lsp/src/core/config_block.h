// The configuration inside the config file, under a seqlock: one writer at a time (the admin
// side, serialised by a file lock), any number of readers that never see a torn value.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "channel_layout.h"
#include "teardown/teardown.h"

namespace teardown {

// The configuration of a new channel: enabled, every kind, no capture, no filters.
td_config default_config();

// Checks every field; on failure `field` names the first offending one ("ports[2].last").
bool check_config(const td_config& config, std::string& field);

class ConfigBlock {
 public:
  ConfigBlock() = default;

  static td_status validate(const uint8_t* base, size_t size);
  static void initialize(uint8_t* base, uint64_t generation, const td_config& config,
                         uint32_t ring_slot_count);

  explicit ConfigBlock(uint8_t* base);
  ConfigBlock(const ConfigBlock& other);
  ConfigBlock& operator=(const ConfigBlock& other);

  bool bound() const { return header_ != nullptr; }
  bool healthy() const {
    return header_->magic.load(std::memory_order_relaxed) == layout::kConfigMagic &&
           header_->generation == generation_.load(std::memory_order_relaxed);
  }
  // After the file was re-initialised in place: takes its new generation if it is sound again.
  bool rebind();
  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }

  // The slots of the rings producers create (a valid count, else the default).
  uint32_t ring_slot_count() const;

  // The seqlock word: changes whenever the configuration does. One load.
  uint32_t version() const { return header_->sequence.load(std::memory_order_acquire); }

  // A consistent copy, retried while a write is in progress; false if none could be had within
  // `attempts` tries (a writer that died mid-write leaves the lock odd until the next write).
  bool read(td_config& out, int attempts) const;

  // Replaces the configuration. The caller holds the file's writer lock.
  void write(const td_config& config);

 private:
  layout::ConfigHeader* header_ = nullptr;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace teardown
