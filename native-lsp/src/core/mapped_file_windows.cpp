#define _CRT_RAND_S
#include <stdlib.h>

#include <string>
#include <vector>

#include "mapped_file.h"
#include "win.h"

#include <aclapi.h>

namespace teardown {

namespace {

// Files carry explicit, protected DACLs (nothing inherited). "OW" is the owner: the user who made
// the file. SYSTEM and administrators have full control of everything.
//  config: its owner writes, everyone reads.    lock and rings: their owner only.
constexpr wchar_t kConfigSddl[] = L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)(A;;FR;;;WD)";
constexpr wchar_t kOwnerOnlySddl[] = L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)";
// Directories. The channel: everyone lists and enters. Shared rings: everyone may also add a file
// (their ring), and nobody but administrators may delete or rename another's. Nothing grants
// write to low integrity: a sandboxed process cannot make a ring, so it records nothing (the
// directory keeps the default medium label and its no-write-up rule).
constexpr wchar_t kChannelDirSddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x1200a9;;;WD)";
constexpr wchar_t kSharedRingsSddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x1200ab;;;WD)";
constexpr wchar_t kPrivateRingsSddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)";

// Rights that let a holder change a file's bytes, its security, or remove or replace it.
constexpr ACCESS_MASK kWriteRights = FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA |
                                     FILE_WRITE_ATTRIBUTES | DELETE | WRITE_DAC | WRITE_OWNER |
                                     GENERIC_WRITE | GENERIC_ALL;
// On a directory, what lets a holder remove or replace what others put in it.
constexpr ACCESS_MASK kDirectoryTakeoverRights =
    FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL;

std::wstring widen(const std::string& text) {
  int chars = MultiByteToWideChar(CP_UTF8, 0, text.c_str(), -1, nullptr, 0);
  if (chars <= 0) return {};
  std::wstring out(static_cast<size_t>(chars), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.c_str(), -1, out.data(), chars);
  out.resize(static_cast<size_t>(chars - 1));
  return out;
}

std::string narrow(const wchar_t* text) {
  int bytes = WideCharToMultiByte(CP_UTF8, 0, text, -1, nullptr, 0, nullptr, nullptr);
  if (bytes <= 0) return {};
  std::string out(static_cast<size_t>(bytes), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, -1, out.data(), bytes, nullptr, nullptr);
  out.resize(static_cast<size_t>(bytes - 1));
  return out;
}

td_status status_from_error(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return TD_ERR_NOT_FOUND;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return TD_ERR_ACCESS_DENIED;
    default:
      return TD_ERR_IO;
  }
}

HANDLE as_handle(intptr_t value) { return reinterpret_cast<HANDLE>(value); }

std::string sid_text(PSID sid) {
  wchar_t* text = nullptr;
  if (sid == nullptr || !ConvertSidToStringSidW(sid, &text)) return {};
  std::string out = narrow(text);
  LocalFree(text);
  return out;
}

bool is_admin_sid(PSID sid) {
  return sid != nullptr && (IsWellKnownSid(sid, WinLocalSystemSid) ||
                            IsWellKnownSid(sid, WinBuiltinAdministratorsSid));
}

// The calling process's user and default owner of what it creates (for an elevated
// administrator: the Administrators group).
struct TokenIdentity {
  std::string user;
  std::string default_owner;
  bool admin = false;
};

TokenIdentity token_identity() {
  TokenIdentity identity;
  HANDLE token = nullptr;
  if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token) &&
      !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    return identity;
  }
  alignas(8) unsigned char buffer[512];
  DWORD length = 0;
  if (GetTokenInformation(token, TokenUser, buffer, sizeof(buffer), &length)) {
    PSID sid = reinterpret_cast<TOKEN_USER*>(buffer)->User.Sid;
    identity.user = sid_text(sid);
    identity.admin = is_admin_sid(sid);
  }
  if (GetTokenInformation(token, TokenOwner, buffer, sizeof(buffer), &length)) {
    identity.default_owner = sid_text(reinterpret_cast<TOKEN_OWNER*>(buffer)->Owner);
  }
  CloseHandle(token);
  return identity;
}

bool is_self(const std::string& sid, const TokenIdentity& self) {
  return !sid.empty() && (sid == self.user || sid == self.default_owner);
}

