// The channel's files, opened the way the security model requires, and mapped into memory.
// Implemented once per platform (mapped_file_posix.cpp, mapped_file_windows.cpp).
//
// Every file is opened without following links. Whoever opens a file that other users can reach
// states whose it must be (`Owner`) before trusting a byte of it: a producer maps only its own ring
// and honours only an administrator's configuration (or its own user's), and neither may be
// writable by anyone else. Readers map only their own user's rings; everything else they copy
// (`read_at`), so that a file's owner cannot crash them by truncating it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "teardown/teardown.h"

namespace teardown {

enum class FileAccess { ReadOnly, ReadWrite };

// Whose a file must be, checked on the open handle.
enum class Owner {
  Anyone,      // readers: any owner, reported by owner()
  Self,        // the calling user, and writable by nobody else (administrators aside)
  AdminOrSelf  // root / Administrators / SYSTEM, or the calling user; writable by nobody else
};

// What a file the channel creates is for: who may write and read it.
enum class FileKind {
  Config,  // written by its owner (an administrator), read by everyone
  Lock,    // the configuration writers' lock: its owner only
  Ring     // a user's events: written by that user, read by that user and administrators
};

// Who owns a file: a key that names the user in ring names ("1000", "S-1-5-21-…") and whether
// that user is an administrator (root, Administrators, SYSTEM).
struct FileOwner {
  std::string key;
  bool admin = false;
};

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Opens an existing regular file without following a link and without mapping it.
  // TD_ERR_NOT_FOUND when it does not exist; TD_ERR_ACCESS_DENIED when `owner` is not satisfied
  // or the name is not a regular file (a link, a FIFO, a directory).
  static td_status open(const std::string& path, FileAccess access, Owner owner, MappedFile& out);

  // Creates `path` for `kind`, `size` bytes long and filled in by `initialize` before anyone can
  // open it under that name (it is made under a private name, then renamed without replacing).
  // TD_ERR_ACCESS_DENIED if the name is taken: the caller opens what is there instead.
  static td_status create_new(const std::string& path, FileKind kind, size_t size,
                              void (*initialize)(uint8_t* bytes, size_t size, void* context),
                              void* context);

  // Opens `path` for writing, creating it for `kind` when absent; a file there must be the
  // caller's. Used by administrators for the configuration and its lock. Grows the file to
  // `size` bytes if it is shorter.
  static td_status open_or_create(const std::string& path, FileKind kind, size_t size,
                                  MappedFile& out);

  // Copies `length` bytes at `offset`; false if the file is shorter or the read fails.
  bool read_at(uint64_t offset, void* buffer, size_t length) const;

  // Maps the first `size` bytes (never more: a huge sparse file costs nothing). The file must
  // be at least that long now. Once mapped, a file stays mapped until this object goes.
  td_status map(size_t size);

  // The file's size now.
  uint64_t current_size() const;

  // Whether `path` still names this very file.
  bool same_file_as(const std::string& path) const;

  // Lets go of the descriptor, keeping the mapping and what same_file_as needs: a producer holds
  // no descriptor of its ring, so that no process it forks (which may become another user) can
  // truncate or rewrite the file through one. Windows: the handle stays (handles are not
  // inherited, and a mapped file cannot be truncated there).
  void keep_mapping_only();

  // Replaces the mapping, in place, with private zeroed memory: anything still writing into it
  // (another thread) writes into memory of its own, and nothing reaches the file through this
  // process any more. Windows: nothing (see keep_mapping_only).
  void forsake_mapping();

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool mapped() const { return data_ != nullptr; }
  bool is_open() const { return handle_ != -1; }
  const FileOwner& owner() const { return owner_; }
  // Whether anyone but the owner (and administrators) may write the file now.
  bool others_can_write() const;

  // Serialises writers of the configuration across processes. Blocking; only on a Lock file,
  // which nobody but its owner can open.
  bool lock_exclusive();
  void unlock();

 private:
  void reset();  // unmaps and closes: per platform

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  intptr_t handle_ = -1;  // fd on POSIX, HANDLE on Windows
  bool writable_ = false;
  FileOwner owner_;
  uint64_t device_ = 0;  // POSIX, after keep_mapping_only: the file's identity
  uint64_t inode_ = 0;
};

// Directories of a channel.
enum class DirectoryKind {
  Channel,      // the channel: the configuration's; everyone may read and enter
  SharedRings,  // the rings of a channel for every user: anyone may add their own ring
  PrivateRings  // the rings of a user's own channel: that user only
};

// Creates `dir` (and missing parents) if absent, and gives a directory this process owns the
// permissions `kind` requires, whatever the umask. An administrator's directory is used as it is
// (a user's tools in the system channel); anyone else's is refused.
td_status ensure_directory(const std::string& dir, DirectoryKind kind);

// Whether a producer may put its ring in `dir`: an existing directory, not a link, owned by an
// administrator or the calling user, and either writable by nobody else or (shared rings) made
// so that nobody can remove or replace what others put in it.
bool trusted_directory(const std::string& dir);

// Whether `dir` is a directory (not a link to one).
bool directory_exists(const std::string& dir);

// Changes whenever a name is added to or removed from `dir` (its modification time); 0 if it
// cannot be had; kUnsettledDirectory while the time is so recent that another name added now
// could leave it as it is (the clock behind it ticks coarsely): to be looked at again.
constexpr uint64_t kUnsettledDirectory = 1;
uint64_t directory_version(const std::string& dir);

// The names in `dir` (not "." and ".."), at most `limit` of them; empty if it cannot be read.
std::vector<std::string> list_directory(const std::string& dir, size_t limit);

// One name met walking a directory, and the file it named then: its inode (0 where the platform
// tells none without opening it).
struct DirectoryEntry {
  std::string name;
  uint64_t id = 0;
};

// Walks a directory a bounded number of names at a time, each step going on where the last
// stopped, and starting over (the directory opened anew) once it came to the end: a directory
// of any size is read whole over enough steps, at a bounded cost each. A name there through a
// whole pass is met in it once.
class DirectoryWalk {
 public:
  explicit DirectoryWalk(std::string dir) : dir_(std::move(dir)) {}
  ~DirectoryWalk();
  DirectoryWalk(const DirectoryWalk&) = delete;
  DirectoryWalk& operator=(const DirectoryWalk&) = delete;

  // Looks at up to `budget` names (not "." and ".."), adding to `out` those `keep` accepts. True
  // when the pass came to its end (or the directory cannot be read): the next step begins anew.
  bool step(size_t budget, bool (*keep)(const char* name), std::vector<DirectoryEntry>& out);

  // Whether a pass is under way (a step left names for the next).
  bool in_pass() const { return handle_ != nullptr; }

 private:
  void finish();  // closes the pass: per platform

  std::string dir_;
  void* handle_ = nullptr;  // DIR* on POSIX, the search HANDLE on Windows
  bool have_pending_ = false;  // Windows: the search's first name, in pending_, not yet looked at
  DirectoryEntry pending_;
};

// The calling process's user, as in FileOwner.
FileOwner current_user();

// A user's readable name ("alice", "DOMAIN\\alice"), or the key itself when it has none.
std::string user_display_name(const std::string& key);

// 64 unpredictable bits (per platform), and as 16 hex digits: for names no one else can choose
// in advance.
uint64_t random_bits();
std::string random_name();

}  // namespace teardown
