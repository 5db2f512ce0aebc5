#include <string>

#include "mapped_file.h"
#include "win.h"

namespace teardown {

namespace {

// Events: every user writes, including low-integrity processes (browsers), since the LSP is
// loaded into all of them. Configuration: SYSTEM, administrators and the creator write; all read.
constexpr wchar_t kEveryoneWritesSddl[] =
    L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;OW)(A;;GRGW;;;WD)S:(ML;;NW;;;LW)";
constexpr wchar_t kOwnerWritesSddl[] = L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;OW)(A;;GR;;;WD)";

// The configuration writers' lock: one byte far past the end of the file, so that it never
// covers bytes anyone reads.
constexpr DWORD kLockOffsetHigh = 0x7FFFFFFF;

std::wstring widen(const std::string& text) {
  int chars = MultiByteToWideChar(CP_UTF8, 0, text.c_str(), -1, nullptr, 0);
  if (chars <= 0) return {};
  std::wstring out(static_cast<size_t>(chars), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.c_str(), -1, out.data(), chars);
  out.resize(static_cast<size_t>(chars - 1));
  return out;
}

td_status status_from_error(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return TD_ERR_NOT_FOUND;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
      return TD_ERR_ACCESS_DENIED;
    default:
      return TD_ERR_IO;
  }
}

HANDLE as_handle(intptr_t value) { return reinterpret_cast<HANDLE>(value); }

td_status map_handle(HANDLE file, bool writable, uint8_t*& data) {
  HANDLE mapping =
      CreateFileMappingW(file, nullptr, writable ? PAGE_READWRITE : PAGE_READONLY, 0, 0, nullptr);
  if (mapping == nullptr) return status_from_error(GetLastError());
  void* view = MapViewOfFile(mapping, writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ,
                             0, 0, 0);
  DWORD error = GetLastError();
  CloseHandle(mapping);  // the view keeps the mapping object alive
  if (view == nullptr) return status_from_error(error);
  data = static_cast<uint8_t*>(view);
  return TD_OK;
}

}  // namespace

void MappedFile::reset() {
  if (data_ != nullptr) UnmapViewOfFile(data_);
  if (handle_ != -1) CloseHandle(as_handle(handle_));
  data_ = nullptr;
  size_ = 0;
  handle_ = -1;
}

td_status MappedFile::open(const std::string& path, FileAccess access, MappedFile& out) {
  out.reset();
  bool writable = access == FileAccess::ReadWrite;
  DWORD rights = writable ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ;
  HANDLE file = CreateFileW(widen(path).c_str(), rights,
                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                            OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return status_from_error(GetLastError());
  LARGE_INTEGER size;
  if (!GetFileSizeEx(file, &size) || size.QuadPart <= 0) {
    CloseHandle(file);
    return TD_ERR_CORRUPT;
  }
  out.handle_ = reinterpret_cast<intptr_t>(file);
  out.size_ = static_cast<size_t>(size.QuadPart);
  td_status status = map_handle(file, writable, out.data_);
  if (status != TD_OK) out.reset();
  return status;
}

td_status MappedFile::create(const std::string& path, size_t size, FileSharing sharing,
                             MappedFile& out) {
  out.reset();
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const wchar_t* sddl =
      sharing == FileSharing::EveryoneWrites ? kEveryoneWritesSddl : kOwnerWritesSddl;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &descriptor,
                                                            nullptr)) {
    return TD_ERR_INTERNAL;
  }
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), descriptor, FALSE};
  HANDLE file = CreateFileW(widen(path).c_str(), GENERIC_READ | GENERIC_WRITE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &attributes,
                            OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  DWORD error = GetLastError();
  LocalFree(descriptor);
  if (file == INVALID_HANDLE_VALUE) return status_from_error(error);
  LARGE_INTEGER current;
  if (!GetFileSizeEx(file, &current)) {
    CloseHandle(file);
    return TD_ERR_IO;
  }
  if (static_cast<size_t>(current.QuadPart) < size) {
    LARGE_INTEGER target;
    target.QuadPart = static_cast<LONGLONG>(size);
    if (!SetFilePointerEx(file, target, nullptr, FILE_BEGIN) || !SetEndOfFile(file)) {
      error = GetLastError();
      CloseHandle(file);
      return status_from_error(error);
    }
    current = target;
  }
  out.handle_ = reinterpret_cast<intptr_t>(file);
  out.size_ = static_cast<size_t>(current.QuadPart);
  td_status status = map_handle(file, true, out.data_);
  if (status != TD_OK) out.reset();
  return status;
}

bool MappedFile::lock_exclusive() {
  if (handle_ == -1) return false;
  OVERLAPPED position{};
  position.OffsetHigh = kLockOffsetHigh;
  return LockFileEx(as_handle(handle_), LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &position) != 0;
}

void MappedFile::unlock() {
  if (handle_ == -1) return;
  OVERLAPPED position{};
  position.OffsetHigh = kLockOffsetHigh;
  UnlockFileEx(as_handle(handle_), 0, 1, 0, &position);
}

td_status ensure_directory(const std::string& dir) {
  if (dir.empty()) return TD_ERR_INVALID_ARGUMENT;
  std::wstring wide = widen(dir);
  if (CreateDirectoryW(wide.c_str(), nullptr)) return TD_OK;
  DWORD error = GetLastError();
  if (error == ERROR_ALREADY_EXISTS) return TD_OK;
  if (error == ERROR_PATH_NOT_FOUND) {
    size_t separator = dir.find_last_of("\\/");
    if (separator == std::string::npos || separator == 0) return TD_ERR_NOT_FOUND;
    td_status status = ensure_directory(dir.substr(0, separator));
    if (status != TD_OK) return status;
    if (CreateDirectoryW(wide.c_str(), nullptr) || GetLastError() == ERROR_ALREADY_EXISTS) {
      return TD_OK;
    }
    error = GetLastError();
  }
  return status_from_error(error);
}

}  // namespace teardown
