/*
 * disconnect.h - disconnect data for programs that run under Teardown's Linux layer
 * (libteardown_preload.so), the counterparts of WSASendDisconnect and WSARecvDisconnect.
 *
 * TCP carries no disconnect data. Teardown carries it on a connection whose local or remote port
 * the configuration lists in its emulation ports (at both ends): the layers frame the stream
 * between them (docs/disconnect-data.md). Both calls record their event
 * (SEND_DISCONNECT, RECV_DISCONNECT) and keep Winsock's rules:
 *  - teardown_send_disconnect disables sending and initiates a graceful shutdown, like
 *    shutdown(fd, SHUT_WR), after the disconnect data (at most 1,024 bytes, else EINVAL, as
 *    WSAEINVAL). On a connection that cannot carry disconnect data, asking to send some fails
 *    with ENOPROTOOPT (WSAENOPROTOOPT) and does nothing. On an emulated connection whose last
 *    send the kernel took only in part, it fails with EAGAIN until the program has sent the rest.
 *  - teardown_recv_disconnect disables receiving, like shutdown(fd, SHUT_RD), discarding what was
 *    left unread, and returns the number of disconnect bytes received (0 if none has arrived);
 *    a buffer too small for them fails with EMSGSIZE (WSAEFAULT) and keeps them for a larger one.
 *    Asking for data on a connection that cannot carry it fails with ENOPROTOOPT.
 *  - Neither blocks, whatever SO_LINGER says, with one exception: when the peer has let the send
 *    buffer fill, the disconnect record waits up to 2 s for room, then the connection is reset
 *    (ECONNABORTED).
 *  - Both return -1 and set errno on failure.
 *
 * Declare them weak to run with and without the layer (the symbols are then NULL without it).
 */
#ifndef TEARDOWN_DISCONNECT_H
#define TEARDOWN_DISCONNECT_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

int teardown_send_disconnect(int fd, const void* data, size_t length);
ssize_t teardown_recv_disconnect(int fd, void* buffer, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* TEARDOWN_DISCONNECT_H */
