#include "mapped_file.h"

#include <utility>

namespace teardown {

// Ownership moves are the same on every platform; only reset() (unmapping, closing) differs.
MappedFile::~MappedFile() { reset(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      handle_(std::exchange(other.handle_, -1)),
      writable_(std::exchange(other.writable_, false)),
      owner_(std::move(other.owner_)),
      device_(std::exchange(other.device_, 0)),
      inode_(std::exchange(other.inode_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    handle_ = std::exchange(other.handle_, -1);
    writable_ = std::exchange(other.writable_, false);
    owner_ = std::move(other.owner_);
    device_ = std::exchange(other.device_, 0);
    inode_ = std::exchange(other.inode_, 0);
  }
  return *this;
}

std::vector<std::string> list_directory(const std::string& dir, size_t limit) {
  DirectoryWalk walk(dir);
  std::vector<DirectoryEntry> found;
  while (found.size() < limit &&
         !walk.step(limit - found.size(), [](const char*) { return true; }, found)) {
  }
  std::vector<std::string> names;
  names.reserve(found.size());
  for (DirectoryEntry& entry : found) names.push_back(std::move(entry.name));
  return names;
}

std::string random_name() {
  static const char kDigits[] = "0123456789abcdef";
  uint64_t value = random_bits();
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) text[static_cast<size_t>(i)] = kDigits[value & 15];
  return text;
}

}  // namespace teardown
