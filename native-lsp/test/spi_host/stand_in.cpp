#include "stand_in.h"

#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace spi_host {

// The installer binds WSAPROTOCOL_INFOW in Java (dev.teardown.admin.winsock.WsaProtocolInfo) with
// this layout, and its tests assert the same numbers: built for 64- and 32-bit Windows, this
// checks them against the real header.
static_assert(sizeof(WSAPROTOCOL_INFOW) == 628, "WSAPROTOCOL_INFOW size");
static_assert(offsetof(WSAPROTOCOL_INFOW, dwProviderFlags) == 16, "dwProviderFlags");
static_assert(offsetof(WSAPROTOCOL_INFOW, ProviderId) == 20, "ProviderId");
static_assert(offsetof(WSAPROTOCOL_INFOW, dwCatalogEntryId) == 36, "dwCatalogEntryId");
static_assert(offsetof(WSAPROTOCOL_INFOW, ProtocolChain) == 40, "ProtocolChain");
static_assert(offsetof(WSAPROTOCOL_INFOW, iVersion) == 72, "iVersion");
static_assert(offsetof(WSAPROTOCOL_INFOW, iAddressFamily) == 76, "iAddressFamily");
static_assert(offsetof(WSAPROTOCOL_INFOW, iSocketType) == 88, "iSocketType");
static_assert(offsetof(WSAPROTOCOL_INFOW, iProtocol) == 92, "iProtocol");
static_assert(offsetof(WSAPROTOCOL_INFOW, dwMessageSize) == 108, "dwMessageSize");
static_assert(offsetof(WSAPROTOCOL_INFOW, dwProviderReserved) == 112, "dwProviderReserved");
static_assert(offsetof(WSAPROTOCOL_INFOW, szProtocol) == 116, "szProtocol");
static_assert(sizeof(WSAPROTOCOLCHAIN) == 32, "WSAPROTOCOLCHAIN size");

