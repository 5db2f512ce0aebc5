// What the SPI host plays of ws2_32 for teardown_lsp.dll: an in-memory catalog (base entries,
// Teardown's hidden entry, its chains over them), the catalog calls the DLL imports, answered from
// it, and the 15-entry upcall table with real handles.
#pragma once

#include "../../src/core/win.h"  // the Windows headers, in the order they need

#include <mswsock.h>
#include <ws2spi.h>

#include <string>

namespace spi_host {

// Catalog ids of the host's entries. Each base entry has a Teardown chain over it (+100).
enum CatalogId : DWORD {
  kBaseTcp4 = 1001,
  kBaseTcp6 = 1002,
  kBaseDisconnectData = 1003,  // TCP/IPv4 carrying disconnect data (XP1_DISCONNECT_DATA)
  kBaseMessages = 1004,        // message-oriented: a graceful end is WSAEDISCON
  kBaseBoundElsewhere = 1005,  // TCP/IPv4 whose sockets the provider binds to a port of its own
  kTeardownHidden = 1100,
  kChainOffset = 100,
  // Another vendor's LSP, with Teardown layered over it: [Teardown, other, base TCP/IPv4].
  kOtherHidden = 1300,
  kChainOverOther = 1301,
  // Another vendor's LSP over Teardown: [upper, Teardown, base TCP/IPv4]. The host plays that
  // upper LSP, starting Teardown with this chain as an LSP above it would.
  kUpperHidden = 1400,
  kChainUnderUpper = 1401,
};

// Builds the catalog: base entries served by `base_dll`, Teardown's by `lsp_dll`, Teardown
// installed in compatible mode (its entries, and the other vendor's below it, carry
// XP1_IFS_HANDLES) or in full mode (none of theirs do). False with a message when the system's
// TCP entries (the templates) cannot be read.
bool build_catalog(const std::wstring& base_dll, const std::wstring& lsp_dll, bool compatible,
                   std::string& problem);

const WSAPROTOCOL_INFOW* catalog_entry(DWORD catalog_id);

// Points `module`'s imports of WSCEnumProtocols and WSCGetProviderPath at the host's catalog, and
// of WPUCompleteOverlappedRequest at the host's, as a ws2_32 with Teardown installed would answer
// them. False with a message when they are not there.
bool bind_catalog_imports(HMODULE module, std::string& problem);

// What ships must export WSPStartup and nothing else, and import only system DLLs. False with a
// message naming the first thing that is not so.
bool check_exports_and_imports(HMODULE module, std::string& problem);

// The upcall table handed to WSPStartup.
WSPUPCALLTABLE upcall_table();

// Socket handles made by WPUCreateSocketHandle and not yet closed.
size_t open_socket_handles();

// Handles registered with WPUModifyIFSHandle so far (ws2_32 routes the application's calls on
// them to the layer that registered them), and whether `s` is one of them.
size_t ifs_handles_registered();
bool registered_ifs_handle(SOCKET s);

// Calls of WPUCompleteOverlappedRequest so far: a layer completing requests itself. And of those,
// the ones whose OVERLAPPED the layer had already marked done (Internal no longer pending) before
// the call: the application could have freed it while the call still writes to it.
size_t overlapped_requests_completed();
size_t overlapped_requests_marked_done_early();

// What CreateIoCompletionPort does for a socket handle on Windows: from then on
// WPUCompleteOverlappedRequest also posts the socket's completions to `port` with `key`.
void associate_completion_port(SOCKET s, HANDLE port, ULONG_PTR key);

}  // namespace spi_host
