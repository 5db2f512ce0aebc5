#include "catalog.h"

namespace teardown::lsp {

namespace {

int position_in_chain(const WSAPROTOCOLCHAIN& chain, DWORD catalog_id) {
  int length = chain.ChainLen;
  if (length < 0 || length > MAX_PROTOCOL_CHAIN) return -1;
  for (int i = 0; i < length; ++i) {
    if (chain.ChainEntries[i] == catalog_id) return i;
  }
  return -1;
}

}  // namespace

bool CatalogSnapshot::read(int& error) {
  // The catalog can grow between the two calls: a few rounds, then give up.
  for (int round = 0; round < 4; ++round) {
    DWORD bytes = 0;
    int status = WSCEnumProtocols(nullptr, nullptr, &bytes, &error);
    if (status != SOCKET_ERROR || error != WSAENOBUFS) {
      if (status == SOCKET_ERROR) return false;
      entries_.clear();
      return true;
    }
    size_t count = bytes / sizeof(WSAPROTOCOL_INFOW) + 1;
    entries_.assign(count, WSAPROTOCOL_INFOW{});
    bytes = static_cast<DWORD>(count * sizeof(WSAPROTOCOL_INFOW));
    status = WSCEnumProtocols(nullptr, entries_.data(), &bytes, &error);
    if (status != SOCKET_ERROR) {
      entries_.resize(static_cast<size_t>(status));
      return true;
    }
    if (error != WSAENOBUFS) return false;
  }
  error = WSAENOBUFS;
  return false;
}

const WSAPROTOCOL_INFOW* CatalogSnapshot::by_id(DWORD catalog_id) const {
  for (const auto& entry : entries_) {
    if (entry.dwCatalogEntryId == catalog_id) return &entry;
  }
  return nullptr;
}

const WSAPROTOCOL_INFOW* CatalogSnapshot::hidden_entry() const {
  for (const auto& entry : entries_) {
    if (entry.ProtocolChain.ChainLen == LAYERED_PROTOCOL &&
        IsEqualGUID(entry.ProviderId, kProviderGuid)) {
      return &entry;
    }
  }
  return nullptr;
}

bool find_next_hop(const CatalogSnapshot& catalog, const WSAPROTOCOL_INFOW& started, NextHop& out,
                   int& error) {
  error = WSAEPROVIDERFAILEDINIT;
  const WSAPROTOCOL_INFOW* hidden = catalog.hidden_entry();
  if (hidden == nullptr) return false;
  const WSAPROTOCOLCHAIN* chain = &started.ProtocolChain;
  int at = position_in_chain(*chain, hidden->dwCatalogEntryId);
  if (at < 0) {
    const WSAPROTOCOL_INFOW* own = catalog.by_id(started.dwCatalogEntryId);
    if (own == nullptr) return false;
    chain = &own->ProtocolChain;
    at = position_in_chain(*chain, hidden->dwCatalogEntryId);
    if (at < 0) return false;
  }
  if (at + 1 >= chain->ChainLen) return false;
  out.entry = catalog.by_id(chain->ChainEntries[at + 1]);
  out.is_base = at + 2 == chain->ChainLen;
  if (out.entry == nullptr) return false;
  // A base provider's own entry has a chain of length 1; anything else below us is a layer.
  if (out.is_base && out.entry->ProtocolChain.ChainLen != BASE_PROTOCOL) return false;
  out.ifs = (hidden->dwServiceFlags1 & XP1_IFS_HANDLES) != 0 &&
            (out.entry->dwServiceFlags1 & XP1_IFS_HANDLES) != 0;
  error = 0;
  return true;
}

}  // namespace teardown::lsp