// Who owns an object, and whether anyone but that owner, SYSTEM and administrators holds
// some given rights on it.
struct Description {
  std::string owner;
  bool owner_admin = false;
  bool others = true;
};

// Describes the object behind `handle` for `rights`. A NULL DACL lets everyone do everything.
bool describe(HANDLE handle, ACCESS_MASK rights, Description& out) {
  PSID owner_sid = nullptr;
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (GetSecurityInfo(handle, SE_FILE_OBJECT,
                      OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner_sid, nullptr,
                      &dacl, nullptr, &descriptor) != ERROR_SUCCESS) {
    return false;
  }
  out.owner = sid_text(owner_sid);
  out.owner_admin = is_admin_sid(owner_sid);
  out.others = dacl == nullptr;
  for (DWORD i = 0; dacl != nullptr && i < dacl->AceCount && !out.others; ++i) {
    void* entry = nullptr;
    if (!GetAce(dacl, i, &entry)) continue;
    auto* header = static_cast<ACE_HEADER*>(entry);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE || (header->AceFlags & INHERIT_ONLY_ACE) != 0) {
      continue;
    }
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(entry);
    if ((allowed->Mask & rights) == 0) continue;
    PSID sid = reinterpret_cast<PSID>(&allowed->SidStart);
    bool trusted = is_admin_sid(sid) || IsWellKnownSid(sid, WinCreatorOwnerRightsSid) ||
                   (owner_sid != nullptr && EqualSid(sid, owner_sid));
    out.others = !trusted;
  }
  LocalFree(descriptor);
  return true;
}

bool satisfies(const Description& file, Owner rule) {
  if (rule == Owner::Anyone) return true;
  TokenIdentity self = token_identity();
  bool mine = is_self(file.owner, self);
  if (rule == Owner::Self) return mine && !file.others;
  return (file.owner_admin || mine) && !file.others;
}

const wchar_t* sddl_for(FileKind kind) {
  return kind == FileKind::Config ? kConfigSddl : kOwnerOnlySddl;
}

const wchar_t* sddl_for(DirectoryKind kind) {
  switch (kind) {
    case DirectoryKind::Channel:
      return kChannelDirSddl;
    case DirectoryKind::SharedRings:
      return kSharedRingsSddl;
    case DirectoryKind::PrivateRings:
      return kPrivateRingsSddl;
  }
  return kPrivateRingsSddl;
}

// A security descriptor from SDDL, freed with LocalFree.
PSECURITY_DESCRIPTOR descriptor_of(const wchar_t* sddl) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &descriptor,
                                                            nullptr)) {
    return nullptr;
  }
  return descriptor;
}

// An existing regular file (not a directory, not a reparse point) with `rights`.
HANDLE open_plain_file(const std::wstring& path, DWORD rights, DWORD disposition,
                       SECURITY_ATTRIBUTES* attributes, DWORD& error) {
  HANDLE file = CreateFileW(
      path.c_str(), rights, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, attributes,
      disposition, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    error = GetLastError();
    return nullptr;
  }
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(file, &info) ||
      (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) != 0 ||
      GetFileType(file) != FILE_TYPE_DISK) {
    CloseHandle(file);
    error = ERROR_INVALID_DATA;
    return nullptr;
  }
  return file;
}

