#include "upcalls.h"

#include <mutex>

namespace teardown::lsp {

namespace {
WSPUPCALLTABLE table_{};
std::once_flag kept_;
}  // namespace

void keep_upcalls(const WSPUPCALLTABLE& table) {
  std::call_once(kept_, [&] { table_ = table; });
}

const WSPUPCALLTABLE& upcalls() {
  return table_;
}

}  // namespace teardown::lsp
