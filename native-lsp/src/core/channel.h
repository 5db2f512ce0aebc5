// A channel: the events file and the config file in one directory, opened together.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config_block.h"
#include "event_ring.h"
#include "mapped_file.h"
#include "teardown/teardown.h"

namespace teardown {

constexpr char kEventsFileName[] = "events";
constexpr char kConfigFileName[] = "config";

class Channel {
 public:
  // Opens the channel in `dir`. With `create`, makes the directory and files when absent and
  // re-initialises a file whose header is damaged; a sound channel is reused as it is.
  static td_status open(const std::string& dir, bool create, uint32_t slot_count,
                        std::unique_ptr<Channel>& out);

  // Maps a channel the way a producer does: events writable, configuration read-only.
  static td_status attach(const std::string& dir, std::unique_ptr<Channel>& out);

  const std::string& dir() const { return dir_; }
  EventRing& ring() { return ring_; }
  const EventRing& ring() const { return ring_; }
  const ConfigBlock& config() const { return config_; }

  bool healthy() const { return ring_.healthy() && config_.healthy(); }

  td_status read_config(td_config& out) const;

  // Checks and writes the configuration; on TD_ERR_INVALID_CONFIG `field` names the culprit.
  td_status write_config(const td_config& config, std::string& field);

 private:
  std::string dir_;
  MappedFile events_file_;
  MappedFile config_file_;
  bool config_writable_ = false;
  EventRing ring_;
  ConfigBlock config_;
};

}  // namespace teardown