namespace {

// The base provider's GUID, and one for each Teardown chain entry (the hidden one is Teardown's).
constexpr GUID kBaseGuid = {0x1C0FFEE1, 0x7E57, 0x4BA5, {0xB0, 0x5E, 0, 0, 0, 0, 0, 0x01}};
constexpr GUID kTeardownGuid = {
    0x7E2A5D1C, 0x6B3F, 0x4C8E, {0x9A, 0x0D, 0x2F, 0x1B, 0x4C, 0x6D, 0x8E, 0x10}};

struct Entry {
  WSAPROTOCOL_INFOW info;
  std::wstring path;
};

std::vector<Entry> catalog_;

GUID chain_guid(DWORD catalog_id) {
  GUID guid = kBaseGuid;
  guid.Data4[6] = 0xC4;
  guid.Data4[7] = static_cast<unsigned char>(catalog_id & 0xFF);
  return guid;
}

bool system_template(int family, WSAPROTOCOL_INFOW& out) {
  int protocols[] = {IPPROTO_TCP, 0};
  DWORD bytes = 0;
  WSAEnumProtocolsW(protocols, nullptr, &bytes);
  std::vector<WSAPROTOCOL_INFOW> entries(bytes / sizeof(WSAPROTOCOL_INFOW) + 1);
  bytes = static_cast<DWORD>(entries.size() * sizeof(WSAPROTOCOL_INFOW));
  int count = WSAEnumProtocolsW(protocols, entries.data(), &bytes);
  for (size_t i = 0; count > 0 && i < static_cast<size_t>(count); ++i) {
    if (entries[i].iAddressFamily == family && entries[i].iSocketType == SOCK_STREAM) {
      out = entries[i];
      return true;
    }
  }
  return false;
}

void name(WSAPROTOCOL_INFOW& info, const std::wstring& text) {
  std::memset(info.szProtocol, 0, sizeof(info.szProtocol));
  text.copy(info.szProtocol, WSAPROTOCOL_LEN);
}

// --- Catalog calls, as ws2_32 answers them -------------------------------------------------

int WSPAPI enum_protocols(LPINT protocols, LPWSAPROTOCOL_INFOW buffer, LPDWORD length,
                          LPINT error) {
  std::vector<const WSAPROTOCOL_INFOW*> selected;
  for (const Entry& entry : catalog_) {
    bool wanted = protocols == nullptr;
    for (int i = 0; protocols != nullptr && protocols[i] != 0; ++i) {
      wanted = wanted || protocols[i] == entry.info.iProtocol;
    }
    if (wanted) selected.push_back(&entry.info);
  }
  DWORD needed = static_cast<DWORD>(selected.size() * sizeof(WSAPROTOCOL_INFOW));
  if (buffer == nullptr || *length < needed) {
    *length = needed;
    *error = WSAENOBUFS;
    return SOCKET_ERROR;
  }
  for (size_t i = 0; i < selected.size(); ++i) buffer[i] = *selected[i];
  return static_cast<int>(selected.size());
}

int WSPAPI provider_path(LPGUID provider, WCHAR* path, LPINT length, LPINT error) {
  for (const Entry& entry : catalog_) {
    if (!IsEqualGUID(entry.info.ProviderId, *provider)) continue;
    if (*length <= static_cast<int>(entry.path.size())) {
      *length = static_cast<int>(entry.path.size()) + 1;
      *error = WSAEFAULT;
      return SOCKET_ERROR;
    }
    std::memcpy(path, entry.path.c_str(), (entry.path.size() + 1) * sizeof(WCHAR));
    *length = static_cast<int>(entry.path.size()) + 1;
    return 0;
  }
  *error = WSAEINVAL;
  return SOCKET_ERROR;
}

// --- Upcalls --------------------------------------------------------------------------------

struct Handle {
  DWORD catalog_id;
  DWORD_PTR context;
  HANDLE port = nullptr;  // associated with a completion port, as CreateIoCompletionPort does
  ULONG_PTR key = 0;
};
std::mutex handles_lock_;
std::map<SOCKET, Handle> handles_;
// WPUModifyIFSHandle's registrations: handle to the catalog entry whose layer owns it.
std::map<SOCKET, DWORD> ifs_handles_;
size_t ifs_registrations_ = 0;
size_t completions_ = 0;
size_t marked_early_ = 0;

// ws2_32 exports it directly rather than in the upcall table. As documented: InternalHigh gets the
// byte count, Internal leaves WSS_OPERATION_IN_PROGRESS, the event is signalled, and the
// completion is posted to the socket's port unless the event's low bit asks not to.
int WSPAPI complete_overlapped_request(SOCKET s, LPWSAOVERLAPPED overlapped, DWORD, DWORD bytes,
                                       LPINT error) {
  HANDLE port = nullptr;
  ULONG_PTR key = 0;
  {
    std::lock_guard<std::mutex> hold(handles_lock_);
    ++completions_;
    if (overlapped->Internal != static_cast<ULONG_PTR>(WSS_OPERATION_IN_PROGRESS)) ++marked_early_;
    auto found = handles_.find(s);
    if (found == handles_.end()) {
      *error = WSAEINVAL;
      return SOCKET_ERROR;
    }
    port = found->second.port;
    key = found->second.key;
  }
  overlapped->InternalHigh = bytes;
  overlapped->Internal = 0;
  auto event = reinterpret_cast<ULONG_PTR>(overlapped->hEvent);
  if (event != 0) SetEvent(reinterpret_cast<HANDLE>(event & ~ULONG_PTR{1}));
  if (port != nullptr && (event & 1) == 0) {
    PostQueuedCompletionStatus(port, bytes, key, reinterpret_cast<LPOVERLAPPED>(overlapped));
  }
  return 0;
}

SOCKET WSPAPI create_socket_handle(DWORD catalog_id, DWORD_PTR context, LPINT error) {
  // A real kernel handle, as ws2_32's are: its value is unique for as long as it is open.
  HANDLE handle = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (handle == nullptr) {
    *error = WSAENOBUFS;
    return INVALID_SOCKET;
  }
  std::lock_guard<std::mutex> hold(handles_lock_);
  handles_[reinterpret_cast<SOCKET>(handle)] = Handle{catalog_id, context, nullptr, 0};
  return reinterpret_cast<SOCKET>(handle);
}

int WSPAPI close_socket_handle(SOCKET s, LPINT error) {
  std::lock_guard<std::mutex> hold(handles_lock_);
  auto found = handles_.find(s);
  if (found == handles_.end()) {
    *error = WSAENOTSOCK;
    return SOCKET_ERROR;
  }
  handles_.erase(found);
  CloseHandle(reinterpret_cast<HANDLE>(s));
  return 0;
}

int WSPAPI query_socket_handle_context(SOCKET s, PDWORD_PTR context, LPINT error) {
  std::lock_guard<std::mutex> hold(handles_lock_);
  auto found = handles_.find(s);
  if (found == handles_.end()) {
    *error = WSAENOTSOCK;
    return SOCKET_ERROR;
  }
  *context = found->second.context;
  return 0;
}

BOOL WSPAPI close_event(WSAEVENT event, LPINT error) {
  if (WSACloseEvent(event)) return TRUE;
  *error = WSAGetLastError();
  return FALSE;
}

WSAEVENT WSPAPI create_event(LPINT error) {
  WSAEVENT event = WSACreateEvent();
  if (event == WSA_INVALID_EVENT) *error = WSAGetLastError();
  return event;
}

int WSPAPI fd_is_set(SOCKET s, fd_set* set) {
  for (u_int i = 0; set != nullptr && i < set->fd_count; ++i) {
    if (set->fd_array[i] == s) return 1;
  }
  return 0;
}

// As ws2_32 does: the handle, a real one of the provider below, is recorded as the layer's, so
// that the application's calls on it go to that layer. A handle that is no socket is refused.
SOCKET WSPAPI modify_ifs_handle(DWORD catalog_id, SOCKET proposed, LPINT error) {
  int type = 0, length = sizeof(type);
  if (getsockopt(proposed, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &length) != 0) {
    *error = WSAEINVAL;
    return INVALID_SOCKET;
  }
  std::lock_guard<std::mutex> hold(handles_lock_);
  ifs_handles_[proposed] = catalog_id;
  ++ifs_registrations_;
  return proposed;
}

BOOL WSPAPI post_message(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
  return PostMessageW(window, message, wparam, lparam);
}

int WSPAPI query_blocking_callback(DWORD, LPBLOCKINGCALLBACK* callback, PDWORD_PTR context, LPINT) {
  *callback = nullptr;  // Winsock 2 applications have no blocking hook
  *context = 0;
  return 0;
}

int WSPAPI queue_apc(LPWSATHREADID thread, LPWSAUSERAPC routine, DWORD_PTR context, LPINT error) {
  if (QueueUserAPC(reinterpret_cast<PAPCFUNC>(routine), thread->ThreadHandle, context)) return 0;
  *error = WSAEINVAL;
  return SOCKET_ERROR;
}

BOOL WSPAPI reset_event(WSAEVENT event, LPINT error) {
  if (WSAResetEvent(event)) return TRUE;
  *error = WSAGetLastError();
  return FALSE;
}

BOOL WSPAPI set_event(WSAEVENT event, LPINT error) {
  if (WSASetEvent(event)) return TRUE;
  *error = WSAGetLastError();
  return FALSE;
}

int WSPAPI open_current_thread(LPWSATHREADID thread, LPINT error) {
  HANDLE process = GetCurrentProcess();
  if (!DuplicateHandle(process, GetCurrentThread(), process, &thread->ThreadHandle, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    *error = WSAENOBUFS;
    return SOCKET_ERROR;
  }
  thread->Reserved = 0;
  return 0;
}

int WSPAPI close_thread(LPWSATHREADID thread, LPINT error) {
  if (CloseHandle(thread->ThreadHandle)) return 0;
  *error = WSAEINVAL;
  return SOCKET_ERROR;
}

}  // namespace

bool build_catalog(const std::wstring& base_dll, const std::wstring& lsp_dll, bool compatible,
                   std::string& problem) {
  catalog_.clear();
  WSAPROTOCOL_INFOW tcp4{}, tcp6{};
  if (!system_template(AF_INET, tcp4) || !system_template(AF_INET6, tcp6)) {
    problem = "the system lists no TCP/IPv4 or TCP/IPv6 entry to copy";
    return false;
  }
  auto base = [&](WSAPROTOCOL_INFOW info, DWORD id, DWORD extra_flags, const wchar_t* label) {
    info.dwCatalogEntryId = id;
    info.ProviderId = kBaseGuid;
    info.ProtocolChain.ChainLen = BASE_PROTOCOL;
    info.ProtocolChain.ChainEntries[0] = id;
    info.dwServiceFlags1 |= extra_flags;
    if ((extra_flags & XP1_MESSAGE_ORIENTED) != 0) info.dwServiceFlags1 &= ~static_cast<DWORD>(XP1_PSEUDO_STREAM);
    name(info, label);
    catalog_.push_back(Entry{info, base_dll});
  };
  base(tcp4, kBaseTcp4, 0, L"Test base [TCP/IP]");
  base(tcp6, kBaseTcp6, 0, L"Test base [TCP/IPv6]");
  base(tcp4, kBaseDisconnectData, XP1_DISCONNECT_DATA, L"Test base [TCP/IP, disconnect data]");
  base(tcp4, kBaseMessages, XP1_MESSAGE_ORIENTED, L"Test base [TCP/IP, message-oriented]");
  base(tcp4, kBaseBoundElsewhere, 0, L"Test base [TCP/IP, bound to a port of its own]");
  catalog_.back().info.dwServiceFlags4 = 0x7E57B0;  // base_provider.cpp's kBoundElsewhere

  // What `teardown install --mode` writes: the IFS flag kept (compatible) or cleared (full).
  auto mode_flags = [compatible](WSAPROTOCOL_INFOW& info) {
    if (compatible) {
      info.dwServiceFlags1 |= XP1_IFS_HANDLES;
    } else {
      info.dwServiceFlags1 &= ~static_cast<DWORD>(XP1_IFS_HANDLES);
    }
  };
  // Teardown's hidden entry: a copy of a base entry, chain length 0.
  WSAPROTOCOL_INFOW hidden = tcp4;
  hidden.dwCatalogEntryId = kTeardownHidden;
  hidden.ProviderId = kTeardownGuid;
  hidden.ProtocolChain.ChainLen = LAYERED_PROTOCOL;
  hidden.ProtocolChain.ChainEntries[0] = 0;
  hidden.dwProviderFlags |= PFL_HIDDEN;
  mode_flags(hidden);
  name(hidden, L"Teardown");
  catalog_.push_back(Entry{hidden, lsp_dll});

  size_t bases = catalog_.size() - 1;
  for (size_t i = 0; i < bases; ++i) {
    WSAPROTOCOL_INFOW chain = catalog_[i].info;
    DWORD base_id = chain.dwCatalogEntryId;
    chain.dwCatalogEntryId = base_id + kChainOffset;
    chain.ProviderId = chain_guid(chain.dwCatalogEntryId);
    chain.ProtocolChain.ChainLen = 2;
    chain.ProtocolChain.ChainEntries[0] = kTeardownHidden;
    chain.ProtocolChain.ChainEntries[1] = base_id;
    mode_flags(chain);
    name(chain, std::wstring(L"Teardown over [") + catalog_[i].info.szProtocol + L"]");
    catalog_.push_back(Entry{chain, lsp_dll});
  }

  // Another LSP below Teardown: its DLL is the base provider's, started as a layer with the chain.
  // Its handles are real ones; an IFS Teardown may only stand on an IFS layer, so it is one in
  // compatible mode.
  WSAPROTOCOL_INFOW other = hidden;
  other.dwCatalogEntryId = kOtherHidden;
  other.ProviderId = chain_guid(kOtherHidden);
  name(other, L"Other vendor");
  catalog_.push_back(Entry{other, base_dll});
  WSAPROTOCOL_INFOW over_other = catalog_[0].info;
  over_other.dwCatalogEntryId = kChainOverOther;
  over_other.ProviderId = chain_guid(kChainOverOther);
  over_other.ProtocolChain.ChainLen = 3;
  over_other.ProtocolChain.ChainEntries[0] = kTeardownHidden;
  over_other.ProtocolChain.ChainEntries[1] = kOtherHidden;
  over_other.ProtocolChain.ChainEntries[2] = kBaseTcp4;
  mode_flags(over_other);
  name(over_other, L"Teardown over [Other vendor over [Test base [TCP/IP]]]");
  catalog_.push_back(Entry{over_other, lsp_dll});

  // Another LSP above Teardown.
  WSAPROTOCOL_INFOW upper = hidden;
  upper.dwCatalogEntryId = kUpperHidden;
  upper.ProviderId = chain_guid(kUpperHidden);
  name(upper, L"Upper vendor");
  catalog_.push_back(Entry{upper, L"upper_vendor.dll"});
  WSAPROTOCOL_INFOW under_upper = over_other;
  under_upper.dwCatalogEntryId = kChainUnderUpper;
  under_upper.ProviderId = chain_guid(kChainUnderUpper);
  under_upper.ProtocolChain.ChainEntries[0] = kUpperHidden;
  under_upper.ProtocolChain.ChainEntries[1] = kTeardownHidden;
  under_upper.ProtocolChain.ChainEntries[2] = kBaseTcp4;
  name(under_upper, L"Upper vendor over [Teardown over [Test base [TCP/IP]]]");
  catalog_.push_back(Entry{under_upper, L"upper_vendor.dll"});
  return true;
}

const WSAPROTOCOL_INFOW* catalog_entry(DWORD catalog_id) {
  for (const Entry& entry : catalog_) {
    if (entry.info.dwCatalogEntryId == catalog_id) return &entry.info;
  }
  return nullptr;
}

namespace {
const IMAGE_DATA_DIRECTORY& data_directory(HMODULE module, int which) {
  auto* base = reinterpret_cast<BYTE*>(module);
  auto* dos = reinterpret_cast<IMAGE_DOS_HEADER*>(base);
  auto* nt = reinterpret_cast<IMAGE_NT_HEADERS*>(base + dos->e_lfanew);
  return nt->OptionalHeader.DataDirectory[which];
}
}  // namespace

bool check_exports_and_imports(HMODULE module, std::string& problem) {
  auto* base = reinterpret_cast<BYTE*>(module);
  const IMAGE_DATA_DIRECTORY& exports = data_directory(module, IMAGE_DIRECTORY_ENTRY_EXPORT);
  auto* directory = reinterpret_cast<IMAGE_EXPORT_DIRECTORY*>(base + exports.VirtualAddress);
  auto* names = reinterpret_cast<DWORD*>(base + directory->AddressOfNames);
  if (exports.VirtualAddress == 0 || directory->NumberOfFunctions != 1 ||
      directory->NumberOfNames != 1 ||
      std::strcmp(reinterpret_cast<char*>(base + names[0]), "WSPStartup") != 0) {
    problem = "teardown_lsp.dll must export WSPStartup and nothing else";
    return false;
  }
  static const char* const system_dlls[] = {"kernel32.dll", "advapi32.dll", "msvcrt.dll",
                                            "user32.dll", "ws2_32.dll"};
  const IMAGE_DATA_DIRECTORY& imports = data_directory(module, IMAGE_DIRECTORY_ENTRY_IMPORT);
  auto* import = reinterpret_cast<IMAGE_IMPORT_DESCRIPTOR*>(base + imports.VirtualAddress);
  for (; import->Name != 0; ++import) {
    const char* dll = reinterpret_cast<char*>(base + import->Name);
    bool known = false;
    for (const char* system : system_dlls) known = known || lstrcmpiA(dll, system) == 0;
    if (!known) {
      problem = std::string("teardown_lsp.dll imports ") + dll + ", which is not a system DLL";
      return false;
    }
  }
  return true;
}

bool bind_catalog_imports(HMODULE module, std::string& problem) {
  auto* base = reinterpret_cast<BYTE*>(module);
  const IMAGE_DATA_DIRECTORY& directory = data_directory(module, IMAGE_DIRECTORY_ENTRY_IMPORT);
  auto* import = reinterpret_cast<IMAGE_IMPORT_DESCRIPTOR*>(base + directory.VirtualAddress);
  int bound = 0;
  for (; import->Name != 0; ++import) {
    if (lstrcmpiA(reinterpret_cast<char*>(base + import->Name), "ws2_32.dll") != 0) continue;
    auto* names = reinterpret_cast<IMAGE_THUNK_DATA*>(base + import->OriginalFirstThunk);
    auto* slots = reinterpret_cast<IMAGE_THUNK_DATA*>(base + import->FirstThunk);
    for (; names->u1.AddressOfData != 0; ++names, ++slots) {
      if (IMAGE_SNAP_BY_ORDINAL(names->u1.Ordinal)) continue;
      auto* by_name = reinterpret_cast<IMAGE_IMPORT_BY_NAME*>(base + names->u1.AddressOfData);
      const char* function = reinterpret_cast<const char*>(by_name->Name);
      void* replacement = nullptr;
      if (std::strcmp(function, "WSCEnumProtocols") == 0) {
        replacement = reinterpret_cast<void*>(&enum_protocols);
      } else if (std::strcmp(function, "WSCGetProviderPath") == 0) {
        replacement = reinterpret_cast<void*>(&provider_path);
      } else if (std::strcmp(function, "WPUCompleteOverlappedRequest") == 0) {
        replacement = reinterpret_cast<void*>(&complete_overlapped_request);
      }
      if (replacement == nullptr) continue;
      DWORD protection = 0;
      VirtualProtect(&slots->u1.Function, sizeof(void*), PAGE_READWRITE, &protection);
      slots->u1.Function = reinterpret_cast<ULONG_PTR>(replacement);
      VirtualProtect(&slots->u1.Function, sizeof(void*), protection, &protection);
      ++bound;
    }
  }
  if (bound != 3) {
    problem =
        "teardown_lsp.dll does not import WSCEnumProtocols, WSCGetProviderPath and "
        "WPUCompleteOverlappedRequest from ws2_32.dll";
    return false;
  }
  return true;
}

WSPUPCALLTABLE upcall_table() {
  WSPUPCALLTABLE table{};
  table.lpWPUCloseEvent = close_event;
  table.lpWPUCloseSocketHandle = close_socket_handle;
  table.lpWPUCreateEvent = create_event;
  table.lpWPUCreateSocketHandle = create_socket_handle;
  table.lpWPUFDIsSet = fd_is_set;
  table.lpWPUGetProviderPath = provider_path;
  table.lpWPUModifyIFSHandle = modify_ifs_handle;
  table.lpWPUPostMessage = post_message;
  table.lpWPUQueryBlockingCallback = query_blocking_callback;
  table.lpWPUQuerySocketHandleContext = query_socket_handle_context;
  table.lpWPUQueueApc = queue_apc;
  table.lpWPUResetEvent = reset_event;
  table.lpWPUSetEvent = set_event;
  table.lpWPUOpenCurrentThread = open_current_thread;
  table.lpWPUCloseThread = close_thread;
  return table;
}

void associate_completion_port(SOCKET s, HANDLE port, ULONG_PTR key) {
  std::lock_guard<std::mutex> hold(handles_lock_);
  auto found = handles_.find(s);
  if (found == handles_.end()) return;
  found->second.port = port;
  found->second.key = key;
}

size_t open_socket_handles() {
  std::lock_guard<std::mutex> hold(handles_lock_);
  return handles_.size();
}

size_t ifs_handles_registered() {
  std::lock_guard<std::mutex> hold(handles_lock_);
  return ifs_registrations_;
}

bool registered_ifs_handle(SOCKET s) {
  std::lock_guard<std::mutex> hold(handles_lock_);
  return ifs_handles_.count(s) != 0;
}

size_t overlapped_requests_completed() {
  std::lock_guard<std::mutex> hold(handles_lock_);
  return completions_;
}

size_t overlapped_requests_marked_done_early() {
  std::lock_guard<std::mutex> hold(handles_lock_);
  return marked_early_;
}

}  // namespace spi_host
