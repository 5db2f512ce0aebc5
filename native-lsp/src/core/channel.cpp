#include "channel.h"

#include "platform.h"

namespace teardown {

namespace {

constexpr int kConfigReadAttempts = 1000;

td_status create_events(const std::string& path, uint32_t slot_count, MappedFile& file) {
  td_status status =
      MappedFile::create(path, layout::events_file_bytes(slot_count), FileSharing::EveryoneWrites,
                         file);
  if (status != TD_OK) return status;
  if (EventRing::validate(file.data(), file.size()) != TD_OK) {
    EventRing::initialize(file.data(), slot_count, platform::wall_clock_ns());
  }
  return TD_OK;
}

td_status create_config(const std::string& path, MappedFile& file) {
  td_status status =
      MappedFile::create(path, layout::config_file_bytes(), FileSharing::OwnerWrites, file);
  if (status != TD_OK) return status;
  if (ConfigBlock::validate(file.data(), file.size()) != TD_OK) {
    ConfigBlock::initialize(file.data(), platform::wall_clock_ns(), default_config());
  }
  return TD_OK;
}

td_status open_existing(const std::string& path, FileAccess access, MappedFile& file,
                        td_status (*validate)(const uint8_t*, size_t)) {
  td_status status = MappedFile::open(path, access, file);
  if (status != TD_OK) return status;
  return validate(file.data(), file.size());
}

}  // namespace

td_status Channel::open(const std::string& dir, bool create, uint32_t slot_count,
                        std::unique_ptr<Channel>& out) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  if (slot_count == 0) slot_count = layout::kDefaultSlotCount;
  if (!layout::valid_slot_count(slot_count)) return TD_ERR_INVALID_ARGUMENT;
  auto channel = std::unique_ptr<Channel>(new Channel());
  channel->dir_ = dir;
  std::string events_path = platform::join_path(dir, kEventsFileName);
  std::string config_path = platform::join_path(dir, kConfigFileName);
  td_status status;
  if (create) {
    status = ensure_directory(dir);
    if (status == TD_OK) status = create_events(events_path, slot_count, channel->events_file_);
    if (status == TD_OK) status = create_config(config_path, channel->config_file_);
    channel->config_writable_ = true;
  } else {
    status = open_existing(events_path, FileAccess::ReadWrite, channel->events_file_,
                           EventRing::validate);
    if (status == TD_OK) {
      status = open_existing(config_path, FileAccess::ReadWrite, channel->config_file_,
                             ConfigBlock::validate);
      channel->config_writable_ = status == TD_OK;
      if (status == TD_ERR_ACCESS_DENIED) {
        status = open_existing(config_path, FileAccess::ReadOnly, channel->config_file_,
                               ConfigBlock::validate);
      }
    }
  }
  if (status != TD_OK) return status;
  channel->ring_ = EventRing(channel->events_file_.data());
  channel->config_ = ConfigBlock(channel->config_file_.data());
  out = std::move(channel);
  return TD_OK;
}

td_status Channel::attach(const std::string& dir, std::unique_ptr<Channel>& out) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  auto channel = std::unique_ptr<Channel>(new Channel());
  channel->dir_ = dir;
  td_status status = open_existing(platform::join_path(dir, kEventsFileName), FileAccess::ReadWrite,
                                   channel->events_file_, EventRing::validate);
  if (status == TD_OK) {
    status = open_existing(platform::join_path(dir, kConfigFileName), FileAccess::ReadOnly,
                           channel->config_file_, ConfigBlock::validate);
  }
  if (status != TD_OK) return status;
  channel->ring_ = EventRing(channel->events_file_.data());
  channel->config_ = ConfigBlock(channel->config_file_.data());
  out = std::move(channel);
  return TD_OK;
}

td_status Channel::read_config(td_config& out) const {
  if (!config_.healthy()) return TD_ERR_CORRUPT;
  if (!config_.read(out, kConfigReadAttempts)) return TD_ERR_CORRUPT;
  return TD_OK;
}

td_status Channel::write_config(const td_config& config, std::string& field) {
  if (!check_config(config, field)) return TD_ERR_INVALID_CONFIG;
  if (!config_writable_) return TD_ERR_ACCESS_DENIED;
  if (!config_.healthy()) return TD_ERR_CORRUPT;
  if (!config_file_.lock_exclusive()) return TD_ERR_IO;
  config_.write(config);
  config_file_.unlock();
  return TD_OK;
}

}  // namespace teardown
