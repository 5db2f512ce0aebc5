#include "platform.h"
#include "win.h"

namespace teardown::platform {

namespace {
// 100 ns intervals between 1601-01-01 and 1970-01-01.
constexpr uint64_t kUnixEpochInFileTime = 116444736000000000ull;

std::string narrow(const wchar_t* text, int length) {
  int bytes = WideCharToMultiByte(CP_UTF8, 0, text, length, nullptr, 0, nullptr, nullptr);
  if (bytes <= 0) return {};
  std::string out(static_cast<size_t>(bytes), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, length, out.data(), bytes, nullptr, nullptr);
  return out;
}
}  // namespace

uint64_t wall_clock_ns() noexcept {
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  uint64_t ticks = (static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
  return (ticks - kUnixEpochInFileTime) * 100u;
}

uint64_t monotonic_ns() noexcept {
  static const uint64_t frequency = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return static_cast<uint64_t>(f.QuadPart);
  }();
  LARGE_INTEGER counter;
  QueryPerformanceCounter(&counter);
  uint64_t ticks = static_cast<uint64_t>(counter.QuadPart);
  return (ticks / frequency) * 1000000000ull + (ticks % frequency) * 1000000000ull / frequency;
}

uint32_t process_id() noexcept { return static_cast<uint32_t>(GetCurrentProcessId()); }

uint32_t cpu_count() noexcept {
  DWORD cpus = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  return cpus < 1 ? 1u : static_cast<uint32_t>(cpus);
}

// No thread-local variable: in a DLL that may be unloaded, mingw's emulated TLS would leave
// destructors behind in every thread. The thread id is in the thread's own block.
uint32_t thread_number() noexcept { return static_cast<uint32_t>(GetCurrentThreadId()) >> 2; }

std::string process_name() {
  wchar_t path[MAX_PATH * 2];
  DWORD n = GetModuleFileNameW(nullptr, path, static_cast<DWORD>(sizeof(path) / sizeof(path[0])));
  if (n == 0 || n >= sizeof(path) / sizeof(path[0])) return {};
  const wchar_t* base = path;
  for (DWORD i = 0; i < n; ++i) {
    if (path[i] == L'\\' || path[i] == L'/') base = path + i + 1;
  }
  return narrow(base, static_cast<int>(path + n - base));
}

std::string environment(const char* name) {
  wchar_t wide_name[128];
  if (MultiByteToWideChar(CP_UTF8, 0, name, -1, wide_name, 128) <= 0) return {};
  wchar_t value[1024];
  DWORD n = GetEnvironmentVariableW(wide_name, value, 1024);
  if (n == 0 || n >= 1024) return {};
  return narrow(value, static_cast<int>(n));
}

std::string system_channel_dir() {
  // FOLDERID_ProgramData from the known-folder API, never %ProgramData%: a process's
  // environment must not be able to send its events elsewhere. Shell32 is loaded only here,
  // when a process first attaches, never at load time.
  static const GUID kProgramData = {
      0x62AB5D82, 0xFDC1, 0x4DC3, {0xA9, 0xDD, 0x07, 0x0D, 0x1D, 0x49, 0x5D, 0x97}};
  using KnownFolderPath = HRESULT(WINAPI*)(const GUID&, DWORD, HANDLE, wchar_t**);
  using TaskMemFree = void(WINAPI*)(void*);
  std::string folder;
  HMODULE shell = LoadLibraryExW(L"shell32.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
  HMODULE ole = LoadLibraryExW(L"ole32.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (shell != nullptr && ole != nullptr) {
    auto known_folder_path = reinterpret_cast<KnownFolderPath>(
        reinterpret_cast<void*>(GetProcAddress(shell, "SHGetKnownFolderPath")));
    auto task_mem_free = reinterpret_cast<TaskMemFree>(
        reinterpret_cast<void*>(GetProcAddress(ole, "CoTaskMemFree")));
    wchar_t* path = nullptr;
    if (known_folder_path != nullptr && task_mem_free != nullptr &&
        SUCCEEDED(known_folder_path(kProgramData, 0x00004000 /* KF_FLAG_DONT_VERIFY */, nullptr,
                                    &path))) {
      int length = 0;
      while (path[length] != L'\0') ++length;
      folder = narrow(path, length);
    }
    if (path != nullptr && task_mem_free != nullptr) task_mem_free(path);
  }
  if (ole != nullptr) FreeLibrary(ole);
  if (shell != nullptr) FreeLibrary(shell);
  if (folder.empty()) {
    wchar_t windows[MAX_PATH];
    UINT n = GetSystemWindowsDirectoryW(windows, MAX_PATH);
    // The system drive's ProgramData, where every Windows since Vista keeps it.
    folder = (n >= 2 && n < MAX_PATH) ? narrow(windows, 2) + "\\ProgramData" : "C:\\ProgramData";
  }
  return folder + "\\Teardown";
}

std::string standard_channel_dir() {
  return system_channel_dir();
}

std::string default_channel_dir() {
  std::string configured = environment("TEARDOWN_CHANNEL");
  return configured.empty() ? standard_channel_dir() : configured;
}

std::string join_path(const std::string& dir, const char* name) {
  if (!dir.empty() && (dir.back() == '\\' || dir.back() == '/')) return dir + name;
  return dir + "\\" + name;
}

bool can_become(const std::string&) noexcept { return true; }

}  // namespace teardown::platform
