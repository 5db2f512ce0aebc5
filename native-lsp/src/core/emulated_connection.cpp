#include "emulated_connection.h"

#include <new>

namespace teardown {

std::atomic<bool> emulated_once{false};

namespace {

// Connections live in chunks that are allocated on demand and never freed, found by index. The
// free list is a stack of indexes whose head carries a tag that changes on every push and pop,
// so that a pop that raced other pops and pushes fails its compare-exchange instead of taking a
// connection twice: no lock, safe in a signal handler and across fork.
constexpr uint32_t kChunkSize = 16;     // a connection holds its stream's staging area (64 KiB)
constexpr uint32_t kMaxChunks = 65536;  // about a million connections at once

std::atomic<EmulatedConnection*> chunks[kMaxChunks] = {};
std::atomic<uint32_t> created{0};
std::atomic<uint64_t> free_head{0};  // tag << 32 | (index + 1); low half 0: empty
// How many connections lock_all_connections locked: the forking thread's own count (threads may
// fork at once; fork's handlers all run in the thread that forks, and in the child's copy of it).
thread_local uint32_t locked_for_fork = 0;

EmulatedConnection* at(uint32_t index) {
  return &chunks[index / kChunkSize].load(std::memory_order_acquire)[index % kChunkSize];
}

uint64_t head_of(uint64_t previous, uint32_t link) {
  return ((previous >> 32) + 1) << 32 | link;
}

EmulatedConnection* pop_free() {
  uint64_t head = free_head.load(std::memory_order_acquire);
  for (;;) {
    uint32_t link = static_cast<uint32_t>(head);
    if (link == 0) return nullptr;
    EmulatedConnection* top = at(link - 1);
    uint32_t next = top->next_free.load(std::memory_order_relaxed);
    if (free_head.compare_exchange_weak(head, head_of(head, next), std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return top;
    }
  }
}

void push_free(EmulatedConnection* connection) {
  uint64_t head = free_head.load(std::memory_order_relaxed);
  do {
    connection->next_free.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
  } while (!free_head.compare_exchange_weak(head, head_of(head, connection->index + 1),
                                            std::memory_order_acq_rel, std::memory_order_relaxed));
}

// A connection never used before; null when memory is short or the pool is full.
EmulatedConnection* create() {
  uint32_t index = created.load(std::memory_order_relaxed);
  for (;;) {
    if (index >= kChunkSize * kMaxChunks) return nullptr;
    std::atomic<EmulatedConnection*>& chunk = chunks[index / kChunkSize];
    if (chunk.load(std::memory_order_acquire) == nullptr) {
      EmulatedConnection* fresh = new (std::nothrow) EmulatedConnection[kChunkSize];
      if (fresh == nullptr) return nullptr;
      EmulatedConnection* expected = nullptr;
      if (!chunk.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
        delete[] fresh;  // another thread installed this chunk first
      }
    }
    if (created.compare_exchange_weak(index, index + 1, std::memory_order_acq_rel)) break;
  }
  EmulatedConnection* connection = at(index);
  connection->index = index;
  return connection;
}

}  // namespace

EmulatedConnection* acquire_connection() noexcept {
  EmulatedConnection* connection = pop_free();
  if (connection != nullptr) {
    connection->stream.~EmulatedStream();
    new (&connection->stream)
        EmulatedStream;  // default-initialised: the staging area is not cleared
  } else {
    connection = create();
    if (connection == nullptr) return nullptr;
  }
  connection->aborted.store(false, std::memory_order_relaxed);
  connection->urgent_inline.store(false, std::memory_order_relaxed);
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
  push_free(connection);
}

void lock_all_connections() noexcept {
  uint32_t count = created.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < count; ++i) {
    at(i)->writing.lock();
    at(i)->reading.lock();
  }
  locked_for_fork = count;
}

void unlock_all_connections() noexcept {
  for (uint32_t i = 0; i < locked_for_fork; ++i) {
    at(i)->reading.unlock();
    at(i)->writing.unlock();
  }
  locked_for_fork = 0;
}

}  // namespace teardown
