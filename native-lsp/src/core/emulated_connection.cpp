#include "emulated_connection.h"

#include <new>

namespace teardown {

namespace {

std::mutex pool_lock;
EmulatedConnection* pool_free = nullptr;
std::atomic<bool> emulated_once{false};

}  // namespace

EmulatedConnection* acquire_connection() noexcept {
  EmulatedConnection* connection = nullptr;
  {
    std::lock_guard<std::mutex> hold(pool_lock);
    if (pool_free != nullptr) {
      connection = pool_free;
      pool_free = connection->next_free;
    }
  }
  if (connection != nullptr) {
    connection->stream.~EmulatedStream();
    new (&connection->stream) EmulatedStream();
  } else {
    connection = new (std::nothrow) EmulatedConnection();
    if (connection == nullptr) return nullptr;
  }
  connection->aborted.store(false, std::memory_order_relaxed);
  connection->references.store(1, std::memory_order_release);
  emulated_once.store(true, std::memory_order_release);
  return connection;
}

void share_connection(EmulatedConnection* connection) noexcept {
  connection->references.fetch_add(1, std::memory_order_relaxed);
}

void release_connection(EmulatedConnection* connection) noexcept {
  if (connection == nullptr ||
      connection->references.fetch_sub(1, std::memory_order_acq_rel) != 1) {
    return;
  }
  std::lock_guard<std::mutex> hold(pool_lock);
  connection->next_free = pool_free;
  pool_free = connection;
}

bool any_emulated() noexcept { return emulated_once.load(std::memory_order_relaxed); }

}  // namespace teardown