HANDLE open_directory(const std::wstring& path, DWORD rights) {
  HANDLE dir = CreateFileW(
      path.c_str(), rights, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
      OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (dir == INVALID_HANDLE_VALUE) return nullptr;
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(dir, &info) ||
      (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0 ||
      (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
    CloseHandle(dir);
    return nullptr;
  }
  return dir;
}

bool set_size(HANDLE file, uint64_t size) {
  LARGE_INTEGER target;
  target.QuadPart = static_cast<LONGLONG>(size);
  return SetFilePointerEx(file, target, nullptr, FILE_BEGIN) && SetEndOfFile(file);
}

std::string parent_of(const std::string& path) {
  size_t separator = path.find_last_of("\\/");
  return separator == std::string::npos ? std::string(".") : path.substr(0, separator);
}

}  // namespace

void MappedFile::reset() {
  if (data_ != nullptr) UnmapViewOfFile(data_);
  if (handle_ != -1) CloseHandle(as_handle(handle_));
  data_ = nullptr;
  size_ = 0;
  handle_ = -1;
  writable_ = false;
  owner_ = FileOwner{};
}

td_status MappedFile::open(const std::string& path, FileAccess access, Owner owner,
                           MappedFile& out) {
  out.reset();
  bool writable = access == FileAccess::ReadWrite;
  DWORD rights = (writable ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ) | READ_CONTROL;
  DWORD error = 0;
  HANDLE file = open_plain_file(widen(path), rights, OPEN_EXISTING, nullptr, error);
  if (file == nullptr) {
    // Not a plain file (a directory, a link): nothing to be used under that name.
    return error == ERROR_INVALID_DATA ? TD_ERR_ACCESS_DENIED : status_from_error(error);
  }
  Description found;
  if (!describe(file, kWriteRights, found) || !satisfies(found, owner)) {
    CloseHandle(file);
    return TD_ERR_ACCESS_DENIED;
  }
  out.handle_ = reinterpret_cast<intptr_t>(file);
  out.writable_ = writable;
  out.owner_ = FileOwner{found.owner, found.owner_admin};
  return TD_OK;
}

td_status MappedFile::create_new(const std::string& path, FileKind kind, size_t size,
                                 void (*initialize)(uint8_t*, size_t, void*), void* context) {
  PSECURITY_DESCRIPTOR descriptor = descriptor_of(sddl_for(kind));
  if (descriptor == nullptr) return TD_ERR_INTERNAL;
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), descriptor, FALSE};
  std::wstring staging = widen(parent_of(path) + "\\.new-" + random_name());
  DWORD error = 0;
  HANDLE file = open_plain_file(staging, GENERIC_READ | GENERIC_WRITE | DELETE, CREATE_NEW,
                                &attributes, error);
  LocalFree(descriptor);
  if (file == nullptr) return status_from_error(error);
  td_status status = TD_OK;
  if (!set_size(file, size)) {
    status = status_from_error(GetLastError());
  } else {
    HANDLE mapping = CreateFileMappingW(file, nullptr, PAGE_READWRITE, 0, 0, nullptr);
    void* view = mapping == nullptr ? nullptr : MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, size);
    if (view == nullptr) {
      status = status_from_error(GetLastError());
    } else {
      initialize(static_cast<uint8_t*>(view), size, context);
      UnmapViewOfFile(view);
    }
    if (mapping != nullptr) CloseHandle(mapping);
  }
  CloseHandle(file);
  // Without MOVEFILE_REPLACE_EXISTING: a name that is taken stays whoever's it is.
  if (status == TD_OK && !MoveFileExW(staging.c_str(), widen(path).c_str(), 0)) {
    status = status_from_error(GetLastError());
  }
  DeleteFileW(staging.c_str());
  return status;
}

td_status MappedFile::open_or_create(const std::string& path, FileKind kind, size_t size,
                                     MappedFile& out) {
  out.reset();
  PSECURITY_DESCRIPTOR descriptor = descriptor_of(sddl_for(kind));
  if (descriptor == nullptr) return TD_ERR_INTERNAL;
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), descriptor, FALSE};
  DWORD error = 0;
  HANDLE file = open_plain_file(widen(path), GENERIC_READ | GENERIC_WRITE | READ_CONTROL,
                                OPEN_ALWAYS, &attributes, error);
  LocalFree(descriptor);
  if (file == nullptr) {
    return error == ERROR_INVALID_DATA ? TD_ERR_CORRUPT : status_from_error(error);
  }
  Description found;
  if (!describe(file, kWriteRights, found) || !is_self(found.owner, token_identity())) {
    CloseHandle(file);
    return TD_ERR_ACCESS_DENIED;  // planted by someone else: never written, never trusted
  }
  LARGE_INTEGER current;
  if (!GetFileSizeEx(file, &current) ||
      (static_cast<uint64_t>(current.QuadPart) < size && !set_size(file, size))) {
    error = GetLastError();
    CloseHandle(file);
    return status_from_error(error);
  }
  out.handle_ = reinterpret_cast<intptr_t>(file);
  out.writable_ = true;
  out.owner_ = FileOwner{found.owner, found.owner_admin};
  return TD_OK;
}

