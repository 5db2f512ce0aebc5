// The DLL's one export, WSPStartup, and a DllMain that does nothing it does not have to: the
// loader lock is held there, and everything of ours starts with the first WSPStartup instead.
#include "entry_points.h"
#include "next_provider.h"
#include "recorder.h"
#include "upcalls.h"

extern "C" BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID) {
  if (reason == DLL_PROCESS_ATTACH) DisableThreadLibraryCalls(instance);
  return TRUE;
}

extern "C" int WSPAPI WSPStartup(WORD version, LPWSPDATA data, LPWSAPROTOCOL_INFOW info,
                                 WSPUPCALLTABLE upcall_table, LPWSPPROC_TABLE table) {
  using namespace teardown::lsp;
  try {
    if (data == nullptr || info == nullptr || table == nullptr) return WSAEFAULT;
    if (LOBYTE(version) < 2) return WSAVERNOTSUPPORTED;
    keep_upcalls(upcall_table);
    int error = providers().start(version, *data, *info, upcall_table);
    if (error != 0) return error;
    producer().policy();  // attach to the channel now rather than in the first teardown
    *table = entry_points();
    return 0;
  } catch (...) {
    return WSAEPROVIDERFAILEDINIT;
  }
}
