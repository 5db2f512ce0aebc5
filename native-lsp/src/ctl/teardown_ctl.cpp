// The control library: teardown.h implemented on the core. Every entry point is noexcept and
// catches everything; failures come back as td_status codes.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../core/channel.h"
#include "../core/channel_layout.h"
#include "../core/platform.h"
#include "teardown/teardown.h"

struct td_channel {
  std::shared_ptr<teardown::Channel> channel;
};

struct td_reader {
  std::shared_ptr<teardown::Channel> channel;
  teardown::ChannelReader reader;
};

namespace {

using teardown::Channel;

constexpr uint64_t kDefaultStallTimeoutMs = 100;

struct LayoutEntry {
  const char* type;
  const char* field;
  uint32_t offset;
  uint32_t size;
};

#define TD_STRUCT(type) {#type, nullptr, 0, sizeof(td_##type)}
#define TD_FIELD(type, field) \
  {#type, #field, offsetof(td_##type, field), sizeof(static_cast<td_##type*>(nullptr)->field)}

const LayoutEntry kLayout[] = {
    TD_STRUCT(address),
    TD_FIELD(address, family),
    TD_FIELD(address, port),
    TD_FIELD(address, scope_id),
    TD_FIELD(address, bytes),
    TD_STRUCT(port_range),
    TD_FIELD(port_range, first),
    TD_FIELD(port_range, last),
    TD_STRUCT(ring_position),
    TD_FIELD(ring_position, ring),
    TD_FIELD(ring_position, generation),
    TD_FIELD(ring_position, next_sequence),
    TD_STRUCT(event_record),
    TD_FIELD(event_record, sequence),
    TD_FIELD(event_record, time_ns),
    TD_FIELD(event_record, socket_id),
    TD_FIELD(event_record, pid),
    TD_FIELD(event_record, kind),
    TD_FIELD(event_record, flags),
    TD_FIELD(event_record, error),
    TD_FIELD(event_record, protocol),
    TD_FIELD(event_record, socket_type),
    TD_FIELD(event_record, detail),
    TD_FIELD(event_record, linger_seconds),
    TD_FIELD(event_record, captured_length),
    TD_FIELD(event_record, data_length),
    TD_FIELD(event_record, local),
    TD_FIELD(event_record, remote),
    TD_FIELD(event_record, lifetime_ns),
    TD_FIELD(event_record, bytes_sent),
    TD_FIELD(event_record, bytes_received),
    TD_FIELD(event_record, first_shutdown),
    TD_FIELD(event_record, ending),
    TD_FIELD(event_record, kernel_state),
    TD_FIELD(event_record, os_error),
    TD_FIELD(event_record, kernel),
    TD_FIELD(event_record, user),
    TD_FIELD(event_record, process_name),
    TD_FIELD(event_record, captured),
    TD_STRUCT(kernel_view),
    TD_FIELD(kernel_view, bytes_acked),
    TD_FIELD(kernel_view, bytes_received),
    TD_FIELD(kernel_view, unread_bytes),
    TD_FIELD(kernel_view, unsent_bytes),
    TD_FIELD(kernel_view, rtt_us),
    TD_FIELD(kernel_view, retransmits),
    TD_FIELD(kernel_view, timeouts),
    TD_FIELD(kernel_view, probes),
    TD_STRUCT(config),
    TD_FIELD(config, enabled),
    TD_FIELD(config, kinds),
    TD_FIELD(config, capture_bytes),
    TD_FIELD(config, abortive_to_graceful),
    TD_FIELD(config, process_count),
    TD_FIELD(config, port_count),
    TD_FIELD(config, emulation_port_count),
    TD_FIELD(config, reserved),
    TD_FIELD(config, processes),
    TD_FIELD(config, ports),
    TD_FIELD(config, emulation_ports),
    TD_STRUCT(counters),
    TD_FIELD(counters, produced),
    TD_FIELD(counters, dropped),
    TD_FIELD(counters, per_kind),
};

#undef TD_STRUCT
#undef TD_FIELD

bool same(const char* a, const char* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return std::strcmp(a, b) == 0;
}

void copy_text(const std::string& text, char* buffer, size_t capacity) {
  if (buffer == nullptr || capacity == 0) return;
  size_t length = text.size() < capacity - 1 ? text.size() : capacity - 1;
  std::memcpy(buffer, text.data(), length);
  buffer[length] = '\0';
}

// Runs `body`, turning anything thrown into a status, so nothing crosses the C boundary.
template <typename Body>
int guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return TD_ERR_INTERNAL;
  } catch (...) {
    return TD_ERR_INTERNAL;
  }
}

}  // namespace

