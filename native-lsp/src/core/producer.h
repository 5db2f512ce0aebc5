// The producer side of the channel, one per process: what the LSP and the preload layer call.
//
// Fast path: one acquire load finds the attachment, one load sees whether the configuration
// changed, and a small local copy answers "record this?". Publishing takes no lock, makes no
// system call and allocates nothing. When the channel is missing, damaged or replaced the
// producer passes through silently and retries attaching at most once a second.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "teardown/teardown.h"

namespace teardown {

class Channel;

// The configuration as it applies to this process, reduced to what each call needs.
struct Policy {
  bool active = false;  // recording is on and this process is selected
  bool enabled = false;  // Teardown is on (whatever the process filter says)
  bool abortive_to_graceful = false;
  uint32_t kinds = 0;
  uint32_t capture_bytes = 0;
  uint32_t port_count = 0;
  td_port_range ports[TD_FILTER_MAX] = {};
  uint32_t emulation_port_count = 0;
  uint16_t emulation_ports[TD_FILTER_MAX] = {};

  bool wants(td_event_kind kind) const { return active && (kinds & (1u << kind)) != 0; }
  bool port_selected(uint16_t local_port, uint16_t remote_port) const;
  // Disconnect data is emulated on a connection with either port in the list while Teardown is
  // on. Independent of the process filter: the framing is the connection's format, which both
  // ends must keep to.
  bool emulates(uint16_t local_port, uint16_t remote_port) const;
  // Whether connections not emulated here have their first bytes watched for a framing peer:
  // only where emulation is configured at all. Teardown off, or no emulation: nothing is changed.
  bool watches_for_framing() const { return enabled && emulation_port_count > 0; }
  bool records(const td_event_record& event) const;
};

// Derives a process's policy from a configuration.
Policy policy_for(const td_config& config, const char* process_name);

class Producer {
 public:
  // `channel_dir` empty: the default location, resolved when attaching.
  // `retry_ns`: how long after a failed attach the next is tried (shorter only in tests).
  explicit Producer(std::string channel_dir = {}, uint64_t retry_ns = kAttachRetryNs);
  // A producer that never attaches, so records nothing: what a layer falls back on when it
  // cannot make its own (no memory for it). Making it allocates nothing and cannot fail.
  struct Unattached {};
  explicit Producer(Unattached) noexcept;
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // The policy in force now; inactive when there is no usable channel.
  Policy policy() noexcept;
  // The same, from the channel already attached: never attaches, allocates or takes a lock, so
  // it may be asked from a signal handler (a close there).
  Policy policy_if_attached() noexcept;

  // Whether an event of `kind` would be recorded, as the policy stood when last derived (each
  // policy() refreshes it): one load, for a kind not recorded by default, whose event is not
  // worth making unless asked for.
  bool wants(td_event_kind kind) const noexcept {
    return (wanted_kinds_.load(std::memory_order_relaxed) & (1u << kind)) != 0;
  }

  // Publishes `event` if the policy records it: stamps pid, process name and, unless the caller
  // set it (a local call stamps the moment it began, so that it orders before the peer's
  // reaction), the time; captures up to policy.capture_bytes of `data`. True if published.
  bool publish(td_event_record& event, const Policy& policy, const void* data = nullptr,
               size_t data_length = 0) noexcept;

  // In a forked child: a new pid, and its threads spread over the rings' lanes as a process of
  // its own. Call from the child before it publishes.
  void after_fork() noexcept;

  // The process changed user (setuid and its kin, as the program called them). Events from now
  // on go to its effective user's ring (attached at the next event, or one attached before if the
  // process was that user already), and every ring of a user it can no longer become is let go
  // (Channel::retire): nothing of the old user's stays within reach of the new one. Done here,
  // once no other thread is attaching (or by that thread, should it not finish meanwhile).
  // Costs the publishing path nothing.
  void user_changed() noexcept;

  // Number of channel attachments made (each is kept mapped for the life of the process). A
  // channel whose files are re-initialised in place is revived, not attached again.
  uint32_t attachments() const { return attachment_count_.load(std::memory_order_relaxed); }

  // Unmaps every attachment. Only for when no thread can be publishing any more: the module
  // holding this producer is being unloaded (the Windows LSP after Winsock's last cleanup).
  void detach_all() noexcept;

  static constexpr uint32_t kMaxAttachments = 16;
  static constexpr uint64_t kAttachRetryNs = 1000000000ull;

 private:
  Channel* attached() noexcept;
  void follow_user() noexcept;  // under the attaching flag
  static constexpr int kFollowAttempts = 10000;
  Policy policy_of(Channel* channel) noexcept;
  Channel* try_attach() noexcept;
  void refresh_policy(Channel& channel, uint32_t version) noexcept;

  std::string channel_dir_;
  uint64_t retry_ns_;
  char process_name_[TD_PROCESS_NAME_MAX] = {};
  std::atomic<uint32_t> pid_{0};

  std::atomic<Channel*> channel_{nullptr};
  std::atomic<bool> user_changed_{false};  // not yet followed: see user_changed()
  std::atomic<uint32_t> attachment_count_{0};
  Channel* attachments_[kMaxAttachments] = {};  // written only by the attaching thread
  std::atomic<uint64_t> next_attach_ns_{0};
  std::atomic_flag attaching_ = ATOMIC_FLAG_INIT;

  // A process-local seqlock over the policy: threads copy it, one thread at a time refreshes it.
  std::atomic<uint32_t> policy_sequence_{0};
  Policy policy_{};
  // The attachment and configuration version policy_ was derived from.
  std::atomic<Channel*> policy_channel_{nullptr};
  std::atomic<uint32_t> policy_version_{0};
  std::atomic<uint32_t> wanted_kinds_{0};  // the policy's kinds while active, else 0
  std::atomic_flag refreshing_ = ATOMIC_FLAG_INIT;
};

}  // namespace teardown
