// Channel files on disk: creation, permissions, damage, and the producer's view of them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "channel.h"
#include "channel_events.h"
#include "producer.h"
#include "test_support.h"

// Counts every allocation made in this test binary, to show that publishing makes none.
static std::atomic<uint64_t> g_allocations{0};
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
// GCC 12 sees these replacements inlined next to std::free and warns of a mismatch that is none.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace teardown {
namespace {

using teardown::testing::channel_events;
using teardown::testing::make_event;
using teardown::testing::make_sound_ring;
using teardown::testing::TempDir;

mode_t mode_of(const std::string& path) {
  struct stat info {};
  stat(path.c_str(), &info);
  return info.st_mode & 0777;
}

void overwrite(const std::string& path, size_t offset, const void* bytes, size_t length) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(length));
}

std::string own_ring_path(const std::string& dir) {
  return dir + "/rings/ring-" + current_user().key;
}

// Virtual memory of this process, from /proc: what a mapping costs in address space.
uint64_t address_space_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

// A channel made as an administrator makes it, in a fresh directory, rings of 64 slots.
class OpenChannel : public ::testing::Test {
 protected:
  TempDir dir_;
  std::unique_ptr<Channel> admin_;
  void SetUp() override { ASSERT_EQ(Channel::open(dir_.path(), true, 64, admin_), TD_OK); }
};

TEST(Channel, OpeningAMissingChannelWithoutCreateIsNotFound) {
  TempDir dir;
  std::unique_ptr<Channel> channel;
  EXPECT_EQ(Channel::open(dir.file("absent"), false, 0, channel), TD_ERR_NOT_FOUND);
  EXPECT_EQ(Channel::attach(dir.file("absent"), channel), TD_ERR_NOT_FOUND);
}

TEST(Channel, CreateMakesEveryFileWithItsModeWhateverTheUmask) {
  TempDir dir;
  std::string path = dir.file("channel");
  mode_t old_mask = umask(077);  // the creator's umask must not decide who may do what
  std::unique_ptr<Channel> channel;
  td_status status = Channel::open(path, true, 128, channel);
  umask(old_mask);
  ASSERT_EQ(status, TD_OK);
  EXPECT_EQ(mode_of(path), 0755u);
  EXPECT_EQ(mode_of(path + "/config"), 0644u);
  struct stat rings {};
  ASSERT_EQ(stat((path + "/rings").c_str(), &rings), 0);
  // An administrator's channel takes every user's ring, and nobody may remove another's.
  EXPECT_EQ(rings.st_mode & 07777, current_user().admin ? 01777u : 0700u);
  EXPECT_EQ(channel->ring().slot_count(), 128u) << "the rings producers make have its size";
  EXPECT_EQ(mode_of(own_ring_path(path)), 0600u) << "a ring is its user's, and administrators'";
  td_config config{};
  ASSERT_EQ(channel->read_config(config), TD_OK);
  EXPECT_EQ(config.kinds, TD_DEFAULT_KINDS);
  EXPECT_EQ(config.kinds & (1u << TD_KIND_CONNECTED), 0u) << "an event more per connection: asked for";
}

TEST(Channel, AUsersToolsUseAnAdministratorsChannelAsItIsAndNeverItsConfiguration) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to hand the configuration to another user";
  TempDir dir;
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(dir.path(), true, 64, admin), TD_OK);
  // Seen from the other side: a configuration not the caller's, in directories it does not own.
  ASSERT_EQ(chown(dir.file("config").c_str(), 65534, 65534), 0);
  std::unique_ptr<Channel> user;
  ASSERT_EQ(Channel::open(dir.path(), true, 64, user), TD_OK) << "`teardown run` there works";
  std::string field;
  EXPECT_EQ(user->write_config(default_config(), field), TD_ERR_ACCESS_DENIED);
  td_config read{};
  EXPECT_EQ(user->read_config(read), TD_OK);
  struct stat info {};
  ASSERT_EQ(stat(dir.file("config").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 65534u) << "left as it was";
}

