#include "config_block.h"

#include <atomic>
#include <cstring>

namespace teardown {

using layout::ConfigHeader;

namespace {

bool bounded_string(const char* text, size_t capacity, size_t& length) {
  const void* end = std::memchr(text, '\0', capacity);
  if (end == nullptr) return false;
  length = static_cast<size_t>(static_cast<const char*>(end) - text);
  return true;
}

bool valid_process_name(const char* name) {
  size_t length = 0;
  if (!bounded_string(name, TD_PROCESS_NAME_MAX, length) || length == 0) return false;
  for (size_t i = 0; i < length; ++i) {
    char c = name[i];
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

std::string indexed(const char* name, uint32_t index, const char* member = nullptr) {
  std::string field = std::string(name) + "[" + std::to_string(index) + "]";
  if (member != nullptr) field += std::string(".") + member;
  return field;
}

}  // namespace

td_config default_config() {
  td_config config;
  std::memset(&config, 0, sizeof(config));
  config.enabled = 1;
  config.kinds = TD_DEFAULT_KINDS;
  return config;
}

bool check_config(const td_config& config, std::string& field) {
  if (config.enabled > 1) return field = "enabled", false;
  if ((config.kinds & ~TD_ALL_KINDS) != 0) return field = "kinds", false;
  if (config.capture_bytes > TD_CAPTURE_MAX) return field = "capture_bytes", false;
  if (config.abortive_to_graceful > 1) return field = "abortive_to_graceful", false;
  if (config.reserved != 0) return field = "reserved", false;
  if (config.process_count > TD_FILTER_MAX) return field = "process_count", false;
  for (uint32_t i = 0; i < config.process_count; ++i) {
    if (!valid_process_name(config.processes[i])) return field = indexed("processes", i), false;
  }
  if (config.port_count > TD_FILTER_MAX) return field = "port_count", false;
  for (uint32_t i = 0; i < config.port_count; ++i) {
    const td_port_range& range = config.ports[i];
    if (range.first == 0) return field = indexed("ports", i, "first"), false;
    if (range.last < range.first) return field = indexed("ports", i, "last"), false;
  }
  if (config.emulation_port_count > TD_FILTER_MAX) return field = "emulation_port_count", false;
  for (uint32_t i = 0; i < config.emulation_port_count; ++i) {
    if (config.emulation_ports[i] == 0) return field = indexed("emulation_ports", i), false;
  }
  return true;
}

td_status ConfigBlock::validate(const uint8_t* base, size_t size) {
  if (base == nullptr || size < sizeof(ConfigHeader)) return TD_ERR_CORRUPT;
  const auto* header = reinterpret_cast<const ConfigHeader*>(base);
  if (header->magic.load(std::memory_order_acquire) != layout::kConfigMagic) return TD_ERR_CORRUPT;
  if (header->layout_version != layout::kConfigLayoutVersion) return TD_ERR_VERSION;
  if (header->header_size != offsetof(ConfigHeader, config) ||
      header->config_size != sizeof(td_config)) {
    return TD_ERR_CORRUPT;
  }
  return TD_OK;
}

void ConfigBlock::initialize(uint8_t* base, uint64_t generation, const td_config& config,
                             uint32_t ring_slot_count) {
  auto* header = reinterpret_cast<ConfigHeader*>(base);
  header->magic.store(0, std::memory_order_release);
  std::memset(base + sizeof(header->magic), 0, sizeof(ConfigHeader) - sizeof(header->magic));
  header->layout_version = layout::kConfigLayoutVersion;
  header->header_size = offsetof(ConfigHeader, config);
  header->config_size = sizeof(td_config);
  header->generation = generation;
  header->ring_slot_count = ring_slot_count;
  header->config = config;
  header->magic.store(layout::kConfigMagic, std::memory_order_release);
}

ConfigBlock::ConfigBlock(uint8_t* base)
    : header_(reinterpret_cast<ConfigHeader*>(base)), generation_(header_->generation) {}

ConfigBlock::ConfigBlock(const ConfigBlock& other)
    : header_(other.header_), generation_(other.generation()) {}

ConfigBlock& ConfigBlock::operator=(const ConfigBlock& other) {
  header_ = other.header_;
  generation_.store(other.generation(), std::memory_order_relaxed);
  return *this;
}

bool ConfigBlock::rebind() {
  if (header_ == nullptr) return false;
  if (validate(reinterpret_cast<const uint8_t*>(header_), sizeof(ConfigHeader)) != TD_OK) {
    return false;
  }
  generation_.store(header_->generation, std::memory_order_relaxed);
  return true;
}

uint32_t ConfigBlock::ring_slot_count() const {
  uint32_t count = header_->ring_slot_count;
  return layout::valid_slot_count(count) ? count : layout::kDefaultSlotCount;
}

bool ConfigBlock::read(td_config& out, int attempts) const {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    uint32_t before = header_->sequence.load(std::memory_order_acquire);
    if (before & 1u) continue;
    std::memcpy(&out, &header_->config, sizeof(out));
    std::atomic_thread_fence(std::memory_order_acquire);
    if (header_->sequence.load(std::memory_order_relaxed) == before) return true;
  }
  return false;
}

void ConfigBlock::write(const td_config& config) {
  // An odd value left by a writer that died mid-write is simply taken over.
  uint32_t odd = header_->sequence.load(std::memory_order_relaxed) | 1u;
  header_->sequence.store(odd, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(&header_->config, &config, sizeof(config));
  header_->sequence.store(odd + 1, std::memory_order_release);
}

}  // namespace teardown
