// The data calls on a connection whose disconnect data is emulated (Policy::emulates, decided at
// connect or accept): the program's bytes framed on the way out and unframed on the way in by
// core/emulation.h, with the same results, errno and blocking behaviour as the plain calls.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

#include "../core/emulated_connection.h"

namespace teardown::preload {

// What the program asked for: its buffers, flags, and (recvfrom, recvmsg, sendto, sendmsg) the
// message header whose name and control parts pass through.
struct ProgramCall {
  const iovec* buffers;
  int count;
  int flags;
  msghdr* message;  // may be null
  // What the layer knows of the socket's O_NONBLOCK (from the calls it saw): a blocking
  // socket's receive first waits for bytes, then reads them without waiting.
  bool known_blocking = false;
};

ssize_t emulated_send(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept;
ssize_t emulated_receive(int fd, EmulatedConnection& connection, const ProgramCall& call) noexcept;

// sendfile onto an emulated connection: the file's bytes framed like any send's.
ssize_t emulated_sendfile(int fd, EmulatedConnection& connection, int in_fd, off_t* offset,
                          size_t count) noexcept;

// ioctl(FIONREAD) on an emulated connection: the program's bytes waiting, into *out.
int emulated_available(int fd, EmulatedConnection& connection, int* out) noexcept;

// Before shutdown(SHUT_WR or SHUT_RDWR): the stream's own owed bytes, if the wire takes them now.
void flush_before_shutdown(int fd, EmulatedConnection& connection) noexcept;

// teardown_send_disconnect and teardown_recv_disconnect on an emulated connection; `error`
// receives the errno of a failure (0 on success).
int emulated_send_disconnect(int fd, EmulatedConnection& connection, const void* data,
                             size_t length, int& error) noexcept;
ssize_t emulated_recv_disconnect(int fd, EmulatedConnection& connection, void* buffer,
                                 size_t capacity, int& error) noexcept;

}  // namespace teardown::preload
