#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "mapped_file.h"

namespace teardown {

namespace {

td_status status_from_errno(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return TD_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
      return TD_ERR_ACCESS_DENIED;
    default:
      return TD_ERR_IO;
  }
}

mode_t mode_for(FileSharing sharing) {
  return sharing == FileSharing::EveryoneWrites ? 0666 : 0644;
}

}  // namespace

void MappedFile::reset() {
  if (data_ != nullptr) munmap(data_, size_);
  if (handle_ >= 0) close(static_cast<int>(handle_));
  data_ = nullptr;
  size_ = 0;
  handle_ = -1;
}

static td_status map_fd(int fd, size_t size, bool writable, uint8_t*& data) {
  int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* address = mmap(nullptr, size, protection, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) return status_from_errno(errno);
  data = static_cast<uint8_t*>(address);
  return TD_OK;
}

td_status MappedFile::open(const std::string& path, FileAccess access, MappedFile& out) {
  out.reset();
  bool writable = access == FileAccess::ReadWrite;
  int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return status_from_errno(errno);
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return TD_ERR_CORRUPT;
  }
  if (info.st_size <= 0) {
    close(fd);
    return TD_ERR_CORRUPT;
  }
  out.handle_ = fd;
  out.size_ = static_cast<size_t>(info.st_size);
  td_status status = map_fd(fd, out.size_, writable, out.data_);
  if (status != TD_OK) out.reset();
  return status;
}

td_status MappedFile::create(const std::string& path, size_t size, FileSharing sharing,
                             MappedFile& out) {
  out.reset();
  mode_t mode = mode_for(sharing);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return status_from_errno(errno);
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return TD_ERR_CORRUPT;
  }
  // The umask must not narrow who may write events; only the owner can change the mode.
  if (info.st_uid == geteuid()) fchmod(fd, mode);
  size_t current = static_cast<size_t>(info.st_size);
  if (current < size && ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int error = errno;
    close(fd);
    return status_from_errno(error);
  }
  out.handle_ = fd;
  out.size_ = current > size ? current : size;
  td_status status = map_fd(fd, out.size_, true, out.data_);
  if (status != TD_OK) out.reset();
  return status;
}

bool MappedFile::lock_exclusive() {
  if (handle_ < 0) return false;
  while (flock(static_cast<int>(handle_), LOCK_EX) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

void MappedFile::unlock() {
  if (handle_ >= 0) flock(static_cast<int>(handle_), LOCK_UN);
}

td_status ensure_directory(const std::string& dir) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    std::string parent = dir.substr(0, slash);
    struct stat info {};
    if (stat(parent.c_str(), &info) != 0) {
      td_status status = ensure_directory(parent);
      if (status != TD_OK) return status;
    }
  }
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return TD_OK;
  return status_from_errno(errno);
}

}  // namespace teardown