TEST(Channel, RejectsASlotCountThatIsNotAPowerOfTwoInRange) {
  TempDir dir;
  std::unique_ptr<Channel> channel;
  EXPECT_EQ(Channel::open(dir.path(), true, 100, channel), TD_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(Channel::open(dir.path(), true, 32, channel), TD_ERR_INVALID_ARGUMENT);
}

TEST(Channel, ReopeningASoundChannelKeepsItsEventsAndConfiguration) {
  TempDir dir;
  std::unique_ptr<Channel> first;
  ASSERT_EQ(Channel::open(dir.path(), true, 64, first), TD_OK);
  first->ring().publish(make_event(TD_KIND_EOF, 1));
  td_config config = default_config();
  config.capture_bytes = 32;
  std::string field;
  ASSERT_EQ(first->write_config(config, field), TD_OK);

  std::unique_ptr<Channel> second;
  ASSERT_EQ(Channel::open(dir.path(), true, 1024, second), TD_OK);
  EXPECT_EQ(second->ring().slot_count(), 64u) << "a live ring is not resized under its users";
  EXPECT_EQ(second->ring().head(), 1u);
  td_config read{};
  ASSERT_EQ(second->read_config(read), TD_OK);
  EXPECT_EQ(read.capture_bytes, 32u);
}

TEST(Channel, WriteConfigRejectsInvalidValuesNamingTheField) {
  TempDir dir;
  std::unique_ptr<Channel> channel;
  ASSERT_EQ(Channel::open(dir.path(), true, 64, channel), TD_OK);
  td_config config = default_config();
  config.capture_bytes = 999;
  std::string field;
  EXPECT_EQ(channel->write_config(config, field), TD_ERR_INVALID_CONFIG);
  EXPECT_EQ(field, "capture_bytes");
  td_config read{};
  ASSERT_EQ(channel->read_config(read), TD_OK);
  EXPECT_EQ(read.capture_bytes, 0u) << "nothing was written";
}

TEST_F(OpenChannel, AProducerAttachmentCannotWriteTheConfiguration) {
  std::unique_ptr<Channel> producer;
  ASSERT_EQ(Channel::attach(dir_.path(), producer), TD_OK);
  std::string field;
  EXPECT_EQ(producer->write_config(default_config(), field), TD_ERR_ACCESS_DENIED);
}

TEST_F(OpenChannel, ALockOnTheConfigurationFileCannotBlockItsWriter) {
  // Anyone can open the configuration to read it, and a read-only descriptor can take a lock.
  int fd = ::open(dir_.file("config").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::string field;
    td_config config = default_config();
    config.capture_bytes = 8;
    written = admin_->write_config(config, field) == TD_OK;
  });
  for (int i = 0; i < 200 && !written; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  bool done = written;
  flock(fd, LOCK_UN);
  writer.join();
  close(fd);
  EXPECT_TRUE(done) << "the writers' lock is a file only the configuration's owner can open";
  EXPECT_EQ(mode_of(dir_.file("config.lock")), 0600u);
}

TEST_F(OpenChannel, AProducerTakesAnotherRingWhenItsNameIsNotItsOwnToTrust) {
  std::string name = own_ring_path(dir_.path());
  // Planted under the name: a ring others may write, a link to a file, a FIFO (whose open must
  // not block). None is mapped; the producer records into a ring of its own.
  for (int plant = 0; plant < 3; ++plant) {
    TempDir other;
    std::remove(name.c_str());
    if (plant == 0) {
      std::unique_ptr<Channel> maker;
      ASSERT_EQ(Channel::open(dir_.path(), false, 0, maker), TD_OK);
      ASSERT_TRUE(maker->ring().bound());
      ASSERT_EQ(chmod(name.c_str(), 0666), 0);
    } else if (plant == 1) {
      std::ofstream(other.file("target")) << "x";
      ASSERT_EQ(symlink(other.file("target").c_str(), name.c_str()), 0);
    } else {
      ASSERT_EQ(mkfifo(name.c_str(), 0600), 0);
    }
    std::unique_ptr<Channel> producer;
    ASSERT_EQ(Channel::attach(dir_.path(), producer), TD_OK) << "plant " << plant;
    ASSERT_TRUE(producer->ring().publish(make_event(TD_KIND_CLOSE, 40 + plant)));
    struct stat planted {};
    ASSERT_EQ(lstat(name.c_str(), &planted), 0);
    EXPECT_TRUE(plant != 1 || S_ISLNK(planted.st_mode)) << "what was planted is left alone";
  }
  std::vector<td_event_record> events = channel_events(*admin_);
  std::vector<uint64_t> sockets;
  for (const td_event_record& event : events) sockets.push_back(event.socket_id);
  EXPECT_NE(std::find(sockets.begin(), sockets.end(), 40u), sockets.end());
  EXPECT_NE(std::find(sockets.begin(), sockets.end(), 41u), sockets.end());
  EXPECT_NE(std::find(sockets.begin(), sockets.end(), 42u), sockets.end());
}

TEST_F(OpenChannel, ARingOfAnotherLayoutIsLeftToItsProgramsAndAProducerTakesAnother) {
  // The user's ring as programs that loaded an older Teardown keep writing it.
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_CLOSE, 1)));
  std::string name = own_ring_path(dir_.path());
  uint32_t older = layout::kEventsLayoutVersion - 1;
  overwrite(name, offsetof(layout::EventsHeader, layout_version), &older, sizeof(older));
  std::unique_ptr<Channel> producer;
  ASSERT_EQ(Channel::attach(dir_.path(), producer), TD_OK);
  ASSERT_TRUE(producer->ring().publish(make_event(TD_KIND_CLOSE, 2)));
  uint32_t version = 0;
  std::ifstream(name, std::ios::binary)
      .seekg(offsetof(layout::EventsHeader, layout_version))
      .read(reinterpret_cast<char*>(&version), sizeof(version));
  EXPECT_EQ(version, older) << "the older ring is left as it is";
  std::vector<td_event_record> events = channel_events(*admin_);
  ASSERT_EQ(events.size(), 1u) << "readers read the ring they know the layout of";
  EXPECT_EQ(events[0].socket_id, 2u);
}

TEST_F(OpenChannel, AHugeSparseRingCostsOnlyWhatItsHeaderSays) {
  ASSERT_TRUE(admin_->ring().bound());
  std::string name = own_ring_path(dir_.path());
  ASSERT_EQ(truncate(name.c_str(), off_t{1} << 40), 0);  // 1 TiB, sparse
  uint64_t before = address_space_bytes();
  std::unique_ptr<Channel> producer;
  ASSERT_EQ(Channel::attach(dir_.path(), producer), TD_OK);
  EXPECT_LT(address_space_bytes() - before, uint64_t{64} << 20);
  EXPECT_EQ(producer->ring().slot_count(), 64u);
}

