#include "producer.h"

#include <cstring>
#include <memory>
#include <thread>

#include "channel.h"
#include "platform.h"

namespace teardown {

namespace {

constexpr int kConfigReadAttempts = 64;
constexpr int kPolicyCopyAttempts = 64;

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether `name` begins with `prefix`, ignoring ASCII case: "python3" selects python3.11, and
// "python" python.exe. Decided when the configuration changes, never per call.
bool name_starts_with(const char* name, const char* prefix) {
  for (size_t i = 0; i < TD_PROCESS_NAME_MAX; ++i) {
    if (prefix[i] == '\0') return true;
    if (lower_ascii(prefix[i]) != lower_ascii(name[i])) return false;
  }
  return true;
}

bool in_ranges(uint16_t port, const td_port_range* ranges, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    if (port >= ranges[i].first && port <= ranges[i].last) return true;
  }
  return false;
}

}  // namespace

bool Policy::port_selected(uint16_t local_port, uint16_t remote_port) const {
  if (port_count == 0) return true;
  return in_ranges(local_port, ports, port_count) || in_ranges(remote_port, ports, port_count);
}

bool Policy::emulates(uint16_t local_port, uint16_t remote_port) const {
  if (!enabled) return false;
  for (uint32_t i = 0; i < emulation_port_count && i < TD_FILTER_MAX; ++i) {
    if (emulation_ports[i] == local_port || emulation_ports[i] == remote_port) return true;
  }
  return false;
}

bool Policy::records(const td_event_record& event) const {
  return event.kind <= TD_KIND_MAX && wants(static_cast<td_event_kind>(event.kind)) &&
         port_selected(event.local.port, event.remote.port);
}

Policy policy_for(const td_config& config, const char* process_name) {
  Policy policy;
  std::string ignored;
  if (!check_config(config, ignored)) return policy;  // a damaged configuration records nothing
  bool selected = config.process_count == 0;
  for (uint32_t i = 0; i < config.process_count && !selected; ++i) {
    selected = name_starts_with(process_name, config.processes[i]);
  }
  policy.active = config.enabled == 1 && selected;
  policy.enabled = config.enabled == 1;
  policy.abortive_to_graceful = config.abortive_to_graceful == 1;
  policy.kinds = config.kinds;
  policy.capture_bytes = config.capture_bytes;
  policy.port_count = config.port_count;
  std::memcpy(policy.ports, config.ports, sizeof(policy.ports));
  policy.emulation_port_count = config.emulation_port_count;
  std::memcpy(policy.emulation_ports, config.emulation_ports, sizeof(policy.emulation_ports));
  return policy;
}

Producer::Producer(std::string channel_dir, uint64_t retry_ns)
    : channel_dir_(std::move(channel_dir)), retry_ns_(retry_ns) {
  std::string name = platform::process_name();
  std::strncpy(process_name_, name.c_str(), sizeof(process_name_) - 1);
  pid_.store(platform::process_id(), std::memory_order_relaxed);
}

Producer::Producer(Unattached) noexcept : retry_ns_(UINT64_MAX) {
  next_attach_ns_.store(UINT64_MAX, std::memory_order_relaxed);
}

// Attached channels are deliberately never destroyed, so never unmapped: another thread of this
// process may be publishing into one at any moment. Their number is bounded by kMaxAttachments.
Producer::~Producer() = default;

void Producer::detach_all() noexcept {
  channel_.store(nullptr, std::memory_order_release);
  policy_channel_.store(nullptr, std::memory_order_release);
  uint32_t count = attachment_count_.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < count && i < kMaxAttachments; ++i) {
    delete attachments_[i];
    attachments_[i] = nullptr;
  }
}

void Producer::after_fork() noexcept {
  pid_.store(platform::process_id(), std::memory_order_relaxed);
  uint32_t count = attachment_count_.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < count && i < kMaxAttachments; ++i) {
    if (attachments_[i] != nullptr) attachments_[i]->attached_ring().after_fork();
  }
  // The child has one thread: a flag another thread of the parent held is nobody's now.
  attaching_.clear(std::memory_order_relaxed);
  refreshing_.clear(std::memory_order_relaxed);
}

void Producer::user_changed() noexcept {
  user_changed_.store(true, std::memory_order_release);
  // Attachments change only under the attaching flag, held briefly by a thread attaching. Should
  // it stay held (this very thread interrupted while attaching), that thread follows the change
  // itself before it lets go of the flag.
  for (int attempt = 0; attempt < kFollowAttempts; ++attempt) {
    if (!attaching_.test_and_set(std::memory_order_acquire)) {
      follow_user();
      attaching_.clear(std::memory_order_release);
      return;
    }
    std::this_thread::yield();
  }
}

void Producer::follow_user() noexcept {
  if (!user_changed_.exchange(false, std::memory_order_acq_rel)) return;
  try {
    const std::string now = current_user().key;
    Channel* current = channel_.load(std::memory_order_relaxed);
    Channel* follow = nullptr;
    uint32_t count = attachment_count_.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < count && i < kMaxAttachments; ++i) {
      Channel* channel = attachments_[i];
      if (channel == nullptr || channel->retired()) continue;
      if (!platform::can_become(channel->ring_owner())) {
        channel->retire();
        continue;
      }
      if (channel->ring_owner() == now && channel->healthy()) follow = channel;
    }
    if (follow != current) {
      channel_.store(follow, std::memory_order_release);
      policy_channel_.store(nullptr, std::memory_order_release);
      wanted_kinds_.store(0, std::memory_order_relaxed);
      next_attach_ns_.store(0, std::memory_order_relaxed);  // the new user's ring, at once
    }
  } catch (...) {
    user_changed_.store(true, std::memory_order_relaxed);  // tried again at the next attach
  }
}