extern "C" {

uint32_t td_abi_version(void) noexcept { return TD_ABI_VERSION; }

const char* td_status_text(int status) noexcept {
  switch (status) {
    case TD_OK: return "ok";
    case TD_ERR_INVALID_ARGUMENT: return "invalid argument";
    case TD_ERR_NOT_FOUND: return "channel not found";
    case TD_ERR_ACCESS_DENIED: return "access denied to the channel files";
    case TD_ERR_CORRUPT: return "channel file is truncated or damaged";
    case TD_ERR_VERSION: return "channel file has an unsupported layout version";
    case TD_ERR_IO: return "operating system error on the channel files";
    case TD_ERR_INVALID_CONFIG: return "invalid configuration";
    case TD_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
  }
}

int td_layout(const char* type, const char* field, uint32_t* offset, uint32_t* size) noexcept {
  if (type == nullptr || offset == nullptr || size == nullptr) return TD_ERR_INVALID_ARGUMENT;
  for (const LayoutEntry& entry : kLayout) {
    if (same(entry.type, type) && same(entry.field, field)) {
      *offset = entry.offset;
      *size = entry.size;
      return TD_OK;
    }
  }
  return TD_ERR_NOT_FOUND;
}

int td_channel_open(const char* path, uint32_t flags, uint32_t slot_count,
                    td_channel** out) noexcept {
  if (out == nullptr) return TD_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  return guarded([&] {
    std::string dir = (path != nullptr && path[0] != '\0') ? std::string(path)
                                                          : teardown::platform::default_channel_dir();
    bool create = (flags & TD_OPEN_CREATE) != 0;
    // Only administrators make the system channel: one a user made would be that user's.
    if (create && dir == teardown::platform::system_channel_dir() &&
        !teardown::current_user().admin && !teardown::directory_exists(dir)) {
      return static_cast<int>(TD_ERR_ACCESS_DENIED);
    }
    std::unique_ptr<Channel> channel;
    int status = Channel::open(dir, create, slot_count, channel);
    if (status != TD_OK) return status;
    *out = new td_channel{std::shared_ptr<Channel>(std::move(channel))};
    return static_cast<int>(TD_OK);
  });
}

void td_channel_close(td_channel* channel) noexcept { delete channel; }

int td_channel_path(const td_channel* channel, char* buffer, size_t capacity) noexcept {
  if (channel == nullptr || buffer == nullptr || capacity == 0) return TD_ERR_INVALID_ARGUMENT;
  if (channel->channel->dir().size() >= capacity) return TD_ERR_INVALID_ARGUMENT;
  copy_text(channel->channel->dir(), buffer, capacity);
  return TD_OK;
}

int td_channel_capacity(const td_channel* channel, uint32_t* slot_count) noexcept {
  if (channel == nullptr || slot_count == nullptr) return TD_ERR_INVALID_ARGUMENT;
  *slot_count = channel->channel->ring_slot_count();
  return TD_OK;
}

int td_channel_lane_capacity(const td_channel* channel, uint32_t* slot_count) noexcept {
  if (channel == nullptr || slot_count == nullptr) return TD_ERR_INVALID_ARGUMENT;
  uint32_t slots = channel->channel->ring_slot_count();
  *slot_count = slots / teardown::layout::lanes_for(slots, teardown::platform::cpu_count());
  return TD_OK;
}

int td_channel_counters(const td_channel* channel, td_counters* out) noexcept {
  if (channel == nullptr || out == nullptr) return TD_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    return static_cast<int>(teardown::channel_counters(channel->channel->rings_dir(), *out));
  });
}

int td_channel_publish(td_channel* channel, const td_event_record* event) noexcept {
  if (channel == nullptr || event == nullptr) return TD_ERR_INVALID_ARGUMENT;
  if (event->captured_length > TD_CAPTURE_MAX) return TD_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    teardown::EventRing* ring = nullptr;
    int status = channel->channel->own_ring(ring);
    if (status != TD_OK) return status;
    if (!ring->healthy()) return static_cast<int>(TD_ERR_CORRUPT);
    ring->publish(*event);  // an event lapped by faster producers is counted as dropped
    return static_cast<int>(TD_OK);
  });
}

int td_channel_config_owner(const td_channel* channel, char* owner, size_t capacity,
                            uint32_t* flags) noexcept {
  if (channel == nullptr || flags == nullptr) return TD_ERR_INVALID_ARGUMENT;
  *flags = 0;
  return guarded([&] {
    teardown::ConfigStatus status = channel->channel->config_status();
    if (status.present) *flags |= TD_CONFIG_PRESENT;
    if (status.sound) *flags |= TD_CONFIG_SOUND;
    if (status.owner_is_admin) *flags |= TD_CONFIG_ADMIN_OWNED;
    if (status.others_can_write) *flags |= TD_CONFIG_OTHERS_WRITE;
    if (status.owner == teardown::current_user().key) *flags |= TD_CONFIG_MINE;
    copy_text(status.present ? teardown::user_display_name(status.owner) : std::string(), owner,
              capacity);
    return static_cast<int>(TD_OK);
  });
}

void td_config_default(td_config* out) noexcept {
  if (out != nullptr) *out = teardown::default_config();
}

int td_config_check(const td_config* config, char* field, size_t field_capacity) noexcept {
  if (config == nullptr) return TD_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    std::string offending;
    if (teardown::check_config(*config, offending)) return static_cast<int>(TD_OK);
    copy_text(offending, field, field_capacity);
    return static_cast<int>(TD_ERR_INVALID_CONFIG);
  });
}

