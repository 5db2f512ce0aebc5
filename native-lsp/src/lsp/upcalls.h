// Winsock's upcall table, as WSPStartup received it: how the LSP makes handles, finds its context
// for one, and posts messages and APCs to the application.
#pragma once

#include "spi.h"

namespace teardown::lsp {

// Kept from the first WSPStartup; Winsock hands every startup the same table.
void keep_upcalls(const WSPUPCALLTABLE& table);
const WSPUPCALLTABLE& upcalls();

}  // namespace teardown::lsp
