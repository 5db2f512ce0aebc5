#include "sockets.h"

#include "upcalls.h"

namespace teardown::lsp {

SocketRef& SocketRef::operator=(SocketRef&& other) noexcept {
  if (this != &other) {
    if (context_ != nullptr) Sockets::release(context_);
    context_ = other.context_;
    other.context_ = nullptr;
  }
  return *this;
}

SocketRef::~SocketRef() {
  if (context_ != nullptr) Sockets::release(context_);
}

Sockets& sockets() {
  static Sockets* instance = new Sockets();  // never destroyed: Winsock may call during exit
  return *instance;
}

void Sockets::release(SocketContext* context) {
  if (context->references.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  Sockets& all = sockets();
  {
    std::lock_guard<std::mutex> hold(all.contexts_lock_);
    if (context->previous != nullptr) context->previous->next = context->next;
    if (context->next != nullptr) context->next->previous = context->previous;
    if (all.contexts_ == context) all.contexts_ = context->next;
  }
  context->magic = 0;
  release_connection(context->emulation.load(std::memory_order_acquire));
  all.live_.fetch_sub(1, std::memory_order_relaxed);
  delete context;
}

void Sockets::release_handle(SocketContext* context) {
  if (!context->retired.exchange(true, std::memory_order_acq_rel)) release(context);
}

SocketRef Sockets::create(SOCKET lower, NextProvider* provider, int& error) {
  auto* context = new SocketContext();
  context->lower = lower;
  context->provider = provider;
  SOCKET app = INVALID_SOCKET;
  if (provider->ifs) {
    // The handle stays the lower provider's: ws2_32 is told it is this entry's socket.
    AcquireSRWLockExclusive(&handles_);
    app = upcalls().lpWPUModifyIFSHandle(provider->chain_id, lower, &error);
    SocketContext* displaced = nullptr;
    if (app != INVALID_SOCKET) {
      context->app = app;
      SocketContext*& slot = ifs_handles_[app];
      displaced = slot;
      slot = context;
    }
    if (displaced != nullptr) {
      // Its socket was closed behind Teardown's back (CloseHandle, or a close in flight whose
      // lower socket is already gone): the value is the new socket's now.
      displaced->io.fetch_or(SocketContext::kClosedBit, std::memory_order_acq_rel);
      release_handle(displaced);
    }
    ReleaseSRWLockExclusive(&handles_);
  } else {
    app = upcalls().lpWPUCreateSocketHandle(provider->chain_id,
                                            reinterpret_cast<DWORD_PTR>(context), &error);
    context->app = app;
  }
  if (app == INVALID_SOCKET) {
    delete context;
    return SocketRef();
  }
  live_.fetch_add(1, std::memory_order_relaxed);
  context->references.fetch_add(1, std::memory_order_relaxed);  // the caller's
  std::lock_guard<std::mutex> hold(contexts_lock_);
  context->next = contexts_;
  if (contexts_ != nullptr) contexts_->previous = context;
  contexts_ = context;
  return SocketRef(context);
}

std::vector<SocketRef> Sockets::open_handles() {
  std::vector<SocketRef> open;
  open.reserve(static_cast<size_t>(live()) + 16);  // no allocation while references are taken
  std::lock_guard<std::mutex> hold(contexts_lock_);
  for (SocketContext* context = contexts_; context != nullptr && open.size() < open.capacity();
       context = context->next) {
    if (context->closing.load(std::memory_order_acquire) ||
        (context->io.load(std::memory_order_acquire) & SocketContext::kClosedBit) != 0) {
      continue;
    }
    // A context whose last reference is going (it waits for this lock to unlink) is not taken.
    long references = context->references.load(std::memory_order_relaxed);
    while (references > 0 && !context->references.compare_exchange_weak(
                                 references, references + 1, std::memory_order_acq_rel)) {
    }
    if (references > 0) open.emplace_back(context);
  }
  return open;
}

SocketRef Sockets::find(SOCKET app, int& error) {
  AcquireSRWLockShared(&handles_);
  DWORD_PTR value = 0;
  int query_error = 0;
  SocketContext* context = nullptr;
  bool known = false;
  if (!ifs_handles_.empty()) {
    auto found = ifs_handles_.find(app);
    if (found != ifs_handles_.end()) {
      value = reinterpret_cast<DWORD_PTR>(found->second);
      known = true;
    }
  }
  if (!known && upcalls().lpWPUQuerySocketHandleContext != nullptr &&
      upcalls().lpWPUQuerySocketHandleContext(app, &value, &query_error) == 0) {
    known = true;
  }
  if (known) {
    context = reinterpret_cast<SocketContext*>(value);
    // A handle closed while its requests finish is gone for the application already.
    if (context == nullptr || context->magic != SocketContext::kMagic || context->app != app ||
        (context->io.load(std::memory_order_acquire) & SocketContext::kClosedBit) != 0) {
      context = nullptr;
    } else {
      context->references.fetch_add(1, std::memory_order_relaxed);
    }
  }
  ReleaseSRWLockShared(&handles_);
  if (context == nullptr) error = WSAENOTSOCK;
  return SocketRef(context);
}

void Sockets::retire(SocketContext* context) {
  AcquireSRWLockExclusive(&handles_);
  if (context->provider->ifs) {
    // Only if the value is still this socket's: a new socket may have it already.
    auto found = ifs_handles_.find(context->app);
    if (found != ifs_handles_.end() && found->second == context) ifs_handles_.erase(found);
  } else {
    int ignored = 0;
    upcalls().lpWPUCloseSocketHandle(context->app, &ignored);
  }
  ReleaseSRWLockExclusive(&handles_);
  release_handle(context);
}

void Sockets::watch_lower(SocketContext* context) {
  std::lock_guard<std::mutex> hold(watched_lock_);
  auto [at, added] = watched_.emplace(context->lower, context);
  if (added) context->references.fetch_add(1, std::memory_order_relaxed);
  (void)at;
}

void Sockets::unwatch_lower(SOCKET lower) {
  SocketContext* context = nullptr;
  {
    std::lock_guard<std::mutex> hold(watched_lock_);
    auto found = watched_.find(lower);
    if (found == watched_.end()) return;
    context = found->second;
    watched_.erase(found);
  }
  release(context);
}

SocketRef Sockets::find_lower(SOCKET lower) {
  std::lock_guard<std::mutex> hold(watched_lock_);
  auto found = watched_.find(lower);
  if (found == watched_.end()) return SocketRef();
  found->second->references.fetch_add(1, std::memory_order_relaxed);
  return SocketRef(found->second);
}

}  // namespace teardown::lsp