TEST_F(OpenChannel, HeaderFieldsChangedAfterAttachNeverMoveAWriteOutsideTheMapping) {
  std::unique_ptr<Channel> producer;
  ASSERT_EQ(Channel::attach(dir_.path(), producer), TD_OK);
  std::string name = own_ring_path(dir_.path());
  uint32_t huge = 1u << 31;
  uint64_t far_head = uint64_t{1} << 40;
  overwrite(name, offsetof(layout::EventsHeader, slot_count), &huge, sizeof(huge));
  overwrite(name, offsetof(layout::EventsHeader, heads), &far_head, sizeof(far_head));
  for (int i = 0; i < 1000; ++i) producer->ring().publish(make_event(TD_KIND_EOF, i));
  EXPECT_EQ(producer->ring().slot_count(), 64u) << "the geometry is the one read at attach";
  // A new attachment reads the bad count and refuses: the file is far too small for it.
  std::unique_ptr<Channel> another;
  EXPECT_EQ(Channel::attach(dir_.path(), another), TD_ERR_CORRUPT);
}

// One read of up to 8 events from `reader`: the events it returned; what it lost goes to `lost`.
std::vector<td_event_record> read_once(ChannelReader& reader, uint64_t* lost = nullptr) {
  td_event_record batch[8];
  size_t count = 0;
  uint64_t batch_lost = 0;
  EXPECT_EQ(reader.read(batch, 8, count, batch_lost), TD_OK);
  if (lost != nullptr) *lost = batch_lost;
  return std::vector<td_event_record>(batch, batch + count);
}

// Whether this process maps `path` now.
bool mapped_here(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() >= path.size() &&
        line.compare(line.size() - path.size(), path.size(), path) == 0) {
      return true;
    }
  }
  return false;
}

TEST_F(OpenChannel, AReaderMapsOnlyItsOwnUsersRings) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to give a ring to another user";
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, 1)));
  std::string name = own_ring_path(dir_.path());
  std::string rings = admin_->rings_dir();
  admin_.reset();  // the producer's mapping gone: only a reader's is left to see
  ASSERT_FALSE(mapped_here(name));
  {
    ChannelReader reader(rings, ReaderStart::Oldest, 1'000'000);
    EXPECT_EQ(reader.ring_count(), 1u);
    EXPECT_TRUE(mapped_here(name)) << "the reader's own user's ring is mapped";
  }
  ASSERT_FALSE(mapped_here(name));
  // Another user's ring, under that user's name.
  std::string theirs = rings + "/ring-65534";
  ASSERT_EQ(chown(name.c_str(), 65534, 65534), 0);
  ASSERT_EQ(rename(name.c_str(), theirs.c_str()), 0);
  ChannelReader reader(rings, ReaderStart::Oldest, 1'000'000);
  EXPECT_EQ(reader.ring_count(), 1u);
  EXPECT_FALSE(mapped_here(theirs)) << "another user's ring is copied, never mapped";
  std::vector<td_event_record> events = read_once(reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].socket_id, 1u);
}

TEST_F(OpenChannel, ReadersSurviveARingTruncatedUnderThemAndFindItAgainOnceSound) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to give the ring to another user";
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, 1)));
  std::string name = own_ring_path(dir_.path());
  // Another user's ring: that user could truncate it, so it is copied, never mapped. (A reader
  // maps its own user's rings, which only that user, like the producers, could truncate.)
  std::string theirs = admin_->rings_dir() + "/ring-65534";
  ASSERT_EQ(chown(name.c_str(), 65534, 65534), 0);
  ASSERT_EQ(rename(name.c_str(), theirs.c_str()), 0);
  name = theirs;
  ChannelReader reader(admin_->rings_dir(), ReaderStart::Oldest, 1'000'000);
  ASSERT_EQ(truncate(name.c_str(), 100), 0);  // a mapped reader would die of SIGBUS here
  EXPECT_EQ(read_once(reader).size(), 0u);
  ASSERT_EQ(truncate(name.c_str(), static_cast<off_t>(layout::events_file_bytes(64))), 0);
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, 2)));
  uint64_t total_lost = 0;
  std::vector<td_event_record> events = channel_events(*admin_, &total_lost);
  ASSERT_EQ(events.size(), 1u) << "the header's first 100 bytes survived, the slots did not";
  EXPECT_EQ(events[0].socket_id, 2u);
  EXPECT_EQ(total_lost, 1u);
}

TEST_F(OpenChannel, LossCountsFromAWildHeadNeverOverflow) {
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, 1)));
  ChannelReader reader(admin_->rings_dir(), ReaderStart::Oldest, 1'000'000);
  uint64_t wild = UINT64_MAX - 3;
  overwrite(own_ring_path(dir_.path()), offsetof(layout::EventsHeader, heads), &wild, sizeof(wild));
  uint64_t lost = 0;
  read_once(reader, &lost);
  EXPECT_EQ(lost, wild - 64 - 0) << "exact, in range";
  ASSERT_EQ(reader.user_keys().size(), 1u);
  EXPECT_EQ(reader.lost_by_user(0), lost) << "the ring's owner's loss";
  EXPECT_EQ(reader.lost_by_user(1), 0u);
  td_counters counters{};
  ASSERT_EQ(channel_counters(admin_->rings_dir(), counters), TD_OK);
  EXPECT_EQ(counters.produced, wild);
}

