#include "channel.h"

#include <algorithm>
#include <cstring>

#include "platform.h"

namespace teardown {

namespace {

constexpr int kConfigReadAttempts = 1000;
constexpr size_t kPendingPerLane = 1024;

// A reader walks the rings directory whole at least once a second, and when a name was added or
// removed while its time for passes lasts: that time grows by a twentieth of the time that goes
// by (up to 50 ms) and each pass spends what it took. A directory that changes all the time costs
// at most a twentieth of a reader's time, and a small one is walked again at once. A pass lists
// at most kScanStep names a read and spends at most kConsiderNs a read opening them, so a
// directory of any size, changing however fast, slows no read by more than that.
constexpr uint64_t kScanIntervalNs = 1000000000ull;
constexpr int64_t kScanShare = 20;
constexpr int64_t kMaxScanCreditNs = 50000000;
constexpr size_t kScanStep = 4096;
// The time a read spends looking at names found (opening those it has not passed over): past
// it, the rest wait for the next read.
constexpr uint64_t kConsiderNs = 2000000;
// A name found not to be a ring is looked at again only when the name names another file, or
// (not sound yet, not readable) after 10 s; at most this many are remembered.
constexpr uint64_t kRecheckNs = 10000000000ull;
constexpr size_t kMaxPassedOver = 65536;
// Most names a producer looks at for another ring of its own user's (only when its ring's own
// name is taken): past them it makes one under a new name.
constexpr size_t kMaxNamesSearched = 65536;
// Longest ring name: what a reader's saved position holds.
constexpr size_t kMaxRingNameBytes = 127;

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

bool ascii_key_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

}  // namespace

bool ring_name_syntax(const char* name) {
  constexpr size_t kPrefix = sizeof(kRingPrefix) - 1;
  if (std::strncmp(name, kRingPrefix, kPrefix) != 0) return false;
  size_t length = kPrefix;
  for (; name[length] != '\0'; ++length) {
    if (length >= kMaxRingNameBytes || !ascii_key_char(name[length])) return false;
  }
  return length > kPrefix;
}

bool ring_name_of(const std::string& name, const std::string& key) {
  const std::string own = std::string(kRingPrefix) + key;
  if (name == own) return true;
  constexpr size_t kSuffix = 16;
  if (name.size() != own.size() + 1 + kSuffix || !starts_with(name, own) || name[own.size()] != '-') {
    return false;
  }
  for (size_t i = own.size() + 1; i < name.size(); ++i) {
    char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool ring_belongs_to(const std::string& name, const std::string& key) {
  if (ring_name_of(name, key)) return true;
  // A key of the other platform's kind: a SID ("S-1-5-…") where owners are uids, or a uid where
  // owners are SIDs.
  constexpr size_t kPrefix = sizeof(kRingPrefix) - 1;
  bool named_by_number = name.size() > kPrefix && name[kPrefix] >= '0' && name[kPrefix] <= '9';
  bool owned_by_number = !key.empty() && key[0] >= '0' && key[0] <= '9';
  return named_by_number != owned_by_number;
}

namespace {

// A consistent copy of a configuration read through its file (never mapped): the seqlock word
// before and after must agree and be even.
bool copy_config(const MappedFile& file, td_config& out, int attempts) {
  alignas(layout::ConfigHeader) uint8_t copy[sizeof(layout::ConfigHeader)];
  if (!file.read_at(0, copy, sizeof(copy)) || ConfigBlock::validate(copy, sizeof(copy)) != TD_OK) {
    return false;
  }
  constexpr size_t kSequence = offsetof(layout::ConfigHeader, sequence);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    uint32_t before = 0;
    uint32_t after = 0;
    if (!file.read_at(kSequence, &before, sizeof(before))) return false;
    if (before & 1u) continue;
    if (!file.read_at(offsetof(layout::ConfigHeader, config), &out, sizeof(out))) return false;
    if (!file.read_at(kSequence, &after, sizeof(after))) return false;
    if (after == before) return true;
  }
  return false;
}

// The geometry of the ring in `file`, from one copy of its header checked against the file's
// size now.
td_status geometry_of(const MappedFile& file, RingGeometry& out) {
  uint8_t header[sizeof(layout::EventsHeader)];
  if (!file.read_at(0, header, sizeof(header))) return TD_ERR_CORRUPT;
  return read_geometry(header, sizeof(header), file.current_size(), out);
}

// What a file under a ring's name in a rings directory is, to a reader.
enum class RingFile { Unreadable, NotARing, Unsound, Sound };

// Opens `name` in `rings_dir` for reading and tells whether it is a ring: its owner's by its name
// (ring_belongs_to), with a sound geometry, into `geometry`.
RingFile open_ring_file(const std::string& rings_dir, const std::string& name, MappedFile& file,
                        RingGeometry& geometry) {
  std::string path = platform::join_path(rings_dir, name.c_str());
  if (MappedFile::open(path, FileAccess::ReadOnly, Owner::Anyone, file) != TD_OK) return RingFile::Unreadable;
  // A ring's name is its owner's: a file under another user's name is nobody's ring, and never
  // counts against that user's rings.
  if (!ring_belongs_to(name, file.owner().key)) return RingFile::NotARing;
  return geometry_of(file, geometry) == TD_OK ? RingFile::Sound : RingFile::Unsound;
}

struct RingSeed {
  uint32_t slot_count;
};

void initialize_ring(uint8_t* bytes, size_t, void* context) {
  uint32_t slot_count = static_cast<RingSeed*>(context)->slot_count;
  EventRing::initialize(bytes, slot_count, platform::wall_clock_ns(),
                        layout::lanes_for(slot_count, platform::cpu_count()));
}

}  // namespace

std::string Channel::rings_dir() const {
  return platform::join_path(dir_, kRingsDirName);
}

td_status Channel::open(const std::string& dir, bool create, uint32_t slot_count,
                        std::unique_ptr<Channel>& out) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  if (slot_count == 0) slot_count = layout::kDefaultSlotCount;
  if (!layout::valid_slot_count(slot_count)) return TD_ERR_INVALID_ARGUMENT;
  auto channel = std::unique_ptr<Channel>(new Channel());
  channel->dir_ = dir;
  std::string config_path = platform::join_path(dir, kConfigFileName);
  td_status status = TD_OK;
  if (create) {
    // An administrator's channel is every user's; anyone else's is their own.
    bool shared = current_user().admin;
    status = ensure_directory(dir, DirectoryKind::Channel);
    if (status == TD_OK) {
      status = ensure_directory(channel->rings_dir(),
                                shared ? DirectoryKind::SharedRings : DirectoryKind::PrivateRings);
    }
    if (status == TD_OK) {
      status = MappedFile::open_or_create(config_path, FileKind::Config,
                                          layout::config_file_bytes(), channel->config_file_);
      if (status == TD_ERR_ACCESS_DENIED) {
        // Someone else's configuration (an administrator's, in the system channel): read, never
        // written or replaced.
        status = channel->open_config_for_reading();
        if (status != TD_OK) return status;
        out = std::move(channel);
        return TD_OK;
      }
    }
    if (status == TD_OK) status = channel->config_file_.map(layout::config_file_bytes());
    if (status == TD_OK) {
      uint8_t* bytes = channel->config_file_.data();
      if (ConfigBlock::validate(bytes, channel->config_file_.size()) != TD_OK) {
        ConfigBlock::initialize(bytes, platform::wall_clock_ns(), default_config(), slot_count);
      }
      channel->config_ = ConfigBlock(bytes);
      channel->config_writable_ = true;
    }
  } else {
    status = channel->open_config_for_reading();
  }
  if (status != TD_OK) return status;
  out = std::move(channel);
  return TD_OK;
}

td_status Channel::open_config_for_reading() {
  std::string path = platform::join_path(dir_, kConfigFileName);
  td_status status = MappedFile::open(path, FileAccess::ReadOnly, Owner::Anyone, config_file_);
  if (status == TD_ERR_NOT_FOUND) {
    // No configuration: a channel all the same if it has a rings directory (the defaults apply).
    return directory_exists(rings_dir()) ? TD_OK : TD_ERR_NOT_FOUND;
  }
  if (status != TD_OK) return status;
  if (config_file_.owner().key == current_user().key && !config_file_.others_can_write()) {
    // The caller's own configuration: mapped, to be written.
    MappedFile writable;
    if (MappedFile::open(path, FileAccess::ReadWrite, Owner::Self, writable) == TD_OK &&
        writable.map(layout::config_file_bytes()) == TD_OK &&
        ConfigBlock::validate(writable.data(), writable.size()) == TD_OK) {
      config_file_ = std::move(writable);
      config_ = ConfigBlock(config_file_.data());
      config_writable_ = true;
    }
  }
  return TD_OK;
}

td_status Channel::attach(const std::string& dir, std::unique_ptr<Channel>& out) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  auto channel = std::unique_ptr<Channel>(new Channel());
  channel->dir_ = dir;
  if (!directory_exists(dir)) return TD_ERR_NOT_FOUND;
  if (!trusted_directory(dir) || !trusted_directory(channel->rings_dir())) {
    return TD_ERR_ACCESS_DENIED;
  }
  // The configuration, only if an administrator or this user owns it and nobody else writes it.
  MappedFile config;
  if (MappedFile::open(platform::join_path(dir, kConfigFileName), FileAccess::ReadOnly,
                       Owner::AdminOrSelf, config) == TD_OK &&
      config.map(layout::config_file_bytes()) == TD_OK &&
      ConfigBlock::validate(config.data(), config.size()) == TD_OK) {
    config.keep_mapping_only();  // a producer holds no descriptor (see try_ring)
    channel->config_file_ = std::move(config);
    channel->config_ = ConfigBlock(channel->config_file_.data());
    channel->config_trusted_ = true;
  } else {
    auto* defaults = reinterpret_cast<uint8_t*>(&channel->defaults_);
    ConfigBlock::initialize(defaults, 0, default_config(), 0);
    channel->config_ = ConfigBlock(defaults);
  }
  td_status status = channel->open_own_ring(channel->ring_slot_count());
  if (status != TD_OK) return status;
  out = std::move(channel);
  return TD_OK;
}

