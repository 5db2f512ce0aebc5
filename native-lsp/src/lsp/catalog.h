// The Winsock catalog as WSPStartup needs it: a snapshot taken with WSCEnumProtocols, Teardown's
// hidden entry found by its GUID, and the next provider of the chain being started.
#pragma once

#include <vector>

#include "spi.h"

namespace teardown::lsp {

class CatalogSnapshot {
 public:
  // Reads the catalog; false with a Winsock error when it cannot be read.
  bool read(int& error);

  const WSAPROTOCOL_INFOW* by_id(DWORD catalog_id) const;
  // Teardown's hidden layered entry (chain length 0, our GUID), or null.
  const WSAPROTOCOL_INFOW* hidden_entry() const;

  const std::vector<WSAPROTOCOL_INFOW>& entries() const { return entries_; }

 private:
  std::vector<WSAPROTOCOL_INFOW> entries_;
};

// Where the chain being started continues below Teardown.
struct NextHop {
  const WSAPROTOCOL_INFOW* entry = nullptr;  // the next provider's own catalog entry
  bool is_base = false;  // the next layer is the base provider (the end of the chain)
  // Compatible mode: Teardown was installed with IFS handles (its hidden entry carries
  // XP1_IFS_HANDLES) and the provider below has them too, so the program gets the lower
  // provider's own handles. An IFS layer cannot stand on a non-IFS one: over such a provider
  // Teardown makes handles of its own, as in full mode.
  bool ifs = false;
};

// Finds Teardown's place in the chain of `started` (the entry WSPStartup was called for) and the
// provider after it. The chain an LSP above us hands down may have been altered, so when our id
// is not in it, our own catalog entry of the same id is used instead. False with
// WSAEPROVIDERFAILEDINIT when Teardown is not part of that chain or the next entry is missing.
bool find_next_hop(const CatalogSnapshot& catalog, const WSAPROTOCOL_INFOW& started, NextHop& out,
                   int& error);

}  // namespace teardown::lsp
