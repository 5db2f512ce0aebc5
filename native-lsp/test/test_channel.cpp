// Channel files on disk: creation, permissions, damage, and the producer's view of them.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "channel.h"
#include "producer.h"
#include "test_support.h"

// Counts every allocation made in this test binary, to show that publishing makes none.
static std::atomic<uint64_t> g_allocations{0};
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace teardown {
namespace {

using teardown::testing::make_event;
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

TEST(Channel, OpeningAMissingChannelWithoutCreateIsNotFound) {
  TempDir dir;
  std::unique_ptr<Channel> channel;
  EXPECT_EQ(Channel::open(dir.file("absent"), false, 0, channel), TD_ERR_NOT_FOUND);
  EXPECT_EQ(Channel::attach(dir.file("absent"), channel), TD_ERR_NOT_FOUND);
}

TEST(Channel, CreateMakesEventsWritableByEveryoneAndConfigByItsOwner) {
  TempDir dir;
  std::string path = dir.file("channel");
  mode_t old_mask = umask(077);  // the creator's umask must not lock producers out
  std::unique_ptr<Channel> channel;
  td_status status = Channel::open(path, true, 128, channel);
  umask(old_mask);
  ASSERT_EQ(status, TD_OK);
  EXPECT_EQ(mode_of(path + "/events"), 0666u);
  EXPECT_EQ(mode_of(path + "/config"), 0644u);
  EXPECT_EQ(channel->ring().slot_count(), 128u);
  td_config config{};
  ASSERT_EQ(channel->read_config(config), TD_OK);
  EXPECT_EQ(config.kinds, TD_ALL_KINDS);
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
  EXPECT_EQ(second->ring().slot_count(), 64u) << "a live channel is not resized under its users";
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

TEST(Channel, AProducerAttachmentCannotWriteTheConfiguration) {
  TempDir dir;
  std::unique_ptr<Channel> admin;
  ASSERT_EQ(Channel::open(dir.path(), true, 64, admin), TD_OK);
  std::unique_ptr<Channel> producer;
  ASSERT_EQ(Channel::attach(dir.path(), producer), TD_OK);
  std::string field;
  EXPECT_EQ(producer->write_config(default_config(), field), TD_ERR_ACCESS_DENIED);
}

TEST(Channel, TruncatedWrongVersionAndForeignFilesAreRefusedThenRepairedByCreate) {
  TempDir dir;
  {
    std::unique_ptr<Channel> channel;
    ASSERT_EQ(Channel::open(dir.path(), true, 64, channel), TD_OK);
  }
  std::unique_ptr<Channel> channel;
  ASSERT_EQ(truncate(dir.file("events").c_str(), 4096), 0);
  EXPECT_EQ(Channel::attach(dir.path(), channel), TD_ERR_CORRUPT);
  EXPECT_EQ(Channel::open(dir.path(), false, 0, channel), TD_ERR_CORRUPT);

  ASSERT_EQ(Channel::open(dir.path(), true, 64, channel), TD_OK);
  channel.reset();
  EXPECT_EQ(Channel::attach(dir.path(), channel), TD_OK);
  channel.reset();

  uint32_t version = 99;
  overwrite(dir.file("config"), offsetof(layout::ConfigHeader, layout_version), &version,
            sizeof(version));
  EXPECT_EQ(Channel::attach(dir.path(), channel), TD_ERR_VERSION);
  std::ofstream(dir.file("events"), std::ios::trunc) << "not a channel";
  EXPECT_EQ(Channel::attach(dir.path(), channel), TD_ERR_CORRUPT);
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
  std::vector<td_event_record> read_all() {
    RingReader reader(admin_->ring(), ReaderStart::Oldest, 1'000'000);
    std::vector<td_event_record> events(256);
    size_t count = 0;
    uint64_t lost = 0;
    EXPECT_EQ(reader.read(events.data(), events.size(), count, lost), TD_OK);
    events.resize(count);
    return events;
  }
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

TEST_F(ProducerTest, ProcessFilterMatchesTheExecutableNameIgnoringCase) {
  Producer producer(dir_.path());
  td_config config = default_config();
  config.process_count = 1;
  std::strcpy(config.processes[0], "other.exe");
  configure(config);
  EXPECT_FALSE(producer.policy().active);
  std::strcpy(config.processes[0], "TEARDOWN_CORE_TESTS");
  configure(config);
  EXPECT_TRUE(producer.policy().active);
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

TEST_F(ProducerTest, ReattachesWhenTheChannelIsReinitialised) {
  Producer producer(dir_.path());
  ASSERT_TRUE(emit(producer, make_event(TD_KIND_CLOSE, 1)));
  uint64_t junk = 0;
  overwrite(dir_.file("events"), 0, &junk, sizeof(junk));  // damaged: producers stop at once
  EXPECT_FALSE(emit(producer, make_event(TD_KIND_CLOSE, 2)));

  admin_.reset();
  ASSERT_EQ(Channel::open(dir_.path(), true, 256, admin_), TD_OK);  // repaired: new generation
  std::this_thread::sleep_for(std::chrono::nanoseconds(Producer::kAttachRetryNs + 50'000'000));
  ASSERT_TRUE(emit(producer, make_event(TD_KIND_CLOSE, 3)));
  EXPECT_EQ(producer.attachments(), 2u);
  std::vector<td_event_record> events = read_all();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].socket_id, 3u);
}

}  // namespace
}  // namespace teardown