uint32_t Channel::ring_slot_count() const {
  return config_.bound() ? config_.ring_slot_count() : layout::kDefaultSlotCount;
}

td_status Channel::own_ring(EventRing*& out) {
  if (!ring_.bound()) {
    td_status status = open_own_ring(ring_slot_count());
    if (status != TD_OK) return status;
  }
  out = &ring_;
  return TD_OK;
}

td_status Channel::try_ring(const std::string& name, uint32_t slot_count, bool create) {
  std::string path = platform::join_path(rings_dir(), name.c_str());
  MappedFile file;
  td_status status = MappedFile::open(path, FileAccess::ReadWrite, Owner::Self, file);
  if (status == TD_ERR_NOT_FOUND && create) {
    RingSeed seed{slot_count};
    status = MappedFile::create_new(path, FileKind::Ring, layout::events_file_bytes(slot_count),
                                    initialize_ring, &seed);
    // Made here, or by another process of this user a moment ago: open what is there now.
    if (status == TD_OK || status == TD_ERR_ACCESS_DENIED) {
      status = MappedFile::open(path, FileAccess::ReadWrite, Owner::Self, file);
    }
  }
  if (status != TD_OK) return status;
  // The geometry from one copy of the header, checked against the file's size; only that much
  // is mapped, and the ring binds to the mapping's own check of it.
  RingGeometry geometry;
  status = geometry_of(file, geometry);
  if (status != TD_OK) return status;
  status = file.map(layout::events_file_bytes(geometry.slot_count));
  if (status != TD_OK) return status;
  EventRing ring;
  status = EventRing::bind(file.data(), file.size(), ring);
  if (status != TD_OK) return status;
  // No descriptor is kept: a child this process forks, which may become another user (a
  // server's worker), could truncate the ring under every mapping of it through one.
  file.keep_mapping_only();
  ring_file_ = std::move(file);
  ring_path_ = path;
  ring_ = ring;
  return TD_OK;
}

