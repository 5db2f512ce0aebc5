// The DLL's one export, WSPStartup, and a DllMain that does nothing it does not have to: the
// loader lock is held there, and everything of ours starts with the first WSPStartup instead.
#include "app_memory.h"
#include "entry_points.h"
#include "next_provider.h"
#include "recorder.h"
#include "upcalls.h"

#if defined(__GLIBCXX__)
// libstdc++'s emergency exception pool (about 73 KB), allocated when the DLL loads and otherwise
// never freed: each load and unload of the DLL would leave one behind.
namespace __gnu_cxx {
void __freeres() noexcept;
}
#endif

// Thread notifications stay on: the DLL links its C and C++ runtimes statically, and Microsoft's
// documentation of DisableThreadLibraryCalls says a DLL linked to the static CRT must not call
// it (the runtime needs DLL_THREAD_ATTACH and DLL_THREAD_DETACH to function properly).
extern "C" BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance;
  // Unloaded while the process lives on (reserved is null): give back the channel's mappings and
  // the runtime's pool. At process exit (reserved set) nothing is touched: other threads may
  // still be closing sockets.
  if (reason == DLL_PROCESS_DETACH && reserved == nullptr) {
    teardown::lsp::unguard_app_memory();
    teardown::lsp::release_producer();
#if defined(__GLIBCXX__)
    __gnu_cxx::__freeres();
#endif
  }
  return TRUE;
}

extern "C" int WSPAPI WSPStartup(WORD version, LPWSPDATA data, LPWSAPROTOCOL_INFOW info,
                                 WSPUPCALLTABLE upcall_table, LPWSPPROC_TABLE table) {
  using namespace teardown::lsp;
  try {
    if (data == nullptr || info == nullptr || table == nullptr) return WSAEFAULT;
    if (LOBYTE(version) < 2) return WSAVERNOTSUPPORTED;
    guard_app_memory();
    keep_upcalls(upcall_table);
    int error = providers().start(version, *data, *info, upcall_table);
    if (error != 0) return error;
    // Attached to the channel now rather than at the first teardown. Whatever the channel's state
    // (missing, damaged, not to be trusted), the process keeps its networking: calls pass through.
    producer().policy();
    *table = entry_points();
    return 0;
  } catch (...) {
    return WSAEPROVIDERFAILEDINIT;
  }
}
