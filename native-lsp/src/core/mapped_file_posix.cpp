#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

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
    case EEXIST:
    case ELOOP:
      return TD_ERR_ACCESS_DENIED;
    default:
      return TD_ERR_IO;
  }
}

mode_t mode_for(FileKind kind) {
  switch (kind) {
    case FileKind::Config:
      return 0644;
    case FileKind::Lock:
    case FileKind::Ring:
      return 0600;
  }
  return 0600;
}

mode_t mode_for(DirectoryKind kind) {
  switch (kind) {
    case DirectoryKind::Channel:
      return 0755;
    case DirectoryKind::SharedRings:
      return 01777;
    case DirectoryKind::PrivateRings:
      return 0700;
  }
  return 0700;
}

FileOwner owner_of(uid_t uid) {
  return FileOwner{std::to_string(uid), uid == 0};
}

// Writable by nobody but its owner (and root, who can write anything).
bool owner_writes_only(const struct stat& info) {
  return (info.st_mode & 022) == 0;
}

bool satisfies(const struct stat& info, Owner owner) {
  uid_t self = geteuid();
  switch (owner) {
    case Owner::Anyone:
      return true;
    case Owner::Self:
      return info.st_uid == self && owner_writes_only(info);
    case Owner::AdminOrSelf:
      return (info.st_uid == 0 || info.st_uid == self) && owner_writes_only(info);
  }
  return false;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void MappedFile::reset() {
  if (data_ != nullptr) munmap(data_, size_);
  if (handle_ >= 0) close(static_cast<int>(handle_));
  data_ = nullptr;
  size_ = 0;
  handle_ = -1;
  writable_ = false;
  owner_ = FileOwner{};
  device_ = 0;
  inode_ = 0;
}

void MappedFile::keep_mapping_only() {
  struct stat info {};
  if (data_ == nullptr || handle_ < 0 || fstat(static_cast<int>(handle_), &info) != 0) return;
  device_ = static_cast<uint64_t>(info.st_dev);
  inode_ = static_cast<uint64_t>(info.st_ino);
  close(static_cast<int>(handle_));
  handle_ = -1;
}

void MappedFile::forsake_mapping() {
  if (data_ == nullptr) return;
  // One call, in place: no moment at which the range is unmapped for another thread to fault on.
  mmap(data_, size_, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  device_ = 0;
  inode_ = 0;
}

td_status MappedFile::open(const std::string& path, FileAccess access, Owner owner,
                           MappedFile& out) {
  out.reset();
  bool writable = access == FileAccess::ReadWrite;
  // O_NONBLOCK: opening a FIFO planted under the name must not block.
  int fd = ::open(path.c_str(),
                  (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return status_from_errno(errno);
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || !satisfies(info, owner)) {
    close(fd);
    return TD_ERR_ACCESS_DENIED;
  }
  out.handle_ = fd;
  out.writable_ = writable;
  out.owner_ = owner_of(info.st_uid);
  return TD_OK;
}

td_status MappedFile::create_new(const std::string& path, FileKind kind, size_t size,
                                 void (*initialize)(uint8_t*, size_t, void*), void* context) {
  std::string staging = parent_of(path) + "/.new-" + random_name();
  mode_t mode = mode_for(kind);
  int fd = ::open(staging.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return status_from_errno(errno);
  td_status status = TD_OK;
  void* bytes = MAP_FAILED;
  if (fchmod(fd, mode) != 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
    status = status_from_errno(errno);
  } else {
    bytes = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (bytes == MAP_FAILED) status = status_from_errno(errno);
  }
  if (status == TD_OK) {
    initialize(static_cast<uint8_t*>(bytes), size, context);
    munmap(bytes, size);
    // A hard link never replaces: if the name is taken, it stays whoever's it is.
    if (link(staging.c_str(), path.c_str()) != 0) status = status_from_errno(errno);
  }
  unlink(staging.c_str());
  close(fd);
  return status;
}

td_status MappedFile::open_or_create(const std::string& path, FileKind kind, size_t size,
                                     MappedFile& out) {
  out.reset();
  mode_t mode = mode_for(kind);
  int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, mode);
  if (fd < 0) return status_from_errno(errno);
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return TD_ERR_CORRUPT;
  }
  if (info.st_uid != geteuid()) {
    close(fd);
    return TD_ERR_ACCESS_DENIED;  // planted by someone else: never written, never trusted
  }
  // The umask must not decide who may read: only the owner can change the mode.
  if ((info.st_mode & 07777) != mode && fchmod(fd, mode) != 0) {
    int error = errno;
    close(fd);
    return status_from_errno(error);
  }
  if (static_cast<size_t>(info.st_size) < size && ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int error = errno;
    close(fd);
    return status_from_errno(error);
  }
  out.handle_ = fd;
  out.writable_ = true;
  out.owner_ = owner_of(info.st_uid);
  return TD_OK;
}

bool MappedFile::read_at(uint64_t offset, void* buffer, size_t length) const {
  if (handle_ < 0) return false;
  auto* bytes = static_cast<uint8_t*>(buffer);
  size_t done = 0;
  while (done < length) {
    ssize_t n = pread(static_cast<int>(handle_), bytes + done, length - done,
                      static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

td_status MappedFile::map(size_t size) {
  if (handle_ < 0 || data_ != nullptr || size == 0) return TD_ERR_INVALID_ARGUMENT;
  if (current_size() < size) return TD_ERR_CORRUPT;
  int protection = writable_ ? PROT_READ | PROT_WRITE : PROT_READ;
  // Read-only mappings (a reader's own rings, a configuration) are read whole: their pages are
  // mapped in one call rather than by a fault each.
  int flags = writable_ ? MAP_SHARED : MAP_SHARED | MAP_POPULATE;
  void* address = mmap(nullptr, size, protection, flags, static_cast<int>(handle_), 0);
  if (address == MAP_FAILED) return status_from_errno(errno);
  data_ = static_cast<uint8_t*>(address);
  size_ = size;
  return TD_OK;
}

uint64_t MappedFile::current_size() const {
  struct stat info {};
  if (handle_ < 0 || fstat(static_cast<int>(handle_), &info) != 0) return 0;
  return static_cast<uint64_t>(info.st_size);
}

bool MappedFile::others_can_write() const {
  struct stat info {};
  return handle_ < 0 || fstat(static_cast<int>(handle_), &info) != 0 || !owner_writes_only(info);
}

bool MappedFile::same_file_as(const std::string& path) const {
  uint64_t device = device_;
  uint64_t inode = inode_;
  if (handle_ >= 0) {
    struct stat mine {};
    if (fstat(static_cast<int>(handle_), &mine) != 0) return false;
    device = static_cast<uint64_t>(mine.st_dev);
    inode = static_cast<uint64_t>(mine.st_ino);
  } else if (inode == 0) {
    return false;
  }
  struct stat named {};
  if (lstat(path.c_str(), &named) != 0) return false;
  return device == static_cast<uint64_t>(named.st_dev) && inode == static_cast<uint64_t>(named.st_ino);
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

td_status ensure_directory(const std::string& dir, DirectoryKind kind) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  std::string parent = parent_of(dir);
  struct stat info {};
  if (parent != dir && stat(parent.c_str(), &info) != 0) {
    td_status status = ensure_directory(parent, DirectoryKind::Channel);
    if (status != TD_OK) return status;
  }
  mode_t mode = mode_for(kind);
  if (mkdir(dir.c_str(), mode & 0777) != 0 && errno != EEXIST) return status_from_errno(errno);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return status_from_errno(errno);
  td_status status = TD_OK;
  if (fstat(fd, &info) != 0) {
    status = TD_ERR_IO;
  } else if (info.st_uid == geteuid()) {
    if ((info.st_mode & 07777) != mode && fchmod(fd, mode) != 0) status = status_from_errno(errno);
  } else if (info.st_uid != 0 ||
             ((info.st_mode & 022) != 0 && (info.st_mode & S_ISVTX) == 0)) {
    status = TD_ERR_ACCESS_DENIED;  // someone else's: not ours to use or to change
  }
  close(fd);
  return status;
}

bool trusted_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat info {};
  bool ok = fstat(fd, &info) == 0 && (info.st_uid == 0 || info.st_uid == geteuid()) &&
            ((info.st_mode & 022) == 0 || (info.st_mode & S_ISVTX) != 0);
  close(fd);
  return ok;
}

bool directory_exists(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

uint64_t directory_version(const std::string& dir) {
  struct stat info {};
  if (stat(dir.c_str(), &info) != 0) return 0;
  // The size too: the clock behind a directory's time ticks coarsely, and on tmpfs (/dev/shm)
  // the size changes with every name.
  uint64_t time = static_cast<uint64_t>(info.st_mtim.tv_sec) * 1000000000ull +
                  static_cast<uint64_t>(info.st_mtim.tv_nsec);
  // A time within the clock's last ticks may be shared by a name added a moment later (ext4's
  // directory size does not change): not settled yet.
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  uint64_t now_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
  constexpr uint64_t kSettleNs = 20000000;
  if (time + kSettleNs >= now_ns) return kUnsettledDirectory;
  uint64_t version = (time ^ (static_cast<uint64_t>(info.st_size) << 40)) + 1;
  return version == kUnsettledDirectory ? version + 1 : version;
}

DirectoryWalk::~DirectoryWalk() { finish(); }

void DirectoryWalk::finish() {
  if (handle_ != nullptr) closedir(static_cast<DIR*>(handle_));
  handle_ = nullptr;
}

bool DirectoryWalk::step(size_t budget, bool (*keep)(const char* name),
                         std::vector<DirectoryEntry>& out) {
  if (handle_ == nullptr) {
    int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return true;
    DIR* stream = fdopendir(fd);
    if (stream == nullptr) {
      close(fd);
      return true;
    }
    handle_ = stream;
  }
  DIR* stream = static_cast<DIR*>(handle_);
  for (size_t looked = 0; looked < budget; ++looked) {
    struct dirent* entry = readdir(stream);
    if (entry == nullptr) {
      finish();
      return true;
    }
    const char* name = entry->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0 || !keep(name)) continue;
    out.push_back(DirectoryEntry{name, static_cast<uint64_t>(entry->d_ino)});
  }
  return false;
}

FileOwner current_user() {
  return owner_of(geteuid());
}

std::string user_display_name(const std::string& key) {
  char* end = nullptr;
  unsigned long uid = std::strtoul(key.c_str(), &end, 10);
  if (key.empty() || end == nullptr || *end != '\0') return key;
  struct passwd entry {};
  struct passwd* found = nullptr;
  char buffer[4096];
  if (getpwuid_r(static_cast<uid_t>(uid), &entry, buffer, sizeof(buffer), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr) {
    return found->pw_name;
  }
  return key;
}

uint64_t random_bits() {
  uint64_t value = 0;
  if (getrandom(&value, sizeof(value), GRND_NONBLOCK) == static_cast<ssize_t>(sizeof(value))) {
    return value;
  }
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (static_cast<uint64_t>(now.tv_nsec) << 20) ^ static_cast<uint64_t>(now.tv_sec) ^
         (static_cast<uint64_t>(getpid()) << 44);
}

}  // namespace teardown