TEST_F(OpenChannel, AReaderKeepsABoundedNumberOfRingsOfOneUser) {
  // Many sound rings of one user, as anyone can make of their own.
  for (size_t i = 0; i < kMaxRingsPerUser * 4; ++i) {
    char suffix[17];
    std::snprintf(suffix, sizeof(suffix), "%016zx", i);
    ASSERT_EQ(make_sound_ring(admin_->rings_dir() + "/ring-" + current_user().key + "-" + suffix), TD_OK);
  }
  ChannelReader reader(admin_->rings_dir(), ReaderStart::Oldest, 1'000'000);
  EXPECT_EQ(reader.ring_count(), kMaxRingsPerUser);
}

TEST(RingNames, ARingsNameIsItsOwnersKeyAndPerhapsARandomSuffix) {
  EXPECT_TRUE(ring_name_syntax("ring-1000"));
  EXPECT_TRUE(ring_name_syntax("ring-S-1-5-21-1-2-3-1001-00000000000000ff"));
  EXPECT_FALSE(ring_name_syntax("ring-"));
  EXPECT_FALSE(ring_name_syntax("ring-10\xff" "00")) << "not text";
  EXPECT_FALSE(ring_name_syntax("ring-10 00"));
  EXPECT_FALSE(ring_name_syntax("ring-1\n2"));
  EXPECT_FALSE(ring_name_syntax(".new-0123456789abcdef"));
  EXPECT_FALSE(ring_name_syntax(("ring-" + std::string(123, '1')).c_str())) << "longer than 127 bytes";
  EXPECT_TRUE(ring_name_syntax(("ring-" + std::string(122, '1')).c_str()));
  EXPECT_TRUE(ring_name_of("ring-1000", "1000"));
  EXPECT_TRUE(ring_name_of("ring-1000-0123456789abcdef", "1000"));
  EXPECT_FALSE(ring_name_of("ring-1000", "100"));
  EXPECT_FALSE(ring_name_of("ring-10000", "1000"));
  EXPECT_FALSE(ring_name_of("ring-1000-0123456789abcdeg", "1000"));
  EXPECT_FALSE(ring_name_of("ring-1000-0123456789abcde", "1000"));
  EXPECT_FALSE(ring_name_of("ring-0-0123456789abcdef", "1002")) << "root's name, another's file";
  EXPECT_FALSE(ring_belongs_to("ring-0-0123456789abcdef", "1002"));
  EXPECT_TRUE(ring_belongs_to("ring-1002-0123456789abcdef", "1002"));
  EXPECT_TRUE(ring_belongs_to("ring-S-1-5-21-7-1001", "0")) << "made under Wine: the Linux user's file";
  EXPECT_TRUE(ring_belongs_to("ring-1000", "S-1-5-18")) << "the other way round";
  EXPECT_FALSE(ring_belongs_to("ring-S-1-5-18", "S-1-5-21-7-1001"));
}

TEST_F(OpenChannel, NoNumberOfOtherNamesHidesARingFromReadersOrCounters) {
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, 1)));
  std::string rings = admin_->rings_dir();
  // More names than a reader looks at in a step, made after the ring (tmpfs lists the newest
  // first), and names that are not text at all.
  for (int i = 0; i < 5000; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "/ring-%s-%016x", current_user().key.c_str(), i);
    int fd = ::open((rings + name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  for (const char* odd : {"/ring-\xff\xfe", "/\x80\x81", "/ring-0\n1", "/ring-9-x"}) {
    int fd = ::open((rings + odd).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  ChannelReader reader(rings, ReaderStart::Oldest, 1'000'000);
  EXPECT_EQ(reader.ring_count(), 1u);
  std::vector<td_event_record> events = read_once(reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].socket_id, 1u);
  td_counters counters{};
  ASSERT_EQ(channel_counters(rings, counters), TD_OK);
  EXPECT_EQ(counters.produced, 1u);
  // The empty files under the user's own names are looked at once, then every 10 s at most:
  // passes over the directory made now open none of them again.
  uint64_t opened = reader.files_opened();
  EXPECT_GE(opened, 5000u);
  EXPECT_LE(opened, 5002u) << "the names that are not rings' are never opened";
  // A second later a new pass begins whatever happened; it takes two steps (two reads).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, 2)));
  for (int step = 0; step < 4; ++step) read_once(reader);
  EXPECT_EQ(reader.files_opened(), opened);
  // Renamed, a name names a file of another name: looked at again.
  ASSERT_EQ(rename((rings + "/ring-" + current_user().key + "-0000000000000000").c_str(),
                   (rings + "/ring-" + current_user().key + "-00000000000fffff").c_str()),
            0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  for (int step = 0; step < 4; ++step) read_once(reader);
  EXPECT_EQ(reader.files_opened(), opened + 1);
}

TEST_F(OpenChannel, AFileUnderAnotherUsersRingNameIsNobodysRing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to give a file to another user";
  ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, 1)));
  std::string name = own_ring_path(dir_.path());
  // A sound ring with root's name, as another user would plant it: never read as root's, and
  // never counted against root's rings.
  std::string planted = admin_->rings_dir() + "/ring-" + current_user().key + "-00000000000000aa";
  ASSERT_EQ(make_sound_ring(planted), TD_OK);
  ASSERT_EQ(chown(planted.c_str(), 65534, 65534), 0);
  ChannelReader reader(admin_->rings_dir(), ReaderStart::Oldest, 1'000'000);
  EXPECT_EQ(reader.ring_count(), 1u);
  ASSERT_EQ(reader.user_keys().size(), 1u);
  EXPECT_EQ(reader.user_keys()[0], current_user().key);
}

