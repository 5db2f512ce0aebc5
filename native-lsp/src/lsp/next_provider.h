// The providers below Teardown: one per chain entry started, each loaded from the catalog's path,
// started once for every WSPStartup that named it, and cleaned up when Winsock cleans up.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "spi.h"

namespace teardown::lsp {

struct NextProvider {
  DWORD chain_id = 0;  // Teardown's chain entry: what the application's sockets are made on
  WSAPROTOCOL_INFOW layered{};  // that entry, as Winsock gave it (answers SO_PROTOCOL_INFOW)
  WSAPROTOCOL_INFOW lower{};    // what the next provider is given: its own entry, or the chain
  // Compatible mode (NextHop::ifs): the application's sockets are the lower provider's own
  // handles, and its requests go down with its own OVERLAPPED. Otherwise (full mode) Teardown
  // hands out handles of its own and completes the application's requests itself.
  bool ifs = false;
  HMODULE module = nullptr;
  WSPPROC_TABLE procs{};
  int starts = 0;  // successful lower WSPStartups not yet matched by a WSPCleanup
  // The provider's own extension functions (AcceptEx, ...), asked for once (see extensions.h).
  std::atomic<void*> extensions[8] = {};
};

class Providers {
 public:
  // Starts the provider below the chain entry `started`: loads it the first time, calls its
  // WSPStartup every time (Winsock cleans up as often as it started). 0 or a Winsock error.
  int start(WORD version, WSPDATA& data, const WSAPROTOCOL_INFOW& started,
            const WSPUPCALLTABLE& upcalls);

  // One WSPCleanup. Winsock does not say which startup it ends, so the lower providers are
  // cleaned up together when the last of ours is (`last`), by cleanup_below. 0 or a Winsock
  // error (WSANOTINITIALISED when nothing was started).
  int end_start(bool& last);

  // After the last WSPCleanup: each provider below is cleaned up as often as it was started,
  // and unloaded unless sockets still live (`live_sockets`). 0 or the first error below.
  int cleanup_below(int live_sockets);

  // The provider for sockets made on our chain entry `chain_id`, or null. Stable while started.
  NextProvider* find(DWORD chain_id);

  // Any started provider, for the calls that name no socket (WSPCancelBlockingCall).
  NextProvider* any();

 private:
  std::mutex lock_;
  std::vector<std::unique_ptr<NextProvider>> providers_;
  int total_starts_ = 0;
};

Providers& providers();

// True when all 30 entries of `table` are set: a provider that leaves one out cannot be layered.
bool complete(const WSPPROC_TABLE& table);

}  // namespace teardown::lsp
