// The Winsock service provider interface, included in one place, after the core's Windows headers.
#pragma once

#include "../core/win.h"

#include <mswsock.h>
#include <ws2spi.h>

namespace teardown::lsp {

// Teardown's provider GUID: its hidden layered entry carries it (the installer writes it, see
// dev.teardown.admin.catalog.TeardownProvider), and WSPStartup finds its entries by it.
// {7E2A5D1C-6B3F-4C8E-9A0D-2F1B4C6D8E10}
constexpr GUID kProviderGuid = {
    0x7E2A5D1C, 0x6B3F, 0x4C8E, {0x9A, 0x0D, 0x2F, 0x1B, 0x4C, 0x6D, 0x8E, 0x10}};

}  // namespace teardown::lsp
