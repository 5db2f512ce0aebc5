#include "next_provider.h"

#include <string>

#include "catalog.h"

namespace teardown::lsp {

namespace {

// The DLL path the catalog holds for `provider`, with its environment variables expanded.
bool provider_path(const GUID& provider, std::wstring& out, int& error) {
  WCHAR raw[MAX_PATH];
  int length = MAX_PATH;
  GUID id = provider;
  if (WSCGetProviderPath(&id, raw, &length, &error) == SOCKET_ERROR) return false;
  raw[MAX_PATH - 1] = L'\0';
  WCHAR expanded[MAX_PATH];
  DWORD chars = ExpandEnvironmentStringsW(raw, expanded, MAX_PATH);
  if (chars <= 1 || chars > MAX_PATH) {  // the count includes the terminating null
    error = WSAEPROVIDERFAILEDINIT;
    return false;
  }
  out.assign(expanded);
  return true;
}

int load(NextProvider& next, const WSAPROTOCOL_INFOW& entry) {
  int error = 0;
  std::wstring path;
  if (!provider_path(entry.ProviderId, path, error)) return error;
  next.module = LoadLibraryW(path.c_str());
  if (next.module == nullptr) return WSAEPROVIDERFAILEDINIT;
  return 0;
}

int start_lower(NextProvider& next, WORD version, WSPDATA& data, const WSPUPCALLTABLE& upcalls) {
  auto startup = reinterpret_cast<LPWSPSTARTUP>(
      reinterpret_cast<void (*)()>(GetProcAddress(next.module, "WSPStartup")));
  if (startup == nullptr) return WSAEPROVIDERFAILEDINIT;
  WSPPROC_TABLE table{};
  int error = startup(version, &data, &next.lower, upcalls, &table);
  if (error != 0) return error;
  if (!complete(table)) {
    int ignored = 0;
    if (table.lpWSPCleanup != nullptr) table.lpWSPCleanup(&ignored);
    return WSAEPROVIDERFAILEDINIT;
  }
  next.procs = table;
  ++next.starts;
  return 0;
}

}  // namespace

bool complete(const WSPPROC_TABLE& table) {
  const auto* entries = reinterpret_cast<void* const*>(&table);
  for (size_t i = 0; i < sizeof(table) / sizeof(void*); ++i) {
    if (entries[i] == nullptr) return false;
  }
  return true;
}

Providers& providers() {
  static Providers* instance = new Providers();  // never destroyed: sockets may outlive cleanup
  return *instance;
}

int Providers::start(WORD version, WSPDATA& data, const WSAPROTOCOL_INFOW& started,
                     const WSPUPCALLTABLE& upcalls) {
  std::lock_guard<std::mutex> hold(lock_);
  NextProvider* next = nullptr;
  for (auto& provider : providers_) {
    if (provider->chain_id == started.dwCatalogEntryId) next = provider.get();
  }
  if (next == nullptr) {
    CatalogSnapshot catalog;
    int error = 0;
    if (!catalog.read(error)) return error;
    NextHop hop;
    if (!find_next_hop(catalog, started, hop, error)) return error;
    auto created = std::make_unique<NextProvider>();
    created->chain_id = started.dwCatalogEntryId;
    created->layered = started;
    // A base provider is given its own entry; a layer below us is given the chain, as we were.
    created->lower = hop.is_base ? *hop.entry : started;
    created->ifs = hop.ifs;
    error = load(*created, *hop.entry);
    if (error != 0) return error;
    error = start_lower(*created, version, data, upcalls);
    if (error != 0) {
      FreeLibrary(created->module);
      return error;
    }
    providers_.push_back(std::move(created));
  } else {
    int error = start_lower(*next, version, data, upcalls);
    if (error != 0) return error;
  }
  ++total_starts_;
  return 0;
}

int Providers::end_start(bool& last) {
  std::lock_guard<std::mutex> hold(lock_);
  last = false;
  if (total_starts_ == 0) return WSANOTINITIALISED;
  last = --total_starts_ == 0;
  return 0;
}

int Providers::cleanup_below(int live_sockets) {
  std::lock_guard<std::mutex> hold(lock_);
  if (total_starts_ > 0) return 0;  // started again meanwhile: the providers below stay in use
  int result = 0;
  for (auto& provider : providers_) {
    for (; provider->starts > 0; --provider->starts) {
      int error = 0;
      if (provider->procs.lpWSPCleanup(&error) == SOCKET_ERROR && result == 0) result = error;
    }
  }
  // Sockets still open keep their provider's code and table: they are freed only when none is.
  if (live_sockets == 0) {
    for (auto& provider : providers_) FreeLibrary(provider->module);
    providers_.clear();
  }
  return result;
}

NextProvider* Providers::find(DWORD chain_id) {
  std::lock_guard<std::mutex> hold(lock_);
  for (auto& provider : providers_) {
    if (provider->chain_id == chain_id && provider->starts > 0) return provider.get();
  }
  return nullptr;
}

NextProvider* Providers::any() {
  std::lock_guard<std::mutex> hold(lock_);
  for (auto& provider : providers_) {
    if (provider->starts > 0) return provider.get();
  }
  return nullptr;
}

}  // namespace teardown::lsp
