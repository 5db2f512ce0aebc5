// A channel: one directory holding the configuration and one event ring per user.
//
//   <dir>/config        the configuration, written by administrators (or, in a channel a user
//                       made for themselves, by that user), read by every producer
//   <dir>/config.lock   the configuration writers' lock; only its owner can open it
//   <dir>/rings/        one ring per user: ring-<user>, or ring-<user>-<random> when another
//                       user squatted that name first
//
// A producer maps only its own user's ring, made and owned by that user, and honours the
// configuration only if an administrator or its own user owns it and nobody else can write it.
// Readers map no ring: they copy every user's ring out of its file and attribute each event to
// the ring's owner.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config_block.h"
#include "event_ring.h"
#include "mapped_file.h"
#include "teardown/teardown.h"

namespace teardown {

constexpr char kConfigFileName[] = "config";
constexpr char kConfigLockName[] = "config.lock";
constexpr char kRingsDirName[] = "rings";
constexpr char kRingPrefix[] = "ring-";

// Most names of rings dropped as damaged a reader remembers.
constexpr size_t kMaxRingNames = 4096;

// Whether `name` is one a ring can have: "ring-" then ASCII letters, digits and '-' (what users'
// keys and the random suffixes are made of), at most 127 bytes. Nothing else in a rings
// directory is looked at: not another user's junk, not a name that is not text.
bool ring_name_syntax(const char* name);

// Whether a ring named `name` is one the user `key` could have made: "ring-<key>", or
// "ring-<key>-" and 16 hex digits.
bool ring_name_of(const std::string& name, const std::string& key);

// Whether a reader takes the file `name` owned by `key` for a ring: its name is its owner's, or
// names no user of this system's kind at all (a Windows SID in a ring that a program under Wine
// made: its file is the Linux user's). A file under another user's name here (a uid not its
// owner's) is nobody's ring, and never counts against that user's rings.
bool ring_belongs_to(const std::string& name, const std::string& key);

// Most rings a reader keeps open for one user: a user's programs share one (more only where its
// name was squatted), and no user can make a reader hold a descriptor per file they create.
constexpr size_t kMaxRingsPerUser = 8;

// A ring read through its file.
class FileSource final : public RingSource {
 public:
  explicit FileSource(const MappedFile& file) : file_(file) {}
  bool copy(uint64_t offset, void* out, size_t length) const override {
    return file_.read_at(offset, out, length);
  }

 private:
  const MappedFile& file_;
};

// Who owns the configuration file, and so whose programs it applies to.
struct ConfigStatus {
  bool present = false;         // a configuration file is there
  bool sound = false;           // and it holds a configuration of this version
  std::string owner;            // its owner's key
  bool owner_is_admin = false;  // root / Administrators / SYSTEM
  bool others_can_write = false;
};

class Channel {
 public:
  // Opens the channel in `dir` for reading and, where the configuration is the caller's, for
  // configuring. With `create`, makes the directory, the rings directory and the configuration
  // with their permissions (whatever the umask) where they are absent; `slot_count` is then the
  // size of the rings producers make.
  static td_status open(const std::string& dir, bool create, uint32_t slot_count,
                        std::unique_ptr<Channel>& out);

  // Opens a channel the way a producer does: its own ring (made if absent), and the
  // configuration if it is to be trusted. Fails where the ring cannot be had.
  static td_status attach(const std::string& dir, std::unique_ptr<Channel>& out);

  const std::string& dir() const { return dir_; }
  std::string rings_dir() const;

  // This user's ring: always there after attach; opened or made on first use after open.
  td_status own_ring(EventRing*& out);
  // A producer's attachment always has its ring: the publishing path takes it as it is.
  EventRing& attached_ring() { return ring_; }
  // The ring for callers that know it can be had (tests, tools); unbound if it cannot.
  EventRing& ring() {
    if (!ring_.bound()) {
      EventRing* ring = nullptr;
      own_ring(ring);
    }
    return ring_;
  }

  // Producer side: the trusted configuration, or when there is none the defaults, held in this
  // process's memory, so that the publishing path reads either the same way.
  const ConfigBlock& config() const { return config_; }

  // Producer side: the ring and the configuration still carry what they had at attach.
  bool healthy() const { return ring_.healthy() && config_.healthy(); }

  // Producer side, once unhealthy: true if the files at the channel's names are still the ones
  // mapped, sound again with the same geometry, and now bound afresh. Allocates nothing.
  bool revive();

  // Producer side: the process can no longer become the ring's user (it changed user for
  // good). The ring's mapping is replaced with private memory (a thread publishing into it now
  // writes nowhere) and the channel is never revived: unhealthy for ever.
  void retire();
  bool retired() const { return retired_; }
  // The user whose ring this is.
  const std::string& ring_owner() const { return ring_file_.owner().key; }

  // A copy of the configuration, never torn; TD_ERR_NOT_FOUND when there is none.
  td_status read_config(td_config& out) const;