TEST_F(OpenChannel, ReadersMergeRingsByTimeAndNameEachEventsUser) {
  // A second ring of the same user, as a squatted name would make.
  std::unique_ptr<Channel> planter;
  ASSERT_EQ(Channel::open(dir_.path(), false, 0, planter), TD_OK);
  ASSERT_EQ(chmod(admin_->rings_dir().c_str(), 0700), 0);
  std::string first = own_ring_path(dir_.path());
  ASSERT_TRUE(admin_->ring().bound());
  ASSERT_EQ(rename(first.c_str(), (first + "-00000000000000a2").c_str()), 0);
  std::unique_ptr<Channel> fresh;
  ASSERT_EQ(Channel::attach(dir_.path(), fresh), TD_OK);
  ASSERT_NE(fresh->ring().generation(), admin_->ring().generation());
  for (uint64_t i = 0; i < 6; ++i) {
    td_event_record event = make_event(TD_KIND_CLOSE, i);
    event.time_ns = 1000 + i;
    EventRing& ring = i % 2 == 0 ? admin_->ring() : fresh->ring();
    ASSERT_TRUE(ring.publish(event));
  }
  ChannelReader reader(admin_->rings_dir(), ReaderStart::Oldest, 1'000'000);
  std::vector<td_event_record> events = read_once(reader);
  ASSERT_EQ(events.size(), 6u);
  for (uint64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(events[i].socket_id, i) << "merged by time across the two rings";
    ASSERT_LT(events[i].user, reader.user_keys().size());
    EXPECT_EQ(reader.user_keys()[events[i].user], current_user().key);
  }
}

class ProducerTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::unique_ptr<Channel> admin_;
  void SetUp() override { ASSERT_EQ(Channel::open(dir_.path(), true, 256, admin_), TD_OK); }

  void configure(const td_config& config) {
    std::string field;
    ASSERT_EQ(admin_->write_config(config, field), TD_OK) << field;
  }
  std::vector<td_event_record> read_all() { return channel_events(*admin_); }
  bool emit(Producer& producer, td_event_record event, const void* data = nullptr,
            size_t length = 0) {
    return producer.publish(event, producer.policy(), data, length);
  }
};

TEST_F(ProducerTest, PublishesWithIdentityAndTime) {
  Producer producer(dir_.path());
  uint64_t before = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  ASSERT_TRUE(emit(producer, make_event(TD_KIND_SHUTDOWN, 4)));
  std::vector<td_event_record> events = read_all();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].pid, static_cast<uint32_t>(getpid()));
  EXPECT_STREQ(events[0].process_name, "teardown_core_tests");
  EXPECT_GE(events[0].time_ns, before);
}

TEST_F(ProducerTest, WithoutAChannelItPassesThroughAndAttachesOnceOneAppears) {
  std::string later = dir_.file("later");
  Producer producer(later);
  EXPECT_FALSE(producer.policy().active);
  EXPECT_FALSE(emit(producer, make_event(TD_KIND_EOF, 1)));

  std::unique_ptr<Channel> channel;
  ASSERT_EQ(Channel::open(later, true, 64, channel), TD_OK);
  EXPECT_FALSE(producer.policy().active) << "retries are spaced, not made on every call";
  std::this_thread::sleep_for(std::chrono::nanoseconds(Producer::kAttachRetryNs + 50'000'000));
  EXPECT_TRUE(producer.policy().active);
  EXPECT_TRUE(emit(producer, make_event(TD_KIND_EOF, 1)));
  EXPECT_EQ(channel->ring().head(), 1u);
}

TEST_F(ProducerTest, AnUnattachedProducerNeverAttachesWhateverChannelThereIs) {
  // What a layer falls back on when it cannot make its producer: even with a channel at the
  // default location (TEARDOWN_CHANNEL here), it records nothing and never tries to attach.
  const char* before = std::getenv("TEARDOWN_CHANNEL");
  std::string saved = before != nullptr ? before : "";
  setenv("TEARDOWN_CHANNEL", dir_.path().c_str(), 1);
  Producer unattached{Producer::Unattached{}};
  Producer attaching;  // the same default location: it does attach
  for (int call = 0; call < 3; ++call) {
    EXPECT_FALSE(unattached.policy().active);
    EXPECT_FALSE(emit(unattached, make_event(TD_KIND_EOF, 1)));
  }
  EXPECT_TRUE(attaching.policy().active);
  if (before != nullptr) {
    setenv("TEARDOWN_CHANNEL", saved.c_str(), 1);
  } else {
    unsetenv("TEARDOWN_CHANNEL");
  }
  EXPECT_EQ(unattached.attachments(), 0u);
  EXPECT_EQ(admin_->ring().head(), 0u);
}

TEST_F(ProducerTest, HonoursEnabledKindsAndPortsLive) {
  Producer producer(dir_.path());
  td_config config = default_config();
  config.enabled = 0;
  configure(config);
  EXPECT_FALSE(emit(producer, make_event(TD_KIND_CLOSE, 1)));

  config = default_config();
  config.kinds = 1u << TD_KIND_RESET;
  configure(config);
  EXPECT_FALSE(emit(producer, make_event(TD_KIND_CLOSE, 2)));
  EXPECT_TRUE(emit(producer, make_event(TD_KIND_RESET, 3)));

  config = default_config();
  config.port_count = 1;
  config.ports[0] = {8000, 8099};
  configure(config);
  EXPECT_FALSE(emit(producer, make_event(TD_KIND_CLOSE, 4, 50000, 443)));
  EXPECT_TRUE(emit(producer, make_event(TD_KIND_CLOSE, 5, 50000, 8080)));
  EXPECT_TRUE(emit(producer, make_event(TD_KIND_CLOSE, 6, 8099, 50000)));

  std::vector<td_event_record> events = read_all();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].socket_id, 3u);
  EXPECT_EQ(events[2].socket_id, 6u);
}