td_status Channel::open_own_ring(uint32_t slot_count) {
  const std::string key = current_user().key;
  const std::string name = std::string(kRingPrefix) + key;
  td_status status = try_ring(name, slot_count, true);
  // This user's own ring, damaged: passed through until it is sound again, like any damage.
  if (status != TD_ERR_ACCESS_DENIED && status != TD_ERR_VERSION) return status;
  // The name is not this user's to trust (another user's file, one others may write, a link, a
  // FIFO), or its ring has another layout (written by programs that loaded an older Teardown,
  // and read by readers that know it): any other ring of this user's, else a new one under a
  // name nobody could have chosen in advance.
  const std::string prefix = name + "-";
  DirectoryWalk walk(rings_dir());
  std::vector<DirectoryEntry> found;
  walk.step(kMaxNamesSearched, ring_name_syntax, found);
  for (const DirectoryEntry& other : found) {
    if (ring_name_of(other.name, key) && try_ring(other.name, slot_count, false) == TD_OK) {
      return TD_OK;
    }
  }
  return try_ring(prefix + random_name(), slot_count, true);
}

void Channel::retire() {
  retired_ = true;
  ring_file_.forsake_mapping();
}

bool Channel::revive() {
  if (retired_ || !ring_.bound() || !ring_file_.same_file_as(ring_path_) || !ring_.rebind()) return false;
  if (config_trusted_) {
    std::string config_path = platform::join_path(dir_, kConfigFileName);
    if (!config_file_.same_file_as(config_path) || !config_.rebind()) return false;
  }
  return true;
}

