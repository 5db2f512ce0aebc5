// Where the LSP's events go: the producer of this process, writing to the standard channel
// (%ProgramData%\Teardown). It is made at the first WSPStartup, never in DllMain, and is never
// destroyed: sockets close while the process exits.
#pragma once

#include <cstddef>

#include "../core/producer.h"
#include "spi.h"

namespace teardown::lsp {

Producer& producer();

// Publishes `event` under the policy in force now.
void emit(td_event_record& event, const void* data = nullptr, size_t length = 0);

// An address in the event model's form; family NONE for anything else than IPv4 and IPv6.
td_address address_of(const sockaddr* address, int length);

}  // namespace teardown::lsp