TEST_F(ProducerTest, ProcessFilterMatchesTheStartOfTheExecutableNameIgnoringCase) {
  Producer producer(dir_.path());
  td_config config = default_config();
  config.process_count = 1;
  std::strcpy(config.processes[0], "other.exe");
  configure(config);
  EXPECT_FALSE(producer.policy().active);
  std::strcpy(config.processes[0], "TEARDOWN_CORE_TESTS");
  configure(config);
  EXPECT_TRUE(producer.policy().active);
  std::strcpy(config.processes[0], "Teardown_core");  // as "python3" names python3.11
  configure(config);
  EXPECT_TRUE(producer.policy().active);
  std::strcpy(config.processes[0], "teardown_core_tests_and_more");  // longer than the name
  configure(config);
  EXPECT_FALSE(producer.policy().active);
  std::strcpy(config.processes[0], "core");  // inside the name, not at its start
  configure(config);
  EXPECT_FALSE(producer.policy().active);
}

TEST_F(ProducerTest, CapturesAtMostTheConfiguredBytesAndKeepsTheFullLength) {
  Producer producer(dir_.path());
  td_config config = default_config();
  config.capture_bytes = 4;
  configure(config);
  td_event_record event = make_event(TD_KIND_SEND_DISCONNECT, 1);
  event.data_length = 10;
  ASSERT_TRUE(emit(producer, event, "0123456789", 10));
  config.capture_bytes = 0;
  configure(config);
  ASSERT_TRUE(emit(producer, event, "0123456789", 10));

  std::vector<td_event_record> events = read_all();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].captured_length, 4);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(events[0].captured), 4), "0123");
  EXPECT_EQ(events[0].data_length, 10u);
  EXPECT_EQ(events[1].captured_length, 0) << "capture is off by default";
}

TEST_F(ProducerTest, PublishingAllocatesNothing) {
  Producer producer(dir_.path());
  Policy policy = producer.policy();
  td_event_record event = make_event(TD_KIND_CLOSE, 1);
  uint64_t before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    Policy current = producer.policy();
    ASSERT_TRUE(producer.publish(event, current));
  }
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_TRUE(policy.active);
}

TEST_F(ProducerTest, ADamagedConfigurationMeansPassThrough) {
  Producer producer(dir_.path());
  ASSERT_TRUE(producer.policy().active);
  uint32_t bad_kinds = 0xFFFFFFFF;
  // Written behind the seqlock's back, as random damage would be; the version is bumped so the
  // producer rereads.
  overwrite(dir_.file("config"), offsetof(layout::ConfigHeader, config) + offsetof(td_config, kinds),
            &bad_kinds, sizeof(bad_kinds));
  uint32_t version = admin_->config().version() + 2;
  overwrite(dir_.file("config"), offsetof(layout::ConfigHeader, sequence), &version,
            sizeof(version));
  EXPECT_FALSE(producer.policy().active);
  EXPECT_FALSE(emit(producer, make_event(TD_KIND_CLOSE, 1)));
}

TEST_F(ProducerTest, RevivesInPlaceWhenItsRingIsReinitialisedWithoutAttachingAgain) {
  Producer producer(dir_.path(), 1'000'000);
  ASSERT_TRUE(emit(producer, make_event(TD_KIND_CLOSE, 1)));
  std::string name = own_ring_path(dir_.path());
  // Damaged and repaired, again and again: before, each repair cost an attachment until
  // recording stopped for good.
  for (uint32_t round = 0; round < Producer::kMaxAttachments + 4; ++round) {
    uint64_t junk = 0;
    overwrite(name, 0, &junk, sizeof(junk));
    EXPECT_FALSE(emit(producer, make_event(TD_KIND_CLOSE, 2))) << "damaged: producers stop at once";
    uint64_t magic = layout::kEventsMagic;
    uint64_t generation = 1000 + round;
    overwrite(name, offsetof(layout::EventsHeader, generation), &generation, sizeof(generation));
    overwrite(name, 0, &magic, sizeof(magic));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(emit(producer, make_event(TD_KIND_CLOSE, 3))) << "round " << round;
  }
  EXPECT_EQ(producer.attachments(), 1u);
}

TEST_F(ProducerTest, AConfigurationOthersMayWriteIsIgnoredForTheDefaults) {
  td_config config = default_config();
  config.enabled = 0;
  config.abortive_to_graceful = 1;
  config.capture_bytes = 64;
  config.emulation_port_count = 1;
  config.emulation_ports[0] = 22;
  configure(config);
  {
    Producer producer(dir_.path());
    EXPECT_FALSE(producer.policy().active) << "its owner's configuration applies";
  }
  ASSERT_EQ(chmod(dir_.file("config").c_str(), 0666), 0);
  Producer producer(dir_.path());
  Policy policy = producer.policy();
  EXPECT_TRUE(policy.active) << "the defaults: record everything";
  EXPECT_FALSE(policy.abortive_to_graceful);
  EXPECT_EQ(policy.capture_bytes, 0u);
  EXPECT_FALSE(policy.emulates(22, 50000));
  ConfigStatus status = admin_->config_status();
  EXPECT_TRUE(status.others_can_write);
}