  // Checks and writes the configuration; on TD_ERR_INVALID_CONFIG `field` names the culprit.
  // Only the configuration's owner can; the lock it takes is one only that owner can open.
  td_status write_config(const td_config& config, std::string& field);

  ConfigStatus config_status() const;

  // The slots of the rings producers make in this channel.
  uint32_t ring_slot_count() const;

 private:
  td_status open_config_for_reading();
  td_status open_own_ring(uint32_t slot_count);
  td_status try_ring(const std::string& name, uint32_t slot_count, bool create);

  std::string dir_;
  MappedFile config_file_;  // producer: the trusted configuration, mapped read-only
                            // reader/admin: any configuration; mapped only if the caller's
  bool config_writable_ = false;
  bool config_trusted_ = false;
  bool retired_ = false;
  layout::ConfigHeader defaults_{};  // the configuration a producer applies without a trusted one
  ConfigBlock config_;
  MappedFile ring_file_;
  std::string ring_path_;
  EventRing ring_;
};

// Where a reader stands in one lane of a ring: the sequence of the lane's first event not yet
// delivered (which says the lane: the k-th event of lane l of L has sequence k * L + l).
struct RingPosition {
  std::string ring;  // the ring's name in the rings directory
  uint64_t generation = 0;
  uint64_t next_sequence = 0;
};

// Reads every lane of every user's ring of a channel and merges them by time, each lane in its
// own order (a thread's events in the order it published them): the reader's own user's rings
// through a mapping, other users' by copying (their owners could truncate a mapping under it).
// The rings directory is walked again at least once a second, and when a name was added or
// removed (at most a twentieth of the reader's time), so that a user who starts recording
// later is read too; a ring that is damaged or replaced is dropped and found again. Only names a
// ring can have, under its owner's own key, are rings (at most kMaxRingsPerUser of each user):
// another user's files never hide one, and a directory of any size is walked a bounded step a
// read. Each event's `user` is the index of its ring's owner among user_keys().
class ChannelReader {
 public:
  // Rings named in `resume` with the same generation are read on from their position; every
  // other ring starts where `start` says.
  ChannelReader(std::string rings_dir, ReaderStart start, uint64_t stall_timeout_ns,
                std::vector<RingPosition> resume = {});
  ~ChannelReader();
  ChannelReader(const ChannelReader&) = delete;
  ChannelReader& operator=(const ChannelReader&) = delete;

  // Copies up to `capacity` events, oldest first by time; `lost` as RingReader::read, summed
  // over the rings (saturating).
  td_status read(td_event_record* out, size_t capacity, size_t& count, uint64_t& lost);

  // Where this reader stands in every ring it reads, after the events delivered so far (events
  // read from a ring but held back by the merge are not yet delivered).
  std::vector<RingPosition> positions() const;

  // The owners events are attributed to, by the index in their `user` field.
  const std::vector<std::string>& user_keys() const { return users_; }

  // Of the events read() counted lost so far, those of the rings of user index `user`.
  uint64_t lost_by_user(uint32_t user) const { return user < user_lost_.size() ? user_lost_[user] : 0; }

  size_t ring_count() const { return rings_.size(); }
  // Files under rings' names this reader opened to look at, all told: names passed over are not
  // opened again.
  uint64_t files_opened() const { return files_opened_; }

 private:
  struct Lane;
  struct Ring;
  // A pass over the rings directory: begun (rings gone bad dropped), then walked a step at a
  // time (true when it came to its end), each name found considered.
  void begin_pass();
  bool walk(bool first, size_t budget);
  void consider(const DirectoryEntry& entry, bool first, uint64_t now);
  void pass_over(uint64_t key, uint64_t until);
  uint32_t user_index(const std::string& key);

  std::string rings_dir_;
  std::string own_key_;  // the reading user: its own rings are mapped, others' copied
  ReaderStart start_;
  uint64_t stall_timeout_ns_;
  uint64_t next_scan_ns_ = 0;         // when the next pass begins, changed or not
  // The time left for passes begun by a change (see channel.cpp), and when it was last earned.
  bool may_scan_for_change(uint64_t now);
  int64_t scan_credit_ns_ = 0;
  uint64_t scanned_version_ = 0;  // the rings directory's version when the last pass began
  std::vector<std::unique_ptr<Ring>> rings_;
  std::vector<std::string> users_;
  std::vector<uint64_t> user_lost_;  // by user index, saturating
  std::vector<std::string> dropped_;  // names of rings dropped as damaged
  std::vector<RingPosition> resume_;  // positions to read on from, used at each ring's first find
  DirectoryWalk walk_;
  std::deque<DirectoryEntry> unconsidered_;  // names the walk found, not yet looked at
  uint64_t salt_;
  uint64_t credit_at_ns_;
  // Names (with their file) found not to be rings, and until when they are not looked at again.
  std::unordered_map<uint64_t, uint64_t> passed_over_;
  uint64_t files_opened_ = 0;
};

// The counters of every ring of a channel that the caller can read, added up (saturating).
td_status channel_counters(const std::string& rings_dir, td_counters& out);

}  // namespace teardown
