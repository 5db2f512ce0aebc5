// The data calls on a connection whose disconnect data is emulated (Policy::emulates, decided at
// connect or accept): the program's bytes framed on the way out and unframed on the way in by
// core/emulation.h, with the same results, errno and blocking behaviour as the plain calls.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <mutex>

#include "../core/emulation.h"

namespace teardown::preload {

struct EmulatedConnection {
  std::mutex writing;  // one write at a time keeps the records whole
  std::mutex reading;
  EmulatedStream stream;
  std::atomic<uint32_t> references{0};  // descriptors (dup) that share the connection
  std::atomic<bool> aborted{false};     // the layer reset it after a framing error
  EmulatedConnection* next_free = nullptr;
};

// From a pool that never gives memory back: a thread still inside a call on a descriptor another
// thread closed finds a connection, never freed memory.
EmulatedConnection* acquire_connection() noexcept;
void share_connection(EmulatedConnection* connection) noexcept;
void release_connection(EmulatedConnection* connection) noexcept;

// Whether this process has ever emulated a connection: while it has not, the data calls look no
// further.
bool any_emulated() noexcept;

// What the program asked for: its buffers, flags, and (recvfrom, recvmsg, sendto, sendmsg) the
// message header whose name and control parts pass through.
struct ProgramCall {
  const iovec* buffers;
  int count;
  int flags;
  msghdr* message;  // may be null
};

ssize_t emulated_send(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept;
ssize_t emulated_receive(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept;

// Before shutdown(SHUT_WR or SHUT_RDWR): the stream's own owed bytes, if the wire takes them now.
void flush_before_shutdown(int fd, EmulatedConnection& connection) noexcept;

// teardown_send_disconnect and teardown_recv_disconnect on an emulated connection; `error`
// receives the errno of a failure (0 on success).
int emulated_send_disconnect(int fd, EmulatedConnection& connection, const void* data,
                             size_t length, int& error) noexcept;
ssize_t emulated_recv_disconnect(int fd, EmulatedConnection& connection, void* buffer,
                                 size_t capacity, int& error) noexcept;

}  // namespace teardown::preload
