// Teardown's WSPPROC_TABLE: what WSPStartup hands Winsock.
#pragma once

#include "spi.h"

namespace teardown::lsp {

const WSPPROC_TABLE& entry_points();

}  // namespace teardown::lsp