bool MappedFile::read_at(uint64_t offset, void* buffer, size_t length) const {
  if (handle_ == -1) return false;
  auto* bytes = static_cast<uint8_t*>(buffer);
  size_t done = 0;
  while (done < length) {
    OVERLAPPED position{};
    uint64_t at = offset + done;
    position.Offset = static_cast<DWORD>(at);
    position.OffsetHigh = static_cast<DWORD>(at >> 32);
    DWORD chunk = length - done > 0x40000000u ? 0x40000000u : static_cast<DWORD>(length - done);
    DWORD got = 0;
    if (!ReadFile(as_handle(handle_), bytes + done, chunk, &got, &position) || got == 0) {
      return false;
    }
    done += got;
  }
  return true;
}

td_status MappedFile::map(size_t size) {
  if (handle_ == -1 || data_ != nullptr || size == 0) return TD_ERR_INVALID_ARGUMENT;
  if (current_size() < size) return TD_ERR_CORRUPT;
  uint64_t wide_size = size;
  HANDLE mapping = CreateFileMappingW(
      as_handle(handle_), nullptr, writable_ ? PAGE_READWRITE : PAGE_READONLY,
      static_cast<DWORD>(wide_size >> 32), static_cast<DWORD>(wide_size), nullptr);
  if (mapping == nullptr) return status_from_error(GetLastError());
  void* view = MapViewOfFile(mapping, writable_ ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ, 0,
                             0, size);
  DWORD error = GetLastError();
  CloseHandle(mapping);  // the view keeps the mapping object alive
  if (view == nullptr) return status_from_error(error);
  data_ = static_cast<uint8_t*>(view);
  size_ = size;
  return TD_OK;
}

uint64_t MappedFile::current_size() const {
  LARGE_INTEGER size;
  if (handle_ == -1 || !GetFileSizeEx(as_handle(handle_), &size)) return 0;
  return static_cast<uint64_t>(size.QuadPart);
}

bool MappedFile::others_can_write() const {
  Description found;
  return handle_ == -1 || !describe(as_handle(handle_), kWriteRights, found) || found.others;
}

bool MappedFile::same_file_as(const std::string& path) const {
  if (handle_ == -1) return false;
  HANDLE named = CreateFileW(widen(path).c_str(), FILE_READ_ATTRIBUTES,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (named == INVALID_HANDLE_VALUE) return false;
  BY_HANDLE_FILE_INFORMATION mine;
  BY_HANDLE_FILE_INFORMATION other;
  bool same = GetFileInformationByHandle(as_handle(handle_), &mine) &&
              GetFileInformationByHandle(named, &other) &&
              mine.dwVolumeSerialNumber == other.dwVolumeSerialNumber &&
              mine.nFileIndexHigh == other.nFileIndexHigh &&
              mine.nFileIndexLow == other.nFileIndexLow;
  CloseHandle(named);
  return same;
}

bool MappedFile::lock_exclusive() {
  if (handle_ == -1) return false;
  OVERLAPPED position{};
  return LockFileEx(as_handle(handle_), LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &position) != 0;
}

void MappedFile::unlock() {
  if (handle_ == -1) return;
  OVERLAPPED position{};
  UnlockFileEx(as_handle(handle_), 0, 1, 0, &position);
}

td_status ensure_directory(const std::string& dir, DirectoryKind kind) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  std::wstring wide = widen(dir);
  PSECURITY_DESCRIPTOR descriptor = descriptor_of(sddl_for(kind));
  if (descriptor == nullptr) return TD_ERR_INTERNAL;
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), descriptor, FALSE};
  bool made = CreateDirectoryW(wide.c_str(), &attributes) != 0;
  DWORD error = made ? ERROR_SUCCESS : GetLastError();
  if (error == ERROR_PATH_NOT_FOUND) {
    size_t separator = dir.find_last_of("\\/");
    if (separator != std::string::npos && separator > 0 &&
        ensure_directory(dir.substr(0, separator), DirectoryKind::Channel) == TD_OK) {
      made = CreateDirectoryW(wide.c_str(), &attributes) != 0;
      error = made ? ERROR_SUCCESS : GetLastError();
    }
  }
  td_status status = TD_OK;
  if (!made && error != ERROR_ALREADY_EXISTS) {
    status = status_from_error(error);
  } else if (!made) {
    // There already: ours (or administrators', for an administrator) gets the permissions its
    // kind requires; anyone else's is not to be used.
    HANDLE handle = open_directory(wide, READ_CONTROL | WRITE_DAC);
    if (handle == nullptr) handle = open_directory(wide, READ_CONTROL);
    Description found;
    TokenIdentity self = token_identity();
    if (handle == nullptr || !describe(handle, 0, found)) {
      status = TD_ERR_ACCESS_DENIED;
    } else if (is_self(found.owner, self) || (found.owner_admin && self.admin)) {
      PACL dacl = nullptr;
      BOOL present = FALSE;
      BOOL defaulted = FALSE;
      if (!GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted) ||
          SetSecurityInfo(handle, SE_FILE_OBJECT,
                          DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr,
                          nullptr, dacl, nullptr) != ERROR_SUCCESS) {
        status = TD_ERR_ACCESS_DENIED;
      }
    } else if (!found.owner_admin) {
      status = TD_ERR_ACCESS_DENIED;
    }
    if (handle != nullptr) CloseHandle(handle);
  }
  LocalFree(descriptor);
  return status;
}