td_status Channel::read_config(td_config& out) const {
  if (config_.bound()) {
    if (!config_.healthy() || !config_.read(out, kConfigReadAttempts)) return TD_ERR_CORRUPT;
    return TD_OK;
  }
  if (!config_file_.is_open()) return TD_ERR_NOT_FOUND;
  return copy_config(config_file_, out, kConfigReadAttempts) ? TD_OK : TD_ERR_CORRUPT;
}

td_status Channel::write_config(const td_config& config, std::string& field) {
  if (!check_config(config, field)) return TD_ERR_INVALID_CONFIG;
  if (!config_writable_) return TD_ERR_ACCESS_DENIED;
  if (!config_.healthy()) return TD_ERR_CORRUPT;
  MappedFile lock;
  td_status status = MappedFile::open_or_create(platform::join_path(dir_, kConfigLockName),
                                                FileKind::Lock, 0, lock);
  if (status != TD_OK) return status;
  if (!lock.lock_exclusive()) return TD_ERR_IO;
  config_.write(config);
  lock.unlock();
  return TD_OK;
}

ConfigStatus Channel::config_status() const {
  // The file at the name now, as a producer attaching now would find it.
  ConfigStatus status;
  MappedFile file;
  if (MappedFile::open(platform::join_path(dir_, kConfigFileName), FileAccess::ReadOnly,
                       Owner::Anyone, file) != TD_OK) {
    return status;
  }
  status.present = true;
  status.owner = file.owner().key;
  status.owner_is_admin = file.owner().admin;
  status.others_can_write = file.others_can_write();
  td_config ignored;
  status.sound = copy_config(file, ignored, kConfigReadAttempts);
  return status;
}

// ---- Reading every ring -------------------------------------------------------------------------

// One lane of a ring, and the events read from it that the merge has not delivered yet.
struct ChannelReader::Lane {
  std::unique_ptr<RingReader> reader;
  std::vector<td_event_record> pending;
  size_t next = 0;  // first pending event not yet delivered
  bool unread = false;  // in this read: its head is past its reader's cursor

  bool has_pending() const { return next < pending.size(); }
  uint64_t position() const { return has_pending() ? pending[next].sequence : reader->cursor(); }
};

struct ChannelReader::Ring {
  std::string name;
  MappedFile file;
  FileSource copied{file};
  MemorySource mapped;  // the ring of the reader's own user, mapped
  std::vector<Lane> lanes;
  uint64_t generation = 0;
  uint32_t user = 0;
  bool broken = false;
};

