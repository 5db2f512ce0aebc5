// teardown_catalog32.exe: the one Winsock catalog change that only a 32-bit process can make on
// 64-bit Windows. Every other call on the 32-bit catalog has a *32 form that the 64-bit
// installer makes itself (WSCEnumProtocols32, WSCDeinstallProvider32, WSCUpdateProvider32,
// WSCWriteProviderOrder32, WSCSetProviderInfo32), but installing has none since
// WSCInstallProvider64_32 (which wrote both catalogs) is unavailable from Vista on: its page says
// to call WSCInstallProvider once in each catalog, and in a 32-bit process that call writes the
// 32-bit catalog.
//
//   teardown_catalog32.exe install {GUID} DLLPATH ENTRYFILE
//
// ENTRYFILE holds one WSAPROTOCOL_INFOW as ws2spi.h lays it out: it has no pointers, so a 64-bit
// process writes the very bytes a 32-bit one reads. It prints "ok" and exits 0 when the entry is
// installed, "error N" (the Winsock error) and exits 1 when WSCInstallProvider fails, and names
// what was wrong and exits 2 when the arguments are.
#include "../core/win.h"

#include <ws2spi.h>

#include <cstdio>
#include <cstring>
#include <cwchar>

namespace {

int usage(const char* problem) {
  std::fprintf(stderr, "teardown_catalog32: %s\n", problem);
  std::fprintf(stderr, "usage: teardown_catalog32 install {GUID} DLLPATH ENTRYFILE\n");
  return 2;
}

int hex_digit(wchar_t c) {
  if (c >= L'0' && c <= L'9') return c - L'0';
  if (c >= L'a' && c <= L'f') return c - L'a' + 10;
  if (c >= L'A' && c <= L'F') return c - L'A' + 10;
  return -1;
}

// {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}, exactly.
bool parse_guid(const wchar_t* text, GUID& guid) {
  static const char kShape[] = "{........-....-....-....-............}";
  if (std::wcslen(text) != sizeof(kShape) - 1) return false;
  unsigned char bytes[16];
  int count = 0;
  for (size_t i = 0; i < sizeof(kShape) - 1; ++i) {
    if (kShape[i] != '.') {
      if (text[i] != static_cast<wchar_t>(kShape[i])) return false;
      continue;
    }
    int high = hex_digit(text[i]), low = hex_digit(text[i + 1]);
    if (high < 0 || low < 0 || kShape[i + 1] != '.') return false;
    bytes[count++] = static_cast<unsigned char>(high << 4 | low);
    ++i;
  }
  guid.Data1 = static_cast<unsigned long>(bytes[0]) << 24 | static_cast<unsigned long>(bytes[1]) << 16 |
               static_cast<unsigned long>(bytes[2]) << 8 | bytes[3];
  guid.Data2 = static_cast<unsigned short>(bytes[4] << 8 | bytes[5]);
  guid.Data3 = static_cast<unsigned short>(bytes[6] << 8 | bytes[7]);
  std::memcpy(guid.Data4, bytes + 8, 8);
  return true;
}

// The entry file: exactly one WSAPROTOCOL_INFOW, nothing more, nothing less.
bool read_entry(const wchar_t* path, WSAPROTOCOL_INFOW& entry) {
  HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return false;
  unsigned char bytes[sizeof(WSAPROTOCOL_INFOW) + 1];
  DWORD read = 0;
  BOOL ok = ReadFile(file, bytes, sizeof(bytes), &read, nullptr);
  CloseHandle(file);
  if (!ok || read != sizeof(WSAPROTOCOL_INFOW)) return false;
  std::memcpy(&entry, bytes, sizeof(entry));
  return true;
}

bool running_in_wow64() {
  BOOL wow64 = FALSE;
  return IsWow64Process(GetCurrentProcess(), &wow64) && wow64;
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  if (argc != 5 || std::wcscmp(argv[1], L"install") != 0) return usage("expected four arguments");
  // Only a 32-bit process on 64-bit Windows reaches the 32-bit catalog this way; anywhere else
  // WSCInstallProvider would write the native catalog.
  if (sizeof(void*) != 4 || !running_in_wow64()) {
    return usage("this is for the 32-bit catalog of 64-bit Windows, and must run there as a "
                 "32-bit process");
  }
  GUID guid;
  if (!parse_guid(argv[2], guid)) return usage("the provider GUID is not {XXXXXXXX-XXXX-...}");
  size_t path_length = std::wcslen(argv[3]);
  if (path_length == 0 || path_length >= MAX_PATH) return usage("the DLL path is empty or too long");
  WSAPROTOCOL_INFOW entry;
  if (!read_entry(argv[4], entry)) {
    return usage("the entry file cannot be read or does not hold exactly one WSAPROTOCOL_INFOW");
  }
  if (!IsEqualGUID(entry.ProviderId, guid)) return usage("the entry is not the GUID's");
  int error = 0;
  if (WSCInstallProvider(&guid, argv[3], &entry, 1, &error) != 0) {
    std::printf("error %d\n", error);
    return 1;
  }
  std::printf("ok\n");
  return 0;
}