Channel* Producer::attached() noexcept {
  Channel* channel = channel_.load(std::memory_order_acquire);
  if (channel != nullptr && channel->healthy()) return channel;
  return try_attach();
}

Channel* Producer::try_attach() noexcept {
  uint64_t now = platform::monotonic_ns();
  if (now < next_attach_ns_.load(std::memory_order_relaxed)) return nullptr;
  if (attaching_.test_and_set(std::memory_order_acquire)) return nullptr;
  Channel* result = nullptr;
  try {
    next_attach_ns_.store(now + retry_ns_, std::memory_order_relaxed);
    Channel* current = channel_.load(std::memory_order_relaxed);
    if (current != nullptr && current->revive()) {
      // The same files, sound again (re-initialised in place): no new mapping, and the policy is
      // derived afresh.
      policy_channel_.store(nullptr, std::memory_order_release);
      result = current;
    } else if (attachment_count_.load(std::memory_order_relaxed) < kMaxAttachments) {
      if (channel_dir_.empty()) channel_dir_ = platform::default_channel_dir();
      std::unique_ptr<Channel> fresh;
      if (Channel::attach(channel_dir_, fresh) == TD_OK) {
        result = fresh.release();
        attachments_[attachment_count_.fetch_add(1, std::memory_order_relaxed)] = result;
        channel_.store(result, std::memory_order_release);
      }
    }
  } catch (...) {
    result = nullptr;
  }
  // A change of user while this thread attached (it held the flag): followed now, before another
  // attach can be made.
  if (user_changed_.load(std::memory_order_acquire)) {
    follow_user();
    result = channel_.load(std::memory_order_relaxed);
  }
  attaching_.clear(std::memory_order_release);
  return result;
}

void Producer::refresh_policy(Channel& channel, uint32_t version) noexcept {
  if (refreshing_.test_and_set(std::memory_order_acquire)) return;
  td_config config;
  Policy fresh;  // inactive unless a consistent configuration is read
  // Without a configuration to trust, the channel's is the defaults.
  if (channel.config().read(config, kConfigReadAttempts)) fresh = policy_for(config, process_name_);
  uint32_t odd = policy_sequence_.load(std::memory_order_relaxed) + 1;
  policy_sequence_.store(odd, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(static_cast<void*>(&policy_), &fresh, sizeof(fresh));
  policy_sequence_.store(odd + 1, std::memory_order_release);
  policy_version_.store(version, std::memory_order_relaxed);
  wanted_kinds_.store(fresh.active ? fresh.kinds : 0u, std::memory_order_relaxed);
  policy_channel_.store(&channel, std::memory_order_release);
  refreshing_.clear(std::memory_order_release);
}

Policy Producer::policy() noexcept {
  return policy_of(attached());
}

Policy Producer::policy_if_attached() noexcept {
  Channel* channel = channel_.load(std::memory_order_acquire);
  return policy_of(channel != nullptr && channel->healthy() ? channel : nullptr);
}

Policy Producer::policy_of(Channel* channel) noexcept {
  if (channel == nullptr) return Policy{};
  uint32_t version = channel->config().version();
  if (policy_channel_.load(std::memory_order_acquire) != channel ||
      policy_version_.load(std::memory_order_relaxed) != version) {
    refresh_policy(*channel, version);
  }
  for (int attempt = 0; attempt < kPolicyCopyAttempts; ++attempt) {
    uint32_t before = policy_sequence_.load(std::memory_order_acquire);
    if (before & 1u) continue;
    // Copied straight into the caller's policy (no zeroed one first): a few vector moves.
    Policy out = policy_;
    std::atomic_thread_fence(std::memory_order_acquire);
    if (policy_sequence_.load(std::memory_order_relaxed) == before) {
      // Until this attachment's policy is in place, record nothing rather than apply another's.
      if (policy_channel_.load(std::memory_order_acquire) != channel) break;
      return out;
    }
  }
  return Policy{};
}

bool Producer::publish(td_event_record& event, const Policy& policy, const void* data,
                       size_t data_length) noexcept {
  if (!policy.records(event)) return false;
  Channel* channel = channel_.load(std::memory_order_acquire);
  if (channel == nullptr) return false;
  if (event.time_ns == 0) event.time_ns = platform::wall_clock_ns();
  event.pid = pid_.load(std::memory_order_relaxed);
  std::memcpy(event.process_name, process_name_, sizeof(event.process_name));
  size_t captured = data == nullptr ? 0 : data_length;
  if (captured > policy.capture_bytes) captured = policy.capture_bytes;
  if (captured > 0) std::memcpy(event.captured, data, captured);
  event.captured_length = static_cast<uint16_t>(captured);
  return channel->attached_ring().publish(event);
}

}  // namespace teardown