ChannelReader::ChannelReader(std::string rings_dir, ReaderStart start, uint64_t stall_timeout_ns,
                             std::vector<RingPosition> resume)
    : rings_dir_(std::move(rings_dir)),
      own_key_(current_user().key),
      start_(start),
      stall_timeout_ns_(stall_timeout_ns),
      resume_(std::move(resume)),
      walk_(rings_dir_),
      salt_(random_bits()),
      credit_at_ns_(platform::monotonic_ns()) {
  scan_credit_ns_ = kMaxScanCreditNs;
  // The first pass is whole: where the reader starts applies to every ring there now.
  begin_pass();
  while (!walk(true, SIZE_MAX)) {
  }
}

std::vector<RingPosition> ChannelReader::positions() const {
  std::vector<RingPosition> out;
  for (const auto& ring : rings_) {
    for (const Lane& lane : ring->lanes) {
      out.push_back(RingPosition{ring->name, ring->generation, lane.position()});
    }
  }
  return out;
}

ChannelReader::~ChannelReader() = default;

uint32_t ChannelReader::user_index(const std::string& key) {
  for (size_t i = 0; i < users_.size(); ++i) {
    if (users_[i] == key) return static_cast<uint32_t>(i);
  }
  users_.push_back(key);
  return static_cast<uint32_t>(users_.size() - 1);
}

void ChannelReader::begin_pass() {
  scanned_version_ = directory_version(rings_dir_);
  // Rings that went bad are dropped here and found again in the pass if their name is still
  // there.
  for (const auto& ring : rings_) {
    if (ring->broken && dropped_.size() < kMaxRingNames &&
        std::find(dropped_.begin(), dropped_.end(), ring->name) == dropped_.end()) {
      dropped_.push_back(ring->name);
    }
  }
  // A broken ring's events read before it broke are delivered first.
  rings_.erase(std::remove_if(rings_.begin(), rings_.end(),
                              [](const std::unique_ptr<Ring>& ring) {
                                return ring->broken &&
                                       std::none_of(ring->lanes.begin(), ring->lanes.end(),
                                                    [](const Lane& lane) {
                                                      return lane.has_pending();
                                                    });
                              }),
               rings_.end());
}

