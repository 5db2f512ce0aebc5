// The configuration: validation naming the offending field, and a seqlock that never tears.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "config_block.h"

namespace teardown {
namespace {

std::string offending(const td_config& config) {
  std::string field;
  return check_config(config, field) ? std::string("(valid)") : field;
}

TEST(ConfigCheck, DefaultIsValidAndRecordsEverything) {
  td_config config = default_config();
  EXPECT_EQ(offending(config), "(valid)");
  EXPECT_EQ(config.enabled, 1u);
  EXPECT_EQ(config.kinds, TD_DEFAULT_KINDS);
  EXPECT_EQ(config.kinds & (1u << TD_KIND_CONNECTED), 0u) << "an event more per connection: asked for";
  EXPECT_EQ(config.capture_bytes, 0u);
}

TEST(ConfigCheck, NamesEachInvalidField) {
  td_config config = default_config();
  config.enabled = 2;
  EXPECT_EQ(offending(config), "enabled");

  config = default_config();
  config.kinds = 1u;  // bit 0 is no kind
  EXPECT_EQ(offending(config), "kinds");

  config = default_config();
  config.capture_bytes = TD_CAPTURE_MAX + 1;
  EXPECT_EQ(offending(config), "capture_bytes");

  config = default_config();
  config.abortive_to_graceful = 7;
  EXPECT_EQ(offending(config), "abortive_to_graceful");

  config = default_config();
  config.process_count = TD_FILTER_MAX + 1;
  EXPECT_EQ(offending(config), "process_count");

  config = default_config();
  config.process_count = 2;
  std::strcpy(config.processes[0], "curl");
  std::strcpy(config.processes[1], "bin/sh");
  EXPECT_EQ(offending(config), "processes[1]");

  config = default_config();
  config.process_count = 1;
  std::memset(config.processes[0], 'a', TD_PROCESS_NAME_MAX);  // no terminator
  EXPECT_EQ(offending(config), "processes[0]");

  config = default_config();
  config.port_count = 1;
  config.ports[0] = {0, 10};
  EXPECT_EQ(offending(config), "ports[0].first");

  config = default_config();
  config.port_count = 2;
  config.ports[0] = {80, 80};
  config.ports[1] = {9000, 8000};
  EXPECT_EQ(offending(config), "ports[1].last");

  config = default_config();
  config.emulation_port_count = 1;
  EXPECT_EQ(offending(config), "emulation_ports[0]");
}

TEST(ConfigCheck, EntriesPastTheCountsAreIgnored) {
  td_config config = default_config();
  config.ports[5] = {0, 0};
  std::strcpy(config.processes[3], "a/b");
  EXPECT_EQ(offending(config), "(valid)");
}

class ConfigBlockTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> memory_ = std::vector<uint8_t>(layout::config_file_bytes());
  ConfigBlock block_;
  void SetUp() override {
    ConfigBlock::initialize(memory_.data(), 5, default_config(), 0);
    block_ = ConfigBlock(memory_.data());
  }
};

TEST_F(ConfigBlockTest, WriteThenReadRoundTripsAndChangesTheVersion) {
  uint32_t before = block_.version();
  td_config config = default_config();
  config.capture_bytes = 64;
  config.port_count = 1;
  config.ports[0] = {443, 443};
  block_.write(config);
  EXPECT_NE(block_.version(), before);
  td_config read{};
  ASSERT_TRUE(block_.read(read, 4));
  EXPECT_EQ(std::memcmp(&read, &config, sizeof(config)), 0);
}

TEST_F(ConfigBlockTest, AWriterThatDiedMidWriteBlocksNoReaderForeverAndIsTakenOver) {
  auto* header = reinterpret_cast<layout::ConfigHeader*>(memory_.data());
  header->sequence.store(header->sequence.load() | 1u);  // odd: a write that never finished
  td_config read{};
  EXPECT_FALSE(block_.read(read, 100)) << "bounded, and no torn value";
  td_config config = default_config();
  config.enabled = 0;
  block_.write(config);
  ASSERT_TRUE(block_.read(read, 4));
  EXPECT_EQ(read.enabled, 0u);
}

TEST_F(ConfigBlockTest, ConcurrentReadersNeverSeeATornConfiguration) {
  // Two configurations whose every field differs; a torn read would mix them.
  td_config a = default_config();
  a.capture_bytes = 10;
  a.port_count = TD_FILTER_MAX;
  for (auto& range : a.ports) range = {1000, 1000};
  td_config b = default_config();
  b.capture_bytes = 200;
  b.port_count = TD_FILTER_MAX;
  for (auto& range : b.ports) range = {2000, 2000};

  block_.write(a);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> torn{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> refused{0};  // single attempts that saw a write in progress
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        td_config read{};
        if (!block_.read(read, 1)) {
          refused.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        reads.fetch_add(1, std::memory_order_relaxed);
        const uint16_t expected = read.capture_bytes == 10 ? 1000 : 2000;
        for (const auto& range : read.ports) {
          if (range.first != expected || range.last != expected) torn.fetch_add(1);
        }
      }
    });
  }
  // A writer that never pauses starves readers on a fast machine, and one that always pauses
  // never overlaps them: gaps of varying length give both. Writing goes on until the readers have
  // both raced a write and completed many reads, or a generous bound passes.
  std::atomic<uint32_t> spin{0};
  const auto bound = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (uint32_t i = 0;; ++i) {
    block_.write(i % 2 ? a : b);
    const uint32_t gap = (i * 2654435761u) % 512;
    for (uint32_t k = 0; k < gap; ++k) spin.fetch_add(1, std::memory_order_relaxed);
    if (i % 1024 == 0 &&
        ((i >= 100000 && reads.load() >= 10000 && refused.load() >= 100) ||
         std::chrono::steady_clock::now() > bound)) {
      break;
    }
  }
  stop.store(true);
  for (auto& reader : readers) reader.join();
  EXPECT_GE(reads.load(), 10000u);
  EXPECT_GE(refused.load(), 100u) << "the readers never overlapped a write; nothing was tested";
  EXPECT_EQ(torn.load(), 0u);
}

TEST_F(ConfigBlockTest, ValidateRejectsDamage) {
  EXPECT_EQ(ConfigBlock::validate(memory_.data(), memory_.size()), TD_OK);
  EXPECT_EQ(ConfigBlock::validate(memory_.data(), memory_.size() - 1), TD_ERR_CORRUPT);
  auto* header = reinterpret_cast<layout::ConfigHeader*>(memory_.data());
  header->layout_version = 9;
  EXPECT_EQ(ConfigBlock::validate(memory_.data(), memory_.size()), TD_ERR_VERSION);
}

}  // namespace
}  // namespace teardown