TEST_F(ProducerTest, AConfigurationAnotherUserOwnsIsIgnoredForTheDefaults) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to give the configuration to another user";
  td_config config = default_config();
  config.enabled = 0;
  configure(config);
  ASSERT_EQ(chown(dir_.file("config").c_str(), 65534, 65534), 0);  // nobody's, mode still 0644
  Producer producer(dir_.path());
  EXPECT_TRUE(producer.policy().active) << "root's programs do not honour nobody's configuration";
  ConfigStatus status = admin_->config_status();
  EXPECT_EQ(status.owner, "65534");
  EXPECT_FALSE(status.owner_is_admin);
}

TEST_F(ProducerTest, WithoutAConfigurationTheDefaultsApply) {
  ASSERT_EQ(std::remove(dir_.file("config").c_str()), 0);
  Producer producer(dir_.path());
  EXPECT_TRUE(producer.policy().active);
  EXPECT_TRUE(emit(producer, make_event(TD_KIND_EOF, 1)));
}

// Reads `reader` until it has nothing more; returns the socket ids delivered.
std::vector<uint64_t> read_all(ChannelReader& reader, size_t batch_size, uint64_t& lost) {
  std::vector<uint64_t> ids;
  std::vector<td_event_record> batch(batch_size);
  lost = 0;
  for (int round = 0; round < 10000; ++round) {
    size_t count = 0;
    uint64_t batch_lost = 0;
    EXPECT_EQ(reader.read(batch.data(), batch.size(), count, batch_lost), TD_OK);
    lost += batch_lost;
    for (size_t i = 0; i < count; ++i) ids.push_back(batch[i].socket_id);
    if (count == 0 && batch_lost == 0) break;
  }
  return ids;
}

std::vector<uint64_t> ids_from(uint64_t first, uint64_t last) {
  std::vector<uint64_t> ids;
  for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

// A consumer that reads once and is stopped: a reader that goes on from `saved` (from the oldest
// event when it is empty), reads at most `size` events, and leaves its positions in `saved`.
// Returns the ids delivered; `lost` what that read counted lost.
std::vector<uint64_t> read_once(const std::string& rings, size_t size,
                                std::vector<RingPosition>& saved, uint64_t& lost) {
  ChannelReader reader(rings, ReaderStart::Oldest, 1'000'000, saved);
  std::vector<td_event_record> batch(size);
  size_t count = 0;
  lost = 0;
  EXPECT_EQ(reader.read(batch.data(), size, count, lost), TD_OK);
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < count; ++i) ids.push_back(batch[i].socket_id);
  saved = reader.positions();
  return ids;
}

TEST_F(OpenChannel, AResumedReaderGoesOnExactlyWhereItsPredecessorStopped) {
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, i)));
  std::vector<RingPosition> saved;
  uint64_t lost = 0;
  ASSERT_EQ(read_once(admin_->rings_dir(), 4, saved, lost), ids_from(0, 3));
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].ring, "ring-" + current_user().key);
  EXPECT_EQ(saved[0].generation, admin_->ring().generation());
  EXPECT_EQ(saved[0].next_sequence, 4u);
  for (uint64_t i = 10; i < 12; ++i)
    ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, i)));
  ChannelReader resumed(admin_->rings_dir(), ReaderStart::First, 1'000'000, saved);
  EXPECT_EQ(read_all(resumed, 3, lost), ids_from(4, 11)) << "nothing repeated, nothing skipped";
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(resumed.positions()[0].next_sequence, 12u);
}

TEST_F(OpenChannel, AResumedReaderCountsWhatWasOverwrittenMeanwhileAsLost) {
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, i)));
  std::vector<RingPosition> saved{{"ring-" + current_user().key, admin_->ring().generation(), 4}};
  for (uint64_t i = 10; i < 110; ++i)
    ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, i)));
  ChannelReader resumed(admin_->rings_dir(), ReaderStart::First, 1'000'000, saved);
  uint64_t lost = 0;
  std::vector<uint64_t> ids = read_all(resumed, 16, lost);
  EXPECT_EQ(ids, ids_from(46, 109)) << "the 64 the ring still holds";
  EXPECT_EQ(lost, 42u) << "4..45 went by while no reader was there";
}

TEST_F(OpenChannel, AResumedReaderReadsARingMadeAgainInPlaceFromItsFirstEvent) {
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(admin_->ring().publish(make_event(TD_KIND_EOF, i)));
  std::vector<RingPosition> saved{
      {"ring-" + current_user().key, admin_->ring().generation() + 1000, 3}};
  ChannelReader resumed(admin_->rings_dir(), ReaderStart::Newest, 1'000'000, saved);
  uint64_t lost = 0;
  EXPECT_EQ(read_all(resumed, 16, lost), ids_from(0, 4)) << "another generation: all of it is new";
  EXPECT_EQ(lost, 0u);
}

TEST_F(OpenChannel, PositionsLeaveOutWhatTheMergeHeldBackAndAResumeDeliversIt) {
  // Two rings of one user, read in batches smaller than what each ring holds: the merge stages
  // events of both and delivers only some.
  std::string first = own_ring_path(dir_.path());
  ASSERT_TRUE(admin_->ring().bound());
  ASSERT_EQ(rename(first.c_str(), (first + "-00000000000000a2").c_str()), 0);
  std::unique_ptr<Channel> fresh;
  ASSERT_EQ(Channel::attach(dir_.path(), fresh), TD_OK);
  for (uint64_t i = 0; i < 40; ++i) {
    td_event_record event = make_event(TD_KIND_CLOSE, i);
    event.time_ns = 1000 + i;
    ASSERT_TRUE((i % 2 == 0 ? admin_->ring() : fresh->ring()).publish(event));
  }
  std::vector<uint64_t> delivered;
  std::vector<RingPosition> saved;
  for (int run = 0; run < 8; ++run) {
    // Each run reads one batch of 5 and stops, as a consumer killed after each commit would.
    uint64_t lost = 0;
    for (uint64_t id : read_once(admin_->rings_dir(), 5, saved, lost)) delivered.push_back(id);
    EXPECT_EQ(lost, 0u);
    ASSERT_EQ(saved.size(), 2u);
  }
  EXPECT_EQ(delivered, ids_from(0, 39)) << "in time order, each exactly once";
}