bool ChannelReader::walk(bool first, size_t budget) {
  uint64_t began = platform::monotonic_ns();
  bool ended = false;
  if (unconsidered_.empty()) {
    std::vector<DirectoryEntry> found;
    ended = walk_.step(budget, ring_name_syntax, found);
    unconsidered_.assign(std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  }
  // Names are looked at until the read has spent its time on them (the first pass looks at all):
  // the rest wait for the next read, none is skipped.
  uint64_t now = began;
  while (!unconsidered_.empty() && (first || now - began < kConsiderNs)) {
    consider(unconsidered_.front(), first, now);
    unconsidered_.pop_front();
    now = platform::monotonic_ns();
  }
  scan_credit_ns_ -= static_cast<int64_t>(now - began);
  if (!unconsidered_.empty()) return false;
  if (ended || !walk_.in_pass()) {
    next_scan_ns_ = now + kScanIntervalNs;
    return true;
  }
  return false;
}

bool ChannelReader::may_scan_for_change(uint64_t now) {
  int64_t earned = static_cast<int64_t>(std::min<uint64_t>(now - credit_at_ns_, kScanIntervalNs)) / kScanShare;
  scan_credit_ns_ = std::min(kMaxScanCreditNs, scan_credit_ns_ + earned);
  credit_at_ns_ = now;
  return scan_credit_ns_ >= 0;
}

void ChannelReader::pass_over(uint64_t key, uint64_t until) {
  if (passed_over_.size() >= kMaxPassedOver) {
    uint64_t now = platform::monotonic_ns();
    for (auto it = passed_over_.begin(); it != passed_over_.end();) {
      it = it->second <= now ? passed_over_.erase(it) : std::next(it);
    }
    // Still full: forgotten, and looked at again (a bounded cost, once a pass).
    if (passed_over_.size() >= kMaxPassedOver) passed_over_.clear();
  }
  passed_over_[key] = until;
}

void ChannelReader::consider(const DirectoryEntry& entry, bool first, uint64_t now) {
  const std::string& name = entry.name;
  for (const auto& ring : rings_) {
    if (ring->name == name) return;
  }
  // The name and the file it names: a name passed over is looked at again once it names another
  // file. Salted, so that nobody can choose names that stand for another's.
  uint64_t key = (std::hash<std::string>{}(name) ^ salt_) * 0x9E3779B97F4A7C15ull ^ entry.id;
  auto passed = passed_over_.find(key);
  if (passed != passed_over_.end() && now < passed->second) return;
  auto ring = std::make_unique<Ring>();
  ring->name = name;
  ++files_opened_;
  RingGeometry geometry;
  RingFile found = open_ring_file(rings_dir_, name, ring->file, geometry);
  // Another user's file under a ring's name is never one; a ring read before and gone bad is
  // looked at every pass, to be read on as soon as it is sound again; anything else that is not a
  // ring (yet), every 10 s.
  if (found == RingFile::NotARing) {
    pass_over(key, UINT64_MAX);
    return;
  }
  bool seen_before = std::find(dropped_.begin(), dropped_.end(), name) != dropped_.end();
  if (found != RingFile::Sound) {
    if (found == RingFile::Unreadable || !seen_before) pass_over(key, now + kRecheckNs);
    return;
  }
  uint32_t user = user_index(ring->file.owner().key);
  size_t of_user = 0;
  for (const auto& other : rings_) of_user += other->user == user;
  if (of_user >= kMaxRingsPerUser) {
    pass_over(key, now + kRecheckNs);
    return;
  }
  ring->user = user;
  // A ring that appears after this reader started is read from its beginning: all of its
  // events are newer than the reader, and those already overwritten are lost to it. One read
  // before it went bad is read on from its newest: what it held may have been delivered.
  ReaderStart start = first ? start_ : seen_before ? ReaderStart::Newest : ReaderStart::First;
  // A ring of the reader's own user that nobody else can write is mapped: only that user could
  // truncate it under the mapping. Every other ring is copied.
  const RingSource* source = &ring->copied;
  if (ring->file.owner().key == own_key_ && !ring->file.others_can_write() &&
      ring->file.map(layout::events_file_bytes(geometry.slot_count)) == TD_OK) {
    ring->mapped = MemorySource(ring->file.data(), ring->file.size());
    source = &ring->mapped;
  }
  ring->lanes.resize(geometry.lane_count);
  for (uint32_t lane = 0; lane < geometry.lane_count; ++lane) {
    ring->lanes[lane].reader =
        std::make_unique<RingReader>(*source, geometry, lane, start, stall_timeout_ns_);
  }
  ring->generation = geometry.generation;
  // A ring this reader's predecessor read is read on from where it stopped in each lane, once:
  // a ring dropped as damaged and found again is not sent back to it. A ring made again in
  // place since is read from its first event: everything in it is new.
  bool named = false;
  bool same_ring = false;
  for (const RingPosition& saved : resume_) {
    if (saved.ring != name) continue;
    named = true;
    if (saved.generation != geometry.generation) continue;
    same_ring = true;
    // A position names its lane by its sequence; every other lane's reader ignores it.
    for (Lane& lane : ring->lanes) lane.reader->seek(saved.next_sequence);
  }
  if (named) {
    if (!same_ring) {
      // Lane l's first event has sequence l.
      for (uint32_t lane = 0; lane < geometry.lane_count; ++lane) {
        ring->lanes[lane].reader->seek(lane);
      }
    }
    resume_.erase(std::remove_if(resume_.begin(), resume_.end(),
                                 [&](const RingPosition& saved) { return saved.ring == name; }),
                  resume_.end());
  }
  rings_.push_back(std::move(ring));
}

td_status ChannelReader::read(td_event_record* out, size_t capacity, size_t& count,
                              uint64_t& lost) {
  count = 0;
  lost = 0;
  // A pass under way goes on; a new one begins every second, or when a name was added or
  // removed (while the time for passes lasts).
  if (walk_.in_pass() || !unconsidered_.empty()) {
    walk(false, kScanStep);
  } else {
    uint64_t now = platform::monotonic_ns();
    if (now >= next_scan_ns_ || (may_scan_for_change(now) && (scanned_version_ == kUnsettledDirectory ||
                                                               directory_version(rings_dir_) != scanned_version_))) {
      begin_pass();
      walk(false, kScanStep);
    }
  }
  // A lane that fails to read marks its whole ring broken: found again at the next scan.
  auto read_lane = [&](Ring& ring, Lane& lane, td_event_record* into, size_t room, size_t& got) {
    uint64_t lane_lost = 0;
    if (lane.reader->read(into, room, got, lane_lost) != TD_OK) {
      ring.broken = true;
      got = 0;
      next_scan_ns_ = 0;
    }
    lost = saturating_add(lost, lane_lost);
    if (lane_lost > 0) {
      if (user_lost_.size() <= ring.user) user_lost_.resize(ring.user + 1, 0);
      user_lost_[ring.user] = saturating_add(user_lost_[ring.user], lane_lost);
    }
    for (size_t i = 0; i < got; ++i) into[i].user = ring.user;
  };
  // Which lanes have events to read, and whether any has some staged from an earlier read.
  Ring* only_ring = nullptr;
  Lane* only_lane = nullptr;
  size_t unread_lanes = 0;
  bool staged = false;
  for (auto& ring : rings_) {
    for (Lane& lane : ring->lanes) {
      lane.unread = !lane.has_pending() && !ring->broken && lane.reader->has_unread();
      staged = staged || lane.has_pending();
      if (lane.unread) {
        ++unread_lanes;
        only_ring = ring.get();
        only_lane = &lane;
      }
    }
  }
  // One lane with events and nothing staged: read straight into the caller's buffer, with no
  // merge and no second copy of every record (the common case: one busy thread).
  if (!staged && unread_lanes <= 1) {
    if (only_lane != nullptr) read_lane(*only_ring, *only_lane, out, capacity, count);
    return TD_OK;
  }
  for (auto& ring : rings_) {
    for (Lane& lane : ring->lanes) {
      // Only lanes with events to read get a buffer: most lanes of most rings are quiet. A ring
      // that broke at an earlier lane's read is read no further.
      if (ring->broken || !lane.unread) continue;
      lane.pending.resize(kPendingPerLane);
      lane.next = 0;
      size_t got = 0;
      read_lane(*ring, lane, lane.pending.data(), lane.pending.size(), got);
      lane.pending.resize(got);
    }
  }
  // Merge by time: the earliest pending event of all lanes, until the caller's buffer is full.
  // Each lane's events stay in their order.
  while (count < capacity) {
    Lane* earliest = nullptr;
    for (auto& ring : rings_) {
      for (Lane& lane : ring->lanes) {
        if (!lane.has_pending()) continue;
        if (earliest == nullptr ||
            lane.pending[lane.next].time_ns < earliest->pending[earliest->next].time_ns) {
          earliest = &lane;
        }
      }
    }
    if (earliest == nullptr) break;
    out[count++] = earliest->pending[earliest->next++];
  }
  return TD_OK;
}

td_status channel_counters(const std::string& rings_dir, td_counters& out) {
  out = td_counters{};
  // Every name of the directory, however many: the rings are those ChannelReader reads, up to
  // kMaxRingsPerUser of each user.
  DirectoryWalk walk(rings_dir);
  std::vector<DirectoryEntry> found;
  while (!walk.step(kScanStep, ring_name_syntax, found)) {
  }
  std::vector<std::pair<std::string, size_t>> per_user;
  for (const DirectoryEntry& entry : found) {
    MappedFile file;
    RingGeometry geometry;
    if (open_ring_file(rings_dir, entry.name, file, geometry) != RingFile::Sound) continue;
    FileSource source(file);
    td_counters ring;
    if (!read_counters(source, ring)) continue;
    auto user = std::find_if(per_user.begin(), per_user.end(),
                             [&](const auto& counted) { return counted.first == file.owner().key; });
    if (user == per_user.end()) user = per_user.insert(per_user.end(), {file.owner().key, 0});
    if (++user->second > kMaxRingsPerUser) continue;
    out.produced = saturating_add(out.produced, ring.produced);
    out.dropped = saturating_add(out.dropped, ring.dropped);
    for (int kind = 0; kind < TD_KIND_SLOTS; ++kind) {
      out.per_kind[kind] = saturating_add(out.per_kind[kind], ring.per_kind[kind]);
    }
  }
  return TD_OK;
}

}  // namespace teardown