bool trusted_directory(const std::string& dir) {
  HANDLE handle = open_directory(widen(dir), READ_CONTROL);
  if (handle == nullptr) return false;
  Description found;
  bool ok = describe(handle, kDirectoryTakeoverRights, found) && !found.others &&
            (found.owner_admin || is_self(found.owner, token_identity()));
  CloseHandle(handle);
  return ok;
}

bool directory_exists(const std::string& dir) {
  DWORD attributes = GetFileAttributesW(widen(dir).c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0 &&
         (attributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0;
}

uint64_t directory_version(const std::string& dir) {
  WIN32_FILE_ATTRIBUTE_DATA data;
  if (!GetFileAttributesExW(widen(dir).c_str(), GetFileExInfoStandard, &data)) return 0;
  return ((uint64_t{data.ftLastWriteTime.dwHighDateTime} << 32) |
          data.ftLastWriteTime.dwLowDateTime) +
         1;
}

void MappedFile::keep_mapping_only() {}

void MappedFile::forsake_mapping() {}

DirectoryWalk::~DirectoryWalk() { finish(); }

void DirectoryWalk::finish() {
  if (handle_ != nullptr) FindClose(static_cast<HANDLE>(handle_));
  handle_ = nullptr;
  have_pending_ = false;
}

bool DirectoryWalk::step(size_t budget, bool (*keep)(const char* name),
                         std::vector<DirectoryEntry>& out) {
  WIN32_FIND_DATAW found;
  if (handle_ == nullptr) {
    HANDLE search = FindFirstFileExW(widen(dir_ + "\\*").c_str(), FindExInfoBasic, &found,
                                     FindExSearchNameMatch, nullptr, 0);
    if (search == INVALID_HANDLE_VALUE) return true;
    handle_ = search;
    pending_ = DirectoryEntry{narrow(found.cFileName), 0};
    have_pending_ = true;
  }
  for (size_t looked = 0; looked < budget; ++looked) {
    std::string name;
    if (have_pending_) {
      name = std::move(pending_.name);
      have_pending_ = false;
    } else if (FindNextFileW(static_cast<HANDLE>(handle_), &found)) {
      name = narrow(found.cFileName);
    } else {
      finish();
      return true;
    }
    if (name == "." || name == ".." || !keep(name.c_str())) continue;
    out.push_back(DirectoryEntry{std::move(name), 0});
  }
  return false;
}

FileOwner current_user() {
  TokenIdentity self = token_identity();
  return FileOwner{self.user, self.admin};
}

std::string user_display_name(const std::string& key) {
  PSID sid = nullptr;
  if (!ConvertStringSidToSidW(widen(key).c_str(), &sid)) return key;
  wchar_t name[256];
  wchar_t domain[256];
  DWORD name_length = 256;
  DWORD domain_length = 256;
  SID_NAME_USE use;
  std::string out = key;
  if (LookupAccountSidW(nullptr, sid, name, &name_length, domain, &domain_length, &use)) {
    out = domain_length > 0 ? narrow(domain) + "\\" + narrow(name) : narrow(name);
  }
  LocalFree(sid);
  return out;
}

uint64_t random_bits() {
  unsigned int high = 0;
  unsigned int low = 0;
  if (rand_s(&high) != 0 || rand_s(&low) != 0) {
    LARGE_INTEGER counter;
    QueryPerformanceCounter(&counter);
    return static_cast<uint64_t>(counter.QuadPart) ^ (uint64_t{GetCurrentProcessId()} << 40);
  }
  return (uint64_t{high} << 32) | low;
}

}  // namespace teardown