// A channel whose rings have several lanes: rings of 8192 slots have two on two CPUs or more.
class LanedChannel : public ::testing::Test {
 protected:
  TempDir dir_;
  std::unique_ptr<Channel> admin_;
  void SetUp() override {
    ASSERT_EQ(Channel::open(dir_.path(), true, 8192, admin_), TD_OK);
    if (admin_->ring().lane_count() < 2) GTEST_SKIP() << "one CPU: rings have a single lane";
  }

  void publish_in(uint32_t lane, uint64_t socket, uint64_t time_ns) {
    td_event_record event = make_event(TD_KIND_CLOSE, socket);
    event.time_ns = time_ns;
    EventRing::Claim claim;
    ASSERT_TRUE(admin_->ring().claim_in(lane, claim));
    ASSERT_TRUE(admin_->ring().complete(claim, event));
  }
};

TEST_F(LanedChannel, LanesAreMergedByTimeAndEachLaneKeepsItsOrder) {
  // Lane 0: ids 0..9 at even times; lane 1: ids 100..109 at odd times, except that its last
  // event carries an earlier time than the one before (a thread's events are published in the
  // order its calls returned, not the order they began).
  for (uint64_t i = 0; i < 10; ++i) publish_in(0, i, 10 * (2 * i));
  for (uint64_t i = 0; i < 9; ++i) publish_in(1, 100 + i, 10 * (2 * i + 1));
  publish_in(1, 109, 5);
  ChannelReader reader(admin_->rings_dir(), ReaderStart::Oldest, 1'000'000);
  uint64_t lost = 0;
  std::vector<uint64_t> ids = read_all(reader, 3, lost);
  std::vector<uint64_t> expected;
  for (uint64_t i = 0; i < 9; ++i) {
    expected.push_back(i);
    expected.push_back(100 + i);
  }
  // Lane 1's last (time 5) waited behind its lane's earlier events, then is the earliest there.
  expected.push_back(109);
  expected.push_back(9);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(lost, 0u);
}

TEST_F(LanedChannel, PositionsAreOnePerLaneAndAResumeGoesOnInEveryLane) {
  const uint32_t lanes = admin_->ring().lane_count();
  for (uint64_t i = 0; i < 6; ++i) {
    publish_in(0, i, 100 + 2 * i);
    publish_in(1, 100 + i, 101 + 2 * i);
  }
  std::vector<RingPosition> saved;
  uint64_t lost = 0;
  std::vector<uint64_t> delivered = read_once(admin_->rings_dir(), 5, saved, lost);
  ASSERT_EQ(delivered.size(), 5u);
  ASSERT_EQ(saved.size(), lanes);
  for (uint32_t lane = 0; lane < lanes; ++lane) {
    EXPECT_EQ(saved[lane].ring, "ring-" + current_user().key);
    EXPECT_EQ(saved[lane].next_sequence % lanes, lane) << "a position names its lane";
  }
  EXPECT_EQ(saved[0].next_sequence, 3u * lanes) << "ids 0, 1, 2 of lane 0 delivered";
  EXPECT_EQ(saved[1].next_sequence, 2u * lanes + 1) << "ids 100, 101 of lane 1 delivered";
  publish_in(1, 106, 200);
  ChannelReader resumed(admin_->rings_dir(), ReaderStart::First, 1'000'000, saved);
  for (uint64_t id : read_all(resumed, 4, lost)) delivered.push_back(id);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(delivered, (std::vector<uint64_t>{0, 100, 1, 101, 2, 102, 3, 103, 4, 104, 5, 105, 106}))
      << "nothing repeated, nothing skipped, in time order";
}

TEST_F(LanedChannel, ThreadsPublishingAtOnceAreReadWholeAndEachInItsOwnOrder) {
  constexpr uint64_t kPerThread = 2000;  // well within a lane
  auto run = [&](uint64_t thread) {
    Producer producer(dir_.path());
    Policy policy = producer.policy();
    for (uint64_t i = 0; i < kPerThread; ++i) {
      td_event_record event = make_event(TD_KIND_RESET, (thread << 32) | i);
      producer.publish(event, policy);
    }
  };
  std::thread first(run, 1);
  std::thread second(run, 2);
  first.join();
  second.join();
  ChannelReader reader(admin_->rings_dir(), ReaderStart::Oldest, 1'000'000);
  uint64_t lost = 0;
  std::vector<uint64_t> ids = read_all(reader, 100, lost);
  EXPECT_EQ(lost, 0u);
  ASSERT_EQ(ids.size(), 2 * kPerThread);
  uint64_t next[3] = {0, 0, 0};
  for (uint64_t id : ids) {
    uint64_t thread = id >> 32;
    ASSERT_TRUE(thread == 1 || thread == 2);
    ASSERT_EQ(id & 0xFFFFFFFFu, next[thread]++) << "thread " << thread;
  }
}

}  // namespace
}  // namespace teardown