int td_config_read(const td_channel* channel, td_config* out) noexcept {
  if (channel == nullptr || out == nullptr) return TD_ERR_INVALID_ARGUMENT;
  return channel->channel->read_config(*out);
}

int td_config_write(td_channel* channel, const td_config* config) noexcept {
  if (channel == nullptr || config == nullptr) return TD_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    std::string field;
    return static_cast<int>(channel->channel->write_config(*config, field));
  });
}

int td_reader_create(td_channel* channel, int start, uint32_t stall_timeout_ms,
                     td_reader** out) noexcept {
  return td_reader_resume(channel, nullptr, 0, start, stall_timeout_ms, out);
}

int td_reader_resume(td_channel* channel, const td_ring_position* positions, size_t count,
                     int start, uint32_t stall_timeout_ms, td_reader** out) noexcept {
  if (out == nullptr) return TD_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  if (channel == nullptr || (positions == nullptr && count > 0) ||
      (start != TD_START_OLDEST && start != TD_START_NEWEST && start != TD_START_FIRST)) {
    return TD_ERR_INVALID_ARGUMENT;
  }
  std::vector<teardown::RingPosition> resume;
  for (size_t i = 0; i < count; ++i) {
    const td_ring_position& position = positions[i];
    size_t length = strnlen(position.ring, TD_RING_NAME_MAX);
    if (length == 0 || length == TD_RING_NAME_MAX) return TD_ERR_INVALID_ARGUMENT;
  }
  return guarded([&] {
    for (size_t i = 0; i < count; ++i) {
      resume.push_back(teardown::RingPosition{std::string(positions[i].ring),
                                              positions[i].generation, positions[i].next_sequence});
    }
    uint64_t timeout_ms = stall_timeout_ms == 0 ? kDefaultStallTimeoutMs : stall_timeout_ms;
    auto origin = start == TD_START_OLDEST   ? teardown::ReaderStart::Oldest
                  : start == TD_START_NEWEST ? teardown::ReaderStart::Newest
                                             : teardown::ReaderStart::First;
    *out = new td_reader{channel->channel,
                         teardown::ChannelReader(channel->channel->rings_dir(), origin,
                                                 timeout_ms * 1000000ull, std::move(resume))};
    return static_cast<int>(TD_OK);
  });
}

int td_reader_positions(const td_reader* reader, td_ring_position* positions, size_t capacity,
                        size_t* count) noexcept {
  if (reader == nullptr || count == nullptr) return TD_ERR_INVALID_ARGUMENT;
  *count = 0;
  if (positions == nullptr && capacity > 0) return TD_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    std::vector<teardown::RingPosition> all = reader->reader.positions();
    // Our producers name rings ring-<user>[-<random>], far shorter than the field; a longer name
    // someone gave their own ring has no position, and a resumed reader reads that ring whole.
    all.erase(std::remove_if(all.begin(), all.end(),
                             [](const teardown::RingPosition& position) {
                               return position.ring.size() >= TD_RING_NAME_MAX;
                             }),
              all.end());
    *count = all.size();
    if (all.size() > capacity) return static_cast<int>(TD_ERR_INVALID_ARGUMENT);
    for (size_t i = 0; i < all.size(); ++i) {
      td_ring_position& out = positions[i];
      std::memset(&out, 0, sizeof(out));
      copy_text(all[i].ring, out.ring, sizeof(out.ring));
      out.generation = all[i].generation;
      out.next_sequence = all[i].next_sequence;
    }
    return static_cast<int>(TD_OK);
  });
}

void td_reader_destroy(td_reader* reader) noexcept { delete reader; }

int td_reader_read(td_reader* reader, td_event_record* events, size_t capacity, size_t* count,
                   uint64_t* lost) noexcept {
  if (reader == nullptr || count == nullptr || lost == nullptr) return TD_ERR_INVALID_ARGUMENT;
  *count = 0;
  *lost = 0;
  if (events == nullptr && capacity > 0) return TD_ERR_INVALID_ARGUMENT;
  return guarded(
      [&] { return static_cast<int>(reader->reader.read(events, capacity, *count, *lost)); });
}

int td_reader_user_lost(const td_reader* reader, uint32_t user, uint64_t* lost) noexcept {
  if (reader == nullptr || lost == nullptr) return TD_ERR_INVALID_ARGUMENT;
  *lost = 0;
  if (user >= reader->reader.user_keys().size()) return TD_ERR_NOT_FOUND;
  *lost = reader->reader.lost_by_user(user);
  return TD_OK;
}

int td_reader_user(const td_reader* reader, uint32_t user, char* name, size_t capacity) noexcept {
  if (reader == nullptr || name == nullptr || capacity == 0) return TD_ERR_INVALID_ARGUMENT;
  const std::vector<std::string>& users = reader->reader.user_keys();
  if (user >= users.size()) return TD_ERR_NOT_FOUND;
  return guarded([&] {
    copy_text(teardown::user_display_name(users[user]), name, capacity);
    return static_cast<int>(TD_OK);
  });
}

}  // extern "C"
