// A file mapped into memory and shared between processes: the channel's storage.
// Mapping is implemented once per platform (mapped_file_posix.cpp, mapped_file_windows.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "teardown/teardown.h"

namespace teardown {

enum class FileAccess { ReadOnly, ReadWrite };

// Who may write a file the channel creates. Producers of every user write events; only the
// owner (an administrator on Windows) writes the configuration, which everyone may read.
enum class FileSharing { EveryoneWrites, OwnerWrites };

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps all of an existing file. TD_ERR_NOT_FOUND when it does not exist.
  static td_status open(const std::string& path, FileAccess access, MappedFile& out);

  // Opens or creates a file for writing and maps at least `size` bytes of it. The file is grown
  // when it is smaller, never shrunk: other processes may have its tail mapped.
  static td_status create(const std::string& path, size_t size, FileSharing sharing,
                          MappedFile& out);

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool mapped() const { return data_ != nullptr; }

  // Serialises writers of the configuration across processes. Blocking; admin side only.
  bool lock_exclusive();
  void unlock();

 private:
  void reset();  // unmaps and closes: per platform

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  intptr_t handle_ = -1;  // fd on POSIX, HANDLE on Windows
};

// Creates the channel directory (and its parent) if it does not exist.
td_status ensure_directory(const std::string& dir);

}  // namespace teardown
